"""SQLite: person_tags stored by its key (WITHOUT ROWID).

A person's tags are read and written in key order (person, kind, value): kept in one B-tree ordered by
that key instead of a row table plus a separate key index, a large ingestion writes them about a
third faster and the table takes less room. PostgreSQL tables have no rowid: nothing to do there.

The table is rebuilt the way SQLite recommends (foreign keys off around the migration, see
``vivier.db.migrate.upgrade``; rows and indexes kept). Downgrading rebuilds it with a rowid.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("person_tags", recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
