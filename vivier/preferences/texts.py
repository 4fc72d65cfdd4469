"""Consent texts (include/consent/texts.yaml), page wording and the choice of a page's language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from vivier.paths import INCLUDE_DIR

CONSENT_TEXTS_PATH = INCLUDE_DIR / "consent" / "texts.yaml"
TEMPLATES_DIR = INCLUDE_DIR / "templates" / "preference_centre"
MESSAGES_PATH = TEMPLATES_DIR / "messages.yaml"
PAGE_LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "en"
# Languages a person may choose for their emails (the email templates exist in these).
EMAIL_LANGUAGES = ("fr", "en", "de", "it")


@dataclass(frozen=True)
class PurposeText:
    label: str
    text: str


@dataclass(frozen=True)
class ConsentText:
    """The consent wording of one language at one version."""

    language: str
    version: str
    statement: str
    purposes: dict[str, PurposeText]


@cache
def consent_texts(path: Path = CONSENT_TEXTS_PATH) -> dict[str, ConsentText]:
    """The consent texts per language."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        language: ConsentText(
            language=language,
            version=str(entry["version"]),
            statement=str(entry["statement"]),
            purposes={
                purpose: PurposeText(label=str(item["label"]), text=str(item["text"]))
                for purpose, item in entry["purposes"].items()
            },
        )
        for language, entry in raw.items()
    }


@cache
def messages(path: Path = MESSAGES_PATH) -> dict[str, dict[str, str]]:
    """The pages' wording per language (every language has the same keys)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def parse_accept_language(header: str | None) -> list[str]:
    """Primary language codes of an Accept-Language header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        pieces = part.strip().split(";")
        code = pieces[0].strip().split("-")[0].lower()
        if not code or code == "*":
            continue
        weight = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, position, code))
    return [code for _, _, code in sorted(ranked)]


def choose_language(explicit: str | None, person_language: str | None, accept_language: str | None) -> str:
    """The page language: an explicit ``?lang=``, else the person's language, else the browser's, else English."""
    for candidate in (explicit, person_language, *parse_accept_language(accept_language)):
        if candidate and candidate.lower() in PAGE_LANGUAGES:
            return candidate.lower()
    return DEFAULT_LANGUAGE
