"""The crm_migrate DAG, run for real with dag.test(), upgrades the database crm_db names."""

from __future__ import annotations

import pytest

from vivier.db import current_revision, head_revision, make_engine


@pytest.mark.airflow
def test_crm_migrate_upgrades_and_is_idempotent(airflow_db, crm_connection_env: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import DAGS_DIR

    dag = DagBag(dag_folder=str(DAGS_DIR / "crm_migrate.py")).get_dag("crm_migrate")
    first = dag.test()
    assert first.state == "success"
    engine = make_engine(crm_connection_env)
    assert current_revision(engine) == head_revision()

    second = dag.test()
    assert second.state == "success"
    assert current_revision(engine) == head_revision()
    engine.dispose()
