"""From validated application rows to clean applications and one person per email (vectorised)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from vivier.ingest.normalize import (
    clean_names,
    country_codes,
    default_languages,
    language_codes,
    phone_regions,
    phones_to_e164,
    split_city_country,
    split_full_names,
)
from vivier.ingest.rejections import rejection_side
from vivier.ingest.stages import fold

APPLICATION_STATUSES = ("rejected", "hired", "active")


def normalise_applications(valid: pd.DataFrame, default_region: str = "FR") -> pd.DataFrame:
    """Clean names, ISO country and language, E.164 phones, rejection side, numeric experience.

    The country comes from the country column, else the tail of the city ("Lyon, France"), else
    the phone's prefix; national phone numbers are read in the person's country, else
    ``default_region``.
    """
    frame = valid.copy()
    first = clean_names(frame["first_name"])
    last = clean_names(frame["last_name"])
    one_field = (first.isna() | last.isna()) & frame["full_name"].notna()
    if one_field.any():  # split the one-field names only where a part is missing
        split = split_full_names(frame.loc[one_field, "full_name"])
        first = first.fillna(split["first_name"].pipe(clean_names))
        last = last.fillna(split["last_name"].pipe(clean_names))
    frame["first_name"] = first
    frame["last_name"] = last
    joined = (frame["first_name"].fillna("") + " " + frame["last_name"].fillna("")).str.strip()
    frame["full_name"] = clean_names(frame["full_name"]).fillna(joined.mask(joined == ""))
    located = split_city_country(frame["city"])
    frame["city"] = clean_names(located["city"])
    frame["country_code"] = country_codes(frame["country"]).fillna(country_codes(located["country"]))
    frame["language_code"] = language_codes(frame["language"])
    frame["phone_e164"] = phones_to_e164(frame["phone"], frame["country_code"], default_region)
    frame["country_code"] = frame["country_code"].fillna(phone_regions(frame["phone_e164"]))
    frame["rejection_side"] = rejection_side(frame["status"], frame["rejection_reason"], frame["rejection_side_hint"])
    frame["years_experience"] = pd.to_numeric(
        frame["years_experience"].astype("string").str.replace(",", ".", regex=False), errors="coerce"
    )
    frame["birth_date_ts"] = pd.to_datetime(
        frame["birth_date"].astype("string"), errors="coerce", utc=True, format="ISO8601"
    )
    for column in ("job_title", "department", "headline", "source_channel", "rejection_reason", "stage_name"):
        text = frame[column].astype("string").str.strip()
        frame[column] = text.mask(text == "")
    return frame


def name_keys(first_names: pd.Series, last_names: pd.Series) -> pd.Series:
    """Folded name with its words sorted, so "Dupont Jean" and "jean DUPONT" share a key."""
    joined = fold(first_names.fillna("") + " " + last_names.fillna(""))
    distinct = joined.dropna().unique()
    keys = {value: " ".join(sorted(re.findall(r"\w+", value))) for value in distinct}
    out = joined.map(keys).astype("string")
    return out.mask(out == "")


def build_persons(applications: pd.DataFrame) -> pd.DataFrame:
    """One row per normalised email: the latest non-missing value of each field wins.

    Identity is the email only: other signals (phone, name) become review suggestions later.
    """
    latest_first = applications.sort_values(
        ["email_normalized", "applied_at_ts", "source_row"], ascending=[True, False, False], na_position="last"
    )
    grouped = latest_first.groupby("email_normalized", sort=True)
    latest = grouped[
        [
            "first_name",
            "last_name",
            "full_name",
            "phone_e164",
            "city",
            "country_code",
            "language_code",
            "headline",
            "job_title",
            "birth_date_ts",
        ]
    ].first()
    earliest = (
        latest_first.sort_values(["email_normalized", "applied_at_ts"], na_position="last")
        .groupby("email_normalized", sort=True)[["source_system", "source_channel"]]
        .first()
    )
    persons = latest.join(earliest)
    persons["years_experience"] = grouped["years_experience"].max()
    persons["language_code"] = persons["language_code"].fillna(default_languages(persons["country_code"]))
    persons["name_key"] = name_keys(persons["first_name"], persons["last_name"])
    persons.index.name = "email"
    return persons.reset_index()


def email_hmacs(emails: Iterable[str], key: bytes) -> list[str]:
    """HMAC-SHA256 of normalised emails (the suppression-list key); one digest per value."""
    return [hmac.new(key, email.encode("utf-8"), hashlib.sha256).hexdigest() for email in emails]


def suppressed_mask(emails: pd.Series, suppressed_hmacs: set[str], key: bytes) -> np.ndarray:
    """True for emails whose keyed hash is on the suppression list (computed once per distinct email)."""
    if not suppressed_hmacs:
        return np.zeros(len(emails), dtype=bool)
    distinct = emails.dropna().unique()
    flagged = {
        email: digest in suppressed_hmacs for email, digest in zip(distinct, email_hmacs(distinct, key), strict=True)
    }
    return emails.map(flagged).fillna(False).to_numpy(dtype=bool)
