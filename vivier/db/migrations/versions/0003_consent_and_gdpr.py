"""Consent and GDPR: current consent, preferences, contact events, data-subject requests, retention
notices, pool snapshots; the consent ledger survives erasure (person_id set to null).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _person_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["persons.person_id"], name=op.f(f"fk_{table}_person_id_persons"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch_op:
        batch_op.add_column(sa.Column("preferred_language", sa.String(length=2), nullable=True))

    with op.batch_alter_table("consent_events") as batch_op:
        batch_op.drop_constraint(op.f("fk_consent_events_person_id_persons"), type_="foreignkey")
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            op.f("fk_consent_events_person_id_persons"), "persons", ["person_id"], ["person_id"], ondelete="SET NULL"
        )

    op.create_table(
        "consent_current",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("granted_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("text_version", sa.Text(), nullable=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _person_fk("consent_current", "CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "purpose", name=op.f("pk_consent_current")),
    )
    op.create_index(op.f("ix_consent_current_purpose_is_active"), "consent_current", ["purpose", "is_active"])

    op.create_table(
        "contact_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("frequency", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _person_fk("contact_preferences", "CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "purpose", name=op.f("pk_contact_preferences")),
    )

    op.create_table(
        "contact_events",
        sa.Column("contact_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        _person_fk("contact_events", "CASCADE"),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_events")),
    )
    op.create_index(op.f("ix_contact_events_person_id_occurred_at"), "contact_events", ["person_id", "occurred_at"])

    op.create_table(
        "gdpr_requests",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("email_hmac", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("export_path", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        _person_fk("gdpr_requests", "SET NULL"),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_gdpr_requests")),
    )
    op.create_index(op.f("ix_gdpr_requests_status"), "gdpr_requests", ["status"])

    op.create_table(
        "retention_notices",
        sa.Column("notice_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("send_on", TS, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("planned_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        _person_fk("retention_notices", "CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_retention_notices")),
        sa.UniqueConstraint("person_id", "kind", "deadline", name=op.f("uq_retention_notices_person_id_kind_deadline")),
    )
    op.create_index(op.f("ix_retention_notices_status_send_on"), "retention_notices", ["status", "send_on"])

    op.create_table(
        "pool_snapshots",
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Integer(), nullable=False),
        sa.Column("left_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.pool_id"], name=op.f("fk_pool_snapshots_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pool_id", "as_of", name=op.f("pk_pool_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("pool_snapshots")
    op.drop_index(op.f("ix_retention_notices_status_send_on"), table_name="retention_notices")
    op.drop_table("retention_notices")
    op.drop_index(op.f("ix_gdpr_requests_status"), table_name="gdpr_requests")
    op.drop_table("gdpr_requests")
    op.drop_index(op.f("ix_contact_events_person_id_occurred_at"), table_name="contact_events")
    op.drop_table("contact_events")
    op.drop_table("contact_preferences")
    op.drop_index(op.f("ix_consent_current_purpose_is_active"), table_name="consent_current")
    op.drop_table("consent_current")
    op.execute("DELETE FROM consent_events WHERE person_id IS NULL")
    with op.batch_alter_table("consent_events") as batch_op:
        batch_op.drop_constraint(op.f("fk_consent_events_person_id_persons"), type_="foreignkey")
        batch_op.alter_column("person_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_consent_events_person_id_persons"), "persons", ["person_id"], ["person_id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("persons") as batch_op:
        batch_op.drop_column("preferred_language")
