"""A plan staged for rendering in parts: the message jobs of a batch, sliced by person, kept in the
database between the planning step and the rendering steps (mapped tasks, possibly on other
workers), then removed when the batch is finalised.

- ``dispatch_stage_parts``: one row per (batch, part) with the part's jobs pickled and signed
  (HMAC-SHA256 under the suppression key, checked before anything is unpickled); the payload is
  emptied in the transaction that writes the part's messages, and the row records that the part is
  rendered, so a retried or re-run part writes nothing twice.
- ``dispatch_stage_people``: who is in each part not rendered yet (one row per job): the frequency
  cap of another campaign counts them, and an erased person's row goes with the person (foreign
  key cascade), which drops their staged message.

A batch is deliverable once ``dispatch_batches.finalised_at`` is set, in the transaction that
records its counts after every part is rendered.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp, load_frame
from vivier.db.schema import dispatch_batches, dispatch_stage_parts, dispatch_stage_people, outbox

_DOMAIN = b"vivier-dispatch-stage\0"
PEOPLE_COLUMNS = {"batch_id": "int", "job": "int", "part": "int", "person_id": "int"}


class StagingProblem(RuntimeError):
    """A staged part that cannot be used (tampered with, or the batch is not fully rendered)."""


@dataclass
class StagedBatch:
    """What staging one (campaign, period) did (ids and counts only: safe for logs and XCom)."""

    campaign: str
    period: str
    batch_id: int | None
    created: bool = False
    finalised: bool = False
    staged: int = 0
    parts: list[int] = field(default_factory=list)  # parts still to render
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "period": self.period,
            "batch_id": self.batch_id,
            "created": self.created,
            "finalised": self.finalised,
            "staged": self.staged,
            "parts": list(self.parts),
            "skipped": dict(self.skipped),
        }


def now_utc() -> datetime:
    return datetime.now(UTC)


def part_bounds(count: int, parts: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each of ``min(parts, count)`` contiguous slices, sizes differing by one at most."""
    parts = max(1, min(int(parts), count))
    if count == 0:
        return []
    size, extra = divmod(count, parts)
    bounds, start = [], 0
    for number in range(parts):
        end = start + size + (1 if number < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


def _signature(key: bytes, batch_id: int, part: int, payload: bytes) -> str:
    message = _DOMAIN + f"{int(batch_id)}:{int(part)}\0".encode() + payload
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def write_parts(
    connection: sa.Connection,
    key: bytes,
    batch_id: int,
    jobs: list[dict[str, Any]],
    templates: list[str],
    parts: int,
) -> list[int]:
    """Stage ``jobs`` (in their order) in up to ``parts`` slices; returns the part numbers."""
    numbers = []
    part_of = np.zeros(len(jobs), dtype=np.int64)
    for number, (start, end) in enumerate(part_bounds(len(jobs), parts)):
        payload = pickle.dumps(
            {"first": start, "templates": list(templates), "jobs": jobs[start:end]}, protocol=pickle.HIGHEST_PROTOCOL
        )
        connection.execute(
            dispatch_stage_parts.insert().values(
                batch_id=batch_id,
                part=number,
                jobs=end - start,
                payload=payload,
                signature=_signature(key, batch_id, number, payload),
            )
        )
        part_of[start:end] = number
        numbers.append(number)
    people = pd.DataFrame(
        {
            "batch_id": batch_id,
            "job": np.arange(len(jobs), dtype=np.int64),
            "part": part_of,
            "person_id": np.fromiter((job["person_id"] for job in jobs), dtype=np.int64, count=len(jobs)),
        }
    )
    load_frame(connection, "dispatch_stage_people", people, PEOPLE_COLUMNS)
    return numbers


@dataclass
class StagedPart:
    batch_id: int
    part: int
    campaign: str
    period: str
    is_bulk: bool
    planned_at: Any
    rendered: bool
    messages: int
    templates: list[str] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)


def lock_part(connection: sa.Connection, batch_id: int, part: int) -> tuple[StagedPart, Any] | None:
    """The staged part and its row, locked for this transaction (PostgreSQL: a second attempt at the
    same part waits, then finds it rendered); ``None`` when the batch has no such part (finalised,
    or never staged)."""
    row = connection.execute(
        sa.select(dispatch_stage_parts)
        .where(dispatch_stage_parts.c.batch_id == batch_id, dispatch_stage_parts.c.part == part)
        .with_for_update()
    ).one_or_none()
    if row is None:
        return None
    batches = dispatch_batches
    batch = connection.execute(
        sa.select(batches.c.campaign, batches.c.period, batches.c.kind, batches.c.planned_at).where(
            batches.c.batch_id == batch_id
        )
    ).one()
    staged = StagedPart(
        batch_id,
        part,
        batch.campaign,
        batch.period,
        batch.kind == "bulk",
        db_timestamp(connection, batch.planned_at),  # as planning bound it for this engine
        rendered=row.rendered_at is not None,
        messages=int(row.messages or 0),
    )
    return staged, row


def read_jobs(connection: sa.Connection, key: bytes, staged: StagedPart, row: Any) -> None:
    """Fill ``staged`` with the part's templates and jobs, once its signature is checked; the jobs
    of people erased since staging (their ``dispatch_stage_people`` row gone) are left out."""
    payload = bytes(row.payload or b"")
    expected = _signature(key, staged.batch_id, staged.part, payload)
    if not row.signature or not hmac.compare_digest(expected, row.signature):
        raise StagingProblem(
            f"batch {staged.batch_id} part {staged.part}: the staged payload does not carry a valid signature"
        )
    data = pickle.loads(payload)  # noqa: S301 - signed above with the suppression key
    kept = set(
        connection.execute(
            sa.select(dispatch_stage_people.c.job).where(
                dispatch_stage_people.c.batch_id == staged.batch_id, dispatch_stage_people.c.part == staged.part
            )
        ).scalars()
    )
    first = int(data["first"])
    staged.templates = list(data["templates"])
    staged.jobs = [job for offset, job in enumerate(data["jobs"]) if first + offset in kept]


