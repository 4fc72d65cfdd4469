"""Every DAG file imports cleanly, is documented and owned, retries, and parses fast."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from tests.conftest import DAGS_DIR

DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
PARSE_BUDGET_SECONDS = 0.5


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_there_are_dag_files() -> None:
    assert DAG_FILES, "dags/ holds no DAG file"


def test_every_dag_file_imports_without_error(dagbag) -> None:
    assert dagbag.import_errors == {}
    files_with_dags = {Path(dag.fileloc).name for dag in dagbag.dags.values()}
    assert files_with_dags == {p.name for p in DAG_FILES}


def test_every_dag_is_documented_owned_tagged_and_retries(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and len(dag.doc_md.strip()) > 40, f"{dag_id} has no doc_md"
        assert dag.owner and dag.owner != "airflow", f"{dag_id} has no owner"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} never retries"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_quickly_once_airflow_is_loaded(path: Path, dagbag) -> None:
    # dagbag (above) already imported Airflow; time a fresh import of the file as the DAG processor does.
    spec = importlib.util.spec_from_file_location(f"_timed_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    started = time.perf_counter()
    spec.loader.exec_module(module)
    elapsed = time.perf_counter() - started
    assert elapsed < PARSE_BUDGET_SECONDS, f"{path.name} took {elapsed:.2f}s to parse"
