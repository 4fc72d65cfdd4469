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

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vivier.db.bulk import db_timestamp
from vivier.db.schema import dispatch_batches, outbox
from vivier.db.sqlfiles import run_sql, statements
from vivier.dispatch.config import DeliverySettings
from vivier.dispatch.messages import InvalidMessage, MessageBuilder, OutgoingMessage
from vivier.dispatch.staging import finalised_batch_ids
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


def _skip_reasons() -> list[str]:
    """The reason each statement of skip_at_send.sql writes, in order."""
    reasons = []
    for statement in statements("dispatch/skip_at_send"):
        found = re.search(r"skip_reason\s*=\s*'(\w+)'", statement)
        reasons.append(found.group(1) if found else "unknown")
    return reasons


def _claim(
    connection: sa.Connection, batch_id: int, token: str, now: datetime, limit: int
) -> tuple[int, list[Any], Counter]:
    """(messages claimed, those still to send once checked again, how many were skipped and why)."""
    name = "dispatch/claim_postgresql" if connection.dialect.name == "postgresql" else "dispatch/claim_sqlite"
    stamp = db_timestamp(connection, now)
    (claimed,) = run_sql(connection, name, batch_id=batch_id, token=token, now=stamp, limit=limit)
    if not claimed.rowcount:
        return 0, [], Counter()
    checks = run_sql(connection, "dispatch/skip_at_send", batch_id=batch_id, token=token, now=stamp)
    skipped = Counter(
        {reason: check.rowcount for reason, check in zip(_skip_reasons(), checks, strict=True) if check.rowcount > 0}
    )
    query = sa.select(*OUTBOX_FIELDS).where(
        outbox.c.batch_id == batch_id, outbox.c.state == "claimed", outbox.c.claimed_by == token
    )
    return claimed.rowcount, list(connection.execute(query.order_by(outbox.c.message_id))), skipped


def _record(
    connection: sa.Connection,
    token: str,
    outcomes: list[tuple[Any, SendResult]],
    settings: DeliverySettings,
    now: datetime,
) -> Counter:
    """Write the outcome of each attempt; returns the counts (sent, failed, unknown, retried) to
    add to the report once the transaction commits."""
    counts: Counter = Counter()
    sent_at = db_timestamp(connection, now)
    sent, updates = [], []
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
                counts["retried"] += 1
        if state in (SENT, FAILED, UNKNOWN):
            counts[state] += 1
        if state == SENT:
            sent.append(row.message_id)
            continue
        updates.append(
            {
                "message_id": row.message_id,
                "token": token,
                "state": state,
                "sent_at": None,
                "last_error": result.detail,
                "retry_at": retry_at,
            }
        )
    if sent:
        (statement,) = statements("dispatch/record_sent")
        expanding = sa.text(statement).bindparams(sa.bindparam("message_ids", expanding=True))
        connection.execute(expanding, {"message_ids": sent, "sent_at": sent_at, "token": token})
    if updates:
        (statement,) = statements("dispatch/record_outcome")
        connection.execute(sa.text(statement), updates)
    return counts


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
    """Recount the batch record from its outbox rows (one pass over the batch's index), and its skip
    reasons when the number of skipped messages changed (a message never leaves 'skipped', so the
    same number means the same messages: no need to read them all again)."""
    where = dispatch_batches.c.batch_id == batch_id
    before = connection.execute(
        sa.select(dispatch_batches.c.skipped, dispatch_batches.c.skip_reasons).where(where)
    ).one_or_none()
    (counted,) = run_sql(connection, "dispatch/batch_state_counts", batch_id=batch_id)
    states = {str(state): int(count) for state, count in counted}
    values: dict[str, Any] = {
        "messages": sum(states.values()),
        "planned": states.get("planned", 0) + states.get("claimed", 0),
        "sent": states.get(SENT, 0),
        "failed": states.get(FAILED, 0),
        "unknown": states.get(UNKNOWN, 0),
        "skipped": states.get("skipped", 0),
    }
    if before is None or before.skip_reasons is None or before.skipped != values["skipped"]:
        reasons = connection.execute(
            sa.select(outbox.c.skip_reason, sa.func.count())
            .where(outbox.c.batch_id == batch_id, outbox.c.state == "skipped")
            .group_by(outbox.c.skip_reason)
        ).all()
        values["skip_reasons"] = {str(reason): int(count) for reason, count in reasons}
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    connection.execute(dispatch_batches.update().where(where).values(**values))