def mark_rendered(connection: sa.Connection, batch_id: int, part: int, messages: int, versions: dict[str, str]) -> None:
    """The part is written: record it and drop its personal data (payload and people)."""
    connection.execute(
        dispatch_stage_people.delete().where(
            dispatch_stage_people.c.batch_id == batch_id, dispatch_stage_people.c.part == part
        )
    )
    connection.execute(
        dispatch_stage_parts.update()
        .where(dispatch_stage_parts.c.batch_id == batch_id, dispatch_stage_parts.c.part == part)
        .values(payload=None, signature=None, messages=messages, template_versions=versions, rendered_at=now_utc())
    )


def batch_state(connection: sa.Connection, batch_id: int) -> tuple[bool, list[int]]:
    """(finalised, parts not rendered yet) of a batch."""
    finalised = connection.execute(
        sa.select(dispatch_batches.c.finalised_at).where(dispatch_batches.c.batch_id == batch_id)
    ).scalar_one_or_none()
    pending = connection.execute(
        sa.select(dispatch_stage_parts.c.part)
        .where(dispatch_stage_parts.c.batch_id == batch_id, dispatch_stage_parts.c.rendered_at.is_(None))
        .order_by(dispatch_stage_parts.c.part)
    ).scalars()
    return finalised is not None, list(pending)


def rendered_parts(connection: sa.Connection, batch_id: int) -> tuple[int, dict[str, str]]:
    """Messages written and template versions of the batch's parts; raises when one is not rendered."""
    rows = connection.execute(
        sa.select(
            dispatch_stage_parts.c.part,
            dispatch_stage_parts.c.messages,
            dispatch_stage_parts.c.template_versions,
            dispatch_stage_parts.c.rendered_at,
        )
        .where(dispatch_stage_parts.c.batch_id == batch_id)
        .order_by(dispatch_stage_parts.c.part)
    ).all()
    missing = [row.part for row in rows if row.rendered_at is None]
    if missing:
        raise StagingProblem(f"batch {batch_id}: part(s) {missing} not rendered yet; the batch stays unfinalised")
    versions: dict[str, str] = {}
    for row in rows:
        versions.update(row.template_versions or {})
    return sum(int(row.messages or 0) for row in rows), versions


def skip_counts(connection: sa.Connection, batch_id: int) -> dict[str, int]:
    rows = connection.execute(
        sa.select(outbox.c.skip_reason, sa.func.count())
        .where(outbox.c.batch_id == batch_id, outbox.c.state == "skipped")
        .group_by(outbox.c.skip_reason)
        .order_by(outbox.c.skip_reason)
    ).all()
    return {str(reason): int(count) for reason, count in rows}


def drop_staging(connection: sa.Connection, batch_id: int) -> None:
    connection.execute(dispatch_stage_people.delete().where(dispatch_stage_people.c.batch_id == batch_id))
    connection.execute(dispatch_stage_parts.delete().where(dispatch_stage_parts.c.batch_id == batch_id))


def lock_batch(connection: sa.Connection, batch_id: int) -> Any:
    return connection.execute(
        sa.select(dispatch_batches).where(dispatch_batches.c.batch_id == batch_id).with_for_update()
    ).one_or_none()


def finalised_batch_ids(connection: sa.Connection, batch_ids: list[int]) -> list[int]:
    """The batches of ``batch_ids`` that are finalised (deliverable), in the given order."""
    if not batch_ids:
        return []
    done = set(
        connection.execute(
            sa.select(dispatch_batches.c.batch_id).where(
                dispatch_batches.c.batch_id.in_(list(batch_ids)), dispatch_batches.c.finalised_at.is_not(None)
            )
        ).scalars()
    )
    return [b for b in batch_ids if b in done]


def drop_stale_parts(connection: sa.Connection, planned_before: Any, as_of: Any) -> int:
    """Parts staged for batches planned before ``planned_before`` and never rendered nor finalised
    (a run that failed between plan and render): their personal data (payload and people) is
    deleted and they count as rendered with no message, so the period, if run again, is finalised
    with what was written. Returns the parts dropped."""
    stale = (
        sa.select(dispatch_stage_parts.c.batch_id, dispatch_stage_parts.c.part)
        .join(dispatch_batches, dispatch_batches.c.batch_id == dispatch_stage_parts.c.batch_id)
        .where(
            dispatch_stage_parts.c.rendered_at.is_(None),
            dispatch_batches.c.finalised_at.is_(None),
            dispatch_batches.c.planned_at < planned_before,
        )
    )
    parts = connection.execute(stale).all()
    for batch_id, part in parts:
        connection.execute(
            dispatch_stage_people.delete().where(
                dispatch_stage_people.c.batch_id == batch_id, dispatch_stage_people.c.part == part
            )
        )
        connection.execute(
            dispatch_stage_parts.update()
            .where(dispatch_stage_parts.c.batch_id == batch_id, dispatch_stage_parts.c.part == part)
            .values(payload=None, signature=None, messages=0, template_versions={}, rendered_at=as_of)
        )
    return len(parts)
