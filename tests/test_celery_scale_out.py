"""The nightly chain on the distributed engine, for real and without Docker.

PostgreSQL (127.0.0.1:5432) holds Airflow's metadata database and the CRM database (two fresh
databases, dropped at the end), Redis (127.0.0.1:6379) is the Celery broker (a queue of this run's
own), and the test starts real ``airflow api-server``, ``scheduler``, ``dag-processor`` and
``celery worker`` processes, each in its own process group, on free loopback ports. The chain is
triggered through the authenticated REST API (a JWT from the simple auth manager's ``/auth/token``),
one DAG after the other; every run must succeed and the CRM tables must hold what the same inbox
gives when ingested in one process. Everything started is stopped, also when the test fails.

``bench/bench_scale_out.py`` reuses :class:`AirflowCluster` to time one worker against two.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("VIVIER_TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TERMINAL_STATES = {"success", "failed"}
POLL_SECONDS = 2
# Task states that mean the run cannot succeed without a retry delay: fail at once instead of waiting.
BROKEN_TASK_STATES = {"failed", "up_for_retry", "upstream_failed"}
SUPPRESSION_KEY = "vivier-scale-out-test-key"
# The time the chain's runs stand for (the synthetic exports are dated up to 2026-11-01).
LOGICAL_DATE = "2026-11-02T01:00:00+00:00"
CORE_TABLES = ("ingested_files", "persons", "applications", "person_tags", "quarantine", "identity_suggestions")


@dataclass(frozen=True)
class ChainStep:
    """One DAG of the nightly chain, triggered once its predecessor succeeded."""

    dag_id: str
    conf: dict[str, Any] = field(default_factory=dict)


def nightly_chain(inbox: Path) -> list[ChainStep]:
    """The nightly chain in order (append the DAGs that follow ``ats_ingest`` here)."""
    return [
        ChainStep("crm_migrate"),
        ChainStep("ats_ingest", {"inbox": str(inbox)}),
        ChainStep("crm_report"),
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_problem(url: str = REDIS_URL) -> str | None:
    """Why the test Redis server cannot be used, or None when it answers."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"Redis at {url} does not answer: {exc.__class__.__name__}: {exc}"
    return None


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: no output)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name} (last {len(text)} lines)\n" + "\n".join(text)


class ClusterError(AssertionError):
    """The cluster or one of its runs did not do what it should (message carries the logs)."""


