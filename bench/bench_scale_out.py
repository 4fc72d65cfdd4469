"""One Celery worker against two: ats_ingest, match_job_offers or dispatch_weekly on the distributed engine.

Starts the cluster of tests/test_celery_scale_out.py (PostgreSQL at 127.0.0.1:5432, Redis at
127.0.0.1:6379, real api-server / scheduler / dag-processor / celery worker processes) once per
worker count, with one task slot per worker, runs crm_migrate then ats_ingest on a synthetic inbox
(one mapped parse_and_validate and one mapped normalise task per file), and prints the wall-clock
time of the run, of its mapped phase (the per-file tasks, which spread over the workers) and of the
rest, and the cluster's peak memory (resident set of every process it started, summed).

    python bench/bench_scale_out.py [--applications 2000] [--workers 1 2] [--warm] [--repeat 1]
    python bench/bench_scale_out.py --phase matching [--persons 1000000] [--offers 1000]

``--phase matching`` fills the CRM database with synthetic people (skills, consent for job offers)
and open offers, then runs match_job_offers with the pool split into as many slices as worker slots
(one mapped ``match_partition`` task each, then ``merge_matches``) and prints the same figures, the
plan and merge times, and whether every run wrote the same ``matches`` rows. The cluster imports
this checkout's ``vivier`` package (its root goes first on the workers' PYTHONPATH).

    python bench/bench_scale_out.py --phase dispatch [--people 100000]

``--phase dispatch`` fills the CRM database with the synthetic audience of bench/bench_dispatch.py
(one weekly job-offer digest per person, up to 5 offers each, FR/EN/DE/IT: about 97,500 messages
for 100,000 people), then runs dispatch_weekly with ``render_partitions`` = worker slots (one mapped
``render`` task each), as a dry run, and times it up to the end of ``finalise`` (the batch planned,
rendered, frozen in the outbox and closed); delivery is not part of the measure and the run is
stopped there. It prints the span plan -> finalise, the mapped render phase, and each step.
``--baseline DIR`` adds a run, round by round, of the DAGs and code of another checkout with one
worker (an earlier commit, whose ``plan`` task rendered the whole batch itself).

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


MATCHING_AS_OF = "2026-11-02T01:00:00+00:00"


def fill_matching_crm(url: str, persons: int, offers: int) -> None:
    """Synthetic people with skills and current job-offer consent, and open offers, bulk-loaded."""
    import pandas as pd

    from vivier.db import make_engine
    from vivier.matching.synthetic import synthetic_matching_data, write_matching_crm

    data = synthetic_matching_data(persons, offers, seed=5)
    stamp = pd.Timestamp("2026-11-01", tz="UTC")
    people = data.persons.assign(
        email=[f"p{i}@bench.example" for i in data.persons["person_id"]],
        full_name="Bench Person",
        applications_count=1,
        created_at=stamp,
        updated_at=stamp,
    )
    consent = pd.DataFrame(
        {
            "person_id": data.persons["person_id"],
            "purpose": "job_offers",
            "status": "granted",
            "is_active": True,
            "source": "admin",
            "last_event_id": 0,
            "updated_at": stamp,
        }
    )
    jobs = data.offers.assign(
        source_system="greenhouse",
        source_job_id=data.offers["job_offer_id"].astype(str),
        title="Bench offer",
        location=data.offers["city"],
        status="open",
        created_at=stamp,
        updated_at=stamp,
    ).drop(columns=["city"])
    engine = make_engine(url)
    with engine.begin() as connection:
        write_matching_crm(
            connection,
            persons=people,
            person_skills=data.person_skills,
            consent=consent,
            offers=jobs,
            offer_skills=data.offer_skills,
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def matches_digest(url: str) -> str:
    """A digest of every row of ``matches`` but its run key (equal digests: identical rows)."""
    import hashlib

    import pandas as pd

    from vivier.db import make_engine

    engine = make_engine(url)
    columns = "job_offer_id, person_id, score, rank, matched_skills, missing_skills, reason, computed_at"
    with engine.connect() as connection:
        rows = pd.read_sql(f"SELECT {columns} FROM matches ORDER BY job_offer_id, rank", connection)
    engine.dispose()
    return f"{len(rows)} rows, sha256 {hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()[:12]}"


def run_matching_once(persons: int, offers: int, workers: int, partitions: int, workdir: Path) -> dict:
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), str(REPO_ROOT / "dags"), os.environ.get("PYTHONPATH")]))
    with AirflowCluster(
        workdir,
        postgres_admin_url=PG_ADMIN_URL,
        workers=workers,
        concurrency=1,
        extra_env={"PYTHONPATH": pythonpath},
    ) as cluster:
        cluster.run_dag(ChainStep("crm_migrate"))
        fill_matching_crm(cluster.crm_url, persons, offers)
        sampler = MemorySampler(cluster)
        sampler.start()
        started = time.monotonic()
        step = ChainStep("match_job_offers", {"partitions": partitions})
        run = cluster.run_dag(step, logical_date=MATCHING_AS_OF, timeout=1800)
        elapsed = time.monotonic() - started
        peak = sampler.stop()
        path = f"/dags/match_job_offers/dagRuns/{run['dag_run_id']}/taskInstances"
        tasks = cluster.api("GET", path)["task_instances"]
        digest = matches_digest(cluster.crm_url)
    mapped = [t for t in tasks if t["task_id"] == "match_partition"]
    duration = {t["task_id"]: t["duration"] or 0 for t in tasks if t["task_id"] != "match_partition"}
    mapped_span = (
        max(parse_time(t["end_date"]) for t in mapped) - min(parse_time(t["start_date"]) for t in mapped)
    ).total_seconds()
    return {
        "workers": workers,
        "partitions": len(mapped),
        "run_s": elapsed,
        "mapped_s": mapped_span,
        "task_s": sum(t["duration"] or 0 for t in mapped),
        "plan_s": duration.get("plan_partitions", 0.0),
        "merge_s": duration.get("merge_matches", 0.0),
        "shortlists_s": duration.get("write_shortlists", 0.0),
        "peak_mb": peak / 2**20,
        "matches": digest,
        "load": os.getloadavg(),
    }


def main_matching(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="vivier-bench-scale-out-") as tmp:
        root = Path(tmp)
        print(f"matching: {args.persons:,} people x {args.offers:,} open offers; {load_average()}")
        runs = {n: [] for n in args.workers}
        for i in range(args.repeat):  # worker counts alternate, so a busy spell does not favour one
            for n in args.workers:
                run = run_matching_once(args.persons, args.offers, n, n, root / f"cluster-{n}-{i}")
                runs[n].append(run)
                print(
                    f"  run {i + 1}: {n} worker(s), {run['partitions']} partition(s): {run['run_s']:.1f} s "
                    f"(plan {run['plan_s']:.1f} s, mapped phase {run['mapped_s']:.1f} s, "
                    f"merge {run['merge_s']:.1f} s, shortlists {run['shortlists_s']:.1f} s); {run['matches']}; "
                    f"{load_average(run['load'])}",
                    flush=True,
                )
        results = [min(runs[n], key=lambda r: r["run_s"]) for n in args.workers]
    base = results[0]
    for r in results:
        spread = [x["run_s"] for x in runs[r["workers"]]]
        print(
            f"{r['workers']} worker(s), {r['partitions']} partition(s): match_job_offers {r['run_s']:.1f} s "
            f"(runs {min(spread):.1f}-{max(spread):.1f} s), plan {r['plan_s']:.1f} s, "
            f"mapped phase {r['mapped_s']:.1f} s (task time {r['task_s']:.1f} s), merge {r['merge_s']:.1f} s, "
            f"shortlists {r['shortlists_s']:.1f} s, speed-up x{base['run_s'] / r['run_s']:.2f} "
            f"(mapped x{base['mapped_s'] / r['mapped_s']:.2f}), "
            f"peak {r['peak_mb']:.0f} MB"
        )
    same = {r["matches"] for n in args.workers for r in runs[n]}
    print(f"matches: {'identical in every run' if len(same) == 1 else 'DIFFERENT: ' + ', '.join(sorted(same))}")
    return 0


DISPATCH_AS_OF = "2026-11-24T08:00:00+00:00"  # a Tuesday of the past: the scheduler runs no future dates
DISPATCH_STEPS = ("plan", "render", "finalise")


def fill_dispatch_crm(url: str, people: int) -> None:
    """The audience of bench/bench_dispatch.py: everyone consents to weekly job-offer digests."""
    import pandas as pd

    from vivier.db import make_engine
    from vivier.dispatch.synthetic import seed_population

    engine = make_engine(url)
    seed_population(
        engine,
        people,
        as_of=pd.Timestamp(DISPATCH_AS_OF) - pd.Timedelta(hours=1),
        job_offers_share=1.0,
        content_share=0.0,
        rejected_share=0.0,
        suppressed_share=0.0,
        frequency_choices=False,
        min_match_score=0.35,
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def run_until_finalised(cluster: AirflowCluster, dag_id: str, conf: dict, timeout: float = 1800) -> tuple[str, list]:
    """Trigger ``dag_id`` and wait for its ``finalise`` task; the run is then marked failed (delivery
    is not measured) and its task instances returned."""
    import uuid

    cluster.wait_for_dag(dag_id)
    cluster.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    run_id = f"bench__{dag_id}__{uuid.uuid4().hex[:6]}"
    cluster.api(
        "POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": DISPATCH_AS_OF, "conf": conf}
    )
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        tasks = cluster.api("GET", path)["task_instances"]
        states = {(t["task_id"], t["map_index"]): t["state"] for t in tasks}
        if any(state in ("failed", "up_for_retry", "upstream_failed") for state in states.values()):
            raise RuntimeError(f"{dag_id}: {states}")
        last = ("finalise", -1) if ("finalise", -1) in states else ("plan", -1)  # a baseline: plan renders too
        if states.get(last) == "success":
            cluster.api("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"})
            return run_id, tasks
        time.sleep(0.5)
    raise RuntimeError(f"{dag_id} run {run_id} not finalised within {timeout:.0f} s")


def run_dispatch_once(people: int, workers: int, partitions: int, workdir: Path, checkout: Path = REPO_ROOT) -> dict:
    import sqlalchemy as sa

    # the tasks import the checkout's vivier package and DAGs, whatever the environment's install points at
    code = {"PYTHONPATH": os.pathsep.join([str(checkout), str(checkout / "dags")])}
    if checkout != REPO_ROOT:
        code["AIRFLOW__CORE__DAGS_FOLDER"] = str(checkout / "dags")
    with AirflowCluster(
        workdir, postgres_admin_url=PG_ADMIN_URL, workers=workers, concurrency=1, extra_env=code
    ) as cluster:
        cluster.run_dag(ChainStep("crm_migrate"))
        fill_dispatch_crm(cluster.crm_url, people)
        sampler = MemorySampler(cluster)
        sampler.start()
        conf = {"render_partitions": partitions, "dry_run": True, "eml_folder": str(workdir / "eml")}
        _, tasks = run_until_finalised(cluster, "dispatch_weekly", conf)
        peak = sampler.stop()
        engine = sa.create_engine(cluster.crm_url)
        with engine.connect() as connection:
            messages = connection.execute(sa.text("SELECT messages FROM dispatch_batches")).scalar_one()
        engine.dispose()
    steps = [t for t in tasks if t["task_id"] in DISPATCH_STEPS]
    mapped = [t for t in steps if t["task_id"] == "render"]

    def span(group: list) -> float:
        return (
            max(parse_time(t["end_date"]) for t in group) - min(parse_time(t["start_date"]) for t in group)
        ).total_seconds()

    return {
        "workers": workers,
        "partitions": len(mapped),
        "messages": messages,
        "run_s": span(steps),
        "mapped_s": span(mapped) if mapped else span(steps),
        "step_s": {
            name: span([t for t in steps if t["task_id"] == name])
            for name in DISPATCH_STEPS
            if any(t["task_id"] == name for t in steps)
        },
        "task_s": sum(t["duration"] or 0 for t in mapped or steps),
        "label": "" if checkout == REPO_ROOT else f" (baseline {checkout})",
        "peak_mb": peak / 2**20,
    }


def main_dispatch(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="vivier-bench-scale-out-") as tmp:
        root = Path(tmp)
        print(f"dispatch: weekly digests for {args.people:,} synthetic people")
        runs = []
        for i in range(args.repeat):  # worker counts interleaved, round by round: both see the other load alike
            if args.baseline:
                runs.append(run_dispatch_once(args.people, 1, 1, root / f"baseline-{i}", Path(args.baseline)))
            runs.extend(run_dispatch_once(args.people, n, n, root / f"cluster-{n}-{i}") for n in args.workers)
    for r in runs:
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in r["step_s"].items())
        print(
            f"  {r['workers']} worker(s), {r['partitions']} partition(s){r['label']}: {r['messages']:,} messages, "
            f"plan -> finalise {r['run_s']:.1f} s ({steps}; render task time {r['task_s']:.1f} s), "
            f"peak {r['peak_mb']:.0f} MB"
        )
    ours = [r for r in runs if not r["label"]]
    best = {n: min((r for r in ours if r["workers"] == n), key=lambda r: r["run_s"]) for n in args.workers}
    base = best[args.workers[0]]
    for n, r in best.items():
        print(
            f"{n} worker(s), {r['partitions']} partition(s), fastest: plan -> finalise {r['run_s']:.1f} s "
            f"({r['messages'] / r['run_s']:,.0f} messages/s), render phase {r['mapped_s']:.1f} s, "
            f"speed-up x{base['run_s'] / r['run_s']:.2f} (render x{base['mapped_s'] / r['mapped_s']:.2f})"
        )
    return 0


def load_average(values: tuple[float, ...] | None = None) -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in (values or os.getloadavg()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=2000, help="applications per export format")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--warm", action="store_true", help="preload heavy imports in the workers")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count; the fastest is kept")
    parser.add_argument("--phase", choices=["ingest", "matching", "dispatch"], default="ingest")
    parser.add_argument("--people", type=int, default=100_000, help="dispatch: people in the audience")
    parser.add_argument(
        "--baseline",
        help="dispatch: also time, with 1 worker, the DAGs and code of another checkout (e.g. an earlier commit "
        "exported with git archive, planning in one task)",
    )
    parser.add_argument("--persons", type=int, default=1_000_000, help="matching: people in the pool")
    parser.add_argument("--offers", type=int, default=1_000, help="matching: open offers")
    args = parser.parse_args()
    problem = redis_problem() or postgres_problem()
    if problem:
        print(f"skipped: {problem}")
        return 0
    if args.phase == "matching":
        return main_matching(args)
    if args.phase == "dispatch":
        return main_dispatch(args)
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
