"""The match_job_offers DAG run for real with dag.test(): nightly run, manual run for one offer, shortlists."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pendulum
import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from tests.test_matching_partitions import all_matches
from tests.test_matching_run import add_offer, add_person
from vivier.db import make_engine, upgrade
from vivier.db.schema import matches
from vivier.matching.run import match_offers


def match_events() -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "crm://matches", AssetEvent.source_dag_id == "match_job_offers")
            .order_by(AssetEvent.timestamp)
            .all()
        )
        return [dict(e.extra) for e in events]


def rows_per_offer(engine: sa.Engine) -> dict[int, int]:
    with engine.connect() as connection:
        counted = connection.execute(
            sa.select(matches.c.job_offer_id, sa.func.count()).group_by(matches.c.job_offer_id)
        ).all()
    return {offer: n for offer, n in counted}


@pytest.mark.airflow
def test_match_job_offers_matches_everything_then_only_the_requested_offer(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    with engine.begin() as connection:
        for i in range(6):
            add_person(connection, f"Data Person {i}", ["python", "sql", "statistics"][: 1 + i % 3])
        add_person(connection, "Design Person", ["figma", "ux_design"])
        add_person(connection, "No Consent", ["python", "sql"], consent=None)
        data = add_offer(connection, "100", {"python": "required", "sql": "required", "statistics": "nice"})
        design = add_offer(connection, "200", {"figma": "required", "ux_design": "nice"})

    dag = DagBag(dag_folder=str(DAGS_DIR / "match_job_offers.py")).get_dag("match_job_offers")
    before = len(match_events())
    run = dag.test()
    assert run.state == "success"
    assert rows_per_offer(engine) == {data: 6, design: 1}
    extra = match_events()[-1]
    assert len(match_events()) == before + 1
    assert extra["pool"] == 7 and extra["offers_matched"] == 2 and extra["matches"] == 7
    shortlists = tmp_path / "data" / "shortlists"
    assert sorted(p.name for p in shortlists.iterdir()) == sorted(
        [f"offer-{data}.csv", f"offer-{data}.html", f"offer-{design}.csv", f"offer-{design}.html"]
    )

    with engine.begin() as connection:
        connection.execute(matches.delete().where(matches.c.job_offer_id == data))
    manual = dag.test(run_conf={"job_ids": ["greenhouse:200"]})
    assert manual.state == "success"
    assert rows_per_offer(engine) == {design: 1}, "only the requested offer was re-matched"
    assert match_events()[-1]["offers_selected"] == 1
    engine.dispose()


@pytest.mark.airflow
def test_match_job_offers_in_two_partitions_writes_the_rows_of_one(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    import vivier.matching.partitions

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(vivier.matching.partitions, "MIN_PEOPLE_PER_PARTITION", 2)
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    with engine.begin() as connection:
        for i in range(12):
            add_person(connection, f"Data Person {i}", ["python", "sql", "statistics", "figma"][: 1 + i % 4])
        add_person(connection, "No Consent", ["python", "sql"], consent=None)
        offers = [
            add_offer(connection, "100", {"python": "required", "sql": "required", "statistics": "nice"}),
            add_offer(connection, "200", {"figma": "required", "python": "nice"}),
            add_offer(connection, "300", {"statistics": "required"}),
        ]

    logical_date = pendulum.datetime(2026, 11, 2, 1, tz="UTC")
    match_offers(engine, as_of=pd.Timestamp(logical_date), run_key="one run")
    expected = all_matches(engine)
    assert set(expected["job_offer_id"]) == set(offers)
    with engine.begin() as connection:
        connection.execute(matches.delete())

    dag = DagBag(dag_folder=str(DAGS_DIR / "match_job_offers.py")).get_dag("match_job_offers")
    split = dag.test(logical_date=logical_date, run_conf={"partitions": 2})
    assert split.state == "success"
    mapped = [ti for ti in split.get_task_instances() if ti.task_id == "match_partition"]
    assert len(mapped) == 2 and all(ti.state == "success" for ti in mapped)
    pd.testing.assert_frame_equal(all_matches(engine), expected)
    extra = match_events()[-1]
    assert extra["pool"] == 12 and extra["offers_matched"] == 3 and extra["matches"] == len(expected)
    assert not list((tmp_path / "data" / "staging").rglob("*.parquet")), "staged candidates removed"
    engine.dispose()
