"""Write one ingestion run to the CRM database in a single transaction (bulk, set-based, idempotent)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import append_frame, db_timestamp, load_frame, stage_frame
from vivier.db.schema import ingested_files
from vivier.db.sqlfiles import run_sql as _run_sql
from vivier.ingest.timing import step

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
TAG_COLUMNS = {"person": "int", "kind": "text", "value": "text", "evidence": "text"}
# What build_people stages per application: the applications columns (the person named by its row
# in the persons frame), the file, and what the export said about consent.
STAGED_APPLICATION_COLUMNS = {
    "person": "int",
    **{column: kind for column, kind in APPLICATION_COLUMNS.items() if column not in ("email", "file_id")},
    "content_sha256": "text",
    "consent_future_jobs": "bool",
    "consent_expires_at": "text",
    "unsubscribed": "bool",
}
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


AGGREGATE_COLUMNS = {
    "applications_count": "int",
    "first_applied_at": "timestamp",
    "last_applied_at": "timestamp",
    "last_rejected_at": "timestamp",
    "furthest_stage_rank": "int",
    "furthest_stage": "text",
    "is_silver_medalist": "bool",
    "rejection_side": "text",
}
STAGE_PERSON_COLUMNS = {**PERSON_COLUMNS, **AGGREGATE_COLUMNS, "position": "int"}
STAGE_APPLICATION_COLUMNS = {
    "person_id": "int",
    **{column: kind for column, kind in APPLICATION_COLUMNS.items() if column != "email"},
    "position": "int",
}
NEW_PERSON_COLUMNS = {
    **{column: kind for column, kind in STAGE_PERSON_COLUMNS.items() if column != "position"},
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
PERSON_KEY_COLUMNS = {"email": "text", "position": "int"}
NEW_APPLICATION_COLUMNS = {
    **{column: kind for column, kind in STAGE_APPLICATION_COLUMNS.items() if column != "position"},
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
APPLICATION_KEY_COLUMNS = {"source_system": "text", "source_application_id": "text", "position": "int"}
SUGGESTION_COLUMNS = {
    "person_id": "int",
    "other_person_id": "int",
    "rule": "text",
    "status": "text",
    "created_at": "timestamp",
}
PERSON_TAG_COLUMNS = {"person_id": "int", "kind": "text", "value": "text", "evidence": "text"}
LOAD_WORK_MEM = "256MB"  # PostgreSQL work_mem, for the load's transaction only
FIRST_LOAD_MIN_PERSONS = 50_000  # a first load this large checks foreign keys to persons at the end
FIRST_LOAD_LOCK_TIMEOUT = "2s"
FIRST_LOAD_TABLES = (
    "persons",
    "applications",
    "person_tags",
    "consent_events",
    "consent_current",
    "identity_suggestions",
)
FIRST_LOAD_UNIQUE_TABLES = ("applications",)  # its unique key is filled in random order
STAGE_TEMP_TABLES = (
    "stage_person_keys",
    "stage_persons",
    "stage_application_keys",
    "stage_applications",
    "stage_tags",
    "touched_persons",
    "recount_persons",
)


def run_sql(connection: sa.Connection, name: str, **params):
    with step(f"load.sql {name.removeprefix('ingest/')}"):
        return _run_sql(connection, name, **params)


def _timed_stage(connection, name, frame, columns):
    with step(f"load.stage {name}"):
        return stage_frame(connection, name, frame, columns)


def _count(connection: sa.Connection, table: str) -> int:
    return connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()


def _refresh_statistics(connection: sa.Connection, *tables: str) -> None:
    """On PostgreSQL, sample tables that just changed a lot, so the next statements get good plans."""
    if connection.dialect.name == "postgresql":
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")


def _identities(connection: sa.Connection) -> dict[int, int]:
    return {row.person_id: row.identities for row in run_sql(connection, "ingest/source_identities")[0]}


def _pairs(connection: sa.Connection, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The (position, person_id) rows a query of ``sql/ingest/`` returns, as two arrays."""
    rows = run_sql(connection, f"ingest/{name}")[0].all()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    pairs = np.asarray(rows, dtype=np.int64)
    return pairs[:, 0], pairs[:, 1]


