"""How the preference centre hands over a double opt-in confirmation link (a pluggable sender).

- ``CapturingSender`` keeps the mails in memory (tests);
- ``EmlFolderSender`` writes each mail as an ``.eml`` file (the offline default: ``data/preference-mail/``);
- ``SmtpSender`` sends it through an SMTP server (``VIVIER_SMTP_HOST``...).
"""

from __future__ import annotations

import logging
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from vivier.paths import data_dir

log = logging.getLogger(__name__)

DEFAULT_FROM = "Vivier <no-reply@vivier.invalid>"


@dataclass(frozen=True)
class ConfirmationMail:
    """A confirmation email to one person (the address is only used to deliver it, never logged)."""

    person_id: int
    to: str
    subject: str
    body: str
    url: str
    language: str


class Sender(Protocol):
    def send(self, mail: ConfirmationMail) -> None: ...


def build_message(mail: ConfirmationMail, sender: str = DEFAULT_FROM) -> EmailMessage:
    """The RFC 5322 message (headers with CR or LF are refused by the email policy)."""
    from datetime import UTC, datetime

    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="vivier.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    message["Content-Language"] = mail.language  # after set_content, which resets the Content-* headers
    return message


class CapturingSender:
    """Keeps every mail in ``self.mails`` (for tests)."""

    def __init__(self) -> None:
        self.mails: list[ConfirmationMail] = []

    def send(self, mail: ConfirmationMail) -> None:
        self.mails.append(mail)


class EmlFolderSender:
    """Writes each mail as ``<folder>/confirm-<person_id>-<n>.eml``, ready to open in a mail client."""

    def __init__(self, folder: Path, sender: str = DEFAULT_FROM) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, mail: ConfirmationMail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.folder.glob(f"confirm-{mail.person_id}-*.eml"))) + 1
        path = self.folder / f"confirm-{mail.person_id}-{number}.eml"
        path.write_bytes(bytes(build_message(mail, self.sender)))
        log.info("confirmation mail for person %s written to %s", mail.person_id, path)


class SmtpSender:
    """Sends each mail through an SMTP server (STARTTLS and login when configured)."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = DEFAULT_FROM,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout

    def send(self, mail: ConfirmationMail) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(build_message(mail, self.sender))
        log.info("confirmation mail for person %s sent through %s:%s", mail.person_id, self.host, self.port)


def sender_from_env() -> Sender:
    """SMTP when ``VIVIER_SMTP_HOST`` is set, else ``.eml`` files under ``data/preference-mail/``.

    Variables: VIVIER_SMTP_HOST, VIVIER_SMTP_PORT (25), VIVIER_SMTP_STARTTLS (``1`` to use it),
    VIVIER_SMTP_USER, VIVIER_SMTP_PASSWORD, VIVIER_MAIL_FROM.
    """
    sender = os.environ.get("VIVIER_MAIL_FROM", DEFAULT_FROM)
    host = os.environ.get("VIVIER_SMTP_HOST")
    if host:
        return SmtpSender(
            host,
            int(os.environ.get("VIVIER_SMTP_PORT", "25")),
            sender,
            starttls=os.environ.get("VIVIER_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            username=os.environ.get("VIVIER_SMTP_USER") or None,
            password=os.environ.get("VIVIER_SMTP_PASSWORD") or None,
        )
    return EmlFolderSender(data_dir() / "preference-mail", sender)
