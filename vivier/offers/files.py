"""Job files in the inbox: which files are job exports, which are new, and reading one."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from vivier.db.schema import ingested_files
from vivier.ingest.canonical import UnreadableFileError
from vivier.ingest.detect import JOB_FORMATS, detect_format
from vivier.ingest.formats.jobs import JobsParsed, parse_jobs_file
from vivier.ingest.pipeline import SKIPPED_SUFFIXES, InboxFile, sha256_of
from vivier.offers.spreadsheet import find_job_mapping, parse_jobs_spreadsheet

SPREADSHEET_FORMATS = {"csv": "spreadsheet_jobs", "xlsx": "spreadsheet_jobs"}


def job_file_format(path: str | Path) -> str | None:
    """The jobs format of ``path`` (``greenhouse_jobs``... or ``spreadsheet_jobs``), None for other files.

    A file that cannot be read at all is not claimed: candidate ingestion quarantines it with the reason.
    """
    path = Path(path)
    try:
        detected = detect_format(path)
    except UnreadableFileError:
        return None
    if detected in JOB_FORMATS:
        return detected
    if detected in SPREADSHEET_FORMATS:
        try:
            return SPREADSHEET_FORMATS[detected] if find_job_mapping(path) is not None else None
        except UnreadableFileError:
            return SPREADSHEET_FORMATS[detected]  # a broken jobs mapping: claimed, quarantined with the reason
    return None


def is_job_spreadsheet(path: str | Path) -> bool:
    """True for a CSV/XLSX of job offers (candidate ingestion leaves those to job ingestion)."""
    return job_file_format(path) == "spreadsheet_jobs"


def find_new_job_files(engine: sa.Engine, inbox: Path) -> list[InboxFile]:
    """Job exports in ``inbox`` whose content was never ingested (by SHA-256), in name order."""
    paths = sorted(
        p
        for p in Path(inbox).iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIPPED_SUFFIXES)
    )
    with engine.connect() as connection:
        known = set(connection.execute(sa.select(ingested_files.c.content_sha256)).scalars())
    found: dict[str, InboxFile] = {}
    for path in paths:
        digest = sha256_of(path)
        if digest in known or digest in found:
            continue
        kind = job_file_format(path)
        if kind is not None:
            found[digest] = InboxFile(str(path), path.name, digest, path.stat().st_size, kind)
    return list(found.values())


def parse_job_file(path: str | Path) -> JobsParsed:
    """The offers of one job export, whatever its vendor or spreadsheet layout."""
    if job_file_format(path) == "spreadsheet_jobs":
        return parse_jobs_spreadsheet(path)
    return parse_jobs_file(path)
