"""ATS job exports -> one jobs frame (``JOB_COLUMNS``).

``required_skills_text`` / ``nice_skills_text`` are filled only where the ATS has explicit lists (Lever
``content.lists`` classified by their heading, Workable and Recruitee ``requirements``), '|'-joined; otherwise
they are empty and the description is tagged later. HTML is reduced to text. ``status`` is the vendor's job
state as exported; ``opened_at`` as exported (Lever epoch ms -> UTC Timestamp).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vivier.ingest.canonical import RejectedRecord, UnreadableFileError
from vivier.ingest.detect import JOB_FORMATS, load_json, sniff
from vivier.ingest.formats._common import (
    ColumnBuilder,
    as_list,
    dig,
    epoch_ms,
    join_pipe,
    name_of,
    not_an_object,
    text,
)
from vivier.ingest.mapping import fold

JOB_COLUMNS: list[str] = [
    "source_system",
    "source_job_id",
    "title",
    "department",
    "location",
    "country",
    "language",
    "description",
    "required_skills_text",
    "nice_skills_text",
    "status",
    "opened_at",
    "source_row",
]


@dataclass
class JobsParsed:
    """What a jobs adapter returns for one file."""

    source_system: str
    jobs: pd.DataFrame
    rejected: list[RejectedRecord] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.jobs) + len(self.rejected)


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|div|br|li|ul|ol|h[1-6]|tr)\b[^>]*>", re.I)
_LI = re.compile(r"<li\b[^>]*>(.*?)</li\s*>", re.I | re.S)
_NICE = re.compile(r"nice|bonus|plus|prefer|atout|apprecie|souhait|wunsch|vorteil|gradit|optional")
_REQUIRED = re.compile(
    r"requir|musthave|profil|whatyoubring|youhave|youllbring|qualif|attendu|exig|anforderung|requisit|skills|"
    r"competen|mustbring|whatweexpect|whatwerelookingfor|lookingfor"
)


def html_text(value: Any) -> str | None:
    """Plain text of an HTML fragment (block tags become newlines), or the string itself."""
    raw = text(value)
    if raw is None:
        return None
    if "<" not in raw:
        return html.unescape(raw).strip() or None
    plain = _TAG.sub("", _BLOCK.sub("\n", raw))
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in html.unescape(plain).splitlines()]
    return "\n".join(line for line in lines if line) or None


def html_items(value: Any) -> list[str]:
    """The items of an HTML list (``<li>``), else the non-empty lines, else a list given as such."""
    if isinstance(value, list):
        return [
            t for t in (html_text(v) if not isinstance(v, dict) else name_of(v, "text", "name") for v in value) if t
        ]
    raw = text(value)
    if not raw:
        return []
    items = [html_text(m) for m in _LI.findall(raw)]
    items = [i for i in items if i]
    if items:
        return items
    plain = html_text(raw) or ""
    return [re.sub(r"^[-*\u2022]\s*", "", line).strip() for line in plain.splitlines() if line.strip()]


def _pipe(items: list[str]) -> str | None:
    return "|".join(items) if items else None


def _greenhouse(document: Any, rows: ColumnBuilder, rejected: list[RejectedRecord]) -> None:
    items = document.get("jobs") if isinstance(document, dict) else document
    for i, job in enumerate(as_list(items), start=1):
        if not isinstance(job, dict):
            rejected.append(not_an_object(i, job, "job"))
            continue
        office = dig(job, "offices", 0)
        rows.add(
            {
                "source_row": i,
                "source_system": "greenhouse",
                "source_job_id": text(job.get("id")),
                "title": text(job.get("name")) or text(job.get("title")),
                "department": name_of(dig(job, "departments", 0), "name"),
                "location": text(dig(office, "location", "name")) or name_of(office, "name"),
                "description": html_text(job.get("content") or job.get("notes")),
                "status": text(job.get("status")),
                "opened_at": job.get("opened_at") or job.get("created_at"),
            }
        )


def _lever(document: Any, rows: ColumnBuilder, rejected: list[RejectedRecord]) -> None:
    if isinstance(document, dict):
        document = document.get("data") if isinstance(document.get("data"), list) else document.get("postings")
    for i, posting in enumerate(as_list(document), start=1):
        if not isinstance(posting, dict):
            rejected.append(not_an_object(i, posting, "posting"))
            continue
        required: list[str] = []
        nice: list[str] = []
        for block in as_list(dig(posting, "content", "lists")):
            if not isinstance(block, dict):
                continue
            heading = fold(str(block.get("text") or ""))
            target = nice if _NICE.search(heading) else required if _REQUIRED.search(heading) else None
            if target is not None:
                target.extend(html_items(block.get("content")))
        categories = posting.get("categories") if isinstance(posting.get("categories"), dict) else {}
        rows.add(
            {
                "source_row": i,
                "source_system": "lever",
                "source_job_id": text(posting.get("id")),
                "title": text(posting.get("text")),
                "department": text(categories.get("department")) or text(categories.get("team")),
                "location": text(categories.get("location")),
                "country": text(posting.get("country")),
                "language": text(posting.get("language")),
                "description": html_text(
                    dig(posting, "content", "descriptionHtml") or dig(posting, "content", "description")
                ),
                "required_skills_text": _pipe(required),
                "nice_skills_text": _pipe(nice),
                "status": text(posting.get("state")),
                "opened_at": epoch_ms(posting.get("createdAt")),
            }
        )


def _teamtailor(document: Any, rows: ColumnBuilder, rejected: list[RejectedRecord]) -> None:
    included = {}
    for resource in as_list(document.get("included")):
        if isinstance(resource, dict) and resource.get("type") is not None:
            included[(str(resource["type"]), str(resource.get("id")))] = resource

    def related(resource: dict[str, Any], relation: str) -> dict[str, Any] | None:
        data = dig(resource, "relationships", relation, "data")
        data = data[0] if isinstance(data, list) and data else data
        if not isinstance(data, dict):
            return None
        return included.get((str(data.get("type")), str(data.get("id"))))

    for i, job in enumerate(as_list(document.get("data")), start=1):
        if not isinstance(job, dict):
            rejected.append(not_an_object(i, job, "data element"))
            continue
        attrs = job.get("attributes") if isinstance(job.get("attributes"), dict) else {}
        location = related(job, "locations") or related(job, "location")
        rows.add(
            {
                "source_row": i,
                "source_system": "teamtailor",
                "source_job_id": text(job.get("id")),
                "title": text(attrs.get("title")),
                "department": text(dig(related(job, "department"), "attributes", "name")),
                "location": text(dig(location, "attributes", "city")) or text(dig(location, "attributes", "name")),
                "country": text(dig(location, "attributes", "country")),
                "language": text(attrs.get("language-code")) or text(attrs.get("language")),
                "description": html_text(attrs.get("body")),
                "status": text(attrs.get("status")),
                "opened_at": attrs.get("created-at"),
            }
        )


def _recruitee(document: Any, rows: ColumnBuilder, rejected: list[RejectedRecord]) -> None:
    for i, offer in enumerate(as_list(document.get("offers")), start=1):
        if not isinstance(offer, dict):
            rejected.append(not_an_object(i, offer, "offer"))
            continue
        rows.add(
            {
                "source_row": i,
                "source_system": "recruitee",
                "source_job_id": text(offer.get("id")),
                "title": text(offer.get("title")),
                "department": name_of(offer.get("department"), "name"),
                "location": text(offer.get("city")) or text(offer.get("location")),
                "country": text(offer.get("country_code")) or text(offer.get("country")),
                "language": text(offer.get("language")) or text(dig(offer, "primary_lang_code")),
                "description": html_text(offer.get("description")),
                "required_skills_text": _pipe(html_items(offer.get("requirements"))),
                "status": text(offer.get("status")),
                "opened_at": offer.get("published_at") or offer.get("created_at"),
            }
        )


def _workable(document: Any, rows: ColumnBuilder, rejected: list[RejectedRecord]) -> None:
    for i, job in enumerate(as_list(document.get("jobs")), start=1):
        if not isinstance(job, dict):
            rejected.append(not_an_object(i, job, "job"))
            continue
        location = job.get("location") if isinstance(job.get("location"), dict) else {}
        rows.add(
            {
                "source_row": i,
                "source_system": "workable",
                "source_job_id": text(job.get("shortcode")),
                "title": text(job.get("title")),
                "department": text(job.get("department")),
                "location": text(location.get("city")) or text(location.get("location_str")),
                "country": text(location.get("country_code")) or text(location.get("country")),
                "language": text(job.get("language")),
                "description": html_text(job.get("description")),
                "required_skills_text": _pipe(html_items(job.get("requirements"))),
                "nice_skills_text": join_pipe([job.get("preferred_skills")]),
                "status": text(job.get("state")),
                "opened_at": job.get("created_at"),
            }
        )


_ADAPTERS = {
    "greenhouse_jobs": ("greenhouse", _greenhouse),
    "lever_jobs": ("lever", _lever),
    "teamtailor_jobs": ("teamtailor", _teamtailor),
    "recruitee_jobs": ("recruitee", _recruitee),
    "workable_jobs": ("workable", _workable),
}


def parse_jobs_document(kind: str, document: Any) -> JobsParsed:
    if kind not in _ADAPTERS:
        raise UnreadableFileError(f"{kind!r} is not a jobs export kind ({list(JOB_FORMATS)})")
    source, adapter = _ADAPTERS[kind]
    rows = ColumnBuilder(JOB_COLUMNS)
    rejected: list[RejectedRecord] = []
    adapter(document, rows, rejected)
    frame = rows.frame() if rows.count else pd.DataFrame(columns=JOB_COLUMNS)
    return JobsParsed(source, frame.reindex(columns=JOB_COLUMNS), rejected)


def parse_jobs_file(path: str | Path) -> JobsParsed:
    """Parse an ATS jobs export (greenhouse jobs, lever postings, teamtailor jobs, recruitee offers, workable)."""
    path = Path(path)
    sniffed = sniff(path)
    if sniffed.kind not in JOB_FORMATS:
        raise UnreadableFileError(f"{path.name}: a {sniffed.kind} applications export, not a jobs export")
    document = sniffed.document if sniffed.document is not None else load_json(path)
    return parse_jobs_document(sniffed.kind, document)
