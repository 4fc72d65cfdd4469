"""Greenhouse Harvest export -> canonical applications.

Two shapes are read:

* a list of candidates, each with its ``applications`` nested (what ``GET /candidates`` returns);
* ``{"candidates": [...], "applications": [...]}`` side by side, joined on ``application.candidate_id``
  (nested applications, when present too, are merged by id).

``source_row`` is the 1-based index of the candidate in the candidate list; an application whose
``candidate_id`` matches no candidate is rejected with the index of the application in ``applications``.
Greenhouse has no consent field: ``can_email: false`` is read as ``unsubscribed = True``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from vivier.ingest.canonical import ParsedFile, RejectedRecord, UnreadableFileError
from vivier.ingest.detect import load_json
from vivier.ingest.formats._common import (
    ColumnBuilder,
    as_list,
    custom_skills_years_birth,
    dig,
    join_pipe,
    not_an_object,
    pick_typed,
    raw_of,
    text,
)

SOURCE = "greenhouse"
_STATUSES = {"rejected": "rejected", "hired": "hired", "active": "active"}


def parse(path: str | Path, document: Any = None) -> ParsedFile:
    return parse_document(load_json(path) if document is None else document)


def rejection_side(type_name: Any) -> str | None:
    """Greenhouse rejection reason type -> side: "We rejected them" = company, "They rejected us" = candidate."""
    if not isinstance(type_name, str):
        return None
    lowered = type_name.lower()
    if "we rejected" in lowered:
        return "company"
    if "they rejected" in lowered or "withdr" in lowered:
        return "candidate"
    return None


def _person(candidate: dict[str, Any]) -> dict[str, Any]:
    skills, years, birth = custom_skills_years_birth(candidate.get("keyed_custom_fields"))
    if not skills and years is None:
        skills, years, birth_plain = custom_skills_years_birth(candidate.get("custom_fields"))
        birth = birth or birth_plain
    title = text(candidate.get("title"))
    tags = join_pipe(candidate.get("tags"))
    return {
        "source_system": SOURCE,
        "source_person_id": text(candidate.get("id")),
        "first_name": text(candidate.get("first_name")),
        "last_name": text(candidate.get("last_name")),
        "email": pick_typed(candidate.get("email_addresses"), ("personal",)),
        "phone": pick_typed(candidate.get("phone_numbers"), ("mobile", "home")),
        "city": pick_typed(candidate.get("addresses"), ("home",)),
        "headline": title,
        "tags": tags,
        "skills_text": join_pipe([*skills, candidate.get("tags"), title]),
        "years_experience": years,
        "birth_date": birth,
        "unsubscribed": True if candidate.get("can_email") is False else None,
        "last_activity_at": candidate.get("last_activity") or candidate.get("updated_at"),
    }


def _application(person: dict[str, Any], app: dict[str, Any], source_row: int) -> dict[str, Any]:
    job = dig(app, "jobs", 0)
    status = text(app.get("status"))
    return {
        **person,
        "source_row": source_row,
        "source_application_id": text(app.get("id")),
        "job_source_id": text(dig(job, "id")),
        "job_title": text(dig(job, "name")),
        "applied_at": app.get("applied_at"),
        "rejected_at": app.get("rejected_at"),
        "status": _STATUSES.get(status.lower(), status) if status else None,
        "stage_name": text(dig(app, "current_stage", "name")),
        "rejection_reason": text(dig(app, "rejection_reason", "name")),
        "rejection_side_hint": rejection_side(dig(app, "rejection_reason", "type", "name")),
        "source_channel": text(dig(app, "source", "public_name")),
        "last_activity_at": app.get("last_activity_at") or person["last_activity_at"],
    }


def parse_document(document: Any) -> ParsedFile:
    if isinstance(document, list):
        candidates, side_apps = document, None
    elif isinstance(document, dict) and isinstance(document.get("candidates"), list):
        candidates = document["candidates"]
        side_apps = document.get("applications") if isinstance(document.get("applications"), list) else None
    else:
        raise UnreadableFileError("not a Greenhouse candidates export (expected a list of candidates)")

    rows = ColumnBuilder()
    rejected: list[RejectedRecord] = []
    by_candidate: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for j, app in enumerate(side_apps or [], start=1):
        if not isinstance(app, dict):
            rejected.append(not_an_object(j, app, "application"))
        else:
            by_candidate[text(app.get("candidate_id")) or ""].append((j, app))

    for i, candidate in enumerate(candidates, start=1):
        if not isinstance(candidate, dict):
            rejected.append(not_an_object(i, candidate, "candidate"))
            continue
        apps: list[dict[str, Any]] = []
        seen: set[str] = set()
        for app in as_list(candidate.get("applications")):
            if isinstance(app, dict):
                apps.append(app)
                seen.add(text(app.get("id")) or f"#{len(apps)}")
        for _, app in by_candidate.pop(text(candidate.get("id")) or "", []):
            if (text(app.get("id")) or "") not in seen:
                apps.append(app)
        if not apps:
            ids = as_list(candidate.get("application_ids")) or [
                a for a in as_list(candidate.get("applications")) if not isinstance(a, dict)
            ]
            detail = (
                f"lists application ids {ids[:5]} but the export holds no application object"
                if ids
                else ("has no applications")
            )
            rejected.append(RejectedRecord(i, f"candidate {text(candidate.get('id'))}: {detail}", raw_of(candidate)))
            continue
        person = _person(candidate)
        for app in apps:
            rows.add(_application(person, app, i))

    for candidate_id, orphans in by_candidate.items():
        for j, app in orphans:
            rejected.append(
                RejectedRecord(
                    j,
                    f"application {text(app.get('id'))} (applications[{j - 1}]) references candidate_id "
                    f"{candidate_id or 'null'} absent from the candidates list",
                    raw_of(app),
                )
            )
    return ParsedFile(SOURCE, rows.canonical(), rejected)
