"""Signed tokens and links of the preference centre; consent texts and page wording (no database)."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest

from vivier.consent.purposes import PURPOSES
from vivier.preferences import links
from vivier.preferences.texts import (
    PAGE_LANGUAGES,
    choose_language,
    consent_texts,
    messages,
    parse_accept_language,
)
from vivier.preferences.tokens import (
    CONFIRM,
    DEFAULT_MAX_AGE,
    JOIN,
    PREFERENCES,
    REQUEST,
    TOKEN_PURPOSES,
    UNSUBSCRIBE,
    ExpiredToken,
    InvalidToken,
    TokenSigner,
    parse_keys,
)

KEY_A = "key-a-0123456789abcdefghij"
KEY_B = "key-b-0123456789abcdefghij"
BASE = "https://talent.example.com/preferences"


def _payload(token: str) -> dict:
    """Decode the (unencrypted) JSON payload part of an itsdangerous token."""
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.parametrize("purpose", TOKEN_PURPOSES)
def test_round_trip_for_every_purpose(purpose: str) -> None:
    signer = TokenSigner([KEY_A])
    payload = signer.verify(purpose, signer.sign(purpose, 42, u="events"))
    assert (payload.purpose, payload.person_id, payload.extra) == (purpose, 42, {"u": "events"})


def test_a_token_only_opens_its_own_purpose() -> None:
    signer = TokenSigner([KEY_A])
    token = signer.sign(PREFERENCES, 7)
    for other in set(TOKEN_PURPOSES) - {PREFERENCES}:
        with pytest.raises(InvalidToken):
            signer.verify(other, token)


def test_forged_tampered_and_unknown_key_tokens_are_refused() -> None:
    signer = TokenSigner([KEY_A])
    genuine = signer.sign(UNSUBSCRIBE, 7, u="all")
    payload, signature = genuine.split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({"p": 8, "u": "all"}).encode()).decode().rstrip("=")
    for bad in (
        TokenSigner([KEY_B]).sign(UNSUBSCRIBE, 7, u="all"),
        f"{forged_payload}.{signature}",
        f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        payload,
        "7",
        "",
    ):
        with pytest.raises(InvalidToken):
            signer.verify(UNSUBSCRIBE, bad)


def test_payload_carries_ids_only_never_an_email() -> None:
    url = links.unsubscribe_url(BASE, [KEY_A], 123, "job_offers")
    token = url.rsplit("/", 1)[1]
    assert _payload(token) == {"p": 123, "u": "job_offers"}
    assert "@" not in url


def test_reused_signers_write_the_tokens_a_fresh_itsdangerous_serializer_writes() -> None:
    import hashlib

    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    signer = TokenSigner([KEY_B, KEY_A], clock=lambda: 1_790_000_000)
    options = {"digest_method": hashlib.sha256}
    for person_id in (1, 42, 10**9):
        for _ in range(2):  # the second signature reuses what the first one built
            fresh = URLSafeSerializer([KEY_A, KEY_B], salt="vivier.preferences.unsubscribe", signer_kwargs=options)
            assert signer.sign(UNSUBSCRIBE, person_id, u="all") == fresh.dumps({"p": person_id, "u": "all"})
            timed = URLSafeTimedSerializer([KEY_A, KEY_B], salt="vivier.preferences.preferences", signer_kwargs=options)
            token = signer.sign(PREFERENCES, person_id)
            assert timed.loads(token) == {"p": person_id}
            assert signer.verify(PREFERENCES, token, max_age=timedelta(days=100_000)).person_id == person_id
    assert links.signer_for([KEY_A]) is links.signer_for((KEY_A,)), "links build one signer per key list"


def test_key_rotation_signs_with_the_newest_and_verifies_with_any() -> None:
    old_token = TokenSigner([KEY_A]).sign(PREFERENCES, 5)
    rotated = TokenSigner([KEY_B, KEY_A])
    assert rotated.verify(PREFERENCES, old_token).person_id == 5
    new_token = rotated.sign(PREFERENCES, 5)
    assert TokenSigner([KEY_B]).verify(PREFERENCES, new_token).person_id == 5
    with pytest.raises(InvalidToken):
        TokenSigner([KEY_A]).verify(PREFERENCES, new_token)  # the old key alone cannot read new links


def test_unsubscribe_tokens_never_expire_and_are_stable() -> None:
    ten_years_ago = time.time() - 10 * 365 * 86400
    old = TokenSigner([KEY_A], clock=lambda: ten_years_ago).sign(UNSUBSCRIBE, 9, u="all")
    assert TokenSigner([KEY_A]).verify(UNSUBSCRIBE, old, max_age=timedelta(seconds=1)).person_id == 9
    # one link per person, purpose and key: a message rendered twice is byte-identical
    assert links.unsubscribe_url(BASE, [KEY_A], 9, "all") == links.unsubscribe_url(BASE, [KEY_A], 9, "all")
    assert links.unsubscribe_url(BASE, [KEY_A], 9, "all") != links.unsubscribe_url(BASE, [KEY_A], 9, "events")


@pytest.mark.parametrize("purpose", [CONFIRM, PREFERENCES, JOIN, REQUEST])
def test_timed_tokens_expire(purpose: str) -> None:
    now = time.time()
    max_age = DEFAULT_MAX_AGE[purpose]
    fresh = TokenSigner([KEY_A], clock=lambda: now - max_age.total_seconds() + 60).sign(purpose, 3)
    stale = TokenSigner([KEY_A], clock=lambda: now - max_age.total_seconds() - 60).sign(purpose, 3)
    verifier = TokenSigner([KEY_A], clock=lambda: now)
    assert verifier.verify(purpose, fresh).person_id == 3
    with pytest.raises(ExpiredToken):
        verifier.verify(purpose, stale)
    with pytest.raises(ExpiredToken):
        verifier.verify(purpose, fresh, max_age=timedelta(seconds=30))  # a shorter configured age


def test_keys_are_checked() -> None:
    with pytest.raises(ValueError):
        TokenSigner([])
    with pytest.raises(ValueError):
        TokenSigner(["short"])
    with pytest.raises(ValueError):
        TokenSigner([KEY_A]).sign("unknown", 1)
    assert parse_keys(f" {KEY_B}, ,{KEY_A} ") == [KEY_B, KEY_A]


def test_links_point_at_the_pages() -> None:
    assert links.preferences_url(BASE + "/", [KEY_A], 1).startswith(f"{BASE}/manage/")
    assert links.join_url(BASE, [KEY_A], 1).startswith(f"{BASE}/join/")
    assert links.data_request_url(BASE, [KEY_A], 1).startswith(f"{BASE}/data/")
    confirm = links.confirm_url(BASE, [KEY_A], 1, ["events"], 17)
    assert confirm.startswith(f"{BASE}/confirm/")
    assert TokenSigner([KEY_A]).verify(CONFIRM, confirm.rsplit("/", 1)[1]).extra == {"u": ["events"], "r": 17}


def test_consent_texts_cover_every_purpose_in_every_page_language() -> None:
    texts = consent_texts()
    assert set(texts) == set(PAGE_LANGUAGES)
    for text in texts.values():
        assert text.version and text.statement
        assert set(text.purposes) == set(PURPOSES)
        assert all(item.label and item.text for item in text.purposes.values())


def test_every_language_has_every_message() -> None:
    words = messages()
    assert set(words) == set(PAGE_LANGUAGES)
    assert set(words["fr"]) == set(words["en"])
    assert all(isinstance(value, str) and value for value in words["fr"].values())


def test_page_language() -> None:
    assert parse_accept_language("de-DE,fr;q=0.9,en;q=0.8") == ["de", "fr", "en"]
    assert parse_accept_language("en;q=0.2, fr") == ["fr", "en"]
    assert parse_accept_language("*;q=0.5, it;q=0") == []
    assert choose_language("fr", "en", "en") == "fr"
    assert choose_language(None, "fr", "en") == "fr"
    assert choose_language("xx", "de", "de-DE,fr;q=0.9") == "fr"
    assert choose_language(None, None, None) == "en"
