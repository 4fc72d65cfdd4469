"""Teamtailor JSON:API export -> canonical applications (one row per job application).

``data`` holds the candidates; their ``job-applications`` relationship is resolved through ``included`` by
(type, id), and so are each application's ``job``, ``stage`` and ``reject-reason`` (and the job's
``department``). When a candidate's relationship carries no linkage, included job-applications pointing back
to the candidate are used. ``source_row`` is the candidate's 1-based index in ``data``; a candidate whose
applications cannot be found at all is a RejectedRecord (one per missing application when ids are known).

``rejected-by-company`` true -> side company, false -> candidate. ``consent-future-jobs-at`` non-null ->
consent True (the date goes to nothing: Teamtailor records no expiry). ``unsubscribed`` true -> True.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from vivier.ingest.canonical import ParsedFile, RejectedRecord, UnreadableFileError
from vivier.ingest.detect import load_json
from vivier.ingest.formats._common import ColumnBuilder, dig, join_pipe, not_an_object, raw_of, text

SOURCE = "teamtailor"
Key = tuple[str, str]


def parse(path: str | Path, document: Any = None) -> ParsedFile:
    return parse_document(load_json(path) if document is None else document)


def _key(linkage: Any) -> Key | None:
    if isinstance(linkage, dict) and linkage.get("type") is not None and linkage.get("id") is not None:
        return str(linkage["type"]), str(linkage["id"])
    return None


def _linkages(resource: dict[str, Any], relation: str) -> list[Key] | None:
    """Keys of a relationship's linkage data; None when the relationship carries no data member."""
    rel = dig(resource, "relationships", relation)
    if not isinstance(rel, dict) or "data" not in rel:
        return None
    data = rel["data"]
    items = data if isinstance(data, list) else [data]
    return [k for k in (_key(i) for i in items) if k is not None]


def _attr(resource: dict[str, Any] | None, name: str) -> Any:
    return dig(resource, "attributes", name)


def rejection_side(rejected_by_company: Any) -> str | None:
    if rejected_by_company is True:
        return "company"
    if rejected_by_company is False:
        return "candidate"
    return None


class _Index:
    def __init__(self, included: list[Any]) -> None:
        self.resources: dict[Key, dict[str, Any]] = {}
        self.apps_of_candidate: dict[str, list[Key]] = defaultdict(list)
        for resource in included:
            key = _key(resource)
            if key is None:
                continue
            self.resources[key] = resource
            if key[0] == "job-applications":
                for _type, cid in _linkages(resource, "candidate") or []:
                    self.apps_of_candidate[cid].append(key)

    def one(self, resource: dict[str, Any] | None, relation: str) -> dict[str, Any] | None:
        if resource is None:
            return None
        keys = _linkages(resource, relation)
        return self.resources.get(keys[0]) if keys else None


def _person(candidate: dict[str, Any]) -> dict[str, Any]:
    attrs = candidate.get("attributes") if isinstance(candidate.get("attributes"), dict) else {}
    sourced = attrs.get("sourced")
    consent_at = attrs.get("consent-future-jobs-at")
    return {
        "source_system": SOURCE,
        "source_person_id": text(candidate.get("id")),
        "first_name": text(attrs.get("first-name")),
        "last_name": text(attrs.get("last-name")),
        "email": text(attrs.get("email")),
        "phone": text(attrs.get("phone")),
        "source_channel": "sourced" if sourced is True else text(attrs.get("referring-site")),
        "tags": join_pipe(attrs.get("tags")),
        "skills_text": join_pipe([attrs.get("tags"), attrs.get("pitch"), attrs.get("resume-summary")]),
        "consent_future_jobs": True if consent_at not in (None, "", False) else None,
        "unsubscribed": True if attrs.get("unsubscribed") is True else None,
        "last_activity_at": attrs.get("updated-at"),
    }


def parse_document(document: Any) -> ParsedFile:
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise UnreadableFileError("not a Teamtailor JSON:API export (expected a 'data' list)")
    included = document.get("included") if isinstance(document.get("included"), list) else []
    index = _Index(included)
    rows = ColumnBuilder()
    rejected: list[RejectedRecord] = []

    for i, candidate in enumerate(document["data"], start=1):
        if not isinstance(candidate, dict):
            rejected.append(not_an_object(i, candidate, "data element"))
            continue
        if candidate.get("type") not in (None, "candidates"):
            rejected.append(
                RejectedRecord(
                    i, f"data element #{i} is a {candidate.get('type')!r}, not a candidate", raw_of(candidate)
                )
            )
            continue
        cid = text(candidate.get("id")) or ""
        keys = _linkages(candidate, "job-applications")
        if not keys:
            keys = index.apps_of_candidate.get(cid, [])
        if not keys:
            rejected.append(
                RejectedRecord(i, f"candidate {cid}: no job application (none linked or included)", raw_of(candidate))
            )
            continue
        person = _person(candidate)
        for key in keys:
            app = index.resources.get(key)
            if app is None:
                rejected.append(
                    RejectedRecord(
                        i,
                        f"candidate {cid}: job-application {key[1]} is linked but not in 'included'",
                        raw_of({"candidate": cid, "job-application": key[1]}),
                    )
                )
                continue
            job = index.one(app, "job")
            stage = index.one(app, "stage")
            reason = index.one(app, "reject-reason")
            department = index.one(job, "department")
            rejected_at = _attr(app, "rejected-at")
            stage_type = str(_attr(stage, "stage-type") or "").lower()
            if rejected_at:
                status = "rejected"
            elif stage_type == "hired":
                status = "hired"
            else:
                status = "active"
            job_keys = _linkages(app, "job") or []
            rows.add(
                {
                    **person,
                    "source_row": i,
                    "source_application_id": text(app.get("id")),
                    "job_source_id": job_keys[0][1] if job_keys else None,
                    "job_title": text(_attr(job, "title")),
                    "department": text(_attr(department, "name")),
                    "applied_at": _attr(app, "created-at"),
                    "rejected_at": rejected_at,
                    "status": status,
                    "stage_name": text(_attr(stage, "name")),
                    "rejection_reason": text(_attr(reason, "reason")),
                    "rejection_side_hint": rejection_side(_attr(reason, "rejected-by-company")) if reason else None,
                    "source_channel": "sourced" if _attr(app, "sourced") is True else person["source_channel"],
                    "last_activity_at": _attr(app, "updated-at") or person["last_activity_at"],
                }
            )
    return ParsedFile(SOURCE, rows.canonical(), rejected)
