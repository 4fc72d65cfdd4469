"""The steps of candidate ingestion, each reading and writing files so that tasks pass only paths.

find_new_files -> parse_and_validate (per file) -> normalise (per file) -> build_people (all files)
-> load (all files, one transaction). Staged data is Parquet under a run's staging folder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.schema import ingested_files, suppression_list
from vivier.ingest.canonical import CANONICAL_COLUMNS, UnreadableFileError
from vivier.ingest.load import PERSON_COLUMNS, STAGED_APPLICATION_COLUMNS
from vivier.ingest.people import build_persons, normalise_applications, person_codes, suppressed_mask
from vivier.ingest.report import write_report
from vivier.ingest.stages import StageMap
from vivier.ingest.timing import step
from vivier.ingest.validate import start_gx_import, validate

RAW_RECORD_MAX_CHARS = 10_000
# What later steps read of a file's valid rows: the canonical columns, parsed dates instead of the
# exported ones, the normalised email and the stage rank (the validation flags stay behind).
VALID_COLUMNS = [
    *(c for c in CANONICAL_COLUMNS if c not in ("email", "applied_at", "rejected_at", "last_activity_at")),
    "email_normalized",
    "applied_at_ts",
    "rejected_at_ts",
    "stage_rank",
]
# What build_people and the load read of the normalised applications.
NORMALISED_COLUMNS = [
    "email_normalized",
    "source_row",
    "source_system",
    "source_person_id",
    "source_application_id",
    "first_name",
    "last_name",
    "full_name",
    "phone_e164",
    "city",
    "country_code",
    "language_code",
    "headline",
    "job_source_id",
    "job_title",
    "department",
    "applied_at_ts",
    "rejected_at_ts",
    "status",
    "stage_name",
    "stage_rank",
    "rejection_reason",
    "rejection_side",
    "source_channel",
    "tags",
    "skills_text",
    "years_experience",
    "birth_date_ts",
    "consent_future_jobs",
    "consent_expires_at",
    "unsubscribed",
    "content_sha256",
]
SKIPPED_SUFFIXES = (".mapping.yaml", ".mapping.yml", ".md", ".txt", ".tmp", ".part")


@dataclass
class InboxFile:
    path: str
    file_name: str
    content_sha256: str
    size_bytes: int
    detected_format: str | None
    error: str | None = None


@dataclass
class FileResult:
    """What one file gave after parsing and validation (no personal data: safe for XCom and logs)."""

    content_sha256: str
    file_name: str
    detected_format: str | None
    size_bytes: int
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    error: str | None
    valid_path: str | None
    quarantine_path: str
    report_path: str

    def to_dict(self) -> dict:
        return asdict(self)


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def find_new_files(engine: sa.Engine, inbox: Path) -> list[InboxFile]:
    """Candidate exports in ``inbox`` whose content was never ingested (job files are left for job ingestion)."""
    from vivier.ingest.detect import detect_format

    candidates = sorted(
        p
        for p in Path(inbox).iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(SKIPPED_SUFFIXES)
    )
    with engine.connect() as connection:
        known = set(connection.execute(sa.select(ingested_files.c.content_sha256)).scalars())
    found: dict[str, InboxFile] = {}
    for path in candidates:
        digest = sha256_of(path)
        if digest in known or digest in found:
            continue
        try:
            detected, error = detect_format(path), None
        except UnreadableFileError as exc:
            detected, error = None, str(exc)
        if detected and detected.endswith("_jobs"):
            continue
        if detected in ("csv", "xlsx"):
            from vivier.offers.files import is_job_spreadsheet  # local: vivier.offers imports this module

            if is_job_spreadsheet(path):
                continue  # a jobs spreadsheet: left to job_offers_ingest
        found[digest] = InboxFile(str(path), path.name, digest, path.stat().st_size, detected, error)
    return list(found.values())


def _raw_records(rows: pd.DataFrame) -> list[str]:
    """The canonical values of each row as JSON text, cut to a bounded size."""
    if rows.empty:
        return []
    lines = rows[CANONICAL_COLUMNS].astype("string").to_json(orient="records", lines=True, force_ascii=False)
    return [line[:RAW_RECORD_MAX_CHARS] for line in lines.splitlines()]


def _quarantine_frame(
    sha, file_name, source_rows, record_keys, reasons: list[list[dict]], raw: list[str | None]
) -> pd.DataFrame:
    """Quarantine rows; ``sha`` and ``file_name`` are one value for the whole file or one per row."""
    return pd.DataFrame(
        {
            "content_sha256": sha,
            "source_file": file_name,
            "source_row": pd.array(list(source_rows), dtype="Int64"),
            "record_key": pd.array(list(record_keys), dtype="string"),
            "reasons": [json.dumps(r, ensure_ascii=False) for r in reasons],
            "raw_record": pd.array(raw, dtype="string"),
        }
    )


def parse_and_validate(
    inbox_file: InboxFile,
    *,
    staging_dir: Path,
    reports_dir: Path,
    as_of: pd.Timestamp,
    stage_map: StageMap | None = None,
    mapping_dir: Path | None = None,
) -> FileResult:
    """Parse one file with its adapter and validate it; a file that cannot be read is quarantined whole."""
    from vivier.ingest.formats import parse_file

    stage_map = stage_map or StageMap.load()
    staging_dir.mkdir(parents=True, exist_ok=True)
    sha, name = inbox_file.content_sha256, inbox_file.file_name
    quarantine_path = staging_dir / f"{sha}.quarantine.parquet"
    error = inbox_file.error
    parsed = None
    if error is None:
        start_gx_import()  # overlaps with parsing
        try:
            with step("parse"):
                parsed = parse_file(inbox_file.path, mapping_dir=mapping_dir)
        except UnreadableFileError as exc:
            error = str(exc)
    if parsed is None:
        reason = [{"check": "file_readable", "column": None, "detail": error}]
        _quarantine_frame(sha, name, [None], [None], [reason], [None]).to_parquet(quarantine_path)
        report = {"file": name, "format": inbox_file.detected_format, "error": error, "rows_read": 0}
        report_path = write_report(reports_dir, sha, name, report)
        return FileResult(
            sha,
            name,
            inbox_file.detected_format,
            inbox_file.size_bytes,
            0,
            0,
            0,
            error,
            None,
            str(quarantine_path),
            str(report_path),
        )

    result = validate(parsed.applications, stage_map=stage_map, as_of=as_of)
    with step("validate.stage_files"):
        failed = result.prepared.loc[~result.valid]
        adapter_rejects = parsed.rejected
        quarantine = pd.concat(
            [
                _quarantine_frame(
                    sha,
                    name,
                    failed["source_row"],
                    failed["source_application_id"],
                    [result.reasons[i] for i in failed.index],
                    _raw_records(failed),
                ),
                _quarantine_frame(
                    sha,
                    name,
                    [r.source_row for r in adapter_rejects],
                    [None] * len(adapter_rejects),
                    [[{"check": "record_readable", "column": None, "detail": r.reason}] for r in adapter_rejects],
                    [r.raw[:RAW_RECORD_MAX_CHARS] if r.raw else None for r in adapter_rejects],
                ),
            ],
            ignore_index=True,
        )
        quarantine.to_parquet(quarantine_path)
        valid_path = staging_dir / f"{sha}.valid.parquet"
        valid = result.prepared.loc[result.valid, VALID_COLUMNS].assign(content_sha256=sha, file_order=0)
        valid.astype({c: "string" for c in ("birth_date", "consent_expires_at", "years_experience")}).to_parquet(
            valid_path
        )
        report = {
            "file": name,
            "format": parsed.source_system,
            "detected_format": inbox_file.detected_format,
            "rows_read": parsed.rows_read,
            "rows_unreadable": len(adapter_rejects),
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


def normalise(valid_path: str) -> str:
    """Normalised applications of one file, staged beside its valid rows."""
    with step("normalise"):
        frame = pd.read_parquet(valid_path)
        out = Path(valid_path).with_name(Path(valid_path).name.replace(".valid.", ".normalised."))
        normalise_applications(frame)[NORMALISED_COLUMNS].to_parquet(out)
    return str(out)


@dataclass
class PeopleBatch:
    persons_path: str
    applications_path: str
    tags_path: str
    suppressed_path: str
    persons: int
    applications: int
    suppressed: int


def _suppressed_hmacs(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(sa.select(suppression_list.c.email_hmac)).scalars())


def _empty_people(paths: dict[str, Path], suppressed_path: Path, suppressed: int) -> PeopleBatch:
    """Staged outputs of a run with no application left to load."""
    from vivier.ingest.load import TAG_COLUMNS

    for name, columns in zip(paths, (PERSON_COLUMNS, STAGED_APPLICATION_COLUMNS, TAG_COLUMNS), strict=True):
        pd.DataFrame(
            {column: pd.Series(dtype="Int64" if kind == "int" else "string") for column, kind in columns.items()}
        ).to_parquet(paths[name])
    return PeopleBatch(*(str(p) for p in paths.values()), str(suppressed_path), 0, 0, suppressed)


def build_people(
    engine: sa.Engine,
    normalised_paths: list[str],
    *,
    staging_dir: Path,
    suppression_key: bytes,
    as_of: pd.Timestamp,
) -> PeopleBatch:
    """One person per email across every file of the run, suppressed people removed, tags computed."""
    from vivier.ingest.tagging import tag_people

    with step("people.read"):
        frames = [pd.read_parquet(path).assign(file_order=order) for order, path in enumerate(normalised_paths)]
        applications = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames or [pd.DataFrame()])[0]
        del frames
    staging_dir.mkdir(parents=True, exist_ok=True)
    suppressed_path = staging_dir / "suppressed.parquet"
    paths = {name: staging_dir / f"{name}.parquet" for name in ("persons", "applications", "tags")}
    if applications.empty:
        pd.DataFrame({"content_sha256": pd.Series(dtype="string"), "source_row": pd.Series(dtype="Int64")}).to_parquet(
            suppressed_path
        )
        return _empty_people(paths, suppressed_path, suppressed=0)

    with step("people.suppress_dedupe"):
        suppressed = suppressed_mask(applications["email_normalized"], _suppressed_hmacs(engine), suppression_key)
        applications.loc[suppressed, ["content_sha256", "source_row"]].to_parquet(suppressed_path)
        if suppressed.any():
            applications = applications.loc[~suppressed]
        # the same application in two files of one run: the later file wins
        applications = applications.sort_values(["file_order", "source_row"]).drop_duplicates(
            ["source_system", "source_application_id"], keep="last"
        )
    if applications.empty:
        return _empty_people(paths, suppressed_path, suppressed=int(suppressed.sum()))
    with step("people.build_persons"):
        people = person_codes(applications["email_normalized"])
        persons = build_persons(applications, people)
    with step("people.tag"):
        persons, tags = tag_people(applications, persons, as_of=as_of, codes=people[0])
    with step("people.write"):
        persons = persons.rename(columns={"country_code": "country", "language_code": "language"})
        persons[list(PERSON_COLUMNS)].to_parquet(paths["persons"])
        tags.to_parquet(paths["tags"])
        del tags
        # persons are created in email order, so email order = person_id order: applications
        # sorted by person insert into the CRM's indexes sequentially instead of at random places
        applications = applications.assign(
            person=people[0], applied_at=applications["applied_at_ts"], rejected_at=applications["rejected_at_ts"]
        ).sort_values(["person", "source_system", "source_application_id"])
        applications[list(STAGED_APPLICATION_COLUMNS)].to_parquet(paths["applications"])
    return PeopleBatch(
        str(paths["persons"]),
        str(paths["applications"]),
        str(paths["tags"]),
        str(suppressed_path),
        persons=len(persons),
        applications=len(applications),
        suppressed=int(suppressed.sum()),
    )


def file_accounting(results: list[FileResult], suppressed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``ingested_files`` rows and the quarantine rows of the run: loaded + quarantined = read, per file.

    People on the suppression list are quarantined without any of their data (they asked to be forgotten).
    """
    quarantine = [pd.read_parquet(r.quarantine_path) for r in results]
    names = {r.content_sha256: r.file_name for r in results}
    suppressed_rows = _quarantine_frame(
        suppressed["content_sha256"].to_numpy(),
        suppressed["content_sha256"].map(names).to_numpy(),
        suppressed["source_row"],
        [None] * len(suppressed),
        [[{"check": "not_suppressed", "column": None, "detail": "person erased or suppressed: not re-created"}]]
        * len(suppressed),
        [None] * len(suppressed),
    )
    all_quarantine = pd.concat([*quarantine, suppressed_rows], ignore_index=True)
    per_file_suppressed = suppressed["content_sha256"].value_counts()
    files = pd.DataFrame([r.to_dict() for r in results])
    if files.empty:
        return files, all_quarantine
    extra = files["content_sha256"].map(per_file_suppressed).fillna(0).astype(np.int64)
    files["rows_loaded"] = files["rows_valid"] - extra
    files["rows_quarantined"] = files["rows_quarantined"] + extra
    files["status"] = np.select(
        [files["error"].notna(), files["rows_quarantined"] > 0], ["quarantined", "partial"], default="loaded"
    )
    return files, all_quarantine