_Prepared = tuple[Any, Envelope, "bytes | InvalidMessage"]


def _prepared(row: Any, builder: MessageBuilder, clock: Callable[[], datetime]) -> _Prepared:
    """(row, envelope, message bytes or the InvalidMessage that prevents building them)."""
    message = outgoing(row)
    envelope = Envelope(row.message_id, builder.envelope_sender, message.recipient, row.campaign, row.period)
    try:
        data: bytes | InvalidMessage = builder.to_bytes(message, clock())
    except InvalidMessage as error:
        data = error
    return row, envelope, data


def send_rows(
    rows: list[Any],
    transport: Transport,
    builder: MessageBuilder,
    throttle: Throttle,
    outcomes: list[tuple[Any, SendResult]],
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Send ``rows`` in order, appending (row, result) to ``outcomes`` as each one is known.

    Each message is built while the server is busy with the previous one (after its data went out,
    before its reply is read): the building costs no time on the wire. Whatever stops the building
    (even an interrupt) is raised once the outcome of the message in flight is in ``outcomes``."""
    ahead: list[_Prepared | BaseException] = []  # the next message, once built
    position = 0  # of the message in flight

    def build_next() -> None:
        if ahead or position + 1 >= len(rows):
            return
        try:
            ahead.append(_prepared(rows[position + 1], builder, clock))
        except BaseException as error:  # raised by the loop, once this message's outcome is kept
            ahead.append(error)

    current: _Prepared | BaseException | None = _prepared(rows[0], builder, clock) if rows else None
    while current is not None:
        if isinstance(current, BaseException):
            raise current
        row, envelope, data = current
        if isinstance(data, InvalidMessage):
            result = SendResult(FAILED, str(data))
        else:
            throttle.wait()
            result = transport.send(envelope, data, meanwhile=build_next)
        outcomes.append((row, result))
        build_next()  # when the transport did not (a refusal before the data went out)
        current = ahead.pop() if ahead else None
        position += 1


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
    """Send every planned message of one batch (retrying transient failures within ``max_wait_seconds``).

    Messages are claimed a chunk at a time (checked again just before: consent, suppression,
    erasure, preferences); the outcomes of a chunk are written in the transaction that claims the
    next one, and in a transaction of their own when the run stops."""
    report = report or DeliveryReport()
    throttle = throttle or Throttle(settings.messages_per_second)
    token = uuid.uuid4().hex
    started = time.monotonic()
    with engine.begin() as connection:
        cutoff = db_timestamp(connection, clock() - timedelta(minutes=settings.claim_lease_minutes))
        (expired,) = run_sql(connection, "dispatch/expire_claims", batch_id=batch_id, cutoff=cutoff)
        report.expired_claims += max(expired.rowcount, 0)
        report.unknown += max(expired.rowcount, 0)
    done: tuple[list[Any], list[tuple[Any, SendResult]]] = ([], [])  # a sent chunk not recorded yet

    def record(connection: sa.Connection) -> Counter:
        rows, outcomes = done
        if not rows:
            return Counter()
        attempted = {row.message_id for row, _ in outcomes}
        counts = _record(connection, token, outcomes, settings, clock())
        _release(connection, token, (row.message_id for row in rows if row.message_id not in attempted))
        return counts

    def recorded(counts: Counter) -> None:
        nonlocal done
        done = ([], [])
        report.sent += counts[SENT]
        report.failed += counts[FAILED]
        report.unknown += counts[UNKNOWN]
        report.retried += counts["retried"]

    try:
        while True:
            with engine.begin() as connection:
                counts = record(connection)
                claimed, rows, skipped = _claim(connection, batch_id, token, clock(), settings.chunk_size)
            recorded(counts)
            outcomes: list[tuple[Any, SendResult]] = []
            done = (rows, outcomes)  # from now on, a stop puts back what was not tried
            report.skipped.update(skipped)
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
            send_rows(rows, transport, builder, throttle, outcomes, clock)
    finally:
        if done[0]:  # the run stops: keep what is known of the chunk, put back what was not tried
            with engine.begin() as connection:
                counts = record(connection)
            recorded(counts)
    with engine.begin() as connection:
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
    """Deliver several batches over the same transport (one SMTP connection for the whole run); a
    batch not finalised yet (parts still being rendered) is left alone."""
    report = DeliveryReport()
    with engine.connect() as connection:
        batch_ids = finalised_batch_ids(connection, list(batch_ids))
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
        for batch_id in finalised_batch_ids(connection, list(batch_ids)):
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
