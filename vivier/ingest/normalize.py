"""Normalisation of canonical values: emails, phones (E.164), names, countries and languages (ISO).

Every function is vectorised: slow per-value work (phone parsing, name lookups) runs once per
distinct value, never once per row.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from vivier.tagging.normalize import strip_accents

# A pragmatic address syntax check (the mailbox cannot be verified offline): one @, a dotted
# domain with a 2+ letter TLD, no spaces, no consecutive or edge dots in the local part.
EMAIL_PATTERN = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}"
)
EMAIL_RE = re.compile(EMAIL_PATTERN)

LOCALES = ("en", "fr", "de", "it", "es", "nl", "pt")
COUNTRY_DEFAULT_LANGUAGE = {
    "FR": "fr",
    "BE": "fr",
    "LU": "fr",
    "MC": "fr",
    "CH": "fr",
    "DE": "de",
    "AT": "de",
    "LI": "de",
    "IT": "it",
    "SM": "it",
    "GB": "en",
    "IE": "en",
    "US": "en",
    "CA": "en",
    "AU": "en",
    "ES": "es",
    "PT": "pt",
    "NL": "nl",
}
COUNTRY_ALIASES = {"uk": "GB", "england": "GB", "great britain": "GB", "usa": "US", "deutschland": "DE"}


def on_distinct(values: pd.Series, convert, *, dtype: str = "string") -> pd.Series:
    """``convert`` (a vectorised function of a Series) run on the distinct non-missing values only,
    spread back to every row; missing stays missing. For columns where values repeat (names,
    cities, stages, countries), this does the string work once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    converted = pd.array(convert(pd.Series(uniques, dtype=values.dtype)), dtype=dtype)
    return pd.Series(converted.take(codes, allow_fill=True), index=values.index, name=values.name)


def normalize_emails(emails: pd.Series) -> pd.Series:
    """Trim and lower-case; empty strings become missing."""
    cleaned = emails.astype("string").str.strip().str.lower()
    return cleaned.mask(cleaned == "")


def valid_email(emails: pd.Series) -> pd.Series:
    """True where a (normalised) email has a plausible syntax."""
    return emails.astype("string").str.fullmatch(EMAIL_PATTERN).fillna(False).astype(bool)


def _fold_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", strip_accents(text).casefold()).strip()


