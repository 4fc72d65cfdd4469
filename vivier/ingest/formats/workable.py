"""Workable export ``{"candidates": [...]}`` -> canonical applications (one record per job already).

Workable has no person id across jobs: ``source_person_id`` is the email as exported. The stage comes from
``stage`` or ``stage_name`` (some accounts); ``disqualified`` -> rejected, ``hired_at`` -> hired. Workable
records neither consent nor who rejected whom.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vivier.ingest.canonical import ParsedFile, RejectedRecord
from vivier.ingest.detect import load_json
from vivier.ingest.formats._common import (
    ColumnBuilder,
    candidate_items,
    custom_skills_years_birth,
    dig,
    join_pipe,
    name_of,
    not_an_object,
    text,
    to_years,
)

SOURCE = "workable"


def parse(path: str | Path, document: Any = None) -> ParsedFile:
    return parse_document(load_json(path) if document is None else document)


def _record(c: dict[str, Any], source_row: int) -> dict[str, Any]:
    first, last = text(c.get("firstname")), text(c.get("lastname"))
    email = text(c.get("email"))
    if c.get("hired_at"):
        status = "hired"
    elif c.get("disqualified") is True:
        status = "rejected"
    else:
        status = "active"
    job = c.get("job") if isinstance(c.get("job"), dict) else {}
    headline = text(c.get("headline"))
    skills = c.get("skills")
    custom_skills, years, birth = custom_skills_years_birth(c.get("answers") or c.get("custom_attributes"))
    address = (
        c.get("address")
        if not isinstance(c.get("address"), dict)
        else (dig(c, "address", "city") or dig(c, "address", "text"))
    )
    location = c.get("location") if isinstance(c.get("location"), dict) else {}
    return {
        "source_row": source_row,
        "source_system": SOURCE,
        "source_person_id": email,
        "source_application_id": text(c.get("id")),
        "first_name": first,
        "last_name": last,
        "full_name": text(c.get("name")) if not (first or last) else None,
        "email": email,
        "phone": text(c.get("phone")),
        "city": text(address) or text(location.get("city")) or text(location.get("location_str")),
        "country": text(location.get("country")) or text(location.get("country_code")),
        "headline": headline,
        "job_source_id": text(job.get("shortcode")),
        "job_title": text(job.get("title")),
        "department": text(job.get("department")),
        "applied_at": c.get("created_at"),
        "rejected_at": c.get("disqualified_at") if status == "rejected" else None,
        "status": status,
        "stage_name": name_of(c.get("stage"), "name") or text(c.get("stage_name")),
        "rejection_reason": text(c.get("disqualification_reason")) if status == "rejected" else None,
        "rejection_side_hint": None,
        "source_channel": "sourced" if c.get("sourced") is True else text(c.get("domain")),
        "tags": join_pipe(c.get("tags")),
        "skills_text": join_pipe([skills, *custom_skills, c.get("tags"), headline, c.get("summary")]),
        "years_experience": to_years(c.get("years_of_experience")) if years is None else years,
        "birth_date": birth,
        "last_activity_at": c.get("updated_at"),
    }


def parse_document(document: Any) -> ParsedFile:
    candidates = candidate_items(document, "Workable")
    rows = ColumnBuilder()
    rejected: list[RejectedRecord] = []
    for i, candidate in enumerate(candidates, start=1):
        if not isinstance(candidate, dict):
            rejected.append(not_an_object(i, candidate, "candidate"))
            continue
        rows.add(_record(candidate, i))
    return ParsedFile(SOURCE, rows.canonical(), rejected)
