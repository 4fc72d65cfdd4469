"""Outbox rows -> RFC 5322 messages, built and serialised with ``email.message.EmailMessage``.

No header can be injected: names and subjects are first cleaned of control, format and separator
characters (CR, LF, U+2028, U+2029, form feed... become spaces), then non-ASCII text is written as
RFC 2047 encoded words, and every per-message value must then be printable ASCII on one line or
the message is refused (``InvalidMessage``). The recipient address is parsed by the email
package's ``Address``. Headers that are the same in every message (From, MIME structure,
List-Unsubscribe-Post) are parsed by the policy once.

Speed: building a message this way costs a fraction of letting the header registry parse and
re-fold every header of every message (which costs more than the SMTP round trip itself). The
parts are quoted-printable (binascii, in C) under one fixed boundary, which quoted-printable text
can never contain (it writes every ``=`` as ``=3D``).
"""

from __future__ import annotations

import binascii
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.charset import Charset
from email.errors import HeaderParseError
from email.generator import NLCRE, BytesGenerator
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr
from functools import lru_cache
from io import BytesIO
from typing import Any, ClassVar

BOUNDARY = "=_vivier-alternative"
ONE_CLICK = "List-Unsubscribe=One-Click"
MAX_NAME_LENGTH = 64
UTF8 = Charset("utf-8")
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
# local@domain, both dot-atoms of ASCII atext (RFC 5322): what the address parser gives back unchanged
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*")


class _CachedHeaderRegistry(HeaderRegistry):
    """The stock registry, with its per-header-name classes built once instead of at every header."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


class OutboxPolicy(EmailPolicy):
    """SMTP line endings, lines up to 998 (so one-click URLs are never folded into encoded words),
    a fold cache for header objects registered with :func:`frozen_header`, and no re-folding of
    parsed headers that are short printable ASCII (they fold to their own text)."""

    _folded: ClassVar[dict[int, tuple[Any, bytes]]] = {}

    def fold_binary(self, name: str, value: Any) -> bytes:
        hit = self._folded.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        if hasattr(value, "name"):
            # a parsed (so validated) header whose text is short printable ASCII folds to itself
            text = str(value)
            if len(name) + len(text) + 2 <= self.max_line_length and text.isascii() and text.isprintable():
                return f"{name}: {text}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = OutboxPolicy(linesep="\r\n", max_line_length=998, header_factory=_CachedHeaderRegistry())


def frozen_header(name: str, value: Any) -> Any:
    """A header parsed and folded once, to be reused (``set_raw``) in many messages."""
    header = POLICY.header_factory(name, value)
    OutboxPolicy._folded[id(header)] = (header, EmailPolicy.fold_binary(POLICY, name, header))
    return header


_MULTIPART = frozen_header("Content-Type", f'multipart/alternative; boundary="{BOUNDARY}"')
_MIME_VERSION = frozen_header("MIME-Version", "1.0")
_AUTO_SUBMITTED = frozen_header("Auto-Submitted", "auto-generated")
_TEXT_PLAIN = frozen_header("Content-Type", 'text/plain; charset="utf-8"')
_TEXT_HTML = frozen_header("Content-Type", 'text/html; charset="utf-8"')
_QP = frozen_header("Content-Transfer-Encoding", "quoted-printable")
_STATIC_HEADERS = {("List-Unsubscribe-Post", ONE_CLICK): frozen_header("List-Unsubscribe-Post", ONE_CLICK)}


def make_message_id(campaign: str, period: str, person_id: int, domain: str) -> str:
    """The Message-ID of (person, campaign, period): the same on every re-run, opaque to readers."""
    digest = hashlib.sha256(f"{campaign}\x1f{period}\x1f{int(person_id)}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def clean_display_name(name: str | None) -> str:
    """A name fit for a header: control, format and separator characters become spaces, then collapse."""
    if not name:
        return ""
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in name)
    return " ".join(kept.split())


@lru_cache(maxsize=4096)
def subject_header(subject: str) -> str:
    """``Subject``: cleaned, encoded, checked (the same few subjects come back all through a batch)."""
    return single_line(encoded_words(clean_display_name(subject)), "Subject")


def encoded_words(text: str) -> str:
    """``text`` as printable ASCII: itself when it is, else RFC 2047 encoded words (UTF-8)."""
    if text.isascii() and text.isprintable():
        return text
    return " ".join(UTF8.header_encode_lines(text, itertools.repeat(75)))


def single_line(value: str, what: str) -> str:
    """``value`` when it is printable ASCII on one line (what may be written as is), else InvalidMessage."""
    if not (value.isascii() and value.isprintable()):
        raise InvalidMessage(f"{what} is not printable ASCII on one line")
    return value


def addr_spec(address: str) -> str:
    """The address as the email package's ``Address`` parses it back (InvalidMessage when it cannot);
    a plain dot-atom address is its own ``addr_spec`` and is not parsed."""
    if DOT_ATOM_ADDRESS.fullmatch(address):
        return address
    try:
        return Address(addr_spec=address).addr_spec
    except (ValueError, IndexError, TypeError, HeaderParseError):
        raise InvalidMessage("the recipient address is not valid") from None


def recipient_header(name: str | None, address: str) -> str:
    """``To``: the parsed address, with the cleaned display name quoted or encoded as needed."""
    spec = addr_spec(address)
    display = clean_display_name(name)[:MAX_NAME_LENGTH].strip()
    try:
        value = formataddr((display, spec), charset=UTF8)
    except UnicodeEncodeError:
        raise InvalidMessage("the recipient address is not ASCII (SMTPUTF8 is not supported)") from None
    return single_line(value, "To")


def quoted_printable(text: str) -> str:
    """UTF-8 quoted-printable of ``text`` with its line breaks kept as line breaks."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(normalised.encode("utf-8"), istext=True).decode("ascii")


