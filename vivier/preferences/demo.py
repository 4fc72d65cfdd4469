"""For the demo: unsubscribe one person through the real HTTP endpoint (RFC 8058 one-click POST)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from vivier.preferences.app import DEMO_TOKEN_KEY, create_app
from vivier.preferences.links import ALL_PURPOSES, unsubscribe_url
from vivier.preferences.localserver import serve_on_loopback
from vivier.preferences.mail import CapturingSender


def unsubscribe_over_http(
    crm_url: str, person_id: int, keys: Sequence[str] | None = None, purpose: str = ALL_PURPOSES
) -> int:
    """Start the preference centre on loopback, POST ``List-Unsubscribe=One-Click`` to the person's
    unsubscribe link (as a mail client does), stop it; returns the HTTP status (200 when done)."""
    keys = list(keys or [DEMO_TOKEN_KEY])
    app = create_app(crm_url, keys, sender=CapturingSender())
    with serve_on_loopback(app) as base_url:
        url = unsubscribe_url(base_url, keys, person_id, purpose)
        response = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=30)
    return response.status_code
