"""The ats_ingest DAG run for real with dag.test(): every format in, counts out, asset emitted, re-run is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from vivier.db import make_engine, upgrade
from vivier.db.schema import applications, ingested_files, persons


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (persons, applications, ingested_files)
        )


def persons_asset_events() -> list[dict]:
    """The extras of the crm://persons events this DAG emitted, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "crm://persons", AssetEvent.source_dag_id == "ats_ingest")
            .order_by(AssetEvent.timestamp)
            .all()
        )
        return [dict(e.extra) for e in events]


@pytest.mark.airflow
def test_ats_ingest_loads_a_generated_inbox_and_reruns_as_a_no_op(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from vivier.synth import generate_inbox

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    inbox = tmp_path / "inbox"
    generate_inbox(inbox, applications_per_format=60, seed=5, defects=0.05)

    dag = DagBag(dag_folder=str(DAGS_DIR / "ats_ingest.py")).get_dag("ats_ingest")
    events_before = len(persons_asset_events())
    run = dag.test(run_conf={"inbox": str(inbox)})
    assert run.state == "success"
    people, apps, files = counts(engine)
    assert files == 7 and people > 0 and apps >= people
    reports = list((tmp_path / "data" / "reports").glob("*.html"))
    assert len(reports) == 7
    events = persons_asset_events()
    assert len(events) == events_before + 1
    extra = events[-1]
    assert extra["files"] == 7 and extra["persons_new"] == people and extra["applications"] == apps

    again = dag.test(run_conf={"inbox": str(inbox)})
    assert again.state == "success"
    assert counts(engine) == (people, apps, files)
    assert len(persons_asset_events()) == events_before + 1, "a run with nothing new emits no crm://persons event"
    engine.dispose()
