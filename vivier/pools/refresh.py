"""Refresh every pool in one transaction: definitions upserted, members recomputed set-based in SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import create_temp_table, db_timestamp, load_frame
from vivier.db.schema import persons, pools
from vivier.db.sqlfiles import run_sql
from vivier.pools.definitions import PoolDefinition, member_filter

_temp = sa.MetaData()
pool_target = sa.Table("pool_target", _temp, sa.Column("pool_id", sa.Integer), sa.Column("person_id", sa.Integer))
pool_consented = sa.Table("pool_consented", _temp, sa.Column("person_id", sa.Integer), sa.Column("purpose", sa.Text))


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


def refresh_pools(engine: sa.Engine, definitions: list[PoolDefinition], as_of: pd.Timestamp) -> list[PoolSize]:
    """Recompute every pool as of ``as_of``; inactive pools are emptied. Re-running changes nothing."""
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    with engine.begin() as connection:
        ids = upsert_definitions(connection, definitions, as_of)
        stamp = db_timestamp(connection, as_of)
        create_temp_table(connection, "pool_consented", {"person_id": "int", "purpose": "text"})
        run_sql(connection, "pools/consented", as_of=stamp)
        connection.exec_driver_sql("CREATE INDEX ix_pool_consented ON pool_consented (person_id, purpose)")
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE pool_consented")
        create_temp_table(connection, "pool_target", {"pool_id": "int", "person_id": "int"})
        for definition in definitions:
            if not definition.active:
                continue
            members = sa.select(sa.literal(ids[definition.name]), persons.c.person_id).where(
                member_filter(definition.where, pool_consented, as_of)
            )
            connection.execute(pool_target.insert().from_select(["pool_id", "person_id"], members))
        connection.exec_driver_sql("CREATE INDEX ix_pool_target ON pool_target (pool_id, person_id)")
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE pool_target")
        create_temp_table(connection, "pool_refreshed", {"pool_id": "int"})
        load_frame(connection, "pool_refreshed", pd.DataFrame({"pool_id": sorted(ids.values())}), {"pool_id": "int"})
        run_sql(connection, "pools/apply_membership", as_of=stamp)
        run_sql(connection, "pools/snapshot", as_of=stamp, as_of_date=as_of.date())
        sizes = connection.execute(
            sa.text(
                "SELECT p.name, s.size, s.joined, s.left_count FROM pool_snapshots AS s "
                "JOIN pools AS p ON p.pool_id = s.pool_id WHERE s.as_of = :as_of_date ORDER BY p.name"
            ),
            {"as_of_date": as_of.date()},
        ).all()
        for table in ("pool_consented", "pool_target", "pool_refreshed"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    return [PoolSize(name, size, joined, left) for name, size, joined, left in sizes]
