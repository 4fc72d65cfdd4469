"""Offer values as the CRM keeps them: status open/closed, ISO country and language, UTC opening date."""

from __future__ import annotations

import re

import pandas as pd

from vivier.ingest.mapping import fold
from vivier.ingest.normalize import country_codes, default_languages, language_codes, split_city_country
from vivier.ingest.validate import parse_timestamps
from vivier.tagging.normalize import strip_accents

# Vendor and spreadsheet status words (folded: lower case, no accents, letters and digits only).
# Only "open" offers are matched; drafts, paused and filled offers are kept as "closed".
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "open opened published publish live active online ouverte ouvert publiee publie enligne "
            "encours aktiv offen veroffentlicht aperta aperto pubblicata pubblicato attiva attivo"
        ).split(),
        "open",
    ),
    **dict.fromkeys(
        (
            "closed close filled archived archive draft onhold paused cancelled canceled expired internal "
            "fermee ferme pourvue pourvu cloturee cloture brouillon annulee suspendue archivee "
            "geschlossen besetzt archiviert entwurf pausiert abgesagt "
            "chiusa chiuso coperta coperto bozza sospesa archiviata annullata"
        ).split(),
        "closed",
    ),
}

_STOPWORDS = {
    "fr": set("le la les des et de du un une pour avec vous nous est dans sur notre votre au aux en".split()),
    "en": set("the and of to with you we is in for our your a an are as on at be".split()),
    "de": set("der die das und mit sie wir ist fur ein eine in zu den im auf unser ihre".split()),
    "it": set("il la di e con per un una che sono nostro nostra in del della le gli".split()),
}
_WORD = re.compile(r"[a-z]+")


def offer_status(raw: pd.Series) -> pd.Series:
    """``open`` / ``closed`` from the vendor's word; missing -> ``open`` (a list of offers); unknown -> missing."""
    text = raw.astype("string")
    distinct = text.dropna().unique()
    mapped = text.map({v: STATUS_WORDS.get(fold(v)) for v in distinct}).astype("string")
    return mapped.mask(text.isna() | (text.str.strip() == ""), "open")


def guess_language(texts: pd.Series, minimum: int = 3) -> pd.Series:
    """The language whose common words occur most in each text (FR/EN/DE/IT), missing when unsure."""

    def guess(text: str) -> str | None:
        words = _WORD.findall(strip_accents(text).lower())
        counts = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
        best = max(counts, key=lambda lang: counts[lang])
        return best if counts[best] >= minimum else None

    text = texts.astype("string")
    distinct = text.dropna().unique()
    return text.map({v: guess(v) for v in distinct}).astype("string")


def normalise_offers(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated offers -> CRM values: status, country and language codes, city, UTC ``opened_at``."""
    out = frame.copy()
    out["status"] = offer_status(frame["status"])
    place = split_city_country(frame["location"])
    out["city"] = place["city"]
    out["country"] = country_codes(frame["country"]).fillna(country_codes(place["country"]))
    text = frame["title"].astype("string").fillna("") + "\n" + frame["description"].astype("string").fillna("")
    language = language_codes(frame["language"]).fillna(guess_language(text))
    out["language"] = language.fillna(default_languages(out["country"]).where(out["country"].notna()))
    out["opened_at"] = parse_timestamps(frame["opened_at"])
    for column in ("title", "department", "location", "description"):
        values = out[column].astype("string").str.strip()
        out[column] = values.mask(values == "")
    return out
