"""The GDPR DAGs run for real with dag.test(): a manual erasure request, and the daily retention pass."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import DAGS_DIR
from tests.consent_helpers import add_persons
from vivier.db import make_engine, upgrade
from vivier.db.schema import gdpr_requests, persons, suppression_list


@pytest.mark.airflow
def test_erasure_request_and_retention_runs(
    airflow_db, crm_connection_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("VIVIER_DATA_DIR", str(tmp_path / "data"))
    engine = make_engine(crm_connection_env)
    upgrade(engine)
    with engine.begin() as connection:
        kept, erased = add_persons(connection, 2, last_rejected_at=pd.Timestamp("2026-11-01", tz="UTC").to_pydatetime())
        email = connection.execute(sa.select(persons.c.email).where(persons.c.person_id == erased)).scalar_one()

    request = DagBag(dag_folder=str(DAGS_DIR / "gdpr_request.py")).get_dag("gdpr_request")
    run = request.test(run_conf={"kind": "erasure", "email": email.upper()})
    assert run.state == "success"
    with engine.connect() as connection:
        assert list(connection.execute(sa.select(persons.c.person_id)).scalars()) == [kept]
        assert connection.execute(sa.select(sa.func.count()).select_from(suppression_list)).scalar_one() == 1
        row = connection.execute(sa.select(gdpr_requests)).mappings().one()
    assert (row["kind"], row["status"], row["person_id"]) == ("erasure", "completed", None)

    left_behind = tmp_path / "data" / "staging" / "ats_ingest_a_failed_run"  # a month old
    left_behind.mkdir(parents=True)
    (left_behind / "persons.parquet").write_bytes(b"staged people")
    month_ago = time.time() - 30 * 86400
    for path in (left_behind / "persons.parquet", left_behind):
        os.utime(path, (month_ago, month_ago))
    retention = DagBag(dag_folder=str(DAGS_DIR / "gdpr_retention.py")).get_dag("gdpr_retention")
    assert retention.test().state == "success"
    assert not left_behind.exists()
    reports = list((tmp_path / "data" / "reports").glob("gdpr-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text(encoding="utf-8"))
    assert report["requests_open"] == 0 and report["persons_erased"] in (0, 1)
    assert report["staging_folders_removed"] == 1
    engine.dispose()
