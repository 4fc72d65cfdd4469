"""Public entry points: one export, one job file, a whole inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from vivier.synth.catalogue import build_catalogue, default_job_count
from vivier.synth.jobs import write_jobs_json
from vivier.synth.population import DEFECT_KINDS, HUGE_FIELD, Population
from vivier.synth.spreadsheets import (
    mapping_path,
    write_csv,
    write_jobs_csv,
    write_jobs_xlsx,
    write_xlsx,
)
from vivier.synth.timefmt import epoch_seconds
from vivier.synth.vendors import JSON_WRITERS, NESTED_DEFECTS

DEFAULT_AS_OF = date(2026, 11, 1)
JSON_FORMATS: tuple[str, ...] = ("greenhouse", "lever", "teamtailor", "recruitee", "workable")
FORMATS: tuple[str, ...] = (*JSON_FORMATS, "csv", "xlsx")
CSV_ENCODINGS = {
    "utf-8-sig": "utf-8-sig",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
}

# file names written by generate_inbox
INBOX_CANDIDATE_FILES: dict[str, str] = {
    "greenhouse": "greenhouse_candidates.json",
    "lever": "lever_opportunities.json",
    "teamtailor": "teamtailor_candidates.json",
    "recruitee": "recruitee_candidates.json",
    "workable": "workable_candidates.json",
    "csv": "recruiter_export.csv",
    "xlsx": "recruiter_workbook.xlsx",
}
INBOX_JOB_FILES: dict[str, str] = {fmt: f"{fmt}_jobs.json" for fmt in JSON_FORMATS}


@dataclass(frozen=True)
class ExportSummary:
    """What was written (counts only, no personal data)."""

    format: str
    kind: str  # "candidates" | "jobs"
    paths: tuple[Path, ...]  # the data file, then its column mapping for spreadsheets
    records: int  # top-level records written (rows for spreadsheets, duplicates included)
    persons: int = 0
    applications: int = 0
    jobs: int = 0
    defects: dict[str, int] = field(default_factory=dict)  # defect kind -> defective records
    seed: int = 0
    as_of: date = DEFAULT_AS_OF
    encoding: str | None = None

    @property
    def path(self) -> Path:
        return self.paths[0]

    @property
    def mapping_path(self) -> Path | None:
        return self.paths[1] if len(self.paths) > 1 else None

    @property
    def defective_records(self) -> int:
        return sum(self.defects.values())

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "kind": self.kind,
            "paths": [str(p) for p in self.paths],
            "records": self.records,
            "persons": self.persons,
            "applications": self.applications,
            "jobs": self.jobs,
            "defects": dict(self.defects),
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "encoding": self.encoding,
        }


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _csv_encoding(fmt: str, encoding: str | None) -> str | None:
    if encoding is None:
        return "utf-8-sig" if fmt == "csv" else ("utf-8" if fmt in JSON_FORMATS else None)
    if fmt != "csv":
        if fmt in JSON_FORMATS and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            return "utf-8"
        raise ValueError(f"--encoding applies to CSV only ({fmt} files are {'UTF-8' if fmt != 'xlsx' else 'XLSX'})")
    key = encoding.lower().replace("_", "-")
    if key not in CSV_ENCODINGS:
        raise ValueError(f"unsupported CSV encoding {encoding!r}; expected one of {', '.join(CSV_ENCODINGS)}")
    return CSV_ENCODINGS[key]


def generate_export(
    fmt: str,
    path: Path,
    *,
    applications: int,
    seed: int,
    defects: float = 0.0,
    as_of: date = DEFAULT_AS_OF,
    encoding: str | None = None,
    huge_field: bool = False,
    jobs: int | None = None,
    name_columns: str | None = None,
) -> ExportSummary:
    """Write a candidate export of ``applications`` applications in format ``fmt`` to ``path``.

    ``defects`` is the share of application records given a realistic defect (every kind appears at
    least once when it is > 0); ``huge_field`` puts a 10 MB value in one record. ``jobs`` is the size of
    the job catalogue the applications refer to (default from the number of applications; pass the
    same number to :func:`generate_jobs` to get the matching job file). ``name_columns`` ("split" or
    "full") chooses the spreadsheet name columns (default: split for CSV, full for XLSX).
    """
    _check_format(fmt)
    if applications < 0:
        raise ValueError("applications must be >= 0")
    path = Path(path)
    enc = _csv_encoding(fmt, encoding)
    as_of_secs = epoch_seconds(as_of)
    n_jobs = jobs if jobs is not None else default_job_count(applications)
    if n_jobs < 1:
        raise ValueError("jobs must be >= 1")
    catalogue = build_catalogue(seed, n_jobs, as_of_secs)
    pop = Population(
        fmt,
        seed,
        as_of_secs,
        catalogue,
        defects=defects,
        nested_defects=NESTED_DEFECTS.get(fmt, frozenset()),
        huge_field=huge_field,
    )
    if fmt in JSON_WRITERS:
        written = JSON_WRITERS[fmt](path, pop, applications, seed)
        paths: tuple[Path, ...] = (path,)
    elif fmt == "csv":
        written = write_csv(path, pop, applications, encoding=enc, name_columns=name_columns or "split")
        paths = (path, mapping_path(path))
    else:
        written = write_xlsx(path, pop, applications, name_columns=name_columns or "full")
        paths = (path, mapping_path(path))
    counts = {kind: pop.defect_counts.get(kind, 0) for kind in DEFECT_KINDS} if defects > 0 else {}
    if huge_field:
        counts[HUGE_FIELD] = pop.defect_counts.get(HUGE_FIELD, 0)
    return ExportSummary(
        format=fmt,
        kind="candidates",
        paths=paths,
        records=written.records,
        persons=written.persons,
        applications=written.applications,
        jobs=n_jobs,
        defects=counts,
        seed=seed,
        as_of=as_of,
        encoding=enc,
    )


def generate_jobs(
    fmt: str,
    path: Path,
    *,
    jobs: int,
    seed: int,
    as_of: date = DEFAULT_AS_OF,
    encoding: str | None = None,
) -> ExportSummary:
    """Write the job offers of the seed's catalogue (``jobs`` offers) in format ``fmt``."""
    _check_format(fmt)
    if jobs < 1:
        raise ValueError("jobs must be >= 1")
    path = Path(path)
    enc = _csv_encoding(fmt, encoding)
    as_of_secs = epoch_seconds(as_of)
    catalogue = build_catalogue(seed, jobs, as_of_secs)
    if fmt in JSON_FORMATS:
        records = write_jobs_json(fmt, path, catalogue)
        paths: tuple[Path, ...] = (path,)
    elif fmt == "csv":
        records = write_jobs_csv(path, catalogue, encoding=enc)
        paths = (path, mapping_path(path))
    else:
        records = write_jobs_xlsx(path, catalogue, as_of_secs)
        paths = (path, mapping_path(path))
    return ExportSummary(
        format=fmt, kind="jobs", paths=paths, records=records, jobs=records, seed=seed, as_of=as_of, encoding=enc
    )


def generate_inbox(
    directory: Path,
    *,
    applications_per_format: int,
    seed: int,
    defects: float = 0.0,
    as_of: date = DEFAULT_AS_OF,
) -> list[ExportSummary]:
    """One candidate export of every format and the job file of every JSON vendor, in ``directory``.

    The job files hold the catalogue the candidate exports refer to (same ids). A few people appear
    in several files with the same e-mail address.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n_jobs = default_job_count(applications_per_format)
    summaries = [
        generate_export(
            fmt,
            directory / name,
            applications=applications_per_format,
            seed=seed,
            defects=defects,
            as_of=as_of,
            jobs=n_jobs,
        )
        for fmt, name in INBOX_CANDIDATE_FILES.items()
    ]
    summaries += [
        generate_jobs(fmt, directory / name, jobs=n_jobs, seed=seed, as_of=as_of)
        for fmt, name in INBOX_JOB_FILES.items()
    ]
    return summaries
