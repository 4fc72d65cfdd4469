"""Row-level validation of canonical application records with Great Expectations Core.

``prepare`` derives the columns the suite checks (normalised email, parsed dates, duplicate and
formula flags...), ``validate`` runs the suite from ``include/gx/`` on an ephemeral GX context and
splits the rows into valid ones and quarantined ones, each with every reason it failed.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vivier.ingest.canonical import CANONICAL_COLUMNS
from vivier.ingest.normalize import EMAIL_PATTERN, normalize_emails
from vivier.ingest.stages import StageMap
from vivier.ingest.timing import step
from vivier.paths import INCLUDE_DIR

APPLICATIONS_SUITE = INCLUDE_DIR / "gx" / "applications.json"
MAX_FIELD_CHARS = 10_000
FORMULA_PATTERN = r"^\s*(?:[=@]|[+\-][^\d\s+\-])"
FORMULA_COLUMNS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "city",
    "country",
    "headline",
    "job_title",
    "department",
    "stage_name",
    "rejection_reason",
    "source_channel",
    "tags",
    "skills_text",
)
TEXT_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in ("source_row",))


@dataclass
class ValidationResult:
    """The outcome of validating one file's records."""

    prepared: pd.DataFrame  # the canonical rows plus derived columns, RangeIndex
    valid: np.ndarray  # boolean mask over ``prepared``
    reasons: pd.Series  # index -> list of {check, column, detail} for failing rows
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def quarantined(self) -> pd.DataFrame:
        return self.prepared.loc[~self.valid]


def parse_timestamps(values: pd.Series) -> pd.Series:
    """UTC timestamps from ISO strings or Timestamps; other layouts tried once per distinct value."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    leftover = text[parsed.isna() & text.notna()]
    if not leftover.empty:
        distinct = leftover.drop_duplicates()
        retried = pd.Series(
            pd.to_datetime(distinct, utc=True, errors="coerce", format="mixed", dayfirst=True).to_numpy(),
            index=distinct.to_numpy(),
        )
        parsed.loc[leftover.index] = pd.to_datetime(leftover.map(retried), utc=True)
    return parsed


def derive_missing_ids(frame: pd.DataFrame) -> pd.Series:
    """The application id, or for exports without one (spreadsheets) ``derived:<sha1>`` of the
    email, job and application date: stable across runs, so re-sent rows update instead of duplicating."""
    ids = frame["source_application_id"].astype("string").str.strip()
    ids = ids.mask(ids == "")
    missing = ids.isna() & frame["email_normalized"].notna()
    if missing.any():
        parts = frame.loc[missing, ["source_system", "email_normalized", "job_title", "job_source_id", "applied_at"]]
        keys = parts.iloc[:, 0].astype("string").fillna("")
        for column in parts.columns[1:]:
            keys = keys + "|" + parts[column].astype("string").fillna("")
        ids.loc[missing] = ["derived:" + hashlib.sha1(k.encode("utf-8")).hexdigest() for k in keys.tolist()]
    return ids


# A superset of the rows FORMULA_PATTERN can match, in a syntax Arrow's regex engine runs on the
# whole column at once: the first "=", "@", "+" or "-" comes before any ASCII letter or digit
# (whitespace is neither). Only those rows go through Python's ``re`` with FORMULA_PATTERN.
_FORMULA_CANDIDATE = r"^[^0-9A-Za-z=@+\-]*[=@+\-]"


def _arrow_text(values: pd.Series):
    """The column as an Arrow string array (Arrow-backed string columns are not converted)."""
    import pyarrow as pa

    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype("string[pyarrow]")
    return pa.array(values.array)


def _text_checks(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: does a text cell start like a spreadsheet formula, and the longest field's length."""
    import pyarrow.compute as pc

    formula_re = re.compile(FORMULA_PATTERN)
    has_formula = np.zeros(len(frame), dtype=bool)
    longest = np.zeros(len(frame), dtype=np.int64)
    for column in TEXT_COLUMNS:
        values = frame[column]
        if values.isna().all():
            continue
        text = _arrow_text(values)
        lengths = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        np.maximum(longest, np.nan_to_num(lengths, nan=0).astype(np.int64, copy=False), out=longest)
        if column in FORMULA_COLUMNS:
            candidates = np.flatnonzero(
                pc.fill_null(pc.match_substring_regex(text, _FORMULA_CANDIDATE), False).to_numpy(zero_copy_only=False)
            )
            if len(candidates):
                found = [formula_re.search(v) is not None for v in text.take(candidates).to_pylist()]
                has_formula[candidates[np.asarray(found, dtype=bool)]] = True
    return has_formula, longest


def _exact_duplicates(frame: pd.DataFrame, identity: list[str]) -> np.ndarray:
    """Rows equal in every identity column to an earlier row.

    Two equal rows share their application id (derived ids are built from identity columns), so
    only rows whose (id, email) pair repeats are compared in full.
    """
    candidates = frame.duplicated(subset=["source_application_id", "email"], keep=False).to_numpy()
    out = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        out[candidates] = frame.loc[candidates].duplicated(subset=identity, keep="first").to_numpy()
    return out


