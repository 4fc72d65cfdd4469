"""Lever opportunities export -> canonical applications (one opportunity = one application).

Accepts a list of opportunities or an API page ``{"data": [...], "hasNext": ...}``. Times are epoch
milliseconds and become tz-aware UTC Timestamps. ``contact`` is the person id shared by a person's
opportunities. An archived opportunity is rejected unless its archive reason is a hired one (reason expanded
as ``{"text": "Hired", "status": "hired"}`` or a reason id/text containing "hired"). The stage is
``stage.text`` when expanded, else the stage id. ``dataProtection.contact.allowed/expiresAt`` give consent.
Lever does not say who rejected whom: ``rejection_side_hint`` stays None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vivier.ingest.canonical import ParsedFile, RejectedRecord, UnreadableFileError
from vivier.ingest.detect import load_json
from vivier.ingest.formats._common import (
    ColumnBuilder,
    as_list,
    dig,
    epoch_ms,
    join_pipe,
    name_of,
    not_an_object,
    pick_typed,
    text,
)

SOURCE = "lever"


def parse(path: str | Path, document: Any = None) -> ParsedFile:
    return parse_document(load_json(path) if document is None else document)


def _is_hired_reason(reason: Any) -> bool:
    if isinstance(reason, dict):
        status = str(reason.get("status") or reason.get("type") or "").lower()
        if status:
            return status == "hired"
        reason = reason.get("text") or reason.get("id")
    return isinstance(reason, str) and "hired" in reason.lower() and "non-hired" not in reason.lower()


def _opportunity(opp: dict[str, Any], source_row: int) -> dict[str, Any]:
    archived = opp.get("archived") if isinstance(opp.get("archived"), dict) else None
    reason = archived.get("reason") if archived else None
    if archived is None:
        status, rejected_at = "active", None
    elif _is_hired_reason(reason):
        status, rejected_at = "hired", None
    else:
        status, rejected_at = "rejected", epoch_ms(archived.get("archivedAt"))
    application = next((a for a in as_list(opp.get("applications")) if isinstance(a, dict)), None)
    posting = dig(application, "posting")
    contact = dig(opp, "dataProtection", "contact")
    allowed = contact.get("allowed") if isinstance(contact, dict) else None
    headline = text(opp.get("headline"))
    sources = [s for s in as_list(opp.get("sources")) if s]
    return {
        "source_row": source_row,
        "source_system": SOURCE,
        "source_person_id": text(opp.get("contact")),
        "source_application_id": text(opp.get("id")),
        "full_name": text(opp.get("name")),
        "email": text(next(iter(as_list(opp.get("emails"))), None)),
        "phone": pick_typed(opp.get("phones"), ("mobile",)),
        "city": text(opp.get("location")),
        "headline": headline,
        "job_source_id": name_of(posting, "id"),
        "job_title": text(dig(posting, "text")) or text(dig(application, "postingTitle")),
        "department": text(dig(posting, "categories", "department")) or text(dig(posting, "categories", "team")),
        "applied_at": epoch_ms(dig(application, "createdAt") or opp.get("createdAt")),
        "rejected_at": rejected_at,
        "status": status,
        "stage_name": name_of(opp.get("stage"), "text", "id"),
        "rejection_reason": name_of(reason, "text", "id") if status == "rejected" else None,
        "rejection_side_hint": None,
        "source_channel": text(sources[0]) if sources else text(opp.get("origin")),
        "tags": join_pipe(opp.get("tags")),
        "skills_text": join_pipe([opp.get("tags"), headline]),
        "consent_future_jobs": allowed if isinstance(allowed, bool) else None,
        "consent_expires_at": epoch_ms(contact.get("expiresAt")) if isinstance(contact, dict) else None,
        "last_activity_at": epoch_ms(opp.get("lastInteractionAt") or opp.get("updatedAt")),
    }


def parse_document(document: Any) -> ParsedFile:
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        document = document["data"]
    if not isinstance(document, list):
        raise UnreadableFileError("not a Lever opportunities export (expected a list of opportunities)")
    rows = ColumnBuilder()
    rejected: list[RejectedRecord] = []
    for i, opp in enumerate(document, start=1):
        if not isinstance(opp, dict):
            rejected.append(not_an_object(i, opp, "opportunity"))
            continue
        rows.add(_opportunity(opp, i))
    return ParsedFile(SOURCE, rows.canonical(), rejected)
