"""Schema migrations of the CRM database (Alembic, run programmatically on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "vivier_alembic_version"


class OutdatedSchemaError(RuntimeError):
    """The CRM database is not at the revision this code expects."""


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with the code."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (``None`` when it was never migrated)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


class ForeignKeyViolationError(RuntimeError):
    """A migration left rows whose foreign keys point nowhere (nothing was committed)."""


def upgrade(engine: sa.Engine, revision: str = "head") -> str:
    """Upgrade the database to ``revision``; returns the revision it is at afterwards.

    On SQLite, foreign keys are switched off around the migrations (they can only be switched
    outside a transaction), so that rebuilding a parent table never cascades to its children, and
    every foreign key is checked before the transaction commits: SQLite's procedure for altering
    tables.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun transaction; pysqlite opened none for a PRAGMA
        try:
            with connection.begin():
                before = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
                start = before.get_current_revision()
                command.upgrade(_config(connection), revision)
                after = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
                if sqlite and after.get_current_revision() != start:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise ForeignKeyViolationError(f"migration to {revision} broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    return current_revision(engine) or "base"


def downgrade(engine: sa.Engine, revision: str = "base") -> str | None:
    """Downgrade the database to ``revision`` (``base`` drops every table)."""
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)
    return current_revision(engine)


def ensure_current(engine: sa.Engine) -> str:
    """Raise :class:`OutdatedSchemaError` unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has never been migrated" if current is None else f"is at revision {current}"
        raise OutdatedSchemaError(
            f"The CRM database {where} {state}, but this code needs revision {head}. "
            "Run `make migrate` (or trigger the crm_migrate DAG) and try again."
        )
    return current
