"""Email dispatch: batches, the outbox's delivery columns, consents and items per message, the content
catalogue, bounce and complaint feedback.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _outbox_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["message_id"], ["outbox.message_id"], name=op.f(f"fk_{table}_message_id_outbox"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "dispatch_batches",
        sa.Column("batch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("template_versions", sa.JSON(), nullable=True),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("planned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unknown", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skip_reasons", sa.JSON(), nullable=True),
        sa.Column("planned_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_dispatch_batches")),
        sa.UniqueConstraint("campaign", "period", name=op.f("uq_dispatch_batches_campaign_period")),
    )

    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("is_bulk", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("recipient_name", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recipient_hmac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_at", TS, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_outbox_batch_id_dispatch_batches"),
            "dispatch_batches",
            ["batch_id"],
            ["batch_id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_outbox_batch_id_state"), ["batch_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_person_id_planned_at"), ["person_id", "planned_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_recipient_hmac"), ["recipient_hmac"], unique=False)

    op.create_table(
        "outbox_consents",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("consent_event_id", sa.Integer(), nullable=True),
        _outbox_fk("outbox_consents"),
        sa.PrimaryKeyConstraint("message_id", "purpose", name=op.f("pk_outbox_consents")),
    )

    op.create_table(
        "outbox_items",
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("item_ref", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        _outbox_fk("outbox_items"),
        sa.PrimaryKeyConstraint("message_id", "position", name=op.f("pk_outbox_items")),
    )
    op.create_index(op.f("ix_outbox_items_kind_item_ref"), "outbox_items", ["kind", "item_ref"])

    op.create_table(
        "content_items",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("job_family", sa.Text(), nullable=True),
        sa.Column("age_bands", sa.JSON(), nullable=True),
        sa.Column("starts_at", TS, nullable=True),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_content_items")),
    )
    op.create_index(op.f("ix_content_items_purpose_language"), "content_items", ["purpose", "language"])

    op.create_table(
        "delivery_feedback",
        sa.Column("feedback_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("record_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("email_hmac", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("occurred_at", TS, nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_delivery_feedback")),
        sa.UniqueConstraint("file_sha256", "record_no", name=op.f("uq_delivery_feedback_file_sha256_record_no")),
    )
    op.create_index(op.f("ix_delivery_feedback_email_hmac"), "delivery_feedback", ["email_hmac"])


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_feedback_email_hmac"), table_name="delivery_feedback")
    op.drop_table("delivery_feedback")
    op.drop_index(op.f("ix_content_items_purpose_language"), table_name="content_items")
    op.drop_table("content_items")
    op.drop_index(op.f("ix_outbox_items_kind_item_ref"), table_name="outbox_items")
    op.drop_table("outbox_items")
    op.drop_table("outbox_consents")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_recipient_hmac"))
        batch_op.drop_index(batch_op.f("ix_outbox_person_id_planned_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_batch_id_state"))
        batch_op.drop_constraint(op.f("fk_outbox_batch_id_dispatch_batches"), type_="foreignkey")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("recipient_hmac")
        batch_op.drop_column("recipient_name")
        batch_op.drop_column("is_bulk")
        batch_op.drop_column("batch_id")
    op.drop_table("dispatch_batches")
