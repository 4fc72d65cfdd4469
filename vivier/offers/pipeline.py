"""The steps of job-offer ingestion, each reading and writing files so that tasks pass only paths.

find_new_job_files -> parse_and_validate (per file) -> build_offers (all files) -> load_offers (one
transaction). The same accounting as candidates: ``ingested_files`` by SHA-256, every failing record in
``quarantine`` with its reasons, and per file ``rows_loaded + rows_quarantined = rows_read``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from vivier.ingest.canonical import UnreadableFileError
from vivier.ingest.formats.jobs import JOB_COLUMNS
from vivier.ingest.pipeline import (
    RAW_RECORD_MAX_CHARS,
    FileResult,
    InboxFile,
    _quarantine_frame,
    file_accounting,
)
from vivier.ingest.report import write_report
from vivier.offers.files import find_new_job_files, parse_job_file

OFFER_COLUMNS = (
    "source_system",
    "source_job_id",
    "title",
    "department",
    "location",
    "country",
    "language",
    "description",
    "job_family",
    "status",
    "opened_at",
    "content_sha256",
)


def _raw_records(rows: pd.DataFrame) -> list[str]:
    if rows.empty:
        return []
    lines = rows[JOB_COLUMNS].astype("string").to_json(orient="records", lines=True, force_ascii=False)
    return [line[:RAW_RECORD_MAX_CHARS] for line in lines.splitlines()]


def _unreadable(inbox_file: InboxFile, error: str, staging_dir: Path, reports_dir: Path) -> FileResult:
    sha, name = inbox_file.content_sha256, inbox_file.file_name
    quarantine_path = staging_dir / f"{sha}.quarantine.parquet"
    reason = [{"check": "file_readable", "column": None, "detail": error}]
    _quarantine_frame(sha, name, [None], [None], [reason], [None]).to_parquet(quarantine_path)
    report = {"file": name, "format": inbox_file.detected_format, "error": error, "rows_read": 0}
    report_path = write_report(reports_dir, sha, name, report)
    return FileResult(
        sha, name, inbox_file.detected_format, inbox_file.size_bytes, 0, 0, 0, error, None, str(quarantine_path),
        str(report_path),
    )  # fmt: skip


def parse_and_validate(
    inbox_file: InboxFile, *, staging_dir: Path, reports_dir: Path, as_of: pd.Timestamp
) -> FileResult:
    """Parse one job file and validate its offers (GX); a file that cannot be read is quarantined whole."""
    from vivier.offers.validate import validate

    staging_dir.mkdir(parents=True, exist_ok=True)
    sha, name = inbox_file.content_sha256, inbox_file.file_name
    try:
        parsed = parse_job_file(inbox_file.path)
    except UnreadableFileError as exc:
        return _unreadable(inbox_file, str(exc), staging_dir, reports_dir)
    result = validate(parsed.jobs, as_of=as_of)
    failed = result.prepared.loc[~result.valid]
    quarantine = pd.concat(
        [
            _quarantine_frame(
                sha,
                name,
                failed["source_row"],
                failed["source_job_id"],
                [result.reasons[i] for i in failed.index],
                _raw_records(failed),
            ),
            _quarantine_frame(
                sha,
                name,
                [r.source_row for r in parsed.rejected],
                [None] * len(parsed.rejected),
                [[{"check": "record_readable", "column": None, "detail": r.reason}] for r in parsed.rejected],
                [r.raw[:RAW_RECORD_MAX_CHARS] if r.raw else None for r in parsed.rejected],
            ),
        ],
        ignore_index=True,
    )
    quarantine_path = staging_dir / f"{sha}.quarantine.parquet"
    quarantine.to_parquet(quarantine_path)
    valid_path = staging_dir / f"{sha}.offers.parquet"
    valid = result.prepared.loc[result.valid, JOB_COLUMNS].assign(content_sha256=sha)
    valid.astype({"opened_at": "string", "source_row": "Int64"}).to_parquet(valid_path)
    report = {
        "file": name,
        "format": parsed.source_system,
        "detected_format": inbox_file.detected_format,
        "rows_read": parsed.rows_read,
        "rows_unreadable": len(parsed.rejected),
        **result.report,
    }
    report_path = write_report(reports_dir, sha, name, report)
    return FileResult(
        sha,
        name,
        inbox_file.detected_format,
        inbox_file.size_bytes,
        rows_read=parsed.rows_read,
        rows_valid=int(result.valid.sum()),
        rows_quarantined=len(quarantine),
        error=None,
        valid_path=str(valid_path),
        quarantine_path=str(quarantine_path),
        report_path=str(report_path),
    )


@dataclass
class OffersBatch:
    """The run's offers and their skills, staged as Parquet (counts only: safe for XCom and logs)."""

    offers_path: str
    skills_path: str
    offers: int
    skills: int

    def to_dict(self) -> dict:
        return asdict(self)


