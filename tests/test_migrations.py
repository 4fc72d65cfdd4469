"""Migrations run unchanged on SQLite and PostgreSQL, up and down, and match the table definitions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from vivier.db import (
    OutdatedSchemaError,
    current_revision,
    downgrade,
    ensure_current,
    head_revision,
    make_engine,
    upgrade,
)
from vivier.db.schema import metadata

CONTRACT_TABLES = {
    "persons",
    "applications",
    "person_tags",
    "job_offers",
    "job_offer_skills",
    "consent_events",
    "pools",
    "pool_members",
    "matches",
    "outbox",
    "quarantine",
    "ingested_files",
    "audit_log",
    "suppression_list",
}


def test_upgrade_creates_every_contract_table_and_downgrade_removes_them(crm_url: str) -> None:
    engine = make_engine(crm_url)
    assert current_revision(engine) is None

    assert upgrade(engine) == head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert CONTRACT_TABLES <= tables
    assert "vivier_alembic_version" in tables
    assert "alembic_version" not in tables, "the version table must not clash with Airflow's own"

    assert downgrade(engine, "base") is None
    assert set(sa.inspect(engine).get_table_names()) - {"vivier_alembic_version"} == set()

    assert upgrade(engine) == head_revision(), "upgrade after a full downgrade works again"
    engine.dispose()


def test_upgrade_twice_is_a_no_op(crm_engine: sa.Engine) -> None:
    before = set(sa.inspect(crm_engine).get_table_names())
    assert upgrade(crm_engine) == head_revision()
    assert set(sa.inspect(crm_engine).get_table_names()) == before


def test_migrated_database_matches_the_table_definitions(crm_engine: sa.Engine) -> None:
    with crm_engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: not (kind == "table" and name == "vivier_alembic_version"),
            },
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_ensure_current_refuses_an_unmigrated_database_with_a_clear_message(crm_url: str) -> None:
    engine = make_engine(crm_url)
    with pytest.raises(OutdatedSchemaError, match=r"never been migrated.*make migrate"):
        ensure_current(engine)
    upgrade(engine)
    assert ensure_current(engine) == head_revision()
    engine.dispose()


def test_constraints_hold_on_both_engines(crm_engine: sa.Engine) -> None:
    from vivier.db.schema import applications, persons

    now = sa.func.current_timestamp()
    with crm_engine.begin() as connection:
        connection.execute(sa.insert(persons).values(email="a@example.org", created_at=now, updated_at=now))
    with pytest.raises(sa.exc.IntegrityError), crm_engine.begin() as connection:
        connection.execute(sa.insert(persons).values(email="a@example.org", created_at=now, updated_at=now))
    with pytest.raises(sa.exc.IntegrityError), crm_engine.begin() as connection:
        connection.execute(
            sa.insert(applications).values(
                person_id=999_999,
                source_system="lever",
                source_application_id="x",
                status="rejected",
                created_at=now,
                updated_at=now,
            )
        )
