"""Benchmark: candidate ingestion end to end (parse -> validate -> normalise -> tag -> upsert).

Generates one CSV export of N applications (default 1,000,000), then for each engine (SQLite
file, PostgreSQL at 127.0.0.1:5432) runs, each in a fresh process so peak memory is its own:
  - the pipeline (`vivier.ingest.pipeline.ingest_inbox`), and
  - the floor: pandas reads the same file and bulk-loads it untouched into the same database.
Prints rows/s, seconds, peak RSS and the pipeline/floor ratio.

    python bench/bench_ingest.py [--applications 1000000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_ADMIN = os.environ.get("VIVIER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_database(engine_name: str, workdir: Path) -> tuple[str, callable]:
    import sqlalchemy as sa

    if engine_name == "sqlite":
        path = workdir / f"crm-{uuid.uuid4().hex[:6]}.sqlite"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    name = f"vivier_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def run_pipeline(url: str, inbox: Path, workdir: Path) -> dict:
    import pandas as pd

    from vivier.db import make_engine, upgrade
    from vivier.ingest.pipeline import ingest_inbox

    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    files, counts = ingest_inbox(
        engine,
        inbox,
        work_dir=workdir / "work",
        as_of=pd.Timestamp("2026-11-02T02:00:00Z"),
        run_id="bench",
        suppression_key=b"bench",
    )
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "rows": int(files["rows_read"].sum()),
        "loaded": int(files["rows_loaded"].sum()),
        "quarantined": int(files["rows_quarantined"].sum()),
        "persons": counts.persons_new,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_floor(url: str, csv_path: Path) -> dict:
    import pandas as pd

    from vivier.db import make_engine
    from vivier.db.bulk import load_frame

    engine = make_engine(url)
    started = time.perf_counter()
    frame = pd.read_csv(csv_path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [f"c{i}" for i in range(len(frame.columns))]
    columns = {c: "text" for c in frame.columns}
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE TABLE raw_export ({', '.join(f'{c} TEXT' for c in columns)})")
        load_frame(connection, "raw_export", frame, columns)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": len(frame), "peak_rss_mb": peak_rss_mb()}


def child(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    url, drop = fresh_database(args.engine, workdir)
    try:
        if args.mode == "pipeline":
            result = run_pipeline(url, Path(args.inbox), workdir)
        else:
            result = run_floor(url, Path(args.inbox) / "export.csv")
    finally:
        drop()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--defects", type=float, default=0.02)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="pipeline", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--inbox", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from vivier.synth import generate_export

    with tempfile.TemporaryDirectory(prefix="vivier-bench-") as tmp:
        workdir = Path(tmp)
        inbox = workdir / "inbox"
        inbox.mkdir()
        started = time.perf_counter()
        summary = generate_export(
            "csv", inbox / "export.csv", applications=args.applications, seed=1, defects=args.defects
        )
        size_mb = (inbox / "export.csv").stat().st_size / 1e6
        print(
            f"generated {summary.applications:,} applications ({summary.persons:,} persons, {size_mb:.0f} MB CSV) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        print(f"{'engine':<11} {'step':<9} {'seconds':>8} {'rows/s':>10} {'peak RSS':>10}  notes")
        for engine_name in args.engines.split(","):
            results = {}
            for mode in ("floor", "pipeline"):
                command = [sys.executable, __file__, "--child", "--mode", mode, "--engine", engine_name]
                command += ["--inbox", str(inbox), "--workdir", str(workdir)]
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                results[mode] = json.loads(output.strip().splitlines()[-1])
                r = results[mode]
                notes = ""
                if mode == "pipeline":
                    notes = (
                        f"loaded {r['loaded']:,} + quarantined {r['quarantined']:,} = read {r['rows']:,}; "
                        f"{r['persons']:,} persons; {r['seconds'] / results['floor']['seconds']:.1f}x the floor"
                    )
                print(
                    f"{engine_name:<11} {mode:<9} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>10,.0f} "
                    f"{r['peak_rss_mb']:>8,.0f}MB  {notes}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