class AirflowCluster:
    """Airflow with the CeleryExecutor on PostgreSQL and Redis, as separate processes on loopback.

    Use as a context manager: on exit every process group started is ended, the two databases are
    dropped and this run's Redis keys deleted, whatever happened.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        postgres_admin_url: str,
        workers: int = 1,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        token = uuid.uuid4().hex[:10]
        self.workdir = workdir
        self.postgres_admin_url = postgres_admin_url
        self.workers = workers
        self.concurrency = concurrency
        self.extra_env = dict(extra_env or {})
        self.meta_db = f"vivier_af_{token}"
        self.crm_db = f"vivier_crm_{token}"
        self.queue = f"vivier-{token}"
        self.redis_db = secrets.randbelow(15) + 1  # 1..15; the queue name keeps parallel runs apart anyway
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.jwt_secret = secrets.token_urlsafe(32)
        self.api_secret_key = secrets.token_urlsafe(32)
        self.logs_dir = workdir / "process-logs"
        self.processes: dict[str, subprocess.Popen] = {}
        self._created_databases: list[str] = []
        self._token: str | None = None

    # -- URLs -------------------------------------------------------------------------------------
    def database_url(self, name: str, driver: str) -> str:
        import sqlalchemy as sa

        url = sa.make_url(self.postgres_admin_url).set(drivername=driver, database=name)
        return url.render_as_string(hide_password=False)

    @property
    def crm_url(self) -> str:
        return self.database_url(self.crm_db, "postgresql+psycopg")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def broker_url(self) -> str:
        return f"{REDIS_URL.rstrip('/')}/{self.redis_db}"

    # -- environment ------------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The environment every Airflow process of the cluster gets (the test's own Airflow settings removed)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
        meta = self.database_url(self.meta_db, "postgresql+psycopg2")
        home = self.workdir / "airflow"
        passwords = home / "passwords.json"
        if not passwords.exists():
            home.mkdir(parents=True, exist_ok=True)
            passwords.write_text(json.dumps({"vivier": self.password}))
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "vivier:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__SECRET_KEY": self.api_secret_key,
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{meta}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
                # The task supervisor waits up to this long to notice a finished task (5 s by default).
                "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                # Parse each DAG file once: the files do not change while the test runs.
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
                # No runs of the scheduler's own (cron or asset events): the chain triggers every run.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW_CONN_CRM_DB": self.crm_url,
                # The API itself, for the tasks that write their run's note (crm_report).
                "AIRFLOW_CONN_AIRFLOW_API": json.dumps(
                    {
                        "conn_type": "http",
                        "host": "127.0.0.1",
                        "port": self.port,
                        "login": "vivier",
                        "password": self.password,
                    }
                ),
                "AIRFLOW_VAR_VIVIER_SUPPRESSION_KEY": SUPPRESSION_KEY,
                "VIVIER_DATA_DIR": str(self.workdir / "data"),
                "GX_ANALYTICS_ENABLED": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT / "dags"), env.get("PYTHONPATH")])),
            }
        )
        env.update(self.extra_env)
        return env

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> AirflowCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Create the two databases, migrate Airflow's, start the Airflow processes (without waiting for them).

        The CRM database stays empty: the chain's first DAG, ``crm_migrate``, creates its schema. The
        first REST call waits for the API server, so the caller can prepare its data meanwhile.
        """
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._create_databases()
        env = self.environment()
        migrate = self._spawn("db-migrate", ["db", "migrate"], env)
        if migrate.wait(timeout=300) != 0:
            raise ClusterError(f"airflow db migrate failed\n{tail(self.logs_dir / 'db-migrate.log')}")
        self.processes.pop("db-migrate")
        self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.port)], env)
        self._spawn("scheduler", ["scheduler"], env)
        self._spawn("dag-processor", ["dag-processor"], env)
        for number in range(1, self.workers + 1):
            self.add_worker(number, env)

    def add_worker(self, number: int, env: dict[str, str] | None = None) -> None:
        name = f"worker-{number}"
        args = ["celery", "worker", "--queues", self.queue, "--concurrency", str(self.concurrency)]
        args += ["--celery-hostname", f"{self.queue}-{number}@%h", "--skip-serve-logs"]
        args += ["--without-mingle", "--without-gossip"]
        self._spawn(name, args, env or self.environment())

    def stop(self) -> None:
        """End every process group started (TERM, then KILL), drop the databases, delete the Redis keys."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(process, signal.SIGKILL)  # leftovers of the group (task processes, pool children)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.processes.clear()
        self._drop_databases()
        self._delete_redis_keys()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.logs_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended as a whole
        )
        log.close()
        self.processes[name] = process
        return process

    def _create_databases(self) -> None:
        import sqlalchemy as sa

        admin = sa.create_engine(self.postgres_admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in (self.meta_db, self.crm_db):
                    connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    self._created_databases.append(name)
        finally:
            admin.dispose()

    def _drop_databases(self) -> None:
        import sqlalchemy as sa

        if not self._created_databases:
            return
        admin = sa.create_engine(self.postgres_admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for name in self._created_databases:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._created_databases.clear()
        finally:
            admin.dispose()

    def _delete_redis_keys(self) -> None:
        import redis

        try:
            client = redis.Redis.from_url(self.broker_url, socket_connect_timeout=3)
            keys = list(client.scan_iter(match=f"*{self.queue}*"))
            if keys:
                client.delete(*keys)
            client.close()
        except redis.RedisError:
            pass

    # -- checks while running ---------------------------------------------------------------------
    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise ClusterError(f"Airflow process(es) exited: {dead}\n{self.logs()}")

    def logs(self, lines: int = 40) -> str:
        return "\n".join(tail(path, lines) for path in sorted(self.logs_dir.glob("*.log")))

    def _wait_for_api(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{self.api_url}/api/v2/version", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise ClusterError(f"the API server did not answer within {timeout:.0f} s\n{self.logs()}")

    # -- REST API ---------------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> Any:
        """Call the REST API with a bearer token (taken from ``/auth/token`` on first use)."""
        import httpx

        if self._token is None:
            self._wait_for_api()
            answer = httpx.post(
                f"{self.api_url}/auth/token", json={"username": "vivier", "password": self.password}, timeout=30
            )
            if answer.status_code != 201:
                raise ClusterError(f"login refused: {answer.status_code} {answer.text}")
            self._token = answer.json()["access_token"]
        answer = httpx.request(
            method,
            f"{self.api_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
            **kwargs,
        )
        if answer.status_code >= 400:
            raise ClusterError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the DAG processor has parsed ``dag_id`` into the metadata database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                self.api("GET", f"/dags/{dag_id}")
                return
            except ClusterError as exc:
                if " 404 " not in str(exc):
                    raise
            time.sleep(1)
        errors = self.api("GET", "/importErrors")
        raise ClusterError(f"DAG {dag_id} not parsed within {timeout:.0f} s; import errors: {errors}\n{self.logs()}")

    def run_dag(self, step: ChainStep, *, logical_date: str = LOGICAL_DATE, timeout: float = 300) -> dict:
        """Unpause, trigger and wait for one DAG run; returns the final run (raises unless it succeeded)."""
        self.wait_for_dag(step.dag_id)
        self.api("PATCH", f"/dags/{step.dag_id}", json={"is_paused": False})
        run_id = f"scale_out__{step.dag_id}__{uuid.uuid4().hex[:6]}"
        self.api(
            "POST",
            f"/dags/{step.dag_id}/dagRuns",
            json={"dag_run_id": run_id, "logical_date": logical_date, "conf": step.conf},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            run = self.api("GET", f"/dags/{step.dag_id}/dagRuns/{run_id}")
            tasks = self.api("GET", f"/dags/{step.dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            broken = [t for t in tasks if t["state"] in BROKEN_TASK_STATES]
            if run["state"] == "success":
                return run
            if run["state"] in TERMINAL_STATES or broken:
                raise ClusterError(f"{step.dag_id} run {run_id}: {run['state']}; {self._task_report(tasks)}")
            time.sleep(POLL_SECONDS)
        raise ClusterError(f"{step.dag_id} run {run_id} not finished within {timeout:.0f} s\n{self.logs()}")

    def _task_report(self, tasks: list[dict]) -> str:
        states = ", ".join(f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tasks)
        task_logs = sorted((self.workdir / "airflow" / "logs").rglob("*.log"))
        failed = [p for p in task_logs if "error" in p.read_text(errors="replace").lower()]
        return f"tasks: {states}\n" + "\n".join(tail(p, 30) for p in failed[:3]) + f"\n{self.logs()}"


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def table_counts(url: str, tables: tuple[str, ...] = CORE_TABLES) -> dict[str, int]:
    import sqlalchemy as sa

    from vivier.db import make_engine
    from vivier.db.schema import metadata

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(sa.select(sa.func.count()).select_from(metadata.tables[name])).scalar_one()
                for name in tables
            }
    finally:
        engine.dispose()


def reference_counts(inbox: Path, workdir: Path) -> dict[str, int]:
    """What ingesting ``inbox`` in one process (no Airflow) leaves in a fresh SQLite CRM database."""
    import pandas as pd

    from vivier.db import make_engine, upgrade
    from vivier.ingest.pipeline import ingest_inbox

    url = f"sqlite:///{workdir / 'reference.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    ingest_inbox(
        engine,
        inbox,
        work_dir=workdir / "reference",
        as_of=pd.Timestamp(LOGICAL_DATE),
        run_id="reference",
        suppression_key=SUPPRESSION_KEY.encode("utf-8"),
    )
    engine.dispose()
    return table_counts(url)


@pytest.fixture
def redis_available() -> None:
    """Skips locally (fails under CI=true) when the Redis server is down."""
    problem = redis_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI must run the Celery test; start the server first)")
        pytest.skip(problem)


@pytest.fixture
def cluster(tmp_path: Path, postgres_admin_url: str, redis_available: None) -> Iterator[AirflowCluster]:
    with AirflowCluster(tmp_path / "cluster", postgres_admin_url=postgres_admin_url) as running:
        yield running


@pytest.mark.airflow
def test_nightly_chain_runs_on_celery_workers_with_postgres_and_redis(cluster: AirflowCluster, tmp_path: Path) -> None:
    from vivier.synth import generate_inbox

    inbox = tmp_path / "inbox"
    exports = generate_inbox(inbox, applications_per_format=25, seed=11, defects=0.05)
    candidate_files = sum(1 for e in exports if e.kind == "candidates")
    expected = reference_counts(inbox, tmp_path)
    assert expected["ingested_files"] == candidate_files and expected["persons"] > 0

    started = time.monotonic()
    runs = [cluster.run_dag(step) for step in nightly_chain(inbox)]
    print(f"nightly chain on Celery: {time.monotonic() - started:.1f} s for {len(runs)} run(s)")

    assert [run["state"] for run in runs] == ["success"] * len(runs)
    assert table_counts(cluster.crm_url) == expected
    for step, run in zip(nightly_chain(inbox), runs, strict=True):
        tasks = cluster.api("GET", f"/dags/{step.dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
        assert tasks and {t["queue"] for t in tasks} == {cluster.queue}, "every task went through this run's queue"
        assert all(t["state"] == "success" and t["hostname"] for t in tasks)
    report_run = cluster.api("GET", f"/dags/crm_report/dagRuns/{runs[-1]['dag_run_id']}")
    assert "crm-report-2026-11-02.html" in (report_run["note"] or ""), "the report's run note links to it"
    assert (cluster.workdir / "data" / "reports" / "crm-report-2026-11-02.html").is_file()
