"""The ``vivier`` command: the package's tools without Airflow.

vivier synth ...            synthetic ATS exports (see ``vivier synth --help``)
vivier esco ...             import the official ESCO skills CSV into a taxonomy YAML
vivier ingest INBOX --db URL   ingest an inbox folder in one process (what ats_ingest does)
vivier migrate --db URL        upgrade a CRM database to the head revision
vivier preview TEMPLATE [--lang fr|all] [--out DIR]   render an email template for a synthetic persona
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _ingest(argv: list[str]) -> int:
    import pandas as pd

    from vivier.db import ensure_current, make_engine
    from vivier.ingest.pipeline import ingest_inbox

    parser = argparse.ArgumentParser(prog="vivier ingest", description="Ingest every new export of a folder.")
    parser.add_argument("inbox", type=Path)
    parser.add_argument("--db", help="SQLAlchemy URL of the CRM database (default: data/crm.sqlite)")
    parser.add_argument("--work-dir", type=Path, default=Path("data"), help="staging and reports folder")
    parser.add_argument("--as-of", default=None, help="the time the run stands for (default: now, UTC)")
    parser.add_argument("--suppression-key", default="vivier-demo-suppression-key-change-me")
    args = parser.parse_args(argv)
    engine = make_engine(args.db)
    ensure_current(engine)
    as_of = pd.Timestamp(args.as_of or pd.Timestamp.now(tz="UTC"))
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of
    files, counts = ingest_inbox(
        engine,
        args.inbox,
        work_dir=args.work_dir,
        as_of=as_of,
        run_id=f"cli__{as_of.isoformat()}",
        suppression_key=args.suppression_key.encode("utf-8"),
    )
    if counts is None:
        print("nothing new in", args.inbox)
        return 0
    for row in files.itertuples():
        print(f"{row.file_name}: read {row.rows_read}, loaded {row.rows_loaded}, quarantined {row.rows_quarantined}")
    print(f"{counts.persons_new} new persons, {counts.applications} applications, {counts.quarantined} quarantined")
    return 0


def _migrate(argv: list[str]) -> int:
    from vivier.db import make_engine, upgrade

    parser = argparse.ArgumentParser(prog="vivier migrate")
    parser.add_argument("--db", help="SQLAlchemy URL of the CRM database (default: data/crm.sqlite)")
    args = parser.parse_args(argv)
    print("CRM database at revision", upgrade(make_engine(args.db)))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "synth":
        from vivier.synth.__main__ import main as synth_main

        return synth_main(rest)
    if command == "esco":
        from vivier.tagging.esco import main as esco_main

        return esco_main(rest)
    if command == "ingest":
        return _ingest(rest)
    if command == "migrate":
        return _migrate(rest)
    if command == "preview":
        from vivier.dispatch.preview import main as preview_main

        return preview_main(rest)
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