def build_offers(valid_paths: list[str], *, staging_dir: Path) -> OffersBatch:
    """Normalised offers of every file of the run (the later file wins for the same offer) with their skills."""
    from vivier.offers.normalise import normalise_offers
    from vivier.offers.skills import offer_skills
    from vivier.tagging.profile import job_family

    frames = [pd.read_parquet(path).assign(file_order=order) for order, path in enumerate(valid_paths)]
    staging_dir.mkdir(parents=True, exist_ok=True)
    offers_path, skills_path = staging_dir / "offers.parquet", staging_dir / "offer_skills.parquet"
    if not frames or all(f.empty for f in frames):
        pd.DataFrame({c: pd.Series(dtype="string") for c in OFFER_COLUMNS}).to_parquet(offers_path)
        pd.DataFrame(
            {c: pd.Series(dtype="string") for c in ("source_system", "source_job_id", "skill_id", "importance")}
            | {"evidence": pd.Series(dtype="string")}
        ).to_parquet(skills_path)
        return OffersBatch(str(offers_path), str(skills_path), 0, 0)
    raw = pd.concat(frames, ignore_index=True)
    raw = raw.sort_values(["file_order", "source_row"], kind="stable")
    raw = raw.drop_duplicates(["source_system", "source_job_id"], keep="last").reset_index(drop=True)
    offers = normalise_offers(raw)
    skills = offer_skills(offers)
    offers["job_family"] = job_family(offers["title"], skills[["row", "skill_id"]]).astype("string")
    offers.loc[offers["job_family"] == "other", "job_family"] = pd.NA
    skills = skills.assign(
        source_system=offers["source_system"].reindex(skills["row"]).to_numpy(),
        source_job_id=offers["source_job_id"].reindex(skills["row"]).to_numpy(),
    ).drop(columns=["row"])
    offers = offers.loc[:, list(OFFER_COLUMNS)].sort_values(["source_system", "source_job_id"])
    offers.to_parquet(offers_path)
    skills.to_parquet(skills_path)
    return OffersBatch(str(offers_path), str(skills_path), len(offers), len(skills))


def ingest_job_inbox(
    engine: sa.Engine, inbox: Path, *, work_dir: Path, as_of: pd.Timestamp, run_id: str
) -> tuple[pd.DataFrame, object | None]:
    """All steps in one process, in the order the ``job_offers_ingest`` DAG runs them (tests, CLI).

    Returns ``(files, counts)``: the per-file accounting and the load counts (``None`` when nothing was new).
    """
    from vivier.offers.load import load_offers

    staging = work_dir / "staging"
    results = [
        parse_and_validate(f, staging_dir=staging, reports_dir=work_dir / "reports", as_of=as_of)
        for f in find_new_job_files(engine, inbox)
    ]
    if not results:
        return pd.DataFrame(), None
    batch = build_offers([r.valid_path for r in results if r.valid_path], staging_dir=staging)
    files, quarantine = accounting(results)
    counts = load_offers(
        engine,
        files=files,
        offers=pd.read_parquet(batch.offers_path),
        skills=pd.read_parquet(batch.skills_path),
        quarantine=quarantine,
        as_of=as_of,
        run_id=run_id,
    )
    return files, counts


def accounting(results: list[FileResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``ingested_files`` rows and quarantine rows of the run (no suppression for offers)."""
    nobody = pd.DataFrame({"content_sha256": pd.Series(dtype="string"), "source_row": pd.Series(dtype="Int64")})
    return file_accounting(results, nobody)
