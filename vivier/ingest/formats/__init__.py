"""ATS export adapters: one inbox file -> one canonical application frame (or a jobs frame).

``parse_file(path)`` detects the format from the content (:mod:`vivier.ingest.detect`) and dispatches to
the vendor adapter; ``parse_jobs_file(path)`` does the same for job exports. Both raise
:class:`~vivier.ingest.canonical.UnreadableFileError` when the whole file cannot be read; record-level
problems come back as ``RejectedRecord`` entries instead.
"""

from __future__ import annotations

from pathlib import Path

from vivier.ingest.canonical import ParsedFile, UnreadableFileError
from vivier.ingest.detect import APPLICATION_FORMATS, JOB_FORMATS, detect_format, sniff
from vivier.ingest.formats import greenhouse, lever, recruitee, teamtailor, workable
from vivier.ingest.formats.jobs import JOB_COLUMNS, JobsParsed, parse_jobs_document, parse_jobs_file
from vivier.ingest.formats.spreadsheet import parse_csv, parse_xlsx

__all__ = [
    "APPLICATION_FORMATS",
    "JOB_COLUMNS",
    "JOB_FORMATS",
    "JobsParsed",
    "detect_format",
    "parse_file",
    "parse_jobs_document",
    "parse_jobs_file",
]

_JSON_ADAPTERS = {
    "greenhouse": greenhouse.parse,
    "lever": lever.parse,
    "teamtailor": teamtailor.parse,
    "recruitee": recruitee.parse,
    "workable": workable.parse,
}


def parse_file(path: str | Path, *, mapping_dir: str | Path | None = None) -> ParsedFile:
    """Parse one applications export into a canonical ``ParsedFile`` (the file is read once).

    ``mapping_dir`` is where spreadsheet column mappings are looked for after ``<stem>.mapping.yaml`` next to
    the file (default ``$VIVIER_MAPPINGS_DIR`` or the project's ``include/mappings``).
    """
    path = Path(path)
    sniffed = sniff(path)
    kind = sniffed.kind
    if kind in _JSON_ADAPTERS:
        return _JSON_ADAPTERS[kind](path, document=sniffed.document)
    if kind == "csv":
        return parse_csv(path, mapping_dir=mapping_dir, sniffed=sniffed)
    if kind == "xlsx":
        return parse_xlsx(path, mapping_dir=mapping_dir)
    if kind in JOB_FORMATS:
        raise UnreadableFileError(f"{path.name}: a jobs export ({kind}), not applications; use parse_jobs_file")
    raise UnreadableFileError(f"{path.name}: no adapter for format {kind!r}")
