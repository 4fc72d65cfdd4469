"""One Celery worker against two: the ats_ingest run on the distributed engine, same inbox, same machine.

Starts the cluster of tests/test_celery_scale_out.py (PostgreSQL at 127.0.0.1:5432, Redis at
127.0.0.1:6379, real api-server / scheduler / dag-processor / celery worker processes) once per
worker count, with one task slot per worker, runs crm_migrate then ats_ingest on a synthetic inbox
(one mapped parse_and_validate and one mapped normalise task per file), and prints the wall-clock
time of the run, of its mapped phase (the per-file tasks, which spread over the workers) and of the
rest, and the cluster's peak memory (resident set of every process it started, summed).

    python bench/bench_scale_out.py [--applications 2000] [--workers 1 2] [--warm] [--repeat 1]

The machine's other load shows in the figures: on a shared machine, use ``--repeat 3`` (fastest run kept).

``--warm`` preloads pandas, Great Expectations and the ingestion package in each worker before its
pool forks (a Celery ``worker_init`` hook given through ``[celery] celery_config_options``), so tasks
do not pay the imports; it measures what that setting would save.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.test_celery_scale_out import (  # noqa: E402 - the repository root must be on sys.path first
    AirflowCluster,
    ChainStep,
    redis_problem,
)

PG_ADMIN_URL = os.environ.get("VIVIER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MAPPED_TASKS = {"parse_and_validate", "normalise"}
WARM_MODULE = '''
"""Celery settings of the benchmark: Airflow's defaults, plus imports done once before the pool forks."""
from celery.signals import worker_init

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

CELERY_CONFIG = DEFAULT_CELERY_CONFIG


@worker_init.connect
def preload(**_):
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401

    import vivier.ingest.load  # noqa: F401
    import vivier.ingest.pipeline  # noqa: F401
'''


class MemorySampler(threading.Thread):
    """Samples the summed resident memory of the cluster's process trees."""

    def __init__(self, cluster: AirflowCluster, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.cluster, self.every, self.peak = cluster, every, 0
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._done.is_set():
            total = 0
            for process in list(self.cluster.processes.values()):
                try:
                    root = psutil.Process(process.pid)
                    for member in [root, *root.children(recursive=True)]:
                        total += member.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._done.wait(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def postgres_problem(url: str = PG_ADMIN_URL) -> str | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        return f"PostgreSQL at {url} does not answer: {exc.__class__.__name__}"
    return None


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def run_once(inbox: Path, workers: int, workdir: Path, warm: bool) -> dict:
    extra_env = {}
    if warm:
        module_dir = workdir / "warm"
        module_dir.mkdir(parents=True)
        (module_dir / "vivier_bench_celery.py").write_text(WARM_MODULE)
        extra_env = {
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "vivier_bench_celery.CELERY_CONFIG",
            "PYTHONPATH": f"{module_dir}:{REPO_ROOT / 'dags'}",
        }
    with AirflowCluster(
        workdir, postgres_admin_url=PG_ADMIN_URL, workers=workers, concurrency=1, extra_env=extra_env
    ) as cluster:
        cluster.run_dag(ChainStep("crm_migrate"))
        sampler = MemorySampler(cluster)
        sampler.start()
        started = time.monotonic()
        run = cluster.run_dag(ChainStep("ats_ingest", {"inbox": str(inbox)}), timeout=1800)
        elapsed = time.monotonic() - started
        peak = sampler.stop()
        tasks = cluster.api("GET", f"/dags/ats_ingest/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
    mapped = [t for t in tasks if t["task_id"] in MAPPED_TASKS]
    mapped_span = (
        max(parse_time(t["end_date"]) for t in mapped) - min(parse_time(t["start_date"]) for t in mapped)
    ).total_seconds()
    return {
        "workers": workers,
        "run_s": elapsed,
        "mapped_s": mapped_span,
        "mapped_tasks": len(mapped),
        "task_s": sum(t["duration"] or 0 for t in tasks),
        "peak_mb": peak / 2**20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=2000, help="applications per export format")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warm", action="store_true", help="preload heavy imports in the workers")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count; the fastest is kept")
    args = parser.parse_args()
    problem = redis_problem() or postgres_problem()
    if problem:
        print(f"skipped: {problem}")
        return 0
    from vivier.synth import generate_inbox

    with tempfile.TemporaryDirectory(prefix="vivier-bench-scale-out-") as tmp:
        root = Path(tmp)
        exports = generate_inbox(root / "inbox", applications_per_format=args.applications, seed=3, defects=0.02)
        files = sum(1 for e in exports if e.kind == "candidates")
        applications = sum(e.applications for e in exports if e.kind == "candidates")
        kind = "warm" if args.warm else "cold"
        print(f"inbox: {files} candidate files, {applications} applications ({kind} workers)")
        results = [
            min(
                (run_once(root / "inbox", n, root / f"cluster-{n}-{i}", args.warm) for i in range(args.repeat)),
                key=lambda r: r["run_s"],
            )
            for n in args.workers
        ]
    base = results[0]
    for r in results:
        print(
            f"{r['workers']} worker(s): ats_ingest {r['run_s']:.1f} s "
            f"({applications / r['run_s']:,.0f} applications/s), "
            f"mapped phase {r['mapped_s']:.1f} s over {r['mapped_tasks']} tasks, "
            f"task time {r['task_s']:.1f} s, speed-up x{base['run_s'] / r['run_s']:.2f} "
            f"(mapped x{base['mapped_s'] / r['mapped_s']:.2f}), peak {r['peak_mb']:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
