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
    frame = valid.copy(deep=False)  # copy-on-write: ``valid`` is never changed
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


PERSON_LATEST_COLUMNS = (
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
)


def person_codes(emails: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's person: its position among the distinct emails in sorted order (the persons' order)."""
    codes, uniques = pd.factorize(emails, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _first_valid(values: pd.Series, order: np.ndarray, starts: np.ndarray) -> pd.Series:
    """Per group of ``order`` (groups begin at ``starts``): the first non-missing value, else missing."""
    sorted_values = values.take(order)
    positions = np.where(sorted_values.notna().to_numpy(dtype=bool), np.arange(len(order)), len(order))
    first = np.minimum.reduceat(positions, starts) if len(starts) else np.empty(0, dtype=np.int64)
    ends = np.append(starts[1:], len(order))
    first = np.where(first < ends, first, -1)
    taken = sorted_values.array.take(first, allow_fill=True)
    return pd.Series(taken, name=values.name)


def _time_ints(times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """UTC times as integers in the column's own unit (any year), and where they are missing."""
    times = pd.to_datetime(times, utc=True)
    as_int = times.to_numpy(dtype=f"datetime64[{times.dt.unit}]").view(np.int64)
    return as_int, times.isna().to_numpy(dtype=bool)


def _descending_key(times: pd.Series) -> np.ndarray:
    """Sort key putting later times first and missing ones last."""
    as_int, missing = _time_ints(times)
    return np.where(missing, np.iinfo(np.int64).max, -as_int)


def _ascending_key(times: pd.Series) -> np.ndarray:
    as_int, missing = _time_ints(times)
    return np.where(missing, np.iinfo(np.int64).max, as_int)


def build_persons(applications: pd.DataFrame, people: tuple[np.ndarray, pd.Index] | None = None) -> pd.DataFrame:
    """One row per normalised email, in email order: the latest non-missing value of each field wins.

    Identity is the email only: other signals (phone, name) become review suggestions later.
    ``people`` is ``person_codes(applications["email_normalized"])`` when the caller has it.
    Vectorised: one sort of the rows, then the first non-missing value per person and column.
    """
    emails = applications["email_normalized"]
    codes, uniques = people if people is not None else person_codes(emails)
    if (codes < 0).any():  # rows without an email belong to nobody
        applications, codes = applications.loc[codes >= 0], codes[codes >= 0]
    source_row = applications["source_row"].to_numpy(dtype=np.int64)
    # latest application first (missing dates last), then the later record of the file
    latest_first = np.lexsort((-source_row, _descending_key(applications["applied_at_ts"]), codes))
    sorted_codes = codes[latest_first]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    persons = pd.DataFrame(
        {column: _first_valid(applications[column], latest_first, starts) for column in PERSON_LATEST_COLUMNS}
    )
    # the first-seen source: earliest application (ties: in the latest-first order above)
    applied = _ascending_key(applications["applied_at_ts"])[latest_first]
    earliest_first = latest_first[np.lexsort((applied, sorted_codes))]
    for column in ("source_system", "source_channel"):
        persons[column] = _first_valid(applications[column], earliest_first, starts)
    years = pd.to_numeric(applications["years_experience"]).to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        persons["years_experience"] = np.fmax.reduceat(years[latest_first], starts) if len(starts) else []
    persons["language_code"] = persons["language_code"].fillna(default_languages(persons["country_code"]))
    persons["name_key"] = name_keys(persons["first_name"], persons["last_name"])
    persons.insert(0, "email", pd.array(uniques, dtype=emails.dtype))
    return persons


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
