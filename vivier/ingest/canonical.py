"""The canonical application record every ATS adapter produces.

One row per application; the person's fields repeat on each of their applications.
Adapters return a pandas DataFrame with exactly ``CANONICAL_COLUMNS`` (missing values as
``None``/``NaN``/``NaT``), so everything downstream (validation, normalisation, identity,
tagging, loading) is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# column -> meaning. Time columns hold ISO-8601 strings, dd/mm/yyyy strings (spreadsheets) or
# timezone-aware Timestamps; epoch milliseconds (Lever) are converted by the adapter.
CANONICAL_FIELDS: dict[str, str] = {
    "source_row": "1-based position of the record in the file (data line for CSV, array index + 1 for JSON)",
    "source_system": "vendor that produced the export: greenhouse, lever, teamtailor, recruitee, workable, spreadsheet",
    "source_person_id": "the vendor's id for the person (Lever contact, Greenhouse candidate id, ...); may be empty",
    "source_application_id": "the vendor's id for the application (unique per file)",
    "first_name": "given name as exported",
    "last_name": "family name as exported",
    "full_name": "whole name as exported (set when the source has one field only)",
    "email": "email as exported, untrimmed",
    "phone": "phone number as exported",
    "city": "city or free-text location",
    "country": "country as exported (name or code)",
    "language": "language of the candidate or the application, as exported (code or name)",
    "headline": "current title / headline of the person",
    "job_source_id": "the vendor's id of the job applied to",
    "job_title": "title of the job applied to",
    "department": "department of the job",
    "applied_at": "when the application was created",
    "rejected_at": "when the application was rejected (NaT when not rejected)",
    "status": "rejected | hired | active (withdrawals are rejected with a candidate-side reason)",
    "stage_name": "free-text stage reached (the stage still attached to the application)",
    "rejection_reason": "free-text rejection reason",
    "rejection_side_hint": "company | candidate when the vendor says who rejected whom, else None",
    "source_channel": "where the candidate came from (referral, job board, sourced, ...)",
    "tags": "the ATS's tags, joined with '|'",
    "skills_text": "free text to extract skills from (skills lists, tags, headline, summary), '|'-separated",
    "years_experience": "years of professional experience when the export has it (float)",
    "birth_date": "date of birth when the export has it (used only for an age band, never for matching)",
    "consent_future_jobs": "True/False when the ATS recorded consent to be contacted for future jobs, else None",
    "consent_expires_at": "expiry of that consent when recorded",
    "unsubscribed": "True when the ATS says the person unsubscribed, else None",
    "last_activity_at": "last activity the ATS recorded on the person or application",
}

CANONICAL_COLUMNS: list[str] = list(CANONICAL_FIELDS)

TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "applied_at",
    "rejected_at",
    "consent_expires_at",
    "last_activity_at",
)

VENDORS: tuple[str, ...] = ("greenhouse", "lever", "teamtailor", "recruitee", "workable", "spreadsheet")


@dataclass
class RejectedRecord:
    """A record the adapter could not turn into a canonical row (accounted for, never dropped)."""

    source_row: int
    reason: str
    raw: str = ""


@dataclass
class ParsedFile:
    """What an adapter returns for one file."""

    source_system: str
    applications: pd.DataFrame
    rejected: list[RejectedRecord] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.applications) + len(self.rejected)


class UnreadableFileError(ValueError):
    """The whole file cannot be read (empty, truncated, unknown format, missing required columns)."""


def empty_frame() -> pd.DataFrame:
    """A canonical frame with no rows and the right columns."""
    return conform(pd.DataFrame(columns=CANONICAL_COLUMNS))


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns in order.

    Values are left as the adapter produced them: timestamp columns may hold strings as exported
    (validation parses them and quarantines what does not parse) or already-parsed Timestamps.
    """
    return frame.reindex(columns=CANONICAL_COLUMNS)
