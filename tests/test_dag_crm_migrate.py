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


@pytest.mark.airflow
def test_airflow_cli_runs_a_dag_from_anywhere(airflow_db, crm_connection_env: str, tmp_path) -> None:
    """What `make demo` does: `airflow dags test` in a fresh process, outside the checkout.

    Catches a package that is importable only from the repository folder (not installed).
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    airflow = Path(sys.executable).parent / "airflow"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(airflow), "dags", "test", "crm_migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "ModuleNotFoundError" not in output
    assert result.returncode == 0 and "state=success" in output, output[-3000:]
    engine = make_engine(crm_connection_env)
    assert current_revision(engine) == head_revision()
    engine.dispose()