def _utc_micros(times: pd.Series) -> np.ndarray:
    """Times as int64 microseconds (what both engines store), missing as the smallest int64."""
    typed = pd.to_datetime(times, utc=True)
    micros = typed.dt.floor("us").to_numpy(dtype="datetime64[us]").astype(np.int64)
    return np.where(typed.isna().to_numpy(), np.iinfo(np.int64).min, micros)


def _first_of_groups(person: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by ``order`` (persons first): the first row of each person and each row's first."""
    ranked = person[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    first_of_row = np.repeat(order[starts], np.diff(np.r_[starts, len(order)]))
    return order[starts], first_of_row


def _same(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """values[a] == values[b], missing (None/NaN/NA) equal to missing."""
    left, right = values[a], values[b]
    missing_left, missing_right = pd.isna(left), pd.isna(right)
    equal = np.asarray(left == right, dtype=bool) if len(left) else np.zeros(0, dtype=bool)
    return np.where(missing_left | missing_right, missing_left & missing_right, equal)


def person_aggregates(
    applications: pd.DataFrame, n_persons: int, silver_min_rank: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """What ``sql/ingest/refresh_person_aggregates.sql`` derives, computed from the load's applications.

    Exact for a person whose applications are all in the load (a new person). Returns the
    aggregates per person position, the positions whose furthest stage or latest rejection side
    the SQL would pick among ties by application id (those are recounted by the SQL), and the
    number of ATS identities per person (``sql/ingest/source_identities.sql``).
    """
    out = pd.DataFrame(index=pd.RangeIndex(n_persons))
    if applications.empty:
        for column, kind in AGGREGATE_COLUMNS.items():
            out[column] = pd.Series(dtype={"int": "Int64", "bool": "boolean"}.get(kind, "string"))
        return out, np.zeros(n_persons, dtype=bool), np.zeros(n_persons, dtype=np.int64)
    person = applications["person"].to_numpy(dtype=np.int64)
    rank = applications["stage_rank"].astype("Int64").to_numpy(dtype=np.float64, na_value=np.nan)
    status = applications["status"].astype("string").to_numpy(dtype=object, na_value=None)
    rejected = status == "rejected"
    applied = _utc_micros(applications["applied_at"])
    rejected_at = _utc_micros(applications["rejected_at"])
    stage_name = applications["stage_name"].astype("string").to_numpy(dtype=object, na_value=None)
    side = applications["rejection_side"].astype("string").to_numpy(dtype=object, na_value=None)
    missing = np.iinfo(np.int64).min

    frame = pd.DataFrame(
        {
            "person": person,
            "applied": np.where(applied == missing, np.nan, applied.astype(np.float64)),
            "rejected": np.where(rejected_at == missing, np.nan, rejected_at.astype(np.float64)),
            "rank": rank,
            "silver": rejected & (np.nan_to_num(rank, nan=-np.inf) >= silver_min_rank),
        }
    )
    grouped = frame.groupby("person", sort=True)
    out["applications_count"] = np.bincount(person, minlength=n_persons)

    def as_time(values: pd.Series) -> pd.Series:
        micros = values.reindex(out.index).to_numpy(dtype=np.float64)
        times = pd.to_datetime(np.where(np.isnan(micros), 0, micros).astype(np.int64), unit="us", utc=True)
        return pd.Series(times, index=out.index).where(~np.isnan(micros))

    out["first_applied_at"] = as_time(grouped["applied"].min())
    out["last_applied_at"] = as_time(grouped["applied"].max())
    out["last_rejected_at"] = as_time(grouped["rejected"].max())
    out["furthest_stage_rank"] = grouped["rank"].max().reindex(out.index).astype("Int64")
    out["is_silver_medalist"] = grouped["silver"].any().reindex(out.index).fillna(False).astype(bool)

    # furthest stage: stage_rank DESC NULLS LAST, applied_at DESC NULLS LAST, then application id
    rank_key = np.where(np.isnan(rank), np.inf, -np.nan_to_num(rank))
    applied_key = np.where(applied == missing, np.iinfo(np.int64).max, -applied)
    order = np.lexsort((applied_key, rank_key, person))
    top, first = _first_of_groups(person, order)
    rows = order
    tied = (rank_key[rows] == rank_key[first]) & (applied_key[rows] == applied_key[first])
    ambiguous = np.zeros(n_persons, dtype=bool)
    ambiguous[person[rows[tied & ~_same(stage_name, rows, first)]]] = True
    furthest = pd.array(np.full(n_persons, None, dtype=object), dtype="string")
    furthest[person[top]] = pd.array(stage_name[top], dtype="string")
    out["furthest_stage"] = furthest

    # latest rejection: rejected first, rejected_at DESC NULLS LAST, then application id DESC
    rejected_key = np.where(rejected_at == missing, np.iinfo(np.int64).max, -rejected_at)
    order = np.lexsort((rejected_key, ~rejected, person))
    top, first = _first_of_groups(person, order)
    rows = order
    tied = (rejected[rows] == rejected[first]) & (rejected_key[rows] == rejected_key[first]) & rejected[first]
    ambiguous[person[rows[tied & ~_same(side, rows, first)]]] = True
    latest_side = pd.array(np.full(n_persons, None, dtype=object), dtype="string")
    latest_side[person[top]] = pd.array(np.where(rejected[top], side[top], None), dtype="string")
    out["rejection_side"] = latest_side

    identity = (
        applications["source_system"].astype("string")
        + ":"
        + applications["source_person_id"].astype("string").fillna("")
    )
    distinct = pd.DataFrame({"person": person, "identity": identity.to_numpy()}).drop_duplicates()
    identities = np.bincount(distinct["person"].to_numpy(dtype=np.int64), minlength=n_persons)
    return out, ambiguous, identities


def _import_consent(
    connection: sa.Connection,
    applications: pd.DataFrame,
    person_ids: np.ndarray,
    is_new: np.ndarray,
    file_ids: pd.Series,
    as_of: pd.Timestamp,
) -> int:
    """Consent the exports recorded, into the ledger (it never raises consent nor undoes a withdrawal);
    persons new to the CRM (``is_new``) have no ledger yet."""
    from vivier.consent.ledger import import_ats_consent
    from vivier.ingest.consent import consent_signals

    signals = consent_signals(applications, key="person")
    if signals.empty:
        return 0
    signals = signals.assign(
        person_id=person_ids[signals["person"].to_numpy(dtype=np.int64)],
        file_id=signals["content_sha256"].map(file_ids),
    )
    return import_ats_consent(connection, signals, as_of, new_persons=person_ids[is_new])


def _set_aside(connection: sa.Connection, table: str, statements: list[str]) -> bool:
    """Run ``statements`` (dropping ``table``'s keys or indexes) if the table's lock comes within
    ``FIRST_LOAD_LOCK_TIMEOUT`` and the role may alter it; else change nothing and say so."""
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{FIRST_LOAD_LOCK_TIMEOUT}'")
        for statement in statements:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("SET LOCAL lock_timeout = DEFAULT")
    except sa.exc.DBAPIError:  # the lock did not come in time, or the role may not alter the table
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _first_load_set_aside(connection: sa.Connection, table: str) -> list[str]:
    """Set aside ``table``'s foreign keys to ``persons``, its plain indexes and (``applications``) its
    unique key; returns the statements that put them back (none if the table could not be altered)."""
    keys = connection.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) "
            "AND ((contype = 'f' AND confrelid = CAST('persons' AS regclass)) "
            "OR (contype = 'u' AND CAST(:with_unique AS boolean))) "
            "ORDER BY contype DESC, conname"
        ),
        {"table": table, "with_unique": table in FIRST_LOAD_UNIQUE_TABLES},
    ).all()
    indexes = connection.execute(
        sa.text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
            "JOIN pg_class AS c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:table AS regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid) "
            "ORDER BY c.relname"
        ),
        {"table": table},
    ).all()
    drops = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _ in keys]
    drops += [f'DROP INDEX "{name}"' for name, _ in indexes]
    if not drops or not _set_aside(connection, table, drops):
        return []
    # unique keys and indexes first: the foreign keys' checks then find them
    restores = [f"{definition}" for _, definition in indexes]
    restores += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in keys]
    return sorted(restores, key=lambda statement: "FOREIGN KEY" in statement)


