"""Access requests (GDPR Art. 15): everything held on a person, as one JSON document."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vivier.db.schema import metadata, persons

# Tables read by person_id, with the columns that are internal bookkeeping rather than data about them.
LEFT_OUT = {"outbox": {"body_html"}}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def person_tables() -> list[sa.Table]:
    """Every CRM table with a ``person_id`` column, persons first."""
    tables = [t for t in metadata.sorted_tables if "person_id" in t.columns and t.name != "persons"]
    return [persons, *sorted(tables, key=lambda t: t.name)]


def export_person(connection: sa.Connection, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """Table name -> the person's rows (every column but rendered HTML), for every table that holds any."""
    document: dict[str, list[dict[str, Any]]] = {}
    for table in person_tables():
        columns = [c for c in table.columns if c.name not in LEFT_OUT.get(table.name, set())]
        condition = table.c.person_id == person_id
        if "other_person_id" in table.columns:
            condition = sa.or_(condition, table.c.other_person_id == person_id)
        rows = connection.execute(sa.select(*columns).where(condition)).mappings().all()
        if rows:
            document[table.name] = [{key: _plain(value) for key, value in row.items()} for row in rows]
    return document


def write_export(document: dict[str, Any], folder: Path, request_id: int) -> Path:
    """The export as ``<folder>/access-request-<id>.json`` (readable only by its owner)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"access-request-{request_id}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    path.chmod(0o600)
    return path
