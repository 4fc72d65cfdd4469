"""Write one job-offer ingestion run to the CRM in a single transaction (bulk, set-based, idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp, load_frame, stage_frame
from vivier.db.schema import ingested_files
from vivier.db.sqlfiles import run_sql
from vivier.ingest.load import AUDIT_COLUMNS, FILE_COLUMNS, QUARANTINE_COLUMNS, file_audit_rows

STAGE_OFFER_COLUMNS = {
    "source_system": "text",
    "source_job_id": "text",
    "title": "text",
    "department": "text",
    "location": "text",
    "country": "text",
    "language": "text",
    "description": "text",
    "job_family": "text",
    "status": "text",
    "opened_at": "timestamp",
    "file_id": "int",
}
STAGE_SKILL_COLUMNS = {
    "source_system": "text",
    "source_job_id": "text",
    "skill_id": "text",
    "importance": "text",
    "evidence": "text",
}


@dataclass(frozen=True)
class OfferLoadCounts:
    files: int
    offers: int  # offers in the run's files
    offers_new: int
    offers_changed: int  # new or with a field that changed
    open_offers: int
    skills: int
    quarantined: int

    def to_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


def load_offers(
    engine: sa.Engine,
    *,
    files: pd.DataFrame,
    offers: pd.DataFrame,
    skills: pd.DataFrame,
    quarantine: pd.DataFrame,
    as_of: pd.Timestamp,
    run_id: str,
    actor: str = "job_offers_ingest",
) -> OfferLoadCounts:
    """Everything one run read, in one transaction: a failure leaves the database as it was.

    ``files`` has the ``ingested_files`` columns; ``offers`` and ``quarantine`` carry ``content_sha256``
    (turned into ``file_id`` here); ``skills`` is keyed by (source_system, source_job_id).
    """
    with engine.begin() as connection:
        stamp = db_timestamp(connection, as_of)
        file_rows = files.assign(ingested_at=as_of, run_id=run_id)
        known = pd.read_sql(sa.select(ingested_files.c.content_sha256), connection)["content_sha256"]
        new_files = file_rows[~file_rows["content_sha256"].isin(known)]
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

        stage_frame(
            connection,
            "stage_offers",
            offers.assign(file_id=offers["content_sha256"].map(file_ids)),
            STAGE_OFFER_COLUMNS,
        )
        run_sql(connection, "offers/upsert_job_offers", as_of=stamp)
        stage_frame(connection, "stage_offer_skills", skills, STAGE_SKILL_COLUMNS)
        run_sql(connection, "offers/replace_offer_skills")
        touched = run_sql(connection, "offers/touched_offers", as_of=stamp)[0].one()

        audit = file_audit_rows(new_files, file_ids, as_of=as_of, actor=actor, run_id=run_id)
        load_frame(connection, "audit_log", audit, AUDIT_COLUMNS)
        for table in ("stage_offers", "stage_offer_skills"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return OfferLoadCounts(
        files=len(new_files),
        offers=int(touched.offers or 0),
        offers_new=int(touched.created or 0),
        offers_changed=int(touched.changed or 0),
        open_offers=int(touched.open_offers or 0),
        skills=len(skills),
        quarantined=len(quarantine_rows),
    )
