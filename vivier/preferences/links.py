"""Absolute links to the preference centre, for emails (List-Unsubscribe, footers, invitations).

``base_url`` is where the preference centre is served, mount prefix included, e.g.
``https://talent.example.com/preferences`` (the Airflow plugin) or ``http://127.0.0.1:8000``
(uvicorn on its own). ``keys`` are the token keys, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from vivier.preferences.tokens import CONFIRM, JOIN, PREFERENCES, REQUEST, UNSUBSCRIBE, TokenSigner

ALL_PURPOSES = "all"

# Paths of the app's pages (relative to base_url).
UNSUBSCRIBE_PATH = "unsubscribe"
PREFERENCES_PATH = "manage"
JOIN_PATH = "join"
CONFIRM_PATH = "confirm"
REQUEST_PATH = "data"


@lru_cache(maxsize=8)
def _signer(keys: tuple[str, ...]) -> TokenSigner:
    """One signer per key list (building one costs more than a signature)."""
    return TokenSigner(keys)


def signer_for(keys: Sequence[str]) -> TokenSigner:
    return _signer(tuple(keys))


def page_url(base_url: str, path: str, token: str) -> str:
    """``base_url/path/token``."""
    return f"{base_url.rstrip('/')}/{path}/{token}"


def unsubscribe_url(base_url: str, keys: Sequence[str], person_id: int, purpose: str) -> str:
    """RFC 8058 one-click link: a POST withdraws ``purpose`` (or every purpose with "all"); never expires.

    The link is the same for the same person, purpose and key, so a message rendered twice is identical.
    """
    token = signer_for(keys).sign(UNSUBSCRIBE, person_id, u=purpose)
    return page_url(base_url, UNSUBSCRIBE_PATH, token)


def preferences_url(base_url: str, keys: Sequence[str], person_id: int) -> str:
    """The person's preference page (purposes, frequency, language, data requests)."""
    return page_url(base_url, PREFERENCES_PATH, signer_for(keys).sign(PREFERENCES, person_id))


def join_url(base_url: str, keys: Sequence[str], person_id: int) -> str:
    """The invitation to join the talent pool (sent with the rejection email)."""
    return page_url(base_url, JOIN_PATH, signer_for(keys).sign(JOIN, person_id))


def confirm_url(base_url: str, keys: Sequence[str], person_id: int, purposes: Sequence[str], request_event: int) -> str:
    """The double opt-in confirmation link for the purposes requested at ledger position ``request_event``."""
    token = signer_for(keys).sign(CONFIRM, person_id, u=list(purposes), r=int(request_event))
    return page_url(base_url, CONFIRM_PATH, token)


def data_request_url(base_url: str, keys: Sequence[str], person_id: int) -> str:
    """The page where the person asks for a copy of their data or for erasure."""
    return page_url(base_url, REQUEST_PATH, signer_for(keys).sign(REQUEST, person_id))
