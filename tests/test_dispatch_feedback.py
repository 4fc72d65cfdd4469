"""Bounces and complaints (CSV, DSN, ARF, mbox) feed the suppression list and the consent ledger,
once per file; the content catalogue loads, updates and retires items."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from vivier.consent.ledger import record_events
from vivier.db.schema import consent_current, content_items, delivery_feedback, persons, suppression_list
from vivier.dispatch.catalogue import CatalogueProblem, load_catalogue, read_catalogue
from vivier.dispatch.feedback import process_feedback, read_feedback_file
from vivier.dispatch.messages import make_message_id
from vivier.ingest.people import email_hmacs

KEY = b"test-suppression-key-0123456789ab"
AS_OF = pd.Timestamp("2026-12-01 08:00", tz="UTC")


def dsn(recipient: str, status: str, action: str, message_id: str | None = None) -> bytes:
    """A delivery status notification (RFC 3464) as a mail server writes it."""
    original = (
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nSubject: Vos offres\r\n\r\n"
        if message_id
        else ""
    )
    return (
        "From: MAILER-DAEMON@mx.example.test\r\nTo: talent@vivier.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\n\r\n"
        f"{original}--B--\r\n"
    ).encode()


def arf(recipient: str) -> bytes:
    """A complaint report (ARF, RFC 5965)."""
    return (
        "From: abuse@isp.example.test\r\nSubject: Complaint\r\nDate: Mon, 30 Nov 2026 11:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n"
        "--B\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: abuse\r\nUser-Agent: isp/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: {recipient}\r\n\r\n"
        "--B--\r\n"
    ).encode()


@pytest.fixture
def people(crm_engine) -> sa.Engine:
    with crm_engine.begin() as connection:
        connection.execute(
            persons.insert(),
            [
                {"person_id": i, "email": f"p{i}@example.test", "created_at": AS_OF, "updated_at": AS_OF}
                for i in range(1, 7)
            ],
        )
        grants = pd.DataFrame(
            {
                "person_id": list(range(1, 7)),
                "purpose": "job_offers",
                "action": "granted",
                "source": "web_form",
                "occurred_at": AS_OF - pd.Timedelta(days=10),
            }
        )
        record_events(connection, grants)
        connection.execute(
            sa.text(
                "INSERT INTO outbox (message_id, person_id, campaign, period, template, state, planned_at, "
                "recipient_hmac, is_bulk, attempts) VALUES (:m, 5, 'weekly_offers', '2026-W48', 't', 'sent', :at, :h, "
                ":bulk, 0)"
            ),
            {
                "m": make_message_id("weekly_offers", "2026-W48", 5, "vivier.test"),
                "at": AS_OF.to_pydatetime(),
                "h": email_hmacs(["p5@example.test"], KEY)[0],
                "bulk": True,
            },
        )
    return crm_engine


def active(engine: sa.Engine) -> set[int]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(consent_current.c.person_id).where(
                    consent_current.c.is_active, consent_current.c.purpose == "job_offers"
                )
            ).scalars()
        )


def test_hard_bounces_and_complaints_suppress_and_withdraw_soft_bounces_are_only_recorded(people, tmp_path) -> None:
    folder = tmp_path / "feedback"
    folder.mkdir()
    (folder / "provider-export.csv").write_text(
        "email,type,occurred_at\nP1@Example.test,hard,2026-11-30T10:00:00Z\np2@example.test,soft,\n"
        "p3@example.test,spam,\nunknown@example.test,hard,\n",
        encoding="utf-8",
    )
    (folder / "bounce.eml").write_bytes(dsn("p4@example.test", "5.1.1", "failed"))
    (folder / "traced.eml").write_bytes(
        dsn("someone@else.test", "5.2.1", "failed", make_message_id("weekly_offers", "2026-W48", 5, "vivier.test"))
    )
    box = mailbox.mbox(str(folder / "complaints.mbox"))
    box.add(arf("p6@example.test"))
    box.add(dsn("p2@example.test", "4.2.2", "delayed"))
    box.close()

    with people.begin() as connection:
        counts = process_feedback(connection, folder, KEY, AS_OF)
    assert counts.files == 4 and counts.hard_bounces == 4 and counts.complaints == 2 and counts.soft_bounces == 2
    suppressed = {h: r for h, r in _suppression(people)}
    for person, reason in {
        1: "hard_bounce",
        3: "complaint",
        4: "hard_bounce",
        5: "hard_bounce",
        6: "complaint",
    }.items():
        assert suppressed[email_hmacs([f"p{person}@example.test"], KEY)[0]] == reason
    assert email_hmacs(["p2@example.test"], KEY)[0] not in suppressed, "soft bounces do not suppress"
    assert active(people) == {2}, "consent withdrawn for everyone suppressed"
    with people.connect() as connection:
        ledger = connection.execute(
            sa.text("SELECT source, COUNT(*) FROM consent_events WHERE action = 'withdrawn' GROUP BY source")
        ).all()
        stored = connection.execute(sa.select(delivery_feedback.c.email_hmac, delivery_feedback.c.action)).all()
    assert dict(ledger)["hard_bounce"] > 0 and dict(ledger)["complaint"] > 0
    assert all(len(h) == 64 and "@" not in h for h, _ in stored), "only keyed hashes are kept"

    with people.begin() as connection:
        again = process_feedback(connection, folder, KEY, AS_OF + pd.Timedelta(days=1))
    assert again.files == 0 and again.records == 0, "a file is read once"


def _suppression(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return connection.execute(sa.select(suppression_list.c.email_hmac, suppression_list.c.reason)).all()


def test_reports_are_parsed_into_records(tmp_path: Path) -> None:
    path = tmp_path / "r.eml"
    path.write_bytes(dsn("x@example.test", "5.1.1", "failed", "<abc@vivier.test>"))
    (record,) = read_feedback_file(path)
    assert (record.kind, record.email, record.message_id) == ("hard_bounce", "x@example.test", "<abc@vivier.test>")
    path.write_bytes(dsn("x@example.test", "2.0.0", "delivered"))
    assert read_feedback_file(path) == []
    path.write_bytes(b"Subject: not a report\r\n\r\nhello")
    assert read_feedback_file(path) == []


def test_the_catalogue_loads_updates_and_retires_items(crm_engine, tmp_path: Path) -> None:
    shipped = read_catalogue()
    purposes = {item["purpose"] for item in shipped}
    assert purposes == {"events", "testimonials", "company_news", "job_market"}
    assert {item["language"] for item in shipped} == {"fr", "en", "de", "it"}
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "items:\n"
        "  - {id: e1, purpose: events, language: fr, title: Soirée, starts_at: 2027-01-10T18:00:00}\n"
        "  - {id: n1, purpose: company_news, language: en, title: News, age_bands: [18-24]}\n",
        encoding="utf-8",
    )
    (folder / "b.csv").write_text("id,purpose,language,title,weight\nm1,job_market,de,Rechte,2\n", encoding="utf-8")
    with crm_engine.begin() as connection:
        first = load_catalogue(connection, read_catalogue(folder), AS_OF)
        same = load_catalogue(connection, read_catalogue(folder), AS_OF)
    assert (first.inserted, same.inserted, same.updated, same.retired) == (3, 0, 0, 0)
    (folder / "b.csv").write_text(
        "id,purpose,language,title,weight\nm1,job_market,de,Ihre Rechte,2\n", encoding="utf-8"
    )
    (folder / "a.yaml").write_text(
        "items:\n  - {id: e1, purpose: events, language: fr, title: Soirée, starts_at: 2027-01-10T18:00:00}\n",
        encoding="utf-8",
    )
    with crm_engine.begin() as connection:
        changed = load_catalogue(connection, read_catalogue(folder), AS_OF + pd.Timedelta(days=1))
    assert (changed.updated, changed.retired) == (1, 1)
    with crm_engine.connect() as connection:
        items = {r.item_id: r for r in connection.execute(sa.select(content_items))}
    assert items["m1"].title == "Ihre Rechte" and items["n1"].retired_at is not None
    assert items["e1"].expires_at == items["e1"].starts_at, "an event expires when it starts"

    (folder / "c.yaml").write_text(
        "items:\n  - {id: e1, purpose: events, language: fr, title: Again}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueProblem, match="starts_at|already used"):
        read_catalogue(folder)
    (folder / "c.yaml").write_text("items:\n  - {id: x, purpose: gossip, language: fr, title: X}\n", encoding="utf-8")
    with pytest.raises(CatalogueProblem, match="purpose"):
        read_catalogue(folder)
