"""Contact purposes, actions, sources and frequencies, with the defaults of ``include/consent/purposes.yaml``."""

from __future__ import annotations

from functools import cache
from typing import Any

from vivier.paths import INCLUDE_DIR
from vivier.tagging.taxonomy import read_yaml

PURPOSES_FILE = INCLUDE_DIR / "consent" / "purposes.yaml"

ACTIONS = ("requested", "granted", "confirmed", "renewed", "withdrawn", "expired")
ACTIVE_ACTIONS = ("granted", "confirmed", "renewed")
SOURCES = (
    "ats_import",
    "web_form",
    "double_opt_in",
    "unsubscribe",
    "complaint",
    "hard_bounce",
    "admin",
    "retention",
    "erasure",
)
CONTACT_KINDS = ("reply", "click", "form", "request", "application")


@cache
def _config() -> dict[str, Any]:
    return read_yaml(None, "VIVIER_CONSENT_PURPOSES", PURPOSES_FILE)[1]


def purposes() -> tuple[str, ...]:
    """Every purpose a person can consent to, in display order."""
    return tuple(_config()["purposes"])


def frequencies() -> tuple[str, ...]:
    """The frequencies a person can choose (``never`` stops the purpose without withdrawing consent)."""
    return tuple(_config()["frequencies"])


def default_frequencies() -> dict[str, str]:
    """Purpose -> frequency for people who never chose one."""
    return {name: spec["default_frequency"] for name, spec in _config()["purposes"].items()}


def purpose_labels(language: str) -> dict[str, str]:
    """Purpose -> label in ``language`` (English when that language has none)."""
    return {name: spec["label"].get(language, spec["label"]["en"]) for name, spec in _config()["purposes"].items()}


PURPOSES: tuple[str, ...] = purposes()
