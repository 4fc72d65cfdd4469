"""Test set-up shared by every test.

Airflow reads its configuration when first imported, so the environment is set here, at import
time, before any test module imports Airflow: a throw-away ``AIRFLOW_HOME`` with a SQLite
metadata database, the project's ``dags/`` folder, no examples.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_DIR = REPO_ROOT / "dags"
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="vivier-tests-"))

os.environ["AIRFLOW_HOME"] = str(_SESSION_TMP / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["VIVIER_DATA_DIR"] = str(_SESSION_TMP / "data")
os.environ.pop("AIRFLOW_CONN_CRM_DB", None)
if str(DAGS_DIR) not in sys.path:
    sys.path.insert(0, str(DAGS_DIR))

PG_ADMIN_URL = os.environ.get("VIVIER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_problem() -> str | None:
    """Why the test PostgreSQL server cannot be used, or None when it answers."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"PostgreSQL at {PG_ADMIN_URL} does not answer: {exc.__class__.__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The admin URL of the test PostgreSQL server; skips locally (fails under CI=true) when it is down."""
    problem = _postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI must run the PostgreSQL tests; start the server first)")
        pytest.skip(problem)
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"vivier_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file for one test."""
    return f"sqlite:///{tmp_path / 'crm.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def crm_url(request: pytest.FixtureRequest) -> str:
    """An empty CRM database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return request.getfixturevalue("sqlite_url")


@pytest.fixture
def crm_engine(crm_url: str):
    """A migrated CRM database (head revision) on each engine."""
    from vivier.db import make_engine, upgrade

    engine = make_engine(crm_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, migrated once per test session (needed by ``dag.test()``)."""
    from airflow.utils import db

    db.initdb()
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def crm_connection_env(crm_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the Airflow connection ``crm_db`` at the test's CRM database (as an env var URI)."""
    monkeypatch.setenv("AIRFLOW_CONN_CRM_DB", crm_url)
    return crm_url


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ARG001 - pytest hook signature
    """Mark every test that talks to the PostgreSQL server with ``postgres``."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_server = {"postgres_url", "postgres_admin_url"} & set(item.fixturenames)
        if params.get("crm_url") == "postgresql" or (uses_server and "crm_url" not in params):
            item.add_marker(pytest.mark.postgres)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 - pytest hook signature
    """Say plainly how many tests ran against the real PostgreSQL server (CI must show them)."""
    outcomes = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes:
        for report in terminalreporter.stats.get(outcome, []):
            if "postgres" in getattr(report, "keywords", {}):
                outcomes[outcome] += 1
    terminalreporter.write_line(
        f"PostgreSQL tests (127.0.0.1:5432): {outcomes['passed']} passed, {outcomes['failed']} failed, "
        f"{outcomes['skipped']} skipped"
    )