@contextmanager
def _first_load_bulk_mode(connection: sa.Connection, first_load: bool):
    """A very large first load on PostgreSQL: foreign keys to ``persons`` are checked once, at the
    end, and the indexes that inserts in the load's order would fill at random places are built
    once, by sorting, instead of row by row.

    Only when ``first_load`` (the CRM had no person before this load, so nothing can be reading
    what this transaction writes). The keys and indexes are dropped and added back with their exact
    definitions inside the load's transaction: adding a key back checks every row in one join, and
    a failure anywhere rolls the whole load back, keys and indexes included. If a table's lock does
    not come within ``FIRST_LOAD_LOCK_TIMEOUT`` (another session is using it) or the database role
    may not alter the table, that table keeps its keys and indexes and is filled row by row.
    """
    restore: list[str] = []
    if first_load and connection.dialect.name == "postgresql":
        # the indexes are built with the server's maintenance_work_mem: raising it for the load
        # made them slower here (measured: see docs/operations.md)
        for table in FIRST_LOAD_TABLES:
            restore += _first_load_set_aside(connection, table)
    yield  # on an error the transaction rolls back, dropped keys and indexes included
    for statement in restore:
        with step(f"load.restore {statement.split(' (')[0].removeprefix('ALTER TABLE ')}"):
            connection.exec_driver_sql(statement)


