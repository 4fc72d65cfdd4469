"""SQLite: person ids are never reused (persons rebuilt with AUTOINCREMENT).

Without AUTOINCREMENT, SQLite gives a new row the largest id + 1, so erasing the person with the
largest id and then creating someone new would hand the erased person's id to the newcomer, and
links or tokens still naming the old id would act on the new person. PostgreSQL sequences never go
back: nothing to do there.

The table is rebuilt the way SQLite recommends (foreign keys off around the migration, see
``vivier.db.migrate.upgrade``; rows, ids and indexes kept). Downgrading keeps AUTOINCREMENT: the
table is otherwise the same as at revision 0004.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("persons", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    """Nothing to undo: AUTOINCREMENT only changes how new ids are chosen."""
