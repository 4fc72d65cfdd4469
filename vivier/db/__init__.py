"""The CRM database: engines, the table definitions and the Alembic migrations."""

from vivier.db.engine import crm_url_from_connection, default_crm_url, make_engine
from vivier.db.migrate import (
    OutdatedSchemaError,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    upgrade,
)

__all__ = [
    "OutdatedSchemaError",
    "crm_url_from_connection",
    "current_revision",
    "default_crm_url",
    "downgrade",
    "ensure_current",
    "head_revision",
    "make_engine",
    "upgrade",
]
