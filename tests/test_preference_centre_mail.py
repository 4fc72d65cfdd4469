"""How the double opt-in link leaves the preference centre: .eml files offline, or SMTP (loopback)."""

from __future__ import annotations

import email
import email.policy
import socket
from pathlib import Path

import pytest

from vivier.preferences.mail import (
    ConfirmationMail,
    EmlFolderSender,
    SmtpSender,
    build_message,
    sender_from_env,
)

MAIL = ConfirmationMail(
    person_id=7,
    to="lea@example.org",
    subject="Confirmez votre inscription",
    body="Ouvrez ce lien : https://talent.example.com/preferences/confirm/abc",
    url="https://talent.example.com/preferences/confirm/abc",
    language="fr",
)


def test_eml_folder_sender_writes_one_readable_file_per_mail(tmp_path: Path) -> None:
    sender = EmlFolderSender(tmp_path)
    sender.send(MAIL)
    sender.send(MAIL)
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["confirm-7-1.eml", "confirm-7-2.eml"]
    message = email.message_from_bytes((tmp_path / files[0]).read_bytes(), policy=email.policy.default)
    assert message["To"] == "lea@example.org"
    assert message["Subject"] == "Confirmez votre inscription"
    assert message["Content-Language"] == "fr"
    assert MAIL.url in message.get_content()


def test_header_injection_is_refused() -> None:
    hostile = ConfirmationMail(7, "lea@example.org\r\nBcc: all@example.org", "s", "b", "u", "en")
    with pytest.raises(ValueError):
        build_message(hostile)


def test_sender_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIVIER_SMTP_HOST", raising=False)
    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path))
    offline = sender_from_env()
    assert isinstance(offline, EmlFolderSender) and offline.folder == tmp_path / "preference-mail"
    monkeypatch.setenv("VIVIER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VIVIER_SMTP_PORT", "2525")
    smtp = sender_from_env()
    assert isinstance(smtp, SmtpSender) and (smtp.host, smtp.port) == ("127.0.0.1", 2525)


def test_smtp_sender_delivers_to_a_loopback_server() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:
            received.append(message)

    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        SmtpSender("127.0.0.1", port).send(MAIL)
    finally:
        controller.stop()
    assert len(received) == 1
    assert received[0]["To"] == "lea@example.org"
    assert MAIL.url in received[0].get_payload()
