"""The CRM database tables at the head revision (SQLAlchemy Core).

Migrations under ``vivier/db/migrations/versions`` create these tables; a test checks that the
migrated database and this module agree. Every table and column is documented in
``docs/data-model.md``. Times are stored in UTC.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Timestamp = sa.DateTime(timezone=True)


def _id(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=True)


ingested_files = sa.Table(
    "ingested_files",
    metadata,
    _id("file_id"),
    sa.Column("content_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("detected_format", sa.Text),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_loaded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("report_path", sa.Text),
    sa.Column("ingested_at", Timestamp, nullable=False),
    sa.Column("run_id", sa.Text),
)

persons = sa.Table(
    "persons",
    metadata,
    _id("person_id"),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("first_name", sa.Text),
    sa.Column("last_name", sa.Text),
    sa.Column("full_name", sa.Text),
    sa.Column("phone_e164", sa.Text),
    sa.Column("city", sa.Text),
    sa.Column("country", sa.String(2)),
    sa.Column("language", sa.String(2)),
    sa.Column("headline", sa.Text),
    sa.Column("job_family", sa.Text),
    sa.Column("seniority", sa.Text),
    sa.Column("years_experience", sa.Float),
    sa.Column("furthest_stage", sa.Text),
    sa.Column("furthest_stage_rank", sa.Integer),
    sa.Column("is_silver_medalist", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("rejection_side", sa.Text),
    sa.Column("source_system", sa.Text),
    sa.Column("source_channel", sa.Text),
    sa.Column("age_band", sa.Text),
    sa.Column("applications_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_applied_at", Timestamp),
    sa.Column("last_applied_at", Timestamp),
    sa.Column("last_rejected_at", Timestamp),
    sa.Column("last_contact_at", Timestamp),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("name_key", sa.Text),
    sa.Column("preferred_language", sa.String(2)),
    sa.Index(None, "phone_e164"),
    sa.Index(None, "name_key"),
    sqlite_autoincrement=True,  # ids of erased people are never given to someone else (migration 0005)
)

applications = sa.Table(
    "applications",
    metadata,
    _id("application_id"),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.Column("source_system", sa.Text, nullable=False),
    sa.Column("source_application_id", sa.Text, nullable=False),
    sa.Column("source_person_id", sa.Text),
    sa.Column("job_source_id", sa.Text),
    sa.Column("job_title", sa.Text),
    sa.Column("department", sa.Text),
    sa.Column("applied_at", Timestamp),
    sa.Column("rejected_at", Timestamp),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("stage_name", sa.Text),
    sa.Column("stage_rank", sa.Integer),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("rejection_side", sa.Text),
    sa.Column("source_channel", sa.Text),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("ingested_files.file_id", ondelete="SET NULL")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("source_system", "source_application_id"),
    sa.Index(None, "person_id"),
)

person_tags = sa.Table(
    "person_tags",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("evidence", sa.Text),
    sa.Index(None, "kind", "value"),
    sqlite_with_rowid=False,  # one B-tree in key order (migration 0007)
)

job_offers = sa.Table(
    "job_offers",
    metadata,
    _id("job_offer_id"),
    sa.Column("source_system", sa.Text, nullable=False),
    sa.Column("source_job_id", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("department", sa.Text),
    sa.Column("location", sa.Text),
    sa.Column("country", sa.String(2)),
    sa.Column("language", sa.String(2)),
    sa.Column("description", sa.Text),
    sa.Column("job_family", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("opened_at", Timestamp),
    sa.Column("closed_at", Timestamp),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("ingested_files.file_id", ondelete="SET NULL")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("source_system", "source_job_id"),
)

job_offer_skills = sa.Table(
    "job_offer_skills",
    metadata,
    sa.Column(
        "job_offer_id", sa.Integer, sa.ForeignKey("job_offers.job_offer_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("skill_id", sa.Text, primary_key=True),
    sa.Column("importance", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text),
)

consent_events = sa.Table(
    "consent_events",
    metadata,
    _id("event_id"),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="SET NULL")),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp),
    sa.Column("text_version", sa.Text),
    sa.Column("language", sa.String(2)),
    sa.Column("evidence_ip", sa.Text),
    sa.Column("evidence_user_agent", sa.Text),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("ingested_files.file_id", ondelete="SET NULL")),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Index(None, "person_id", "purpose", "occurred_at"),
)

pools = sa.Table(
    "pools",
    metadata,
    _id("pool_id"),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", Timestamp, nullable=False),
)

pool_members = sa.Table(
    "pool_members",
    metadata,
    sa.Column("pool_id", sa.Integer, sa.ForeignKey("pools.pool_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("joined_at", Timestamp, primary_key=True),
    sa.Column("left_at", Timestamp),
    sa.Index(None, "person_id"),
)

matches = sa.Table(
    "matches",
    metadata,
    sa.Column(
        "job_offer_id", sa.Integer, sa.ForeignKey("job_offers.job_offer_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("matched_skills", sa.JSON, nullable=False),
    sa.Column("missing_skills", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("run_key", sa.Text),
    sa.Column("computed_at", Timestamp, nullable=False),
    sa.Index(None, "person_id"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="SET NULL")),
    sa.Column("campaign", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("template_version", sa.Text),
    sa.Column("language", sa.String(2)),
    sa.Column("consent_event_id", sa.Integer),
    sa.Column("recipient", sa.Text),
    sa.Column("subject", sa.Text),
    sa.Column("body_text", sa.Text),
    sa.Column("body_html", sa.Text),
    sa.Column("headers", sa.JSON),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("skip_reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("planned_at", Timestamp, nullable=False),
    sa.Column("claimed_at", Timestamp),
    sa.Column("sent_at", Timestamp),
    sa.UniqueConstraint("person_id", "campaign", "period"),
    sa.Index(None, "state"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    _id("quarantine_id"),
    sa.Column("file_id", sa.Integer, sa.ForeignKey("ingested_files.file_id", ondelete="CASCADE")),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("source_row", sa.Integer),
    sa.Column("record_key", sa.Text),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("raw_record", sa.Text),
    sa.Column("quarantined_at", Timestamp, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Index(None, "file_id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id("audit_id"),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("entity", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text),
    sa.Column("details", sa.JSON),
    sa.Column("run_id", sa.Text),
    sa.Index(None, "entity", "entity_id"),
)

suppression_list = sa.Table(
    "suppression_list",
    metadata,
    sa.Column("email_hmac", sa.String(64), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

identity_suggestions = sa.Table(
    "identity_suggestions",
    metadata,
    _id("suggestion_id"),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.Column("other_person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("reviewed_at", Timestamp),
    sa.UniqueConstraint("person_id", "other_person_id", "rule"),
)

consent_current = sa.Table(
    "consent_current",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("purpose", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("granted_at", Timestamp),
    sa.Column("expires_at", Timestamp),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("text_version", sa.Text),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "purpose", "is_active"),
)

contact_preferences = sa.Table(
    "contact_preferences",
    metadata,
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("purpose", sa.Text, primary_key=True),
    sa.Column("frequency", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

contact_events = sa.Table(
    "contact_events",
    metadata,
    _id("contact_id"),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Index(None, "person_id", "occurred_at"),
)

gdpr_requests = sa.Table(
    "gdpr_requests",
    metadata,
    _id("request_id"),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="SET NULL")),
    sa.Column("email_hmac", sa.String(64)),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("due_at", Timestamp, nullable=False),
    sa.Column("completed_at", Timestamp),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("export_path", sa.Text),
    sa.Column("run_id", sa.Text),
    sa.Index(None, "status"),
)

retention_notices = sa.Table(
    "retention_notices",
    metadata,
    _id("notice_id"),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text),
    sa.Column("deadline", Timestamp, nullable=False),
    sa.Column("send_on", Timestamp, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("planned_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp),
    sa.Column("message_id", sa.Text),
    sa.UniqueConstraint("person_id", "kind", "deadline"),
    sa.Index(None, "status", "send_on"),
)

pool_snapshots = sa.Table(
    "pool_snapshots",
    metadata,
    sa.Column("pool_id", sa.Integer, sa.ForeignKey("pools.pool_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("joined", sa.Integer, nullable=False),
    sa.Column("left_count", sa.Integer, nullable=False),
)

# --- email dispatch (migration 0004) --------------------------------------------------------------

dispatch_batches = sa.Table(
    "dispatch_batches",
    metadata,
    _id("batch_id"),
    sa.Column("campaign", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("template_versions", sa.JSON),
    sa.Column("messages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("planned", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unknown", sa.Integer, nullable=False, server_default="0"),
    sa.Column("skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("skip_reasons", sa.JSON),
    sa.Column("planned_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp),
    sa.Column("run_id", sa.Text),
    sa.UniqueConstraint("campaign", "period"),
)

outbox.append_column(sa.Column("batch_id", sa.Integer, sa.ForeignKey("dispatch_batches.batch_id", ondelete="SET NULL")))
outbox.append_column(sa.Column("is_bulk", sa.Boolean, nullable=False, server_default=sa.false()))
outbox.append_column(sa.Column("recipient_name", sa.Text))
outbox.append_column(sa.Column("recipient_hmac", sa.String(64)))
outbox.append_column(sa.Column("claimed_by", sa.Text))
outbox.append_column(sa.Column("retry_at", Timestamp))
sa.Index(None, outbox.c.batch_id, outbox.c.state)
sa.Index(None, outbox.c.person_id, outbox.c.planned_at)
sa.Index(None, outbox.c.recipient_hmac)

dispatch_batches.append_column(sa.Column("finalised_at", Timestamp))

# A plan staged for rendering in parts (mapped tasks): the jobs of each part, signed, until the part
# is rendered; the batch is finalised (and deliverable) once every part is. Emptied by finalise.
dispatch_stage_parts = sa.Table(
    "dispatch_stage_parts",
    metadata,
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("dispatch_batches.batch_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("jobs", sa.Integer, nullable=False),
    sa.Column("payload", sa.LargeBinary),
    sa.Column("signature", sa.String(64)),
    sa.Column("messages", sa.Integer),
    sa.Column("template_versions", sa.JSON),
    sa.Column("rendered_at", Timestamp),
)

dispatch_stage_people = sa.Table(
    "dispatch_stage_people",
    metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True),
    sa.Column("job", sa.Integer, primary_key=True),
    sa.Column("part", sa.Integer, nullable=False),
    sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.person_id", ondelete="CASCADE"), nullable=False),
    sa.ForeignKeyConstraint(
        ["batch_id", "part"],
        ["dispatch_stage_parts.batch_id", "dispatch_stage_parts.part"],
        ondelete="CASCADE",
    ),
    sa.Index(None, "person_id"),
)

outbox_consents = sa.Table(
    "outbox_consents",
    metadata,
    sa.Column("message_id", sa.Text, sa.ForeignKey("outbox.message_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("purpose", sa.Text, primary_key=True),
    sa.Column("consent_event_id", sa.Integer),
)

outbox_items = sa.Table(
    "outbox_items",
    metadata,
    sa.Column("message_id", sa.Text, sa.ForeignKey("outbox.message_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("item_ref", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text),
    sa.Index(None, "kind", "item_ref"),
)

content_items = sa.Table(
    "content_items",
    metadata,
    sa.Column("item_id", sa.Text, primary_key=True),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("location", sa.Text),
    sa.Column("job_family", sa.Text),
    sa.Column("age_bands", sa.JSON),
    sa.Column("starts_at", Timestamp),
    sa.Column("published_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp),
    sa.Column("weight", sa.Float, nullable=False, server_default="1"),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("retired_at", Timestamp),
    sa.Index(None, "purpose", "language"),
)

delivery_feedback = sa.Table(
    "delivery_feedback",
    metadata,
    _id("feedback_id"),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("record_no", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("email_hmac", sa.String(64), nullable=False),
    sa.Column("message_id", sa.Text),
    sa.Column("occurred_at", Timestamp),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.UniqueConstraint("file_sha256", "record_no"),
    sa.Index(None, "email_hmac"),
)
