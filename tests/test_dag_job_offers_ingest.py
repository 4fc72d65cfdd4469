"""The job_offers_ingest DAG run for real with dag.test(): job files in, offers out, asset emitted, re-run a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from vivier.db import make_engine, upgrade
from vivier.db.schema import ingested_files, job_offer_skills, job_offers


def job_offer_events() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "crm://job_offers", AssetEvent.source_dag_id == "job_offers_ingest")
            .order_by(AssetEvent.timestamp)
            .all()
        )
        return [dict(e.extra) for e in events]


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (job_offers, job_offer_skills, ingested_files)
        )


@pytest.mark.airflow
def test_job_offers_ingest_loads_every_job_file_and_reruns_as_a_no_op(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from vivier.synth import generate_inbox, generate_jobs

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    inbox = tmp_path / "inbox"
    generate_inbox(inbox, applications_per_format=20, seed=3)
    generate_jobs("csv", inbox / "offres.csv", jobs=8, seed=3)

    dag = DagBag(dag_folder=str(DAGS_DIR / "job_offers_ingest.py")).get_dag("job_offers_ingest")
    before = len(job_offer_events())
    run = dag.test(run_conf={"inbox": str(inbox)})
    assert run.state == "success"
    offers, skills, files = counts(engine)
    assert files == 6  # five vendors' job files and the spreadsheet; candidate exports are left alone
    with engine.connect() as connection:
        formats = set(connection.execute(sa.select(ingested_files.c.detected_format)).scalars())
    assert all(f.endswith("_jobs") for f in formats)
    events = job_offer_events()
    assert len(events) == before + 1
    assert events[-1]["offers"] == offers > 0 and events[-1]["skills"] == skills > 0 and events[-1]["files"] == 6

    again = dag.test(run_conf={"inbox": str(inbox)})
    assert again.state == "success"
    assert counts(engine) == (offers, skills, files)
    assert len(job_offer_events()) == before + 1, "a run with nothing new emits no crm://job_offers event"
    engine.dispose()