@dataclass(frozen=True)
class OutgoingMessage:
    """What the outbox froze for one recipient."""

    message_id: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None = None
    recipient_name: str | None = None
    language: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class InvalidMessage(ValueError):
    """The frozen message cannot be turned into a valid email (e.g. a malformed recipient address)."""


@dataclass
class MessageBuilder:
    """Builds the EmailMessage of an outbox row, From the configured sender."""

    sender_name: str
    sender_address: str
    _from: Any = field(init=False, repr=False)
    _languages: dict[str, Any] = field(init=False, default_factory=dict, repr=False)
    _date: tuple[int, Any] = field(init=False, default=(-1, None), repr=False)

    def __post_init__(self) -> None:
        self._from = frozen_header("From", Address(clean_display_name(self.sender_name), addr_spec=self.sender_address))

    @property
    def envelope_sender(self) -> str:
        return self.sender_address

    def _date_header(self, when: datetime) -> Any:
        second = int(when.timestamp())
        if self._date[0] != second:
            self._date = (second, frozen_header("Date", format_datetime(when.replace(microsecond=0))))
        return self._date[1]

    def _language_header(self, language: str) -> Any:
        if language not in self._languages:
            self._languages[language] = frozen_header("Content-Language", language)
        return self._languages[language]

    def build(self, message: OutgoingMessage, when: datetime) -> EmailMessage:
        """The message, dated ``when`` (an aware datetime); InvalidMessage when a value cannot be written safely."""
        if not _MESSAGE_ID.match(message.message_id):
            raise InvalidMessage("malformed Message-ID")
        email = EmailMessage(policy=POLICY)
        email.set_raw("Message-ID", message.message_id)
        email.set_raw("Date", self._date_header(when))
        email.set_raw("From", self._from)
        email.set_raw("To", recipient_header(message.recipient_name, message.recipient))
        email.set_raw("Subject", single_line(encoded_words(clean_display_name(message.subject)), "Subject"))
        for name, value in message.headers.items():
            if not _HEADER_NAME.match(name):
                raise InvalidMessage("malformed header name")
            static = _STATIC_HEADERS.get((name, value))
            email.set_raw(name, static if static is not None else single_line(value, name))
        if message.language:
            email.set_raw("Content-Language", self._language_header(message.language))
        email.set_raw("Auto-Submitted", _AUTO_SUBMITTED)
        email.set_raw("MIME-Version", _MIME_VERSION)
        if message.body_html:
            email.set_raw("Content-Type", _MULTIPART)
            email.set_payload([_part(_TEXT_PLAIN, message.body_text), _part(_TEXT_HTML, message.body_html)])
        else:
            email.set_raw("Content-Type", _TEXT_PLAIN)
            email.set_raw("Content-Transfer-Encoding", _QP)
            email.set_payload(quoted_printable(message.body_text))
        return email

    def to_bytes(self, message: OutgoingMessage, when: datetime) -> bytes:
        """The bytes of :meth:`build`'s message as the stock generator writes them, put together
        directly: the same checks in the same order, each header folded as the policy folds it
        (one line "Name: value" for printable ASCII that fits, the policy itself otherwise), the
        parts quoted-printable under the fixed boundary."""
        if not _MESSAGE_ID.match(message.message_id):
            raise InvalidMessage("malformed Message-ID")
        head = [
            _folded("Message-ID", message.message_id),
            _FROZEN_BYTES[id(self._date_header(when))][1],
            _FROZEN_BYTES[id(self._from)][1],
            _folded("To", recipient_header(message.recipient_name, message.recipient)),
            _folded("Subject", subject_header(message.subject)),
        ]
        for name, value in message.headers.items():
            if not _HEADER_NAME.match(name):
                raise InvalidMessage("malformed header name")
            static = _STATIC_HEADERS.get((name, value))
            head.append(_FROZEN_BYTES[id(static)][1] if static is not None else _folded(name, single_line(value, name)))
        if message.language:
            head.append(_FROZEN_BYTES[id(self._language_header(message.language))][1])
        if message.body_html:
            head += [
                _MULTIPART_TAIL,
                _qp_bytes(message.body_text),
                _HTML_PART_HEAD,
                _qp_bytes(message.body_html),
                _CLOSING_BOUNDARY,
            ]
        else:
            head += [_TEXT_ONLY_TAIL, _qp_bytes(message.body_text)]
        return b"".join(head)

    def to_bytes_stock(self, message: OutgoingMessage, when: datetime) -> bytes:
        """:meth:`build` serialised by the email package's generator (what :meth:`to_bytes` matches)."""
        buffer = BytesIO()
        _LineGenerator(buffer, mangle_from_=False, policy=POLICY).flatten(self.build(message, when))
        return buffer.getvalue()


