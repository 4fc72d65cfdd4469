"""Alembic environment for the CRM database; driven from :mod:`vivier.db.migrate`."""

from __future__ import annotations

from alembic import context

from vivier.db.schema import metadata

VERSION_TABLE = "vivier_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
