"""Great Expectations validation: every kind of bad row is quarantined with a clear reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from vivier.ingest.canonical import conform
from vivier.ingest.stages import StageMap
from vivier.ingest.validate import validate

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
GOOD = {
    "source_system": "greenhouse",
    "source_application_id": "a1",
    "first_name": "Jean",
    "last_name": "Dupont",
    "email": "jean.dupont@example.fr",
    "status": "rejected",
    "stage_name": "Entretien final",
    "applied_at": "2026-01-02T09:00:00Z",
    "rejected_at": "2026-02-01T10:00:00Z",
}
BAD_ROWS = {
    "email_syntax": {"email": "jean.dupont@"},
    "email_present": {"email": "  "},
    "name_present": {"first_name": "", "last_name": None},
    "stage_known": {"stage_name": "Étape mystère"},
    "applied_at_parses": {"applied_at": "32/13/2026"},
    "rejected_at_parses": {"rejected_at": "yesterday-ish"},
    "applied_at_not_future": {"applied_at": "2027-05-01", "rejected_at": None},
    "rejected_at_not_future": {"rejected_at": "2026-12-24"},
    "rejected_after_applied": {"applied_at": "2026-03-01", "rejected_at": "2026-02-01"},
    "no_formula": {"first_name": '=HYPERLINK("http://evil","x")'},
    "field_length": {"rejection_reason": "x" * (10 * 1024 * 1024)},
    "status_known": {"status": "maybe"},
}


@pytest.fixture(scope="module")
def result():
    rows = [{**GOOD, "source_row": 1}]
    for position, (check, change) in enumerate(BAD_ROWS.items(), start=2):
        rows.append({**GOOD, "source_row": position, "source_application_id": check, **change})
    rows.append({**GOOD, "source_row": 99})  # exact duplicate of the first row (but for its position)
    rows.append({**GOOD, "source_row": 100, "email": "other@example.fr"})  # same id, different record
    return validate(conform(pd.DataFrame(rows)), stage_map=StageMap.load(), as_of=AS_OF)


def checks_of(result, source_row: int) -> set[str]:
    position = int(result.prepared.index[result.prepared["source_row"] == source_row][0])
    return {reason["check"] for reason in result.reasons.get(position, [])}


def test_the_good_row_passes(result) -> None:
    assert bool(result.valid[0])
    assert checks_of(result, 1) == set()


@pytest.mark.parametrize("check", list(BAD_ROWS))
def test_each_bad_row_fails_with_its_reason(result, check: str) -> None:
    source_row = list(BAD_ROWS).index(check) + 2
    assert check in checks_of(result, source_row)


def test_duplicates_keep_the_first_and_quarantine_the_rest(result) -> None:
    assert checks_of(result, 99) == {"not_duplicate"}
    assert checks_of(result, 100) == {"application_id_unique"}


def test_every_row_is_accounted_for(result) -> None:
    assert result.report["rows_valid"] + result.report["rows_failed"] == result.report["rows_checked"]
    assert result.report["rows_checked"] == len(BAD_ROWS) + 3
    assert result.report["rows_valid"] == 1


def test_report_names_record_numbers_never_values(result) -> None:
    text = repr(result.report)
    assert "jean.dupont" not in text and "HYPERLINK" not in text
    failing = {e["check"]: e for e in result.report["expectations"]}
    assert failing["email_syntax"]["sample_source_rows"] == [2]


def test_phone_numbers_with_a_plus_are_not_formulas() -> None:
    row = {**GOOD, "source_row": 1, "phone": "+33 6 12 34 56 78", "rejection_reason": "-"}
    outcome = validate(conform(pd.DataFrame([row])), stage_map=StageMap.load(), as_of=AS_OF)
    assert outcome.valid.all()


def test_spreadsheet_rows_without_ids_get_stable_derived_ids() -> None:
    rows = [{**GOOD, "source_application_id": None, "source_row": 1, "job_title": "Data engineer"}]
    first = validate(conform(pd.DataFrame(rows)), stage_map=StageMap.load(), as_of=AS_OF)
    second = validate(conform(pd.DataFrame(rows)), stage_map=StageMap.load(), as_of=AS_OF)
    derived = first.prepared.loc[0, "source_application_id"]
    assert derived.startswith("derived:") and derived == second.prepared.loc[0, "source_application_id"]
    assert first.valid.all()
