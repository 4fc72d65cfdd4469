"""Refresh every pool in one transaction: definitions upserted, members recomputed set-based in SQL."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import create_temp_table, db_timestamp, load_frame
from vivier.db.schema import persons, pools
from vivier.db.sqlfiles import run_sql
from vivier.pools.definitions import FILTER_COLUMNS, PoolDefinition, member_filter

log = logging.getLogger(__name__)

_temp = sa.MetaData()
pool_target = sa.Table("pool_target", _temp, sa.Column("pool_id", sa.Integer), sa.Column("person_id", sa.Integer))
pool_consented = sa.Table("pool_consented", _temp, sa.Column("person_id", sa.Integer), sa.Column("purpose", sa.Text))
# the people with current consent for some purpose, with the columns the filters read (typed as in persons)
pool_candidates = sa.Table(
    "pool_candidates", _temp, *(sa.Column(name, persons.c[name].type) for name in FILTER_COLUMNS)
)


def _kind(column: sa.Column) -> str:
    if isinstance(column.type, sa.DateTime):
        return "timestamp"
    if isinstance(column.type, sa.Boolean):
        return "bool"
    return "int" if isinstance(column.type, sa.Integer) else "text"


# PostgreSQL: when a refresh starts at least this many stays in fresh pools, and at least as many as
# pool_members holds, the table's foreign keys and secondary indexes are set aside for the insert and
# rebuilt after it, if their locks come within BULK_LOCK_TIMEOUT (else the insert runs with them).
BULK_JOIN_ROWS = 200_000
BULK_LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class PoolSize:
    name: str
    size: int
    joined: int
    left: int


def upsert_definitions(
    connection: sa.Connection, definitions: list[PoolDefinition], as_of: pd.Timestamp
) -> dict[str, int]:
    """Write the definitions to ``pools`` (pools no longer declared are deactivated); name -> pool_id."""
    stamp = as_of.to_pydatetime()
    existing = {row.name: row for row in connection.execute(sa.select(pools))}
    for definition in definitions:
        values = {
            "description": definition.description,
            "definition": definition.to_json(),
            "is_active": definition.active,
        }
        row = existing.get(definition.name)
        if row is None:
            connection.execute(pools.insert().values(name=definition.name, updated_at=stamp, **values))
        elif (row.description, json.dumps(row.definition, sort_keys=True), bool(row.is_active)) != (
            values["description"],
            json.dumps(values["definition"], sort_keys=True),
            values["is_active"],
        ):
            connection.execute(pools.update().where(pools.c.pool_id == row.pool_id).values(updated_at=stamp, **values))
    declared = {d.name for d in definitions}
    gone = [row.pool_id for name, row in existing.items() if name not in declared and row.is_active]
    if gone:
        connection.execute(pools.update().where(pools.c.pool_id.in_(gone)).values(is_active=False, updated_at=stamp))
    return {row.name: row.pool_id for row in connection.execute(sa.select(pools.c.name, pools.c.pool_id))}


def _analyze(connection: sa.Connection, table: str) -> None:
    # autovacuum never analyzes temporary tables, and not before the commit the table just written:
    # without statistics the planner guesses a handful of rows and picks nested loops
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ANALYZE {table}")


def _stage_candidates(connection: sa.Connection, stamp: object) -> None:
    """``pool_consented`` (current consent per purpose) and ``pool_candidates`` (who has any)."""
    create_temp_table(connection, "pool_consented", {"person_id": "int", "purpose": "text"})
    run_sql(connection, "pools/consented", as_of=stamp)
    connection.exec_driver_sql("CREATE INDEX ix_pool_consented ON pool_consented (person_id, purpose)")
    _analyze(connection, "pool_consented")
    create_temp_table(connection, "pool_candidates", {c.name: _kind(c) for c in pool_candidates.c})
    consented = sa.select(pool_consented.c.person_id).where(pool_consented.c.person_id == persons.c.person_id)
    people = sa.select(*(persons.c[name] for name in FILTER_COLUMNS)).where(sa.exists(consented))
    connection.execute(pool_candidates.insert().from_select(list(FILTER_COLUMNS), people))
    _analyze(connection, "pool_candidates")


def _stage_targets(
    connection: sa.Connection, definitions: list[PoolDefinition], ids: dict[str, int], as_of: pd.Timestamp
) -> None:
    """``pool_target``: the members every active pool should have now."""
    create_temp_table(connection, "pool_target", {"pool_id": "int", "person_id": "int"})
    c = pool_candidates.c
    for definition in definitions:
        if not definition.active:
            continue
        members = sa.select(sa.literal(ids[definition.name]), c.person_id).where(
            member_filter(definition.where, pool_consented, as_of, candidates=pool_candidates)
        )
        connection.execute(pool_target.insert().from_select(["pool_id", "person_id"], members))
    connection.exec_driver_sql("CREATE INDEX ix_pool_target ON pool_target (pool_id, person_id)")
    _analyze(connection, "pool_target")


def _set_member_checks_aside(connection: sa.Connection) -> tuple[list, list] | None:
    """PostgreSQL: drop pool_members' foreign keys and secondary indexes in this transaction.

    Returns their definitions as the catalog holds them, for ``_restore_member_checks``, or None when
    the locks (ACCESS EXCLUSIVE on pool_members, persons and pools until the commit) are not granted
    within ``BULK_LOCK_TIMEOUT`` or the role may not alter the table: the caller then inserts with them
    in place. Readers of those tables wait for the commit meanwhile, which is why only fills qualify.
    """
    keys = connection.execute(
        sa.text(
            "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'pool_members'::regclass AND contype = 'f' ORDER BY conname"
        )
    ).all()
    indexes = connection.execute(
        sa.text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
            "WHERE i.indrelid = 'pool_members'::regclass AND NOT i.indisprimary AND NOT i.indisunique "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid) ORDER BY 1"
        )
    ).all()
    savepoint = connection.begin_nested()
    try:
        previous = connection.execute(sa.text("SELECT current_setting('lock_timeout')")).scalar_one()
        connection.execute(sa.text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": BULK_LOCK_TIMEOUT})
        if keys:
            drops = ", ".join(f"DROP CONSTRAINT {name}" for name, _ in keys)
            connection.exec_driver_sql(f"ALTER TABLE pool_members {drops}")
        for name, _ in indexes:
            connection.exec_driver_sql(f"DROP INDEX {name}")
        connection.execute(sa.text("SELECT set_config('lock_timeout', :previous, true)"), {"previous": previous})
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        log.warning("pool_members kept its checks for the insert: %s", type(error.orig).__name__)
        return None
    savepoint.commit()
    return keys, indexes


def _restore_member_checks(connection: sa.Connection, aside: tuple[list, list]) -> None:
    """Rebuild what ``_set_member_checks_aside`` dropped; each foreign key is checked with one join."""
    keys, indexes = aside
    for _, definition in indexes:
        connection.exec_driver_sql(definition)
    if keys:
        adds = ", ".join(f"ADD CONSTRAINT {name} {definition}" for name, definition in keys)
        connection.exec_driver_sql(f"ALTER TABLE pool_members {adds}")


def _worth_setting_aside(connection: sa.Connection, fresh: int) -> bool:
    """Whether to insert ``fresh`` new stays with pool_members' checks set aside (PostgreSQL first fills).

    One set-based check per foreign key and one index build then cost less than two foreign-key
    triggers and two index insertions per row (most of a first fill's time otherwise); both grow with
    the whole table, so only when the new stays are at least as many as those already there.
    """
    if connection.dialect.name != "postgresql" or fresh < BULK_JOIN_ROWS:
        return False
    held = connection.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'pool_members'::regclass"))
    return fresh >= held.scalar_one()


def _apply_membership(connection: sa.Connection, stamp: object) -> int:
    """Stays ended, re-opened and started from ``pool_target``; returns the stays started in fresh pools."""
    create_temp_table(connection, "pool_fresh", {"pool_id": "int"})
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # stays and targets can both be read in (pool_id, person_id) order from their indexes: merge
        # anti-joins beat hashing two million keys (measured over 2.1 M stays: 1.2 s and 1.0 s for the
        # two statements against 1.8 s and 1.5 s, and worse still with more work_mem)
        connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    run_sql(connection, "pools/apply_membership", as_of=stamp)
    if postgres:
        connection.exec_driver_sql("SET LOCAL enable_hashjoin TO DEFAULT")
    fresh = connection.execute(
        sa.text("SELECT COUNT(*) FROM pool_target WHERE pool_id IN (SELECT pool_id FROM pool_fresh)")
    ).scalar_one()
    aside = _set_member_checks_aside(connection) if _worth_setting_aside(connection, fresh) else None
    run_sql(connection, "pools/join_fresh", as_of=stamp)
    if aside is not None:
        _restore_member_checks(connection, aside)
    return fresh


def refresh_pools(engine: sa.Engine, definitions: list[PoolDefinition], as_of: pd.Timestamp) -> list[PoolSize]:
    """Recompute every pool as of ``as_of``; inactive pools are emptied. Re-running changes nothing."""
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    with engine.begin() as connection:
        ids = upsert_definitions(connection, definitions, as_of)
        stamp = db_timestamp(connection, as_of)
        _stage_candidates(connection, stamp)
        _stage_targets(connection, definitions, ids, as_of)
        create_temp_table(connection, "pool_refreshed", {"pool_id": "int"})
        load_frame(connection, "pool_refreshed", pd.DataFrame({"pool_id": sorted(ids.values())}), {"pool_id": "int"})
        if _apply_membership(connection, stamp) >= BULK_JOIN_ROWS:
            _analyze(connection, "pool_members")
        run_sql(connection, "pools/snapshot", as_of=stamp, as_of_date=as_of.date())
        sizes = connection.execute(
            sa.text(
                "SELECT p.name, s.size, s.joined, s.left_count FROM pool_snapshots AS s "
                "JOIN pools AS p ON p.pool_id = s.pool_id WHERE s.as_of = :as_of_date ORDER BY p.name"
            ),
            {"as_of_date": as_of.date()},
        ).all()
        for table in ("pool_consented", "pool_candidates", "pool_target", "pool_refreshed", "pool_fresh"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return [PoolSize(name, size, joined, left) for name, size, joined, left in sizes]