def prepare(records: pd.DataFrame, stage_map: StageMap) -> pd.DataFrame:
    """The canonical rows with the derived columns the suite checks (vectorised)."""
    frame = records.reset_index(drop=True)  # copy-on-write: adding columns never changes ``records``
    frame["email_normalized"] = normalize_emails(frame["email"])
    frame["source_application_id"] = derive_missing_ids(frame)
    for column in ("applied_at", "rejected_at"):
        parsed = parse_timestamps(frame[column])
        blank = frame[column].isna() | (frame[column].astype("string").str.strip() == "")
        frame[f"{column}_ts"] = parsed
        frame[f"{column}_parses"] = (blank | parsed.notna()).fillna(True).astype(bool)
    has_name = np.zeros(len(frame), dtype=bool)
    for column in ("first_name", "last_name", "full_name"):
        if frame[column].notna().any():
            has_name |= (frame[column].astype("string").str.strip().fillna("") != "").to_numpy(dtype=bool)
    frame["has_name"] = has_name
    identity = [c for c in CANONICAL_COLUMNS if c != "source_row"]
    frame["is_exact_duplicate"] = _exact_duplicates(frame, identity)
    application_ids = frame["source_application_id"].astype("string")
    frame["is_repeated_application_id"] = (
        application_ids.notna() & application_ids.duplicated(keep="first") & ~frame["is_exact_duplicate"]
    )
    ranks = stage_map.rank(frame["stage_name"])
    frame["stage_known"] = stage_map.is_known(frame["stage_name"], ranks=ranks)
    frame["stage_rank"] = ranks
    frame["has_formula"], frame["longest_field"] = _text_checks(frame)
    return frame


def load_suite(path: Path = APPLICATIONS_SUITE) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def suite_columns(suite_spec: dict[str, Any]) -> list[str]:
    """The columns the suite's expectations read (GX gets only those: it copies what it is given)."""
    columns: dict[str, None] = {}
    for expectation in suite_spec["expectations"]:
        for key in ("column", "column_A", "column_B"):
            if key in expectation["kwargs"]:
                columns[expectation["kwargs"][key]] = None
    return list(columns)


_gx_import: threading.Thread | None = None


def start_gx_import() -> None:
    """Import Great Expectations in the background (it takes seconds), e.g. while a file is parsed.

    ``_run_gx`` imports it as usual: Python's import lock makes it wait for this import to finish.
    """
    global _gx_import
    if _gx_import is None and "great_expectations" not in sys.modules:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _gx_import = threading.Thread(
            target=importlib.import_module, args=("great_expectations",), name="gx-import", daemon=True
        )
        _gx_import.start()


def _run_gx(frame: pd.DataFrame, suite_spec: dict[str, Any], parameters: dict[str, Any]):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            progress_bars=ProgressBarsConfig(globally=False),
            analytics_enabled=False,
        ),
    )
    batch = (
        context.data_sources.add_pandas("ats")
        .add_dataframe_asset("applications")
        .add_batch_definition_whole_dataframe("file")
    )
    suite = gx.ExpectationSuite(name=suite_spec["name"], notes=suite_spec.get("notes"))
    for expectation in suite_spec["expectations"]:
        suite.add_expectation_configuration(ExpectationConfiguration(**expectation))
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_spec["name"], data=batch, suite=suite)
    )
    return definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0},
    )


def validate(
    records: pd.DataFrame,
    *,
    stage_map: StageMap,
    as_of: datetime,
    suite_path: Path = APPLICATIONS_SUITE,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> ValidationResult:
    """Validate one file's canonical records; failing rows carry every reason they failed."""
    with step("validate.prepare"):
        frame = prepare(records, stage_map)
    suite_spec = load_suite(suite_path)
    parameters = {
        "as_of": pd.Timestamp(as_of).tz_convert("UTC") if pd.Timestamp(as_of).tzinfo else pd.Timestamp(as_of, tz="UTC"),
        "email_regex": f"^{EMAIL_PATTERN}$",
        "max_field_chars": max_field_chars,
    }
    with step("validate.gx"):
        result = _run_gx(frame[suite_columns(suite_spec)], suite_spec, parameters)

    failures: list[pd.DataFrame] = []
    outcomes: list[dict[str, Any]] = []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        kwargs = config.kwargs
        column = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
        raised = (item.exception_info or {}).get("raised_exception", False)
        if raised:
            raise RuntimeError(f"expectation {config.type} on {column} could not run: {item.exception_info}")
        unexpected = item.result.get("unexpected_index_list") or []
        outcomes.append(
            {
                "check": meta.get("check", config.type),
                "expectation": config.type,
                "column": column,
                "reason": meta.get("reason", config.type),
                "success": bool(item.success),
                "unexpected_count": len(unexpected),
                # record numbers in the file, never values: reports must not carry personal data
                "sample_source_rows": frame.loc[unexpected[:20], "source_row"].astype("int64").tolist()
                if unexpected
                else [],
            }
        )
        if unexpected:
            failures.append(
                pd.DataFrame(
                    {
                        "position": np.asarray(unexpected, dtype=np.int64),
                        "reason": [
                            {"check": meta.get("check", config.type), "column": column, "detail": meta.get("reason")}
                        ]
                        * len(unexpected),
                    }
                )
            )

    valid = np.ones(len(frame), dtype=bool)
    reasons = pd.Series([], dtype=object)
    if failures:
        failed = pd.concat(failures, ignore_index=True)
        valid[failed["position"].to_numpy()] = False
        reasons = failed.groupby("position", sort=True)["reason"].agg(list)
    report = {
        "suite": suite_spec["name"],
        "success": bool(result.success),
        "rows_checked": len(frame),
        "rows_valid": int(valid.sum()),
        "rows_failed": int((~valid).sum()),
        "expectations": outcomes,
    }
    return ValidationResult(prepared=frame, valid=valid, reasons=reasons, report=report)
