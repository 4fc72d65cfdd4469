"""The pools_refresh DAG run for real with dag.test(): pools filled from consented people, crm://pools emitted."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from tests.consent_helpers import add_persons
from vivier.consent.ledger import record_event
from vivier.db import make_engine, upgrade
from vivier.db.schema import pool_members, pools


def pools_asset_extras() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "crm://pools", AssetEvent.source_dag_id == "pools_refresh")
            .order_by(AssetEvent.timestamp)
            .all()
        )
        return [dict(e.extra) for e in events]


@pytest.mark.airflow
def test_pools_refresh_fills_the_shipped_pools(airflow_db, crm_connection_env: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    engine = make_engine(crm_connection_env)
    upgrade(engine)
    with engine.begin() as connection:
        consented, silent = add_persons(connection, 2, is_silver_medalist=True)
        record_event(
            connection, consented, "events", "confirmed", "double_opt_in", pd.Timestamp("2026-01-01", tz="UTC")
        )

    dag = DagBag(dag_folder=str(DAGS_DIR / "pools_refresh.py")).get_dag("pools_refresh")
    run = dag.test()
    assert run.state == "success"
    extra = pools_asset_extras()[-1]
    assert extra["pools"]["silver_medalists"] == 1
    assert extra["pools"]["event_guests"] == 1
    assert extra["pools"]["python_and_sql"] == 0
    with engine.connect() as connection:
        silver = connection.execute(
            sa.select(pool_members.c.person_id)
            .join(pools, pools.c.pool_id == pool_members.c.pool_id)
            .where(pools.c.name == "silver_medalists")
        ).scalars()
        assert list(silver) == [consented]
    assert silent != consented
    engine.dispose()
