"""Row-level validation of job offers with Great Expectations (suite ``include/gx/job_offers.json``).

``prepare`` derives the columns the suite checks; ``validate`` runs it and returns, like candidate
validation, the rows, a validity mask, every reason per failing row and a report without values.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vivier.ingest.formats.jobs import JOB_COLUMNS
from vivier.ingest.validate import FORMULA_PATTERN, MAX_FIELD_CHARS, ValidationResult, _run_gx, parse_timestamps
from vivier.offers.normalise import offer_status
from vivier.paths import INCLUDE_DIR

JOB_OFFERS_SUITE = INCLUDE_DIR / "gx" / "job_offers.json"
MAX_DESCRIPTION_CHARS = 100_000
FORMULA_COLUMNS = (
    "source_job_id",
    "title",
    "department",
    "location",
    "country",
    "language",
    "required_skills_text",
    "nice_skills_text",
)
SHORT_COLUMNS = tuple(c for c in JOB_COLUMNS if c not in ("description", "source_row", "opened_at"))


def _derived_ids(frame: pd.DataFrame) -> pd.Series:
    """The job id, or for spreadsheets without one ``derived:<sha1>`` of source, title, location and date."""
    ids = frame["source_job_id"].astype("string").str.strip()
    ids = ids.mask(ids == "")
    missing = ids.isna() & frame["title"].notna()
    if missing.any():
        parts = frame.loc[missing, ["source_system", "title", "location", "opened_at"]].astype("string").fillna("")
        keys = parts["source_system"] + "|" + parts["title"] + "|" + parts["location"] + "|" + parts["opened_at"]
        ids.loc[missing] = ["derived:" + hashlib.sha1(k.encode("utf-8")).hexdigest() for k in keys.tolist()]
    return ids


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """The offers with the derived columns the suite checks (vectorised)."""
    frame = records.reset_index(drop=True).copy()
    for column in JOB_COLUMNS:
        if column not in ("source_row", "opened_at"):
            frame[column] = frame[column].astype("string")
    title = frame["title"].str.strip()
    frame["title"] = title.mask(title == "")
    frame["source_job_id"] = _derived_ids(frame)
    frame["has_title"] = frame["title"].notna()
    frame["status_known"] = offer_status(frame["status"]).notna().astype(bool)
    raw_dates = frame["opened_at"]
    frame["opened_at_ts"] = parse_timestamps(raw_dates.astype("string"))
    blank = raw_dates.isna() | (raw_dates.astype("string").str.strip() == "")
    frame["opened_at_parses"] = (blank | frame["opened_at_ts"].notna()).fillna(True).astype(bool)
    identity = [c for c in JOB_COLUMNS if c != "source_row"]
    frame["is_exact_duplicate"] = frame.astype({"opened_at": "string"}).duplicated(subset=identity, keep="first")
    ids = frame["source_job_id"]
    frame["is_repeated_job_id"] = ids.notna() & ids.duplicated(keep="first") & ~frame["is_exact_duplicate"]
    has_formula = np.zeros(len(frame), dtype=bool)
    for column in FORMULA_COLUMNS:
        text = frame[column]
        has_formula |= text.str.contains(FORMULA_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
    frame["has_formula"] = has_formula
    lengths = [frame[c].str.len().fillna(0).to_numpy(dtype=np.int64) for c in SHORT_COLUMNS]
    frame["longest_field"] = np.max(lengths, axis=0) if len(frame) else np.zeros(0, dtype=np.int64)
    frame["description_chars"] = frame["description"].str.len().fillna(0).astype(np.int64)
    return frame


def load_suite(path: Path = JOB_OFFERS_SUITE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def validate(
    records: pd.DataFrame,
    *,
    as_of: datetime,
    suite_path: Path = JOB_OFFERS_SUITE,
    max_field_chars: int = MAX_FIELD_CHARS,
    max_description_chars: int = MAX_DESCRIPTION_CHARS,
) -> ValidationResult:
    """Validate one file's offers; failing rows carry every reason they failed."""
    frame = prepare(records)
    suite = load_suite(suite_path)
    stamp = pd.Timestamp(as_of)
    parameters = {
        "as_of": stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC"),
        "max_field_chars": max_field_chars,
        "max_description_chars": max_description_chars,
    }
    result = _run_gx(frame, suite, parameters)
    outcomes: list[dict[str, Any]] = []
    failures: list[pd.DataFrame] = []
    for item in result.results:
        config = item.expectation_config
        meta, column = config.meta or {}, config.kwargs.get("column")
        if (item.exception_info or {}).get("raised_exception", False):
            raise RuntimeError(f"expectation {config.type} on {column} could not run: {item.exception_info}")
        unexpected = item.result.get("unexpected_index_list") or []
        check = meta.get("check", config.type)
        outcomes.append(
            {
                "check": check,
                "expectation": config.type,
                "column": column,
                "reason": meta.get("reason", config.type),
                "success": bool(item.success),
                "unexpected_count": len(unexpected),
                "sample_source_rows": frame.loc[unexpected[:20], "source_row"].astype("int64").tolist(),
            }
        )
        if unexpected:
            reason = {"check": check, "column": column, "detail": meta.get("reason")}
            failures.append(
                pd.DataFrame({"position": np.asarray(unexpected, np.int64), "reason": [reason] * len(unexpected)})
            )
    valid = np.ones(len(frame), dtype=bool)
    reasons = pd.Series([], dtype=object)
    if failures:
        failed = pd.concat(failures, ignore_index=True)
        valid[failed["position"].to_numpy()] = False
        reasons = failed.groupby("position", sort=True)["reason"].agg(list)
    report = {
        "suite": suite["name"],
        "success": bool(result.success),
        "rows_checked": len(frame),
        "rows_valid": int(valid.sum()),
        "rows_failed": int((~valid).sum()),
        "expectations": outcomes,
    }
    return ValidationResult(prepared=frame, valid=valid, reasons=reasons, report=report)
