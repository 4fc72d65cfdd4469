"""Command line: ``python -m vivier.synth``.

    python -m vivier.synth --format csv --applications 1000 --seed 7 --out data/inbox/export.csv \\
        [--defects 0.05] [--encoding cp1252] [--huge-field] [--as-of 2026-11-01] [--jobs 40]
    python -m vivier.synth --format lever --kind jobs --jobs 40 --seed 7 --out data/inbox/lever_jobs.json
    python -m vivier.synth inbox DIR --applications 200 --seed 7 [--defects 0.03]
    python -m vivier.synth broken DIR

Prints the summary of what was written as JSON (counts only, no personal data).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from vivier.synth.api import DEFAULT_AS_OF, FORMATS, generate_export, generate_inbox, generate_jobs
from vivier.synth.broken import write_broken_files


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate between 0 and 1, e.g. 0.05")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a non-negative integer")
    return value


def _export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vivier.synth",
        description="Write a synthetic ATS export (or job offers). Subcommands: 'inbox DIR', 'broken DIR'.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--kind", choices=("candidates", "jobs"), default="candidates")
    parser.add_argument("--applications", type=_count, default=1000)
    parser.add_argument("--jobs", type=_count, default=None, help="job catalogue size (default from --applications)")
    parser.add_argument("--seed", type=_count, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--defects", type=_rate, default=0.0)
    parser.add_argument("--huge-field", action="store_true", help="put a 10 MB value in one record")
    parser.add_argument("--encoding", default=None, help="CSV only: utf-8-sig (default), utf-8 or cp1252")
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    return parser


def _inbox_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vivier.synth inbox", description="Write one export of every format and the job files."
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--applications", type=_count, default=200, help="applications per format")
    parser.add_argument("--seed", type=_count, default=0)
    parser.add_argument("--defects", type=_rate, default=0.0)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    return parser


def _broken_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vivier.synth broken", description="Write unreadable files (empty, truncated, unknown shape)."
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=_count, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "inbox":
        args = _inbox_parser().parse_args(argv[1:])
        summaries = generate_inbox(
            args.directory,
            applications_per_format=args.applications,
            seed=args.seed,
            defects=args.defects,
            as_of=args.as_of,
        )
        print(json.dumps([s.to_dict() for s in summaries], ensure_ascii=False, indent=2))
        return 0
    if argv and argv[0] == "broken":
        args = _broken_parser().parse_args(argv[1:])
        paths = write_broken_files(args.directory, seed=args.seed)
        print(json.dumps([str(p) for p in paths], indent=2))
        return 0
    parser = _export_parser()
    args = parser.parse_args(argv)
    try:
        if args.kind == "jobs":
            summary = generate_jobs(
                args.format, args.out, jobs=args.jobs or 40, seed=args.seed, as_of=args.as_of, encoding=args.encoding
            )
        else:
            summary = generate_export(
                args.format,
                args.out,
                applications=args.applications,
                seed=args.seed,
                defects=args.defects,
                as_of=args.as_of,
                encoding=args.encoding,
                huge_field=args.huge_field,
                jobs=args.jobs,
            )
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