@cache
def _country_lookup() -> dict[str, str]:
    from babel import Locale

    lookup: dict[str, str] = {}
    for locale in LOCALES:
        for code, name in Locale(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                lookup.setdefault(_fold_key(name), code)
                lookup.setdefault(code.lower(), code)
    lookup.update(COUNTRY_ALIASES)
    return lookup


@cache
def _language_lookup() -> dict[str, str]:
    from babel import Locale

    lookup: dict[str, str] = {}
    for locale in LOCALES:
        for code, name in Locale(locale).languages.items():
            if len(code) == 2:
                lookup.setdefault(_fold_key(name), code)
                lookup.setdefault(code, code)
    return lookup


def _map_distinct(values: pd.Series, convert) -> pd.Series:
    """``convert`` (a function of one string) once per distinct value."""
    return on_distinct(values.astype("string"), lambda distinct: [convert(value) for value in distinct])


def country_codes(countries: pd.Series) -> pd.Series:
    """ISO 3166-1 alpha-2 codes from names (EN/FR/DE/IT/...) or codes; unknown -> missing."""
    lookup = _country_lookup()
    return _map_distinct(countries, lambda v: lookup.get(_fold_key(v)))


def language_codes(languages: pd.Series) -> pd.Series:
    """ISO 639-1 codes from names or codes (`fr`, `fr-FR`, `French`, `Français`); unknown -> missing."""
    lookup = _language_lookup()

    def convert(value: str) -> str | None:
        key = _fold_key(value)
        return lookup.get(key) or lookup.get(key.split(" ")[0]) if key else None

    return _map_distinct(languages, convert)


def default_languages(countries: pd.Series, fallback: str = "en") -> pd.Series:
    """The language to write to someone in a country, when nothing else says."""
    return countries.astype("string").map(COUNTRY_DEFAULT_LANGUAGE).fillna(fallback).astype("string")


def _calling_code_regions() -> dict[str, str]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return {str(code): regions[0] for code, regions in COUNTRY_CODE_TO_REGION_CODE.items() if regions[0] != "001"}


def phone_regions(e164: pd.Series) -> pd.Series:
    """The ISO country of E.164 numbers from their calling code (calling codes are prefix-free)."""
    codes = _calling_code_regions()

    def regions(numbers: pd.Series) -> pd.Series:
        digits = numbers.str.slice(1)
        region = pd.Series(pd.NA, index=numbers.index, dtype="string")
        for length in (1, 2, 3):
            region = region.fillna(digits.str.slice(0, length).map(codes).astype("string"))
        return region

    return on_distinct(e164.astype("string"), regions)


def split_city_country(cities: pd.Series) -> pd.DataFrame:
    """ "Versailles, France" -> city "Versailles", country "France" (the last comma-separated part)."""
    codes, uniques = pd.factorize(cities.astype("string"), use_na_sentinel=True)
    if len(uniques) < len(cities) // 2:  # cities repeat: split the distinct ones only
        split = _split_city_country(pd.Series(uniques, dtype="string"))
        return pd.DataFrame(
            {column: split[column].array.take(codes, allow_fill=True) for column in ("city", "country")},
            index=cities.index,
        )
    return _split_city_country(cities)


def _split_city_country(cities: pd.Series) -> pd.DataFrame:
    text = cities.astype("string").str.strip()
    has_tail = text.str.contains(",", regex=False).fillna(False)
    parts = text.str.rsplit(",", n=1, expand=True).reindex(columns=[0, 1]).astype("string")
    return pd.DataFrame(
        {
            "city": text.where(~has_tail, parts[0].str.strip()),
            "country": parts[1].str.strip().where(has_tail),
        },
        index=cities.index,
    )


# Countries whose national numbers are turned into E.164 without a per-number library call:
# calling code, whether the national trunk prefix "0" is dropped, national number length range.
NATIONAL_NUMBERING = {
    "FR": ("33", True, 9, 9),
    "BE": ("32", True, 8, 9),
    "CH": ("41", True, 9, 9),
    "LU": ("352", False, 6, 11),
    "DE": ("49", True, 6, 13),
    "AT": ("43", True, 4, 13),
    "GB": ("44", True, 9, 10),
    "IE": ("353", True, 7, 9),
    "IT": ("39", False, 6, 11),
    "ES": ("34", False, 9, 9),
    "PT": ("351", False, 9, 9),
    "NL": ("31", True, 9, 9),
}


def phones_to_e164(phones: pd.Series, regions: pd.Series, default_region: str = "FR") -> pd.Series:
    """E.164 numbers; a national number is read in the person's country. Unparseable -> missing.

    Vectorised fast path: international numbers (``+``/``00``) and national numbers of the
    countries in ``NATIONAL_NUMBERING`` are rewritten with string operations and a length check.
    Only what remains goes through ``phonenumbers``, once per distinct (digits, region) pair.
    """
    raw = phones.astype("string").str.replace("(0)", "", regex=False).str.strip()
    digits = raw.str.replace(r"[^\d]", "", regex=True)
    international = raw.str.startswith("+").fillna(False) | digits.str.startswith("00").fillna(False)
    digits = digits.where(~(digits.str.startswith("00").fillna(False)), digits.str.slice(2))
    digits = digits.mask(digits.str.len().fillna(0) < 6)
    region = regions.astype("string").fillna(default_region)
    out = pd.Series(pd.NA, index=phones.index, dtype="string")

    total = digits.str.len()
    plus_ok = international & digits.notna() & total.between(8, 15).fillna(False)
    out[plus_ok] = "+" + digits[plus_ok]

    national = digits.notna() & ~international
    for country, (code, drops_trunk, shortest, longest) in NATIONAL_NUMBERING.items():
        rows = national & (region == country).fillna(False)
        if not rows.any():
            continue
        local = digits[rows]
        if drops_trunk:
            has_trunk = local.str.startswith("0")
            local = local.str.slice(1).where(has_trunk)
        fits = local.str.len().between(shortest, longest).fillna(False)
        out[fits[fits].index] = "+" + code + local[fits]

    leftover = digits.notna() & out.isna() & ~plus_ok
    if leftover.any():
        out[leftover] = _phones_with_library(digits[leftover], region[leftover], international[leftover])
    return out


def _phones_with_library(digits: pd.Series, regions: pd.Series, international: pd.Series) -> pd.Series:
    """``phonenumbers`` for the numbers the fast path could not place, once per distinct pair."""
    import phonenumbers

    numbers = digits.where(~international, "+" + digits)
    keys = pd.DataFrame({"number": numbers, "region": regions})
    distinct = keys.drop_duplicates()

    def parse(number: str, country: str) -> str | None:
        try:
            parsed = phonenumbers.parse(number, country)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(parsed):
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    distinct = distinct.assign(e164=[parse(n, c) for n, c in zip(distinct["number"], distinct["region"], strict=True)])
    merged = keys.merge(distinct, on=["number", "region"], how="left")
    return pd.Series(merged["e164"].to_numpy(), index=digits.index, dtype="string")


def clean_names(names: pd.Series) -> pd.Series:
    """Collapse whitespace; fix ALL-CAPS or all-lower names to title case; empty -> missing.

    Names repeat (first names, cities, a person's name on each application): the work is done
    once per distinct value.
    """
    return on_distinct(names.astype("string"), _clean_names)


def _clean_names(names: pd.Series) -> pd.Series:
    text = names.astype("string").str.replace(r"\s+", " ", regex=True).str.strip()
    text = text.mask(text == "")
    shouting = text.str.isupper().fillna(False) | text.str.islower().fillna(False)
    return text.where(~shouting, text.str.title())


def split_full_names(full_names: pd.Series) -> pd.DataFrame:
    """First and last name from a one-field name ("Jean-Luc DUPONT" -> Jean-Luc / Dupont; "Dupont, Jean")."""
    text = clean_names(full_names)
    comma = text.str.contains(",", regex=False).fillna(False)
    last_first = text.str.split(",", n=1, expand=True).reindex(columns=[0, 1]).astype("string")
    first_last = text.str.rsplit(" ", n=1, expand=True).reindex(columns=[0, 1]).astype("string")
    single = first_last[1].isna()
    first = np.where(comma, last_first[1].str.strip(), np.where(single, pd.NA, first_last[0]))
    last = np.where(comma, last_first[0].str.strip(), np.where(single, first_last[0], first_last[1]))
    return pd.DataFrame(
        {"first_name": pd.array(first, dtype="string"), "last_name": pd.array(last, dtype="string")},
        index=full_names.index,
    )
