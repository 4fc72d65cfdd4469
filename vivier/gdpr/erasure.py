"""Erase people: every trace removed or anonymised, a keyed hash kept so that no import re-creates them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import create_temp_table, db_timestamp, load_frame
from vivier.db.schema import gdpr_requests, persons, quarantine, suppression_list
from vivier.db.sqlfiles import run_sql
from vivier.ingest.people import email_hmacs

AUDIT_COLUMNS = {
    "occurred_at": "timestamp",
    "actor": "text",
    "action": "text",
    "entity": "text",
    "entity_id": "text",
    "details": "text",
    "run_id": "text",
}


@dataclass(frozen=True)
class ErasureCounts:
    persons: int
    suppressed: int
    quarantine_rows: int
    exports_deleted: int


def suppress(connection: sa.Connection, hmacs: list[str], reason: str, as_of: pd.Timestamp) -> int:
    """Add keyed email hashes to the suppression list (hashes already there keep their first reason)."""
    hmacs = sorted(set(hmacs))
    if not hmacs:
        return 0
    present = set(
        connection.execute(
            sa.select(suppression_list.c.email_hmac).where(suppression_list.c.email_hmac.in_(hmacs))
        ).scalars()
    )
    new = [h for h in hmacs if h not in present]
    if new:
        stamp = pd.Timestamp(as_of).to_pydatetime()
        connection.execute(
            suppression_list.insert(), [{"email_hmac": h, "reason": reason, "created_at": stamp} for h in new]
        )
    return len(new)


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def erase_persons(
    connection: sa.Connection,
    person_ids: list[int],
    *,
    as_of: pd.Timestamp,
    reason: str,
    run_id: str | None,
    suppression_key: bytes | None,
    actor: str = "gdpr",
) -> ErasureCounts:
    """Erase ``person_ids`` in the caller's transaction.

    With ``suppression_key`` (an erasure request, a hard bounce...) their keyed email hashes go to the
    suppression list, their quarantined raw rows and earlier access exports are deleted too. Without
    it (end of a retention period) the person may come back if they apply again.
    """
    ids = sorted({int(p) for p in person_ids})
    if not ids:
        return ErasureCounts(0, 0, 0, 0)
    emails = list(connection.execute(sa.select(persons.c.email).where(persons.c.person_id.in_(ids))).scalars())
    suppressed = quarantined = exports = 0
    if suppression_key is not None:
        suppressed = suppress(connection, email_hmacs(emails, suppression_key), reason, as_of)
        for email in emails:
            quarantined += connection.execute(
                quarantine.delete().where(quarantine.c.raw_record.ilike(f"%{_like_escaped(email)}%", escape="\\"))
            ).rowcount
        paths = connection.execute(
            sa.select(gdpr_requests.c.request_id, gdpr_requests.c.export_path).where(
                gdpr_requests.c.person_id.in_(ids), gdpr_requests.c.export_path.is_not(None)
            )
        ).all()
        for request_id, path in paths:
            if Path(path).exists():
                Path(path).unlink()
                exports += 1
            connection.execute(
                gdpr_requests.update().where(gdpr_requests.c.request_id == request_id).values(export_path=None)
            )
    create_temp_table(connection, "erase_ids", {"person_id": "int"})
    load_frame(connection, "erase_ids", pd.DataFrame({"person_id": ids}), {"person_id": "int"})
    run_sql(connection, "gdpr/erase_persons", as_of=db_timestamp(connection, as_of))
    connection.exec_driver_sql("DROP TABLE IF EXISTS erase_ids")
    audit = pd.DataFrame(
        {
            "occurred_at": pd.Timestamp(as_of),
            "actor": actor,
            "action": "person.erase",
            "entity": "persons",
            "entity_id": [str(i) for i in ids],
            "details": json.dumps({"reason": reason, "suppressed": suppression_key is not None}),
            "run_id": run_id,
        }
    )
    load_frame(connection, "audit_log", audit, AUDIT_COLUMNS)
    return ErasureCounts(len(ids), suppressed, quarantined, exports)
