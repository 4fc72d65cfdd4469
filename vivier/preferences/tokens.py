"""Signed tokens for the preference centre's links (itsdangerous, one salt per purpose, key rotation).

A token carries a person id and, depending on its purpose, a consent purpose or a nonce — never an
email or a name. It is HMAC-signed: without a key nobody can forge one or guess another person's.

Keys are given newest first: tokens are signed with the first key and verified with any of them,
so a new key can be put in front and the old one dropped once its links no longer matter.
Unsubscribe tokens carry no timestamp and never expire (RFC 8058 links live in old mailboxes);
the other purposes are timed and may be refused past a maximum age.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from itsdangerous import (
    BadData,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.signer import HMACAlgorithm

UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
PREFERENCES = "preferences"
JOIN = "join"
REQUEST = "request"
TOKEN_PURPOSES = (UNSUBSCRIBE, CONFIRM, PREFERENCES, JOIN, REQUEST)
UNTIMED_PURPOSES = frozenset({UNSUBSCRIBE})

# How long a timed token stays valid by default (each can be overridden where it is verified).
DEFAULT_MAX_AGE: dict[str, timedelta] = {
    CONFIRM: timedelta(days=7),
    PREFERENCES: timedelta(days=90),
    JOIN: timedelta(days=365),
    REQUEST: timedelta(days=30),
}
SALT_PREFIX = "vivier.preferences."
# Only for the embedded demo: anyone can read this key here, so anyone could forge demo links.
DEMO_TOKEN_KEY = "vivier-demo-token-key-change-me"
MIN_KEY_LENGTH = 16


class InvalidToken(Exception):
    """The token was not signed by any of our keys, was altered, or is not for this purpose."""


class ExpiredToken(InvalidToken):
    """The token is genuine but older than its maximum age."""


@dataclass(frozen=True)
class TokenPayload:
    """What a verified token says."""

    purpose: str
    person_id: int
    extra: dict[str, Any] = field(default_factory=dict)


def _salt(purpose: str) -> str:
    return SALT_PREFIX + purpose


class _OneShotHMAC(HMACAlgorithm):
    """HMAC in one call to the C implementation (the same signature as ``hmac.new(...).digest()``)."""

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self.digest_method)


# the JSON itsdangerous writes (compact, UTF-8 kept), with one encoder instead of one per token
_COMPACT_JSON = SimpleNamespace(
    dumps=json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode, loads=json.loads
)


class _KeyCache:
    """Derives each secret key once per signer (itsdangerous derives it again at every signature)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        cache = self.__dict__.setdefault("_derived", {})
        if secret_key not in cache:
            cache[secret_key] = super().derive_key(secret_key)  # type: ignore[misc]
        return cache[secret_key]


class _ReusedSigner(_KeyCache, Signer):
    pass


class _ReusedTimestampSigner(_KeyCache, TimestampSigner):
    pass


class _SignerReuse:
    """Makes the signer of the serializer's own salt once and reuses it (signers hold no state
    between calls; the keys and the salt do not change)."""

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is not None:
            return super().make_signer(salt)  # type: ignore[misc]
        signer = self.__dict__.get("_signer")
        if signer is None:
            signer = self.__dict__["_signer"] = super().make_signer(salt)  # type: ignore[misc]
        return signer


class _UntimedSerializer(_SignerReuse, URLSafeSerializer):
    pass


class _TimedSerializer(_SignerReuse, URLSafeTimedSerializer):
    pass


class TokenSigner:
    """Signs and verifies the preference centre's tokens with a list of keys (newest first).

    ``clock`` (seconds since the epoch) dates timed tokens and measures their age; the wall clock
    by default.
    """

    def __init__(self, keys: Sequence[str | bytes], clock: Callable[[], float] | None = None) -> None:
        keys = [key for key in keys if key]
        if not keys:
            raise ValueError("at least one token key is needed")
        for key in keys:
            if len(key) < MIN_KEY_LENGTH:
                raise ValueError(f"token keys must be at least {MIN_KEY_LENGTH} characters long")
        # itsdangerous wants the keys oldest to newest and signs with the last one.
        self._keys = list(reversed(keys))
        timestamp_signer: type[TimestampSigner] = _ReusedTimestampSigner
        if clock is not None:
            stamp = {"get_timestamp": lambda _: int(clock())}
            timestamp_signer = type("ClockedSigner", (_ReusedTimestampSigner,), stamp)
        # HMAC-SHA256, compared in constant time
        options = {"digest_method": hashlib.sha256, "algorithm": _OneShotHMAC(hashlib.sha256)}
        # one serializer per purpose, built once: a mail run signs two or three links per message
        self._serializers: dict[str, URLSafeSerializer | URLSafeTimedSerializer] = {
            purpose: (
                _UntimedSerializer(
                    self._keys,
                    salt=_salt(purpose),
                    serializer=_COMPACT_JSON,
                    signer=_ReusedSigner,
                    signer_kwargs=options,
                )
                if purpose in UNTIMED_PURPOSES
                else _TimedSerializer(
                    self._keys,
                    salt=_salt(purpose),
                    serializer=_COMPACT_JSON,
                    signer=timestamp_signer,
                    signer_kwargs=options,
                )
            )
            for purpose in TOKEN_PURPOSES
        }

    def _serializer(self, purpose: str) -> URLSafeSerializer | URLSafeTimedSerializer:
        serializer = self._serializers.get(purpose)
        if serializer is None:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return serializer

    def sign(self, purpose: str, person_id: int, **extra: Any) -> str:
        """A URL-safe token for ``person_id``; ``extra`` holds short non-personal values (purpose, nonce)."""
        if "p" in extra:
            raise ValueError("'p' is reserved for the person id")
        return self._serializer(purpose).dumps({"p": int(person_id), **extra})

    def verify(self, purpose: str, token: str, max_age: timedelta | None = None) -> TokenPayload:
        """The payload of a genuine token of ``purpose``; raises InvalidToken or ExpiredToken.

        Timed purposes use ``max_age`` or their default maximum age; unsubscribe tokens never expire.
        """
        serializer = self._serializer(purpose)
        try:
            if isinstance(serializer, URLSafeTimedSerializer):
                age = max_age if max_age is not None else DEFAULT_MAX_AGE[purpose]
                data = serializer.loads(token, max_age=int(age.total_seconds()))
            else:
                data = serializer.loads(token)
        except SignatureExpired as exc:
            raise ExpiredToken(f"{purpose} token expired") from exc
        except BadData as exc:
            raise InvalidToken(f"not a valid {purpose} token") from exc
        if not isinstance(data, dict) or not isinstance(data.get("p"), int) or isinstance(data.get("p"), bool):
            raise InvalidToken(f"not a valid {purpose} token")
        extra = {key: value for key, value in data.items() if key != "p"}
        return TokenPayload(purpose=purpose, person_id=data["p"], extra=extra)


def parse_keys(value: str | None) -> list[str]:
    """Comma-separated keys (newest first) as a list, blanks dropped."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
