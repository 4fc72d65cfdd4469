"""Identity review: suggestions table, a folded-name key and a phone index on persons.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_persons_phone_e164"), ["phone_e164"], unique=False)
        batch_op.create_index(batch_op.f("ix_persons_name_key"), ["name_key"], unique=False)
    op.create_table(
        "identity_suggestions",
        sa.Column("suggestion_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("other_person_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.person_id"],
            name=op.f("fk_identity_suggestions_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_person_id"],
            ["persons.person_id"],
            name=op.f("fk_identity_suggestions_other_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", name=op.f("pk_identity_suggestions")),
        sa.UniqueConstraint(
            "person_id", "other_person_id", "rule", name=op.f("uq_identity_suggestions_person_id_other_person_id_rule")
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_suggestions")
    with op.batch_alter_table("persons") as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_name_key"))
        batch_op.drop_index(batch_op.f("ix_persons_phone_e164"))
        batch_op.drop_column("name_key")
