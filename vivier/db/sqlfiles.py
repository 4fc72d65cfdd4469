"""Run the set-based SQL kept under ``sql/`` (one or more statements per file, named parameters)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import sqlalchemy as sa

from vivier.paths import SQL_DIR


@cache
def statements(name: str) -> tuple[str, ...]:
    """The statements of ``sql/<name>.sql`` (comments removed, split on ``;`` at line ends)."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    text = re.sub(r"--[^\n]*", "", text)
    return tuple(part.strip() for part in re.split(r";\s*(?:\n|$)", text) if part.strip())


def run_sql(connection: sa.Connection, name: str, **params: Any) -> list[sa.CursorResult]:
    """Execute every statement of ``sql/<name>.sql`` with the parameters it uses."""
    results = []
    for statement in statements(name):
        used = {key: value for key, value in params.items() if f":{key}" in statement}
        results.append(connection.execute(sa.text(statement), used))
    return results
