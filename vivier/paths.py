"""Where the project keeps its files (the data folder, the shipped `include/` assets)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = PROJECT_ROOT / "sql"


def data_dir() -> Path:
    """The project's data folder (`data/` at the root unless `VIVIER_DATA_DIR` says otherwise)."""
    return Path(os.environ.get("VIVIER_DATA_DIR", PROJECT_ROOT / "data"))


def default_crm_sqlite_path() -> Path:
    """The embedded default CRM database file."""
    return data_dir() / "crm.sqlite"
