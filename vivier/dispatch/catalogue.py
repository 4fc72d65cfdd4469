"""The content catalogue: events, employee testimonials, company news and job-market information,
kept as YAML or CSV files under ``include/content/`` and loaded into the table ``content_items``.

YAML: ``items: [{id, purpose, language, title, summary, url, ...}]``; CSV: one item per row with
the same column names (``age_bands`` as ``18-24|25-34``). Fields:

    id            stable id (never reuse one: messages record the ids they carried)
    purpose       events | testimonials | company_news | job_market
    language      fr | en | de | it
    title, summary, url, location
    job_family    job family id (include/taxonomy/job_families.yaml): testimonials go to that family
    age_bands     the age bands it is meant for (empty: everyone)
    starts_at     events: when it takes place (an event is proposed only before it starts)
    published_at  first day it may be sent (default: now)
    expires_at    last moment it may be sent (events: default starts_at)
    weight        ranking weight (default 1)

Loading is an upsert: a changed item is updated, an item gone from the files is retired (kept,
because sent messages refer to it), a re-load of the same files changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import yaml

from vivier.db.schema import content_items
from vivier.dispatch.templating import LANGUAGES
from vivier.paths import INCLUDE_DIR

CONTENT_DIR = INCLUDE_DIR / "content"
CONTENT_PURPOSES = ("events", "testimonials", "company_news", "job_market")
FIELDS = ("title", "summary", "url", "location", "job_family", "age_bands", "starts_at", "published_at", "expires_at")


class CatalogueProblem(ValueError):
    """A catalogue file has an invalid item (the message names the file and the item)."""


@dataclass(frozen=True)
class LoadCounts:
    items: int
    inserted: int
    updated: int
    retired: int


def _time(value: Any, where: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise CatalogueProblem(f"{where}: {value!r} is not a date") from None
    return stamp.tz_localize("Europe/Paris").tz_convert("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _bands(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split("|")]
    bands = [str(band) for band in value if str(band).strip()]
    return sorted(bands) or None


def _raw_items(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CatalogueProblem(f"{path.name}: not valid YAML ({error.__class__.__name__})") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CatalogueProblem(f"{path.name}: expected a mapping with a list under 'items'")
    return items


def _item(raw: dict[str, Any], path: Path, position: int, default_published: pd.Timestamp) -> dict[str, Any]:
    item_id = str(raw.get("id") or "").strip()
    where = f"{path.name} item {position} ({item_id or 'no id'})"
    if not item_id:
        raise CatalogueProblem(f"{where}: an id is required")
    purpose, language = str(raw.get("purpose") or ""), str(raw.get("language") or "")
    if purpose not in CONTENT_PURPOSES:
        raise CatalogueProblem(f"{where}: purpose must be one of {CONTENT_PURPOSES}, not {purpose!r}")
    if language not in LANGUAGES:
        raise CatalogueProblem(f"{where}: language must be one of {LANGUAGES}, not {language!r}")
    title = str(raw.get("title") or "").strip()
    if not title:
        raise CatalogueProblem(f"{where}: a title is required")
    starts_at = _time(raw.get("starts_at"), where)
    if purpose == "events" and starts_at is None:
        raise CatalogueProblem(f"{where}: an event needs starts_at")
    expires_at = _time(raw.get("expires_at"), where) or (starts_at if purpose == "events" else None)
    weight = float(raw.get("weight") or 1.0)

    def text(name: str) -> str | None:
        value = raw.get(name)
        return str(value).strip() or None if value is not None else None

    item = {
        "item_id": item_id,
        "purpose": purpose,
        "language": language,
        "title": title,
        "summary": text("summary"),
        "url": text("url"),
        "location": text("location"),
        "job_family": text("job_family"),
        "age_bands": _bands(raw.get("age_bands")),
        "starts_at": starts_at,
        "published_at": _time(raw.get("published_at"), where) or default_published,
        "expires_at": expires_at,
        "weight": weight,
        "source_file": path.name,
    }
    fingerprint = {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in item.items()}
    item["content_sha256"] = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
    return item


def read_catalogue(folder: Path = CONTENT_DIR, default_published: Any = "2026-01-01") -> list[dict[str, Any]]:
    """Every item of the YAML and CSV files of ``folder``, validated; ids must be unique."""
    published = _time(default_published, "default_published")
    items: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".yaml", ".yml", ".csv"))
    for path in files:
        for position, raw in enumerate(_raw_items(path), start=1):
            if not isinstance(raw, dict):
                raise CatalogueProblem(f"{path.name} item {position}: expected a mapping")
            item = _item(raw, path, position, published)
            if item["item_id"] in seen:
                raise CatalogueProblem(
                    f"{path.name}: id {item['item_id']!r} is already used in {seen[item['item_id']]}"
                )
            seen[item["item_id"]] = path.name
            items.append(item)
    return items


def _upsert(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(content_items)
    changing = [c.name for c in content_items.columns if c.name != "item_id"]
    statement = statement.on_conflict_do_update(
        index_elements=["item_id"],
        set_={name: statement.excluded[name] for name in changing},
        where=sa.or_(
            content_items.c.content_sha256 != statement.excluded.content_sha256,
            content_items.c.retired_at.is_not(None),
        ),
    )
    connection.execute(statement, rows)


def load_catalogue(connection: sa.Connection, items: Iterable[dict[str, Any]], as_of: Any) -> LoadCounts:
    """Upsert the items into ``content_items`` and retire the ones no longer in the files."""
    stamp = pd.Timestamp(as_of).to_pydatetime()
    rows = [
        {
            **item,
            **{k: item[k].to_pydatetime() if isinstance(item[k], pd.Timestamp) else item[k] for k in FIELDS},
            "updated_at": stamp,
            "retired_at": None,
        }
        for item in items
    ]
    known = dict(
        connection.execute(
            sa.select(content_items.c.item_id, content_items.c.content_sha256).where(
                content_items.c.retired_at.is_(None)
            )
        ).all()
    )
    inserted = sum(1 for row in rows if row["item_id"] not in known)
    updated = sum(1 for row in rows if row["item_id"] in known and known[row["item_id"]] != row["content_sha256"])
    if rows:
        _upsert(connection, rows)
    ids = [row["item_id"] for row in rows]
    retire = content_items.update().where(content_items.c.retired_at.is_(None)).values(retired_at=stamp)
    if ids:
        retire = retire.where(content_items.c.item_id.not_in(ids))
    retired = connection.execute(retire).rowcount
    return LoadCounts(items=len(rows), inserted=inserted, updated=updated, retired=max(retired, 0))
