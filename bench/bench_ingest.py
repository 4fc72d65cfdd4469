"""Benchmark: candidate ingestion end to end (parse -> validate -> normalise -> tag -> upsert).

Generates one CSV export of N applications (default 1,000,000), then for each engine (SQLite
file, PostgreSQL at 127.0.0.1:5432) runs, each in a fresh process so peak memory is its own:
  - the pipeline (`vivier.ingest.pipeline.ingest_inbox`) into an empty CRM, and
  - the floor: pandas reads the same file and bulk-loads it untouched into the same database.
Prints rows/s, seconds, peak RSS and the pipeline/floor ratio; ``--steps`` adds the time, CPU time
and memory of every step (parse, validate, normalise, people, tags, each statement of the load).
``--incremental M`` then measures a second run into the loaded CRM: an export of M rows of the
first one, a tenth of them changed (status, stage, consent) and a tenth new applications of the
same people (the shape of a nightly export).

    python bench/bench_ingest.py [--applications 1000000] [--engines sqlite,postgresql]
        [--no-floor] [--steps] [--repeat 1] [--incremental 100000]
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
    from vivier.ingest.timing import recording

    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with recording() as steps:
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
        "steps": [
            [s.name, round(s.seconds, 2), round(s.peak_rss_mb), round(s.rss_mb), round(s.cpu_seconds, 2)] for s in steps
        ],
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


def run_incremental(url: str, inbox: Path, second_inbox: Path, workdir: Path) -> dict:
    """The first export into an empty CRM (not timed), then the second one, timed."""
    import pandas as pd

    from vivier.db import make_engine
    from vivier.ingest.pipeline import ingest_inbox

    run_pipeline(url, inbox, workdir)
    result = run_pipeline(url, second_inbox, workdir / "second")
    engine = make_engine(url)
    with engine.connect() as connection:
        result["persons_total"] = connection.exec_driver_sql("SELECT COUNT(*) FROM persons").scalar_one()
    # the same export again is a no-op
    _, counts = ingest_inbox(
        engine,
        second_inbox,
        work_dir=workdir / "again",
        as_of=pd.Timestamp("2026-11-02T02:00:00Z"),
        run_id="bench",
        suppression_key=b"bench",
    )
    assert counts is None
    return result


def write_second_export(inbox: Path, second_inbox: Path, rows: int) -> None:
    """The first ``rows`` records of the export again: every 10th one changed, every 10th one also
    applying to a new job."""
    import csv

    second_inbox.mkdir(exist_ok=True)
    source = inbox / "export.csv"
    with (
        source.open(encoding="utf-8-sig", newline="") as handle,
        (second_inbox / "export2.csv").open("w", encoding="utf-8-sig", newline="") as out,
    ):
        reader = csv.reader(handle, delimiter=";")
        writer = csv.writer(out, delimiter=";")
        header = next(reader)
        writer.writerow(header)
        column = {name: i for i, name in enumerate(header)}
        for number, record in enumerate(reader):
            if number >= rows:
                break
            if len(record) != len(header):
                writer.writerow(record)
                continue
            if number % 10 == 3:
                record[column["Statut"]] = "Refusé"
                record[column["Étape"]] = "Entretien final"
                record[column["Date de refus"]] = "20/10/2026"
                record[column["Consentement"]] = "non"
            writer.writerow(record)
            if number % 10 == 7:
                record[column["Poste"]] = "Data Engineer"
                record[column["Date de candidature"]] = "01/10/2026"
                record[column["Statut"]] = "En cours"
                record[column["Étape"]] = "Review"
                for name in ("Date de refus", "Motif de refus", "Refusé par"):
                    record[column[name]] = ""
                writer.writerow(record)
    (second_inbox / "export2.mapping.yaml").write_text(
        (inbox / "export.mapping.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )


def child(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    url, drop = fresh_database(args.engine, workdir)
    try:
        if args.mode == "pipeline":
            result = run_pipeline(url, Path(args.inbox), workdir)
        elif args.mode == "incremental":
            result = run_incremental(url, Path(args.inbox), Path(args.workdir) / "inbox2", workdir)
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
    parser.add_argument("--no-floor", action="store_true", help="run only the pipeline")
    parser.add_argument("--steps", action="store_true", help="print the pipeline's time per step")
    parser.add_argument("--repeat", type=int, default=1, help="run the pipeline this many times")
    parser.add_argument(
        "--incremental", type=int, default=0, metavar="M", help="then a second export of M rows into the loaded CRM"
    )
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
        if args.incremental:
            write_second_export(inbox, workdir / "inbox2", args.incremental)
        print(f"{'engine':<11} {'step':<9} {'seconds':>8} {'rows/s':>10} {'peak RSS':>10}  notes")
        for engine_name in args.engines.split(","):
            results = {}
            modes = ["pipeline"] * args.repeat if args.no_floor else ["floor", *["pipeline"] * args.repeat]
            modes += ["incremental"] if args.incremental else []
            for mode in modes:
                command = [sys.executable, __file__, "--child", "--mode", mode, "--engine", engine_name]
                command += ["--inbox", str(inbox), "--workdir", str(workdir)]
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                results[mode] = json.loads(output.strip().splitlines()[-1])
                r = results[mode]
                notes = ""
                label = "second" if mode == "incremental" else mode
                if mode == "incremental":
                    notes = (
                        f"second export: loaded {r['loaded']:,} + quarantined {r['quarantined']:,} = read "
                        f"{r['rows']:,}; {r['persons']:,} new persons, {r['persons_total']:,} in the CRM"
                    )
                elif mode == "pipeline":
                    notes = (
                        f"loaded {r['loaded']:,} + quarantined {r['quarantined']:,} = read {r['rows']:,}; "
                        f"{r['persons']:,} persons"
                    )
                    if "floor" in results:
                        notes += f"; {r['seconds'] / results['floor']['seconds']:.1f}x the floor"
                print(
                    f"{engine_name:<11} {label:<9} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>10,.0f} "
                    f"{r['peak_rss_mb']:>8,.0f}MB  {notes}",
                    flush=True,
                )
                if mode != "floor" and args.steps:
                    for name, seconds, peak, rss, cpu in r["steps"]:
                        print(
                            f"{'':<11} {'':<9} {seconds:>8.2f} {'':>10} {peak:>8,.0f}MB  {name} "
                            f"(CPU {cpu:.1f}s, RSS after {rss:,.0f}MB)"
                        )


if __name__ == "__main__":
    main()
