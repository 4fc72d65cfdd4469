"""Write one ingestion run to the CRM database in a single transaction (bulk, set-based, idempotent)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import create_temp_table, db_timestamp, load_frame, stage_frame
from vivier.db.schema import ingested_files
from vivier.db.sqlfiles import run_sql

PERSON_COLUMNS = {
    "email": "text",
    "first_name": "text",
    "last_name": "text",
    "full_name": "text",
    "name_key": "text",
    "phone_e164": "text",
    "city": "text",
    "country": "text",
    "language": "text",
    "headline": "text",
    "job_family": "text",
    "seniority": "text",
    "years_experience": "float",
    "source_system": "text",
    "source_channel": "text",
    "age_band": "text",
}
APPLICATION_COLUMNS = {
    "email": "text",
    "source_system": "text",
    "source_application_id": "text",
    "source_person_id": "text",
    "job_source_id": "text",
    "job_title": "text",
    "department": "text",
    "applied_at": "timestamp",
    "rejected_at": "timestamp",
    "status": "text",
    "stage_name": "text",
    "stage_rank": "int",
    "rejection_reason": "text",
    "rejection_side": "text",
    "source_channel": "text",
    "file_id": "int",
}
TAG_COLUMNS = {"email": "text", "kind": "text", "value": "text", "evidence": "text"}
QUARANTINE_COLUMNS = {
    "file_id": "int",
    "source_file": "text",
    "source_row": "int",
    "record_key": "text",
    "reasons": "text",
    "raw_record": "text",
    "quarantined_at": "timestamp",
    "run_id": "text",
}
FILE_COLUMNS = {
    "content_sha256": "text",
    "file_name": "text",
    "detected_format": "text",
    "size_bytes": "int",
    "status": "text",
    "rows_read": "int",
    "rows_loaded": "int",
    "rows_quarantined": "int",
    "error": "text",
    "report_path": "text",
    "ingested_at": "timestamp",
    "run_id": "text",
}
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
class LoadCounts:
    files: int
    persons_new: int
    persons_touched: int
    applications: int
    tags: int
    quarantined: int
    merges: int
    suggestions: int
    consent_events: int = 0


def _count(connection: sa.Connection, table: str) -> int:
    return connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()


def _refresh_statistics(connection: sa.Connection, *tables: str) -> None:
    """On PostgreSQL, sample tables that just changed a lot, so the next statements get good plans."""
    if connection.dialect.name == "postgresql":
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")


def _identities(connection: sa.Connection) -> dict[int, int]:
    return {row.person_id: row.identities for row in run_sql(connection, "ingest/source_identities")[0]}


def _import_consent(
    connection: sa.Connection, applications: pd.DataFrame, file_ids: pd.Series, as_of: pd.Timestamp
) -> int:
    """Consent the exports recorded, into the ledger (it never raises consent nor undoes a withdrawal)."""
    from vivier.consent.ledger import import_ats_consent
    from vivier.ingest.consent import consent_signals

    signals = consent_signals(applications)
    if signals.empty:
        return 0
    create_temp_table(connection, "stage_consent_emails", {"email": "text", "position": "int"})
    load_frame(
        connection,
        "stage_consent_emails",
        signals.assign(position=range(len(signals))),
        {"email": "text", "position": "int"},
    )
    ids = pd.read_sql(
        sa.text("SELECT s.position, p.person_id FROM stage_consent_emails AS s JOIN persons AS p ON p.email = s.email"),
        connection,
    ).set_index("position")["person_id"]
    connection.exec_driver_sql("DROP TABLE IF EXISTS stage_consent_emails")
    signals = signals.assign(
        person_id=ids.reindex(range(len(signals))).to_numpy(), file_id=signals["content_sha256"].map(file_ids)
    )
    return import_ats_consent(connection, signals.dropna(subset=["person_id"]), as_of)


def load_ingestion(
    engine: sa.Engine,
    *,
    files: pd.DataFrame,
    persons: pd.DataFrame,
    applications: pd.DataFrame,
    tags: pd.DataFrame,
    quarantine: pd.DataFrame,
    as_of: pd.Timestamp,
    run_id: str,
    actor: str = "ats_ingest",
    silver_min_rank: int = 4,
    suggestion_max_group: int = 5,
) -> LoadCounts:
    """Everything one run read, in one transaction: a failure leaves the database as it was.

    ``files`` has the ``ingested_files`` columns (keyed by ``content_sha256``); ``applications``,
    ``quarantine`` carry a ``content_sha256`` column that is turned into ``file_id`` here.
    ``persons`` has one row per email, ``applications`` one per (source_system, application id).
    """
    with engine.begin() as connection:
        stamp = db_timestamp(connection, as_of)
        file_rows = files.assign(ingested_at=as_of, run_id=run_id)
        new_files = file_rows[
            ~file_rows["content_sha256"].isin(
                pd.read_sql(sa.select(ingested_files.c.content_sha256), connection)["content_sha256"]
            )
        ]
        load_frame(connection, "ingested_files", new_files, FILE_COLUMNS)
        file_ids = pd.read_sql(
            sa.select(ingested_files.c.file_id, ingested_files.c.content_sha256).where(
                ingested_files.c.content_sha256.in_(file_rows["content_sha256"].tolist())
            ),
            connection,
        ).set_index("content_sha256")["file_id"]

        quarantine_rows = quarantine.assign(
            file_id=quarantine["content_sha256"].map(file_ids), quarantined_at=as_of, run_id=run_id
        )
        load_frame(connection, "quarantine", quarantine_rows, QUARANTINE_COLUMNS)

        persons_before = _count(connection, "persons")
        stage_frame(connection, "stage_persons", persons, PERSON_COLUMNS)
        run_sql(connection, "ingest/upsert_persons", as_of=stamp)
        create_temp_table(connection, "touched_persons", {"person_id": "int"})
        run_sql(connection, "ingest/touched_persons")
        _refresh_statistics(connection, "persons", "touched_persons")
        identities_before = _identities(connection)

        staged_applications = applications.assign(file_id=applications["content_sha256"].map(file_ids))
        stage_frame(connection, "stage_applications", staged_applications, APPLICATION_COLUMNS)
        run_sql(connection, "ingest/upsert_applications", as_of=stamp)
        _refresh_statistics(connection, "applications")
        run_sql(connection, "ingest/refresh_person_aggregates", silver_min_rank=silver_min_rank)

        stage_frame(connection, "stage_tags", tags, TAG_COLUMNS)
        run_sql(connection, "ingest/insert_person_tags")

        consent_added = _import_consent(connection, applications, file_ids, as_of)

        suggestions_before = _count(connection, "identity_suggestions")
        run_sql(connection, "ingest/identity_suggestions", as_of=stamp, max_group=suggestion_max_group)
        suggestions = _count(connection, "identity_suggestions") - suggestions_before

        identities_after = _identities(connection)
        merged = {
            person_id: count
            for person_id, count in identities_after.items()
            if count > identities_before.get(person_id, 1)
        }
        audit = pd.DataFrame(
            {
                "occurred_at": as_of,
                "actor": actor,
                "action": "person.merge",
                "entity": "persons",
                "entity_id": [str(person_id) for person_id in merged],
                "details": [
                    json.dumps(
                        {"rule": "same_email", "identities_before": identities_before.get(p, 1), "identities_after": c}
                    )
                    for p, c in merged.items()
                ],
                "run_id": run_id,
            }
        )
        file_audit = pd.DataFrame(
            {
                "occurred_at": as_of,
                "actor": actor,
                "action": "file." + new_files["status"].astype(str),
                "entity": "ingested_files",
                "entity_id": new_files["content_sha256"].map(file_ids).astype(str),
                "details": [
                    json.dumps({"rows_read": int(r), "rows_loaded": int(lo), "rows_quarantined": int(q)})
                    for r, lo, q in zip(
                        new_files["rows_read"], new_files["rows_loaded"], new_files["rows_quarantined"], strict=True
                    )
                ],
                "run_id": run_id,
            }
        )
        load_frame(connection, "audit_log", pd.concat([file_audit, audit], ignore_index=True), AUDIT_COLUMNS)
        touched = _count(connection, "touched_persons")
        persons_new = _count(connection, "persons") - persons_before
        for table in ("stage_persons", "stage_applications", "stage_tags", "touched_persons"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return LoadCounts(
        files=len(new_files),
        persons_new=persons_new,
        persons_touched=touched,
        applications=len(staged_applications),
        tags=len(tags),
        quarantined=len(quarantine_rows),
        merges=len(merged),
        suggestions=suggestions,
        consent_events=consent_added,
    )
