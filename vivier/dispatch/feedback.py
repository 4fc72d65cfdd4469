"""Bounces and complaints: read the files a mail provider or a mailbox export leaves in a folder,
suppress hard bounces and complaints, withdraw their consents in the ledger.

Files (each read once: its SHA-256 is remembered in ``delivery_feedback``):

- ``*.csv``: columns ``email`` (or ``recipient``), ``kind`` (or ``type``/``event``: hard_bounce,
  hard, permanent, bounce; soft_bounce, soft, transient, delayed; complaint, spam, abuse),
  optional ``occurred_at`` and ``message_id``;
- ``*.eml`` (one message) and ``*.mbox`` (a mailbox export): delivery status notifications
  (``multipart/report; report-type=delivery-status``, RFC 3464: ``Action: failed`` with a 5.x.x
  status is a hard bounce, 4.x.x or ``delayed`` a soft one) and complaint reports (ARF,
  ``report-type=feedback-report``, RFC 5965).

A report naming one of our Message-IDs is traced to the outbox row (so the address need not be
parsed); otherwise the reported address is used. Policy (as listmonk's): a hard bounce or a
complaint suppresses the address at once and withdraws every purpose (ledger source
``hard_bounce`` / ``complaint``); soft bounces are only recorded. Nothing personal is logged:
the feedback table keeps the keyed hash of the address, never the address.
"""

from __future__ import annotations

import csv
import email
import email.policy
import hashlib
import io
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from vivier.db.schema import delivery_feedback, outbox, persons, suppression_list
from vivier.ingest.people import email_hmacs

HARD, SOFT, COMPLAINT = "hard_bounce", "soft_bounce", "complaint"
KIND_WORDS = {
    HARD: {"hard_bounce", "hard", "permanent", "bounce", "bounced", "failed"},
    SOFT: {"soft_bounce", "soft", "transient", "delayed", "deferred"},
    COMPLAINT: {"complaint", "spam", "abuse", "complained"},
}
FEEDBACK_SUFFIXES = (".csv", ".eml", ".mbox")
_ADDRESS = re.compile(r"[^\s<>;,]+@[^\s<>;,]+")


@dataclass(frozen=True)
class FeedbackRecord:
    record_no: int
    kind: str
    email: str | None
    message_id: str | None
    occurred_at: pd.Timestamp | None


@dataclass
class FeedbackCounts:
    files: int = 0
    records: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    suppressed: int = 0
    consents_withdrawn: int = 0
    unmatched: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _kind(word: Any) -> str | None:
    value = str(word or "").strip().lower().replace("-", "_").replace(" ", "_")
    for kind, words in KIND_WORDS.items():
        if value in words:
            return kind
    return None


def _address(value: Any) -> str | None:
    found = _ADDRESS.search(str(value or ""))
    return found.group(0).strip().lower() if found else None


def _time(value: Any) -> pd.Timestamp | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        try:
            stamp = pd.Timestamp(email.utils.parsedate_to_datetime(str(value)))
        except (ValueError, TypeError):
            return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _csv_records(data: bytes) -> Iterator[FeedbackRecord]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    for number, row in enumerate(reader, start=1):
        row = {str(k or "").strip().lower(): v for k, v in row.items()}
        kind = _kind(row.get("kind") or row.get("type") or row.get("event"))
        address = _address(row.get("email") or row.get("recipient"))
        message_id = (row.get("message_id") or row.get("message-id") or "").strip() or None
        if kind and (address or message_id):
            yield FeedbackRecord(number, kind, address, message_id, _time(row.get("occurred_at") or row.get("date")))


def _original_message_id(report: EmailMessage) -> str | None:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            if inner is not None and inner.get("Message-ID"):
                return str(inner.get("Message-ID")).strip()
        if content_type == "text/rfc822-headers":
            headers = email.message_from_string(part.get_content(), policy=email.policy.default)
            if headers.get("Message-ID"):
                return str(headers.get("Message-ID")).strip()
    return None


def report_records(report: EmailMessage, first_number: int) -> list[FeedbackRecord]:
    """The bounces or the complaint a DSN or an ARF report carries."""
    content_type = report.get_content_type()
    report_type = str(report.get_param("report-type") or "").lower()
    if content_type != "multipart/report":
        return []
    when = _time(report.get("Date"))
    message_id = _original_message_id(report)
    records: list[FeedbackRecord] = []
    for part in report.walk():
        kind_of_part = part.get_content_type()
        if report_type == "delivery-status" and kind_of_part == "message/delivery-status":
            blocks = part.get_payload() or []
            for block in blocks[1:] if len(blocks) > 1 else blocks:  # the first block is per-message
                action = str(block.get("Action", "")).strip().lower()
                status = str(block.get("Status", "")).strip()
                recipient = _address(block.get("Final-Recipient") or block.get("Original-Recipient"))
                if action == "failed" and status.startswith("5"):
                    kind = HARD
                elif action in ("delayed", "failed") and status.startswith("4"):
                    kind = SOFT
                else:
                    continue
                records.append(FeedbackRecord(first_number + len(records), kind, recipient, message_id, when))
        if report_type == "feedback-report" and kind_of_part == "message/feedback-report":
            fields = part.get_payload()
            fields = fields[0] if isinstance(fields, list) and fields else fields
            recipient = _address(fields.get("Original-Rcpt-To")) if fields is not None else None
            records.append(FeedbackRecord(first_number, COMPLAINT, recipient, message_id, when))
    return records


