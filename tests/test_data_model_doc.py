"""docs/data-model.md documents every table and column of the CRM database, and nothing that is gone."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT
from vivier.db.schema import metadata


def documented_columns() -> dict[str, set[str]]:
    text = (REPO_ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    tables: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^## (\w+)\s*$", line)
        if heading:
            current = tables.setdefault(heading.group(1), set())
            continue
        row = re.match(r"^\| (\w+) \|", line)
        if current is not None and row and row.group(1) != "column":
            current.add(row.group(1))
    return tables


def test_every_table_and_column_is_documented() -> None:
    documented = documented_columns()
    for table in metadata.sorted_tables:
        assert table.name in documented, f"table {table.name} is not documented"
        assert documented[table.name] == {c.name for c in table.columns}, table.name
    assert set(documented) == {t.name for t in metadata.sorted_tables}
