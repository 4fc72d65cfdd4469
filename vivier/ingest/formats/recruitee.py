"""Recruitee export ``{"candidates": [...]}`` -> canonical applications (one row per placement).

``name`` is a single field (-> ``full_name``). A placement is hired when ``hired_at`` is set (or its stage
category is "hire"), rejected when ``disqualified``, else active. ``disqualify_kind`` is read loosely for the
side: values mentioning the candidate / a withdrawal -> candidate, the company / employer -> company.
``gdpr_status`` -> consent (given/granted/accepted/valid -> True; refused/rejected/expired/withdrawn -> False),
``gdpr_expires_at`` -> consent expiry. A candidate without placements is a RejectedRecord.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vivier.ingest.canonical import ParsedFile, RejectedRecord
from vivier.ingest.detect import load_json
from vivier.ingest.formats._common import (
    ColumnBuilder,
    as_list,
    candidate_items,
    custom_skills_years_birth,
    dig,
    join_pipe,
    name_of,
    not_an_object,
    pick_typed,
    raw_of,
    text,
)

SOURCE = "recruitee"


def parse(path: str | Path, document: Any = None) -> ParsedFile:
    return parse_document(load_json(path) if document is None else document)


def rejection_side(kind: Any) -> str | None:
    if not isinstance(kind, str):
        return None
    lowered = kind.lower()
    words = set(re.split(r"[^a-z]+", lowered))
    if "withdr" in lowered or "declin" in lowered or words & {"candidate", "candidat", "self", "they"}:
        return "candidate"
    if words & {"company", "employer", "recruiter", "team", "us", "we", "entreprise", "hiring"}:
        return "company"
    return None


def consent(status: Any) -> bool | None:
    if not isinstance(status, str):
        return None
    lowered = status.lower()
    if any(w in lowered for w in ("refus", "reject", "denied", "declin", "expired", "withdr", "revoked", "no_consent")):
        return False
    if any(w in lowered for w in ("given", "granted", "accept", "valid", "consented", "obtained")):
        return True
    return None


def _person(candidate: dict[str, Any]) -> dict[str, Any]:
    skills, years, birth = custom_skills_years_birth(candidate.get("fields"))
    return {
        "source_system": SOURCE,
        "source_person_id": text(candidate.get("id")),
        "full_name": text(candidate.get("name")),
        "email": pick_typed(candidate.get("emails"), ()),
        "phone": pick_typed(candidate.get("phones"), ()),
        "source_channel": name_of(next(iter(as_list(candidate.get("source"))), None), "name", "text")
        if candidate.get("source") is not None
        else name_of(next(iter(as_list(candidate.get("sources"))), None), "name", "text"),
        "tags": join_pipe(candidate.get("tags")),
        "skills_text": join_pipe([*skills, candidate.get("tags"), candidate.get("cover_letter")]),
        "years_experience": years,
        "birth_date": birth,
        "consent_future_jobs": consent(candidate.get("gdpr_status")),
        "consent_expires_at": candidate.get("gdpr_expires_at"),
        "last_activity_at": candidate.get("last_activity_at") or candidate.get("updated_at"),
        "applied_at": candidate.get("created_at"),
    }


def parse_document(document: Any) -> ParsedFile:
    candidates = candidate_items(document, "Recruitee")
    rows = ColumnBuilder()
    rejected: list[RejectedRecord] = []
    for i, candidate in enumerate(candidates, start=1):
        if not isinstance(candidate, dict):
            rejected.append(not_an_object(i, candidate, "candidate"))
            continue
        placements = [p for p in as_list(candidate.get("placements")) if isinstance(p, dict)]
        if not placements:
            rejected.append(
                RejectedRecord(
                    i, f"candidate {text(candidate.get('id'))}: no placement (application)", raw_of(candidate)
                )
            )
            continue
        person = _person(candidate)
        for placement in placements:
            offer = placement.get("offer") if isinstance(placement.get("offer"), dict) else {}
            hired = placement.get("hired_at") or str(dig(placement, "stage", "category") or "").lower() == "hire"
            disqualified = placement.get("disqualified") is True or bool(placement.get("disqualified_at"))
            status = "hired" if hired else "rejected" if disqualified else "active"
            rows.add(
                {
                    **person,
                    "source_row": i,
                    "source_application_id": text(placement.get("id")),
                    "language": text(placement.get("language")),
                    "job_source_id": text(placement.get("offer_id")) or text(offer.get("id")),
                    "job_title": text(offer.get("title")),
                    "department": name_of(offer.get("department"), "name"),
                    "applied_at": placement.get("created_at") or person["applied_at"],
                    "rejected_at": placement.get("disqualified_at") if status == "rejected" else None,
                    "status": status,
                    "stage_name": name_of(placement.get("stage"), "name"),
                    "rejection_reason": name_of(placement.get("disqualify_reason"), "name", "text"),
                    "rejection_side_hint": rejection_side(placement.get("disqualify_kind")),
                    "last_activity_at": placement.get("updated_at") or person["last_activity_at"],
                }
            )
    return ParsedFile(SOURCE, rows.canonical(), rejected)