def read_feedback_file(path: Path, data: bytes | None = None) -> list[FeedbackRecord]:
    """Every bounce and complaint of one file (CSV, .eml, .mbox)."""
    data = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return list(_csv_records(data))
    if suffix == ".eml":
        return report_records(email.message_from_bytes(data, policy=email.policy.default), 1)
    if suffix == ".mbox":
        records: list[FeedbackRecord] = []
        box = mailbox.mbox(str(path), factory=None, create=False)
        try:
            for message in box:
                parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
                records.extend(report_records(parsed, len(records) + 1))
        finally:
            box.close()
        return records
    return []


def _new_files(connection: sa.Connection, folder: Path) -> Iterator[tuple[Path, bytes, str]]:
    if not folder.is_dir():
        return
    seen = set(connection.execute(sa.select(delivery_feedback.c.file_sha256).distinct()).scalars())
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FEEDBACK_SUFFIXES):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in seen:
            yield path, data, digest


def _traced(connection: sa.Connection, message_ids: Iterable[str]) -> dict[str, tuple[int | None, str | None]]:
    """Our Message-IDs -> (person_id, recipient_hmac) from the outbox."""
    ids = sorted({m for m in message_ids if m})
    if not ids:
        return {}
    rows = connection.execute(
        sa.select(outbox.c.message_id, outbox.c.person_id, outbox.c.recipient_hmac).where(outbox.c.message_id.in_(ids))
    )
    return {row.message_id: (row.person_id, row.recipient_hmac) for row in rows}


def process_feedback(connection: sa.Connection, folder: Path, suppression_key: bytes, as_of: Any) -> FeedbackCounts:
    """Read the new feedback files of ``folder`` and act on them (in the caller's transaction)."""
    from vivier.consent.ledger import record_events
    from vivier.consent.purposes import purposes as all_purposes

    counts = FeedbackCounts()
    recorded_at = pd.Timestamp(as_of)
    recorded_at = recorded_at.tz_localize("UTC") if recorded_at.tzinfo is None else recorded_at.tz_convert("UTC")
    for path, data, digest in _new_files(connection, Path(folder)):
        counts.files += 1
        records = read_feedback_file(path, data)
        traced = _traced(connection, (r.message_id for r in records))
        rows = []
        for record in records:
            person_id, hmac_value = traced.get(record.message_id or "", (None, None))
            if hmac_value is None and record.email:
                hmac_value = email_hmacs([record.email], suppression_key)[0]
                person_id = connection.execute(
                    sa.select(persons.c.person_id).where(persons.c.email == record.email)
                ).scalar_one_or_none()
            if hmac_value is None:
                counts.unmatched += 1
                continue
            rows.append((record, person_id, hmac_value))
        for record, person_id, hmac_value in rows:
            action = "recorded" if record.kind == SOFT else "suppressed"
            inserted = connection.execute(
                _insert_ignore(connection, delivery_feedback)
                .values(
                    source_file=path.name,
                    file_sha256=digest,
                    record_no=record.record_no,
                    kind=record.kind,
                    email_hmac=hmac_value,
                    message_id=record.message_id,
                    occurred_at=record.occurred_at,
                    action=action,
                    recorded_at=recorded_at,
                )
                .on_conflict_do_nothing(index_elements=["file_sha256", "record_no"])
            ).rowcount
            if not inserted:
                continue
            counts.records += 1
            counts.hard_bounces += record.kind == HARD
            counts.soft_bounces += record.kind == SOFT
            counts.complaints += record.kind == COMPLAINT
            if record.kind == SOFT:
                continue
            counts.suppressed += connection.execute(
                _insert_ignore(connection, suppression_list)
                .values(email_hmac=hmac_value, reason=record.kind, created_at=recorded_at)
                .on_conflict_do_nothing(index_elements=["email_hmac"])
            ).rowcount
            if person_id is not None:
                events = pd.DataFrame(
                    {
                        "person_id": int(person_id),
                        "purpose": list(all_purposes()),
                        "action": "withdrawn",
                        "source": record.kind,
                        "occurred_at": record.occurred_at or recorded_at,
                    }
                )
                counts.consents_withdrawn += record_events(connection, events, recorded_at=recorded_at)
    return counts


def _insert_ignore(connection: sa.Connection, table: sa.Table):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