class _LineGenerator(BytesGenerator):
    """The stock generator, writing a body's lines in one call instead of two calls per line."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(self._NL.join(NLCRE.split(lines)))


_FROZEN_BYTES = OutboxPolicy._folded
_NL = b"\r\n"


def _folded(name: str, value: str) -> bytes:
    """``name: value`` as the policy folds a header given as text: unchanged when it is ASCII and
    fits on a line (the policy's own folding otherwise, which refolds or refuses it)."""
    if value.isascii() and value.isprintable() and len(name) + len(value) + 2 <= POLICY.max_line_length:
        return f"{name}: {value}\r\n".encode("ascii")
    return POLICY.fold_binary(name, value)


def _frozen(*headers: Any) -> bytes:
    return b"".join(_FROZEN_BYTES[id(header)][1] for header in headers)


def _qp_bytes(text: str) -> bytes:
    """A part's body as the generator writes it: quoted-printable, lines ending in CRLF."""
    return quoted_printable(text).replace("\n", "\r\n").encode("ascii")


_BOUNDARY_LINE = b"--" + BOUNDARY.encode("ascii") + _NL
# after the per-message headers: the fixed ones, then the two parts' frames
_MULTIPART_TAIL = (
    _frozen(_AUTO_SUBMITTED, _MIME_VERSION, _MULTIPART) + _NL + _BOUNDARY_LINE + _frozen(_TEXT_PLAIN, _QP) + _NL
)
_HTML_PART_HEAD = _NL + _BOUNDARY_LINE + _frozen(_TEXT_HTML, _QP) + _NL
_CLOSING_BOUNDARY = _NL + b"--" + BOUNDARY.encode("ascii") + b"--" + _NL
_TEXT_ONLY_TAIL = _frozen(_AUTO_SUBMITTED, _MIME_VERSION, _TEXT_PLAIN, _QP) + _NL


def _part(content_type: Any, body: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    part.set_raw("Content-Type", content_type)
    part.set_raw("Content-Transfer-Encoding", _QP)
    part.set_payload(quoted_printable(body))
    return part