def _write_persons(
    connection: sa.Connection, persons: pd.DataFrame, persons_before: int, as_of: pd.Timestamp, stamp: object
) -> tuple[np.ndarray, np.ndarray]:
    """New persons go straight into the table; those the CRM already has (same email) are merged by
    ``upsert_persons.sql``. Returns each person's id and whether it is new."""
    n_persons = len(persons)
    rows = persons.assign(position=np.arange(n_persons), created_at=as_of, updated_at=as_of)
    is_new = np.ones(n_persons, dtype=bool)
    person_ids = np.zeros(n_persons, dtype=np.int64)
    if persons_before:
        _timed_stage(connection, "stage_person_keys", rows[["email", "position"]], PERSON_KEY_COLUMNS)
        existed, existing_ids = _pairs(connection, "person_ids")
        is_new[existed] = False
        person_ids[existed] = existing_ids
    last_id = connection.exec_driver_sql("SELECT COALESCE(MAX(person_id), 0) FROM persons").scalar_one()
    with step("load.persons new"):
        append_frame(connection, "persons", rows.loc[is_new], NEW_PERSON_COLUMNS)
    if not is_new.all():
        _timed_stage(connection, "stage_persons", rows.loc[~is_new], STAGE_PERSON_COLUMNS)
        run_sql(connection, "ingest/upsert_persons", as_of=stamp)
    if is_new.any():
        person_ids[is_new] = _new_person_ids(connection, persons.loc[is_new, "email"], int(last_id))
    return person_ids, is_new


