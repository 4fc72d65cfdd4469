"""Writing the outbox: one batch per (campaign, period), planned once; its messages frozen in bulk.

A batch row is inserted first, in the planning transaction: if it already exists, the period was
planned before and planning does nothing (a re-run or a backfill of a period plans nothing twice).
The outbox's unique key (person, campaign, period) is the last guard.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp
from vivier.db.schema import dispatch_batches, outbox

OUTBOX_COLUMNS = {
    "message_id": "text",
    "person_id": "int",
    "campaign": "text",
    "period": "text",
    "template": "text",
    "template_version": "text",
    "language": "text",
    "consent_event_id": "int",
    "recipient": "text",
    "recipient_name": "text",
    "recipient_hmac": "text",
    "subject": "text",
    "body_text": "text",
    "body_html": "text",
    "headers": "text",
    "state": "text",
    "skip_reason": "text",
    "attempts": "int",
    "planned_at": "timestamp",
    "batch_id": "int",
    "is_bulk": "bool",
}
TIMESTAMP_COLUMNS = {"planned_at"}
CONSENT_COLUMNS = {"message_id": "text", "purpose": "text", "consent_event_id": "int"}
ITEM_COLUMNS = {"message_id": "text", "position": "int", "kind": "text", "item_ref": "text", "purpose": "text"}


@dataclass
class PlanResult:
    """What planning one (campaign, period) did; counts and versions only (safe for logs and XCom)."""

    campaign: str
    period: str
    batch_id: int | None = None
    created: bool = False
    planned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    template_versions: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "period": self.period,
            "batch_id": self.batch_id,
            "created": self.created,
            "planned": self.planned,
            "skipped": dict(self.skipped),
            "template_versions": dict(self.template_versions),
        }


def start_batch(
    connection: sa.Connection, campaign: str, period: str, kind: str, planned_at: Any, run_id: str | None
) -> int | None:
    """Insert the batch row; ``None`` when the period was already planned for the campaign."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(dispatch_batches)
        .values(campaign=campaign, period=period, kind=kind, planned_at=pd.Timestamp(planned_at), run_id=run_id)
        .on_conflict_do_nothing(index_elements=["campaign", "period"])
        .returning(dispatch_batches.c.batch_id)
    )
    return connection.execute(statement).scalar_one_or_none()


def existing_batch(connection: sa.Connection, campaign: str, period: str) -> int | None:
    return connection.execute(
        sa.select(dispatch_batches.c.batch_id).where(
            dispatch_batches.c.campaign == campaign, dispatch_batches.c.period == period
        )
    ).scalar_one_or_none()


def insert_rows(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: list[tuple], *, bound_stamps: bool = False
) -> int:
    """Append plain Python rows in bulk: COPY on PostgreSQL, one executemany on SQLite.

    Values are Python objects (str, int, bool, aware datetime, None); JSON columns take JSON text;
    ``bound_stamps``: timestamps are already as ``db_timestamp`` gives them for this engine.
    No DataFrame on the way: the rendered bodies are large, and copying them through pandas and
    Arrow costs more than writing them.
    """
    if not rows:
        return 0
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return len(rows)
    stamps = [] if bound_stamps else [i for i, c in enumerate(columns) if c in TIMESTAMP_COLUMNS]
    if stamps:
        rows = [
            tuple(db_timestamp(connection, v) if i in stamps and v is not None else v for i, v in enumerate(row))
            for row in rows
        ]
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)
    return len(rows)


def write_messages(
    connection: sa.Connection,
    messages: list[dict[str, Any]],
    consents: list[tuple] | None = None,
    items: list[tuple] | None = None,
) -> int:
    """Append frozen messages (dicts with the outbox columns), the consents (message_id, purpose,
    consent_event_id) and the items (message_id, position, kind, item_ref, purpose) they carry."""
    if not messages:
        return 0
    rows = []
    for message in messages:
        headers = message.get("headers")
        values = {
            **message,
            "headers": json.dumps(headers, ensure_ascii=False, sort_keys=True) if headers else None,
            "attempts": message.get("attempts") or 0,
        }
        rows.append(tuple(_plain(values.get(column)) for column in OUTBOX_COLUMNS))
    written = insert_rows(connection, "outbox", list(OUTBOX_COLUMNS), rows)
    insert_rows(connection, "outbox_consents", list(CONSENT_COLUMNS), [tuple(map(_plain, c)) for c in consents or []])
    insert_rows(connection, "outbox_items", list(ITEM_COLUMNS), [tuple(map(_plain, i)) for i in items or []])
    return written


def _fast_toast(connection: sa.Connection) -> None:
    """PostgreSQL: compress the rendered bodies with LZ4 rather than the default pglz for the rest
    of the transaction, when the server has it (much less CPU for the same rows; readers see no
    difference)."""
    if connection.dialect.name != "postgresql":
        return
    if "vivier_has_lz4" not in connection.info:  # a property of the server: asked once per connection
        connection.info["vivier_has_lz4"] = bool(
            connection.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            ).scalar_one_or_none()
        )
    if connection.info["vivier_has_lz4"]:
        connection.exec_driver_sql("SET LOCAL default_toast_compression = 'lz4'")


def write_rendered(connection: sa.Connection, messages: list[tuple], consents: list[tuple], items: list[tuple]) -> int:
    """Append rows rendered by ``vivier.dispatch.rendering`` (already plain, in column order, with
    ``planned_at`` bound for this engine): the messages, then their consents and items."""
    _fast_toast(connection)
    written = insert_rows(connection, "outbox", list(OUTBOX_COLUMNS), messages, bound_stamps=True)
    insert_rows(connection, "outbox_consents", list(CONSENT_COLUMNS), consents)
    insert_rows(connection, "outbox_items", list(ITEM_COLUMNS), items)
    return written


def _plain(value: Any) -> Any:
    """A Python value a database driver takes (numpy and pandas scalars unwrapped, NaN -> None)."""
    if value is None or isinstance(value, str | bool | int | float) and not isinstance(value, np.generic):
        return None if isinstance(value, float) and value != value else value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    return value


def finish_batch(connection: sa.Connection, result: PlanResult, finalised_at: Any = None) -> None:
    """Record the batch's counts, skip reasons and template versions (and, with ``finalised_at``,
    that it is complete: only a finalised batch is delivered)."""
    counts = dict(
        connection.execute(
            sa.select(outbox.c.state, sa.func.count())
            .where(outbox.c.batch_id == result.batch_id)
            .group_by(outbox.c.state)
        ).all()
    )
    connection.execute(
        dispatch_batches.update()
        .where(dispatch_batches.c.batch_id == result.batch_id)
        .values(
            messages=sum(counts.values()),
            planned=counts.get("planned", 0),
            skipped=counts.get("skipped", 0),
            skip_reasons=dict(result.skipped),
            template_versions=dict(result.template_versions),
            **({"finalised_at": finalised_at} if finalised_at is not None else {}),
        )
    )
