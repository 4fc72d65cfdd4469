"""Dispatch rendered in parts: a staged plan per batch (its parts and the people in each) and the
batch's finalisation time (a batch is deliverable once finalised; batches planned before are).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("dispatch_batches") as batch_op:
        batch_op.add_column(sa.Column("finalised_at", TS, nullable=True))
    op.execute("UPDATE dispatch_batches SET finalised_at = planned_at")

    op.create_table(
        "dispatch_stage_parts",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("signature", sa.String(length=64), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=True),
        sa.Column("template_versions", sa.JSON(), nullable=True),
        sa.Column("rendered_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["dispatch_batches.batch_id"],
            name=op.f("fk_dispatch_stage_parts_batch_id_dispatch_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "part", name=op.f("pk_dispatch_stage_parts")),
    )
    op.create_table(
        "dispatch_stage_people",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("job", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id", "part"],
            ["dispatch_stage_parts.batch_id", "dispatch_stage_parts.part"],
            name=op.f("fk_dispatch_stage_people_batch_id_dispatch_stage_parts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.person_id"],
            name=op.f("fk_dispatch_stage_people_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", "job", name=op.f("pk_dispatch_stage_people")),
    )
    op.create_index(op.f("ix_dispatch_stage_people_person_id"), "dispatch_stage_people", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dispatch_stage_people_person_id"), table_name="dispatch_stage_people")
    op.drop_table("dispatch_stage_people")
    op.drop_table("dispatch_stage_parts")
    with op.batch_alter_table("dispatch_batches") as batch_op:
        batch_op.drop_column("finalised_at")