def _new_person_ids(connection: sa.Connection, emails: pd.Series, last_id: int) -> np.ndarray:
    """Ids of the persons just inserted (in ``emails`` order): above every id the table had.

    One insert hands out increasing ids in row order; when the ids above ``last_id`` are exactly
    as many as the rows and consecutive (no one else inserted meanwhile), a few probes confirm the
    order, else every id is looked up by email.
    """
    n_rows = len(emails)
    low, high, count = connection.exec_driver_sql(
        f"SELECT MIN(person_id), MAX(person_id), COUNT(*) FROM persons WHERE person_id > {last_id}"
    ).one()
    if count == n_rows and high - low + 1 == n_rows:
        ids = low + np.arange(n_rows, dtype=np.int64)
        probes = sorted({0, n_rows // 3, n_rows // 2, 2 * n_rows // 3, n_rows - 1})
        probe_ids = ", ".join(str(int(ids[i])) for i in probes)
        found = dict(
            connection.exec_driver_sql(f"SELECT person_id, email FROM persons WHERE person_id IN ({probe_ids})").all()
        )
        if all(found.get(int(ids[i])) == emails.iloc[i] for i in probes):
            return ids
    created = connection.exec_driver_sql(f"SELECT person_id, email FROM persons WHERE person_id > {last_id}").all()
    position = pd.Index(emails).get_indexer([row[1] for row in created])
    ids = np.zeros(n_rows, dtype=np.int64)
    found = position >= 0
    ids[position[found]] = np.fromiter((row[0] for row in created), dtype=np.int64, count=len(created))[found]
    if (ids == 0).any():
        raise RuntimeError("a person inserted by this load was not found")
    return ids


def _prior_applications(connection: sa.Connection, applications: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``applications`` the CRM already has (same vendor and id) and the person each belongs to now."""
    if connection.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM applications)").scalar_one() in (0, False):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)  # a first load: none
    keys = applications[["source_system", "source_application_id"]].assign(position=np.arange(len(applications)))
    _timed_stage(connection, "stage_application_keys", keys, APPLICATION_KEY_COLUMNS)
    return _pairs(connection, "prior_applications")


def _write_applications(
    connection: sa.Connection,
    applications: pd.DataFrame,
    person_ids: np.ndarray,
    file_ids: pd.Series,
    prior: np.ndarray,
    as_of: pd.Timestamp,
    stamp: object,
) -> None:
    """New applications go straight into the table (in the frame's order, i.e. by person); those the
    CRM already has are upserted from a staged copy."""
    rows = applications.assign(
        person_id=person_ids[applications["person"].to_numpy(dtype=np.int64)],
        file_id=applications["content_sha256"].map(file_ids),
        position=np.arange(len(applications)),
        created_at=as_of,
        updated_at=as_of,
    )
    fresh = np.ones(len(rows), dtype=bool)
    fresh[prior] = False
    with step("load.applications new"):
        append_frame(connection, "applications", rows.loc[fresh], NEW_APPLICATION_COLUMNS)
    if not fresh.all():
        _timed_stage(connection, "stage_applications", rows.loc[~fresh], STAGE_APPLICATION_COLUMNS)
        run_sql(connection, "ingest/upsert_applications", as_of=stamp)


def _load_tags(connection: sa.Connection, tags: pd.DataFrame, person_ids: np.ndarray, is_new: np.ndarray) -> None:
    """Tags of new persons go straight into person_tags (they have none yet); the others are merged."""
    person = tags["person"].to_numpy(dtype=np.int64)
    rows = tags[["kind", "value", "evidence"]].assign(person_id=person_ids[person])
    fresh = is_new[person]
    with step("load.person_tags new persons"):
        append_frame(connection, "person_tags", rows.loc[fresh], PERSON_TAG_COLUMNS)
    if not fresh.all():
        _timed_stage(connection, "stage_tags", rows.loc[~fresh], PERSON_TAG_COLUMNS)
        run_sql(connection, "ingest/insert_person_tags")


def _write_suggestions(
    connection: sa.Connection,
    persons: pd.DataFrame,
    person_ids: np.ndarray,
    persons_before: int,
    as_of: pd.Timestamp,
    stamp: object,
    max_group: int,
) -> int:
    """Identity review suggestions for the load's persons; returns how many were added. Into a CRM
    that had no person, every person is in the load: the pairs are computed from it and written in
    bulk (``vivier.ingest.suggestions``), else ``identity_suggestions.sql`` looks across the CRM."""
    if persons_before == 0:
        from vivier.ingest.suggestions import suggestion_pairs

        with step("load.identity_suggestions from the load"):
            pairs = suggestion_pairs(persons, person_ids, max_group)
            return load_frame(
                connection, "identity_suggestions", pairs.assign(status="open", created_at=as_of), SUGGESTION_COLUMNS
            )
    before = _count(connection, "identity_suggestions")
    run_sql(connection, "ingest/identity_suggestions", as_of=stamp, max_group=max_group)
    return _count(connection, "identity_suggestions") - before


def file_audit_rows(
    new_files: pd.DataFrame, file_ids: pd.Series, *, as_of: pd.Timestamp, actor: str, run_id: str
) -> pd.DataFrame:
    """One ``audit_log`` row per newly ingested file: its status and row counts (no personal data)."""
    return pd.DataFrame(
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
    ``persons`` has one row per email; ``applications`` one per (source_system, application id)
    and ``tags`` one per (person, kind, value), both naming their person by its row in ``persons``
    (column ``person``).

    New persons (most of them in a first, large load) are written with the aggregates and tags
    computed here; persons that already existed are merged and recounted in SQL.
    """
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            counts = _load(
                connection,
                files=files,
                persons=persons,
                applications=applications,
                tags=tags,
                quarantine=quarantine,
                as_of=as_of,
                run_id=run_id,
                actor=actor,
                silver_min_rank=silver_min_rank,
                suggestion_max_group=suggestion_max_group,
            )
        except BaseException:
            transaction.rollback()
            raise
        with step("load.commit"):
            transaction.commit()
    return counts


def _load(
    connection: sa.Connection,
    *,
    files: pd.DataFrame,
    persons: pd.DataFrame,
    applications: pd.DataFrame,
    tags: pd.DataFrame,
    quarantine: pd.DataFrame,
    as_of: pd.Timestamp,
    run_id: str,
    actor: str,
    silver_min_rank: int,
    suggestion_max_group: int,
) -> LoadCounts:
    if connection.dialect.name == "postgresql":
        # sorts and hashes over a whole load (window functions, self-joins) stay in memory
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{LOAD_WORK_MEM}'")
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

    # a load run again after it committed (a retried task) finds its files known: their rows are
    # already in quarantine
    quarantine = quarantine[quarantine["content_sha256"].isin(new_files["content_sha256"])]
    quarantine_rows = quarantine.assign(
        file_id=quarantine["content_sha256"].map(file_ids), quarantined_at=as_of, run_id=run_id
    )
    with step("load.quarantine"):
        load_frame(connection, "quarantine", quarantine_rows, QUARANTINE_COLUMNS)

    n_persons = len(persons)
    with step("load.aggregates"):
        aggregates, ambiguous, identities = person_aggregates(applications, n_persons, silver_min_rank)
    persons_before = _count(connection, "persons")
    first_load = persons_before == 0 and n_persons >= FIRST_LOAD_MIN_PERSONS
    with _first_load_bulk_mode(connection, first_load):
        person_ids, is_new = _write_persons(
            connection, pd.concat([persons.reset_index(drop=True), aggregates], axis=1), persons_before, as_of, stamp
        )
        stage_frame(connection, "touched_persons", pd.DataFrame({"person_id": person_ids}), {"person_id": "int"})
        _refresh_statistics(connection, "persons")

        person = applications["person"].to_numpy(dtype=np.int64)
        prior, prior_owner = _prior_applications(connection, applications)
        # persons recounted in SQL: the ones that existed, those gaining or losing an application
        # the CRM already had, and new ones whose aggregates depend on application ids
        recount = np.unique(np.concatenate([person_ids[~is_new | ambiguous], person_ids[person[prior]], prior_owner]))
        stage_frame(connection, "recount_persons", pd.DataFrame({"person_id": recount}), {"person_id": "int"})
        identities_before = _identities(connection)
        _write_applications(connection, applications, person_ids, file_ids, prior, as_of, stamp)
        _refresh_statistics(connection, "applications")
        run_sql(connection, "ingest/refresh_person_aggregates", silver_min_rank=silver_min_rank)

        _load_tags(connection, tags, person_ids, is_new)

        with step("load.consent"):
            consent_added = _import_consent(connection, applications, person_ids, is_new, file_ids, as_of)

        suggestions = _write_suggestions(
            connection, persons, person_ids, persons_before, as_of, stamp, suggestion_max_group
        )

    # identities of the load's persons: from the table for the recounted ones, from the load
    # for the others (all their applications are in it)
    recounted = np.isin(person_ids, recount)
    identities_after = {
        int(p): int(c) for p, c in zip(person_ids[~recounted], identities[~recounted], strict=True) if c > 1
    }
    identities_after.update(_identities(connection))
    in_load = set(person_ids.tolist())
    merged = {
        person_id: count
        for person_id, count in identities_after.items()
        if person_id in in_load and count > identities_before.get(person_id, 1)
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
    file_audit = file_audit_rows(new_files, file_ids, as_of=as_of, actor=actor, run_id=run_id)
    load_frame(connection, "audit_log", pd.concat([file_audit, audit], ignore_index=True), AUDIT_COLUMNS)
    touched = _count(connection, "touched_persons")
    persons_new = _count(connection, "persons") - persons_before
    for table in STAGE_TEMP_TABLES:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return LoadCounts(
        files=len(new_files),
        persons_new=persons_new,
        persons_touched=touched,
        applications=len(applications),
        tags=len(tags),
        quarantined=len(quarantine_rows),
        merges=len(merged),
        suggestions=suggestions,
        consent_events=consent_added,
    )
