"""Where messages go: an SMTP server (one connection reused for a whole run) or a folder of .eml files.

``SmtpTransport.send`` never raises for a message: it says what became of it.

- ``sent``: the server answered 250 after the final ".".
- ``retry``: the server answered 4xx, or the connection failed before the message was handed
  over (connect, MAIL, RCPT or the DATA command). The message was not taken; send it later.
- ``failed``: the server answered 5xx (a permanent refusal), or the message cannot be built.
- ``unknown``: the connection failed after the message was handed over and before the server
  answered. The server may have taken it (RFC 1047): it is not resent blindly.

Only a configuration problem (login refused, TLS unavailable) raises :class:`TransportFatal`.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from vivier.dispatch.messages import DOT_ATOM_ADDRESS

SENT, RETRY, FAILED, UNKNOWN = "sent", "retry", "failed", "unknown"


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server (the Airflow connection ``smtp_default`` fills it in)."""

    host: str = "127.0.0.1"
    port: int = 8025
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 30.0
    from_email: str | None = None

    def describe(self) -> str:
        """Where mail goes, without credentials."""
        security = "SSL" if self.use_ssl else "STARTTLS" if self.starttls else "plain"
        return f"{self.host}:{self.port} ({security})"


@dataclass(frozen=True)
class Envelope:
    message_id: str
    sender: str
    recipient: str
    campaign: str
    period: str


@dataclass(frozen=True)
class SendResult:
    outcome: str
    detail: str | None = None  # SMTP reply (may quote the address: kept in the outbox, never logged)

    @property
    def code(self) -> int | None:
        match = re.search(r"\b([245]\d\d)\b", self.detail or "")
        return int(match.group(1)) if match else None


class TransportFatal(RuntimeError):
    """The transport cannot work at all (bad credentials, TLS refused): nothing can be sent."""


class Transport(Protocol):
    def send(self, envelope: Envelope, data: bytes, meanwhile: Callable[[], None] | None = None) -> SendResult:
        """Send one message; ``meanwhile`` (which must not raise) is called once the message is
        handed over, while the server works on it, before its reply is read."""
        ...

    def close(self) -> None: ...


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}"[:500]


def _refusal(stage: str, code: int, text: bytes) -> SendResult:
    outcome = RETRY if 400 <= code < 500 else FAILED
    return SendResult(outcome, f"{stage}: {_reply(code, text)}")


@lru_cache(maxsize=1024)
def _quoted_sender(sender: str) -> str:
    return smtplib.quoteaddr(sender)


def quoted_address(address: str) -> str:
    """An address as ``SMTP.mail()`` and ``SMTP.rcpt()`` quote it (``smtplib.quoteaddr``), without
    parsing the plain ones."""
    if DOT_ATOM_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def dot_stuffed(data: bytes) -> bytes:
    """The message as sent after DATA: leading dots doubled, CRLF line ends, the final "."."""
    crlf = data.count(b"\r\n")
    if data.count(b"\r") != crlf or data.count(b"\n") != crlf:  # not CRLF throughout already
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    # every line but the first starts after a CRLF now
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"


class SmtpTransport:
    """Sends over one SMTP connection, opened on first use and re-opened after a failure."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None
        self.connections_opened = 0

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if s.use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            connection.ehlo()
            if s.starttls and not s.use_ssl:
                if not connection.has_extn("starttls"):
                    raise TransportFatal(f"{s.describe()}: the server does not offer STARTTLS")
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if s.login:
                connection.login(s.login, s.password or "")
        except smtplib.SMTPAuthenticationError as error:
            connection.close()
            raise TransportFatal(f"{s.describe()}: login refused ({error.smtp_code})") from None
        except (smtplib.SMTPNotSupportedError, ssl.SSLError) as error:
            connection.close()
            raise TransportFatal(f"{s.describe()}: {error.__class__.__name__}") from None
        except BaseException:
            connection.close()
            raise
        self.connections_opened += 1
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _reset_after_refusal(self, code: int) -> None:
        if code == 421:  # the server is closing the channel
            self._drop()
            return
        try:
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def send(self, envelope: Envelope, data: bytes, meanwhile: Callable[[], None] | None = None) -> SendResult:
        try:
            if self._connection is None:
                self._connection = self._open()
            connection = self._connection
            if envelope.recipient.isascii():
                # what SMTP.mail() sends without options (the sender quoted once for the run)
                connection.putcmd("mail", f"FROM:{_quoted_sender(envelope.sender)}")
                code, text = connection.getreply()
            else:
                if not connection.has_extn("smtputf8"):
                    return SendResult(FAILED, "recipient address needs SMTPUTF8, which the server lacks")
                code, text = connection.mail(envelope.sender, ["SMTPUTF8"])
            if code != 250:
                self._reset_after_refusal(code)
                return _refusal("MAIL", code, text)
            connection.putcmd("rcpt", f"TO:{quoted_address(envelope.recipient)}")  # as SMTP.rcpt()
            code, text = connection.getreply()
            if code not in (250, 251):
                self._reset_after_refusal(code)
                return _refusal("RCPT", code, text)
            connection.putcmd("data")
            code, text = connection.getreply()
            if code != 354:
                self._reset_after_refusal(code)
                return _refusal("DATA", code, text)
        except (smtplib.SMTPException, OSError) as error:
            # nothing was handed over yet: the server cannot have taken this message
            self._drop()
            return SendResult(RETRY, f"connection lost before the message was sent: {error.__class__.__name__}")
        try:
            connection.send(dot_stuffed(data))
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return SendResult(UNKNOWN, f"connection lost after the message was sent: {error.__class__.__name__}")
        if meanwhile is not None:
            meanwhile()  # the server is taking the message in: its reply waits in the socket
        try:
            code, text = connection.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            return SendResult(UNKNOWN, f"connection lost after the message was sent: {error.__class__.__name__}")
        if code == 250:
            return SendResult(SENT, _reply(code, text))
        self._reset_after_refusal(code)
        return _refusal("end of DATA", code, text)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._connection = None


def eml_name(message_id: str) -> str:
    """A file-system-safe name for a Message-ID."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", message_id.strip("<>")) + ".eml"


class EmlFolderTransport:
    """Dry run: writes every message to ``<folder>/<campaign>/<period>/<message-id>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.written: list[Path] = []

    def send(self, envelope: Envelope, data: bytes, meanwhile: Callable[[], None] | None = None) -> SendResult:
        safe = [re.sub(r"[^A-Za-z0-9_.-]+", "_", part) for part in (envelope.campaign, envelope.period)]
        target = self.folder.joinpath(*safe)
        target.mkdir(parents=True, exist_ok=True)
        path = target / eml_name(envelope.message_id)
        path.write_bytes(data)
        self.written.append(path)
        if meanwhile is not None:
            meanwhile()
        return SendResult(SENT, f"written to {path.name}")

    def close(self) -> None:
        pass


class Throttle:
    """At most ``rate`` calls of :meth:`wait` per second (0 or less: no limit)."""

    def __init__(self, rate: float, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = max(self._next, now) + self.interval
