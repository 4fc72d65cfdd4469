"""Deliver the outbox: claim planned messages, check them again, send them, record what happened.

States: ``planned`` -> ``claimed`` -> ``sent`` | ``failed`` | ``unknown`` | ``skipped``; a transient
failure (4xx, a connection lost before the message was handed over) puts the message back to
``planned`` with a later ``retry_at`` (exponential backoff), until ``max_attempts``.

Exactly-once is impossible over SMTP; what this guarantees instead:
- a message is only sent from ``claimed``, and claimed by one sender at a time (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, the writer lock on SQLite);
- a message whose fate is uncertain (connection lost after the data went out, or a sender that
  died holding the claim) becomes ``unknown``: reported, never resent automatically;
- a re-run finds nothing ``planned`` and sends nothing.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vivier.db.bulk import db_timestamp
from vivier.db.schema import dispatch_batches, outbox
from vivier.db.sqlfiles import run_sql, statements
from vivier.dispatch.config import DeliverySettings
from vivier.dispatch.messages import InvalidMessage, MessageBuilder, OutgoingMessage
from vivier.dispatch.transports import FAILED, RETRY, SENT, UNKNOWN, Envelope, SendResult, Throttle, Transport


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeliveryReport:
    """What one delivery run did (counts only: safe for logs and XCom)."""

    sent: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    expired_claims: int = 0
    skipped: Counter = field(default_factory=Counter)
    left_planned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "retried": self.retried,
            "expired_claims": self.expired_claims,
            "skipped": dict(self.skipped),
            "left_planned": self.left_planned,
        }


OUTBOX_FIELDS = (
    outbox.c.message_id,
    outbox.c.campaign,
    outbox.c.period,
    outbox.c.recipient,
    outbox.c.recipient_name,
    outbox.c.subject,
    outbox.c.body_text,
    outbox.c.body_html,
    outbox.c.headers,
    outbox.c.language,
    outbox.c.attempts,
)


def outgoing(row: Any) -> OutgoingMessage:
    headers = row.headers or {}
    if isinstance(headers, str):  # raw JSON text (SQLite through a text query)
        import json

        headers = json.loads(headers)
    return OutgoingMessage(
        message_id=row.message_id,
        recipient=row.recipient or "",
        recipient_name=row.recipient_name,
        subject=row.subject or "",
        body_text=row.body_text or "",
        body_html=row.body_html,
        language=row.language,
        headers=dict(headers),
    )


def _claim(connection: sa.Connection, batch_id: int, token: str, now: datetime, limit: int) -> tuple[int, list[Any]]:
    """(messages claimed, those still to send once checked again)."""
    name = "dispatch/claim_postgresql" if connection.dialect.name == "postgresql" else "dispatch/claim_sqlite"
    stamp = db_timestamp(connection, now)
    (claimed,) = run_sql(connection, name, batch_id=batch_id, token=token, now=stamp, limit=limit)
    if not claimed.rowcount:
        return 0, []
    run_sql(connection, "dispatch/skip_at_send", batch_id=batch_id, token=token, now=stamp)
    query = sa.select(*OUTBOX_FIELDS).where(
        outbox.c.batch_id == batch_id, outbox.c.state == "claimed", outbox.c.claimed_by == token
    )
    return claimed.rowcount, list(connection.execute(query.order_by(outbox.c.message_id)))


def _record(
    connection: sa.Connection,
    token: str,
    outcomes: list[tuple[Any, SendResult]],
    settings: DeliverySettings,
    now: datetime,
    report: DeliveryReport,
) -> None:
    updates = []
    for row, result in outcomes:
        state, retry_at = result.outcome, None
        if result.outcome == RETRY:
            attempts = row.attempts + 1
            if attempts >= settings.max_attempts:
                state = FAILED
            else:
                state, retry_at = (
                    "planned",
                    db_timestamp(connection, now + timedelta(seconds=settings.backoff(attempts))),
                )
                report.retried += 1
        if state == SENT:
            report.sent += 1
        elif state == FAILED:
            report.failed += 1
        elif state == UNKNOWN:
            report.unknown += 1
        updates.append(
            {
                "message_id": row.message_id,
                "token": token,
                "state": state,
                "sent_at": db_timestamp(connection, now) if state == SENT else None,
                "last_error": None if state == SENT else result.detail,
                "retry_at": retry_at,
            }
        )
    if updates:
        (statement,) = statements("dispatch/record_outcome")
        connection.execute(sa.text(statement), updates)


def _release(connection: sa.Connection, token: str, message_ids: Iterable[str]) -> None:
    """Put claimed messages that were never attempted back to ``planned``."""
    rows = [{"message_id": m, "token": token} for m in message_ids]
    if rows:
        connection.execute(
            sa.text(
                "UPDATE outbox SET state = 'planned' "
                "WHERE message_id = :message_id AND claimed_by = :token AND state = 'claimed'"
            ),
            rows,
        )


def _next_retry(connection: sa.Connection, batch_id: int) -> datetime | None:
    value = connection.execute(
        sa.select(sa.func.min(outbox.c.retry_at)).where(outbox.c.batch_id == batch_id, outbox.c.state == "planned")
    ).scalar_one_or_none()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def refresh_batch(connection: sa.Connection, batch_id: int, delivered_at: datetime | None = None) -> None:
    """Recount the batch record from its outbox rows (and the skip reasons)."""
    run_sql(connection, "dispatch/refresh_batch_counts", batch_id=batch_id)
    reasons = connection.execute(
        sa.select(outbox.c.skip_reason, sa.func.count())
        .where(outbox.c.batch_id == batch_id, outbox.c.state == "skipped")
        .group_by(outbox.c.skip_reason)
    ).all()
    values: dict[str, Any] = {"skip_reasons": {str(reason): int(count) for reason, count in reasons}}
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    connection.execute(dispatch_batches.update().where(dispatch_batches.c.batch_id == batch_id).values(**values))


def built_ahead(
    rows: list[Any], builder: MessageBuilder, clock: Callable[[], datetime], depth: int = 2
) -> Iterator[tuple[Any, Envelope, bytes | InvalidMessage]]:
    """(row, envelope, message bytes or the InvalidMessage) for each row, built one or two messages
    ahead in a thread: building the next message overlaps the wait for the server's replies to the
    current one. The small queue keeps the builder from holding the interpreter for long."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def build() -> None:
        try:
            for row in rows:
                message = outgoing(row)
                envelope = Envelope(
                    row.message_id, builder.envelope_sender, message.recipient, row.campaign, row.period
                )
                try:
                    data: bytes | InvalidMessage = builder.to_bytes(message, clock())
                except InvalidMessage as error:
                    data = error
                while not stop.is_set():
                    try:
                        ready.put((row, envelope, data), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            ready.put(error)

    worker = threading.Thread(target=build, name="outbox-builder", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(0.05)


_DONE = object()


def deliver_batch(
    engine: sa.Engine,
    batch_id: int,
    transport: Transport,
    builder: MessageBuilder,
    settings: DeliverySettings,
    *,
    report: DeliveryReport | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    throttle: Throttle | None = None,
) -> DeliveryReport:
    """Send every planned message of one batch (retrying transient failures within ``max_wait_seconds``)."""
    report = report or DeliveryReport()
    throttle = throttle or Throttle(settings.messages_per_second)
    token = uuid.uuid4().hex
    started = time.monotonic()
    with engine.begin() as connection:
        cutoff = db_timestamp(connection, clock() - timedelta(minutes=settings.claim_lease_minutes))
        (expired,) = run_sql(connection, "dispatch/expire_claims", batch_id=batch_id, cutoff=cutoff)
        report.expired_claims += max(expired.rowcount, 0)
        report.unknown += max(expired.rowcount, 0)
    while True:
        with engine.begin() as connection:
            claimed, rows = _claim(connection, batch_id, token, clock(), settings.chunk_size)
        if not claimed:
            with engine.connect() as connection:
                due = _next_retry(connection, batch_id)
            if due is None:
                break
            wait = max(0.0, (due - clock()).total_seconds())
            if time.monotonic() - started + wait > settings.max_wait_seconds:
                break
            sleep(wait)
            continue
        outcomes: list[tuple[Any, SendResult]] = []
        try:
            for row, envelope, data in built_ahead(rows, builder, clock):
                if isinstance(data, InvalidMessage):
                    outcomes.append((row, SendResult(FAILED, str(data))))
                    continue
                throttle.wait()
                outcomes.append((row, transport.send(envelope, data)))
        finally:
            attempted = {row.message_id for row, _ in outcomes}
            with engine.begin() as connection:
                _record(connection, token, outcomes, settings, clock(), report)
                _release(connection, token, (row.message_id for row in rows if row.message_id not in attempted))
    with engine.begin() as connection:
        skipped = connection.execute(
            sa.select(outbox.c.skip_reason, sa.func.count())
            .where(outbox.c.batch_id == batch_id, outbox.c.state == "skipped", outbox.c.claimed_by == token)
            .group_by(outbox.c.skip_reason)
        ).all()
        report.skipped.update({str(reason): int(count) for reason, count in skipped})
        report.left_planned += connection.execute(
            sa.select(sa.func.count()).where(outbox.c.batch_id == batch_id, outbox.c.state == "planned")
        ).scalar_one()
        refresh_batch(connection, batch_id, clock())
        run_sql(connection, "dispatch/mark_notices_sent")
    return report


def deliver(
    engine: sa.Engine,
    batch_ids: Iterable[int],
    transport: Transport,
    builder: MessageBuilder,
    settings: DeliverySettings,
    **options: Any,
) -> DeliveryReport:
    """Deliver several batches over the same transport (one SMTP connection for the whole run)."""
    report = DeliveryReport()
    try:
        for batch_id in batch_ids:
            deliver_batch(engine, batch_id, transport, builder, settings, report=report, **options)
    finally:
        transport.close()
    return report


def write_eml_files(engine: sa.Engine, batch_ids: Iterable[int], transport: Transport, builder: MessageBuilder) -> int:
    """Dry run: every planned message of the batches written by ``transport`` (an EmlFolderTransport);
    the outbox is left as it is, so a real run later sends them."""
    written = 0
    now = utc_now()
    with engine.connect() as connection:
        for batch_id in batch_ids:
            rows = connection.execute(
                sa.select(*OUTBOX_FIELDS)
                .where(outbox.c.batch_id == batch_id, outbox.c.state == "planned")
                .order_by(outbox.c.message_id)
            )
            for row in rows:
                message = outgoing(row)
                envelope = Envelope(
                    row.message_id, builder.envelope_sender, message.recipient, row.campaign, row.period
                )
                try:
                    transport.send(envelope, builder.to_bytes(message, now))
                except InvalidMessage:
                    continue
                written += 1
    return written