def ingest_inbox(
    engine: sa.Engine,
    inbox: Path,
    *,
    work_dir: Path,
    as_of: pd.Timestamp,
    run_id: str,
    suppression_key: bytes,
    stage_map: StageMap | None = None,
):
    """All steps in one process, in the order the ``ats_ingest`` DAG runs them (tests, benchmarks, CLI).

    Returns ``(files, counts)``: the per-file accounting and the load counts (``None`` when nothing was new).
    """
    from vivier.ingest.load import load_ingestion

    stage_map = stage_map or StageMap.load()
    staging = work_dir / "staging"
    with step("find_new_files"):
        new_files = find_new_files(engine, inbox)
    results = [
        parse_and_validate(f, staging_dir=staging, reports_dir=work_dir / "reports", as_of=as_of, stage_map=stage_map)
        for f in new_files
    ]
    if not results:
        return pd.DataFrame(), None
    normalised = [normalise(r.valid_path) for r in results if r.valid_path]
    people = build_people(engine, normalised, staging_dir=staging, suppression_key=suppression_key, as_of=as_of)
    with step("accounting"):
        files, quarantine = file_accounting(results, pd.read_parquet(people.suppressed_path))
    with step("load.read_staged"):
        staged = {k: pd.read_parquet(getattr(people, f"{k}_path")) for k in ("persons", "applications", "tags")}
    counts = load_ingestion(
        engine,
        files=files,
        persons=staged["persons"],
        applications=staged["applications"],
        tags=staged["tags"],
        quarantine=quarantine,
        as_of=as_of,
        run_id=run_id,
        silver_min_rank=stage_map.silver_medalist_min_rank,
    )
    return files, counts
