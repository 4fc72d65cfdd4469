"""Pools: definitions checked, members = filters AND current consent, history kept, re-runs change nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.consent_helpers import AS_OF, add_persons
from vivier.consent.ledger import record_event
from vivier.db.schema import person_tags, persons, pool_members, pool_snapshots, pools
from vivier.pools import refresh
from vivier.pools.definitions import PoolDefinitionError, load_definitions, parse_definitions
from vivier.pools.refresh import refresh_pools

DEFINITIONS = parse_definitions(
    {
        "pools": [
            {"name": "python", "where": {"skills_any": ["python"]}},
            {"name": "silver_data", "where": {"silver_medalist": True, "job_families": ["data_analytics"]}},
            {"name": "fr_events", "where": {"languages": ["fr"], "purposes": ["events"]}},
            {"name": "python_and_sql", "where": {"skills_all": ["python", "sql"]}},
            {"name": "recent", "where": {"contacted_within_days": 30}},
            {"name": "nobody", "where": {"countries": ["JP"]}},
        ]
    }
)


def members(connection, name: str) -> set[int]:
    query = (
        sa.select(pool_members.c.person_id)
        .join(pools, pools.c.pool_id == pool_members.c.pool_id)
        .where(pools.c.name == name, pool_members.c.left_at.is_(None))
    )
    return set(connection.execute(query).scalars())


@pytest.fixture
def people(crm_engine):
    """Five people: tags, family, language; consent for all but the last."""
    with crm_engine.begin() as connection:
        ada, bob, cleo, dan, eve = add_persons(connection, 5)
        connection.execute(
            sa.text(
                "UPDATE persons SET is_silver_medalist = :silver, job_family = 'data_analytics', language = 'fr', "
                "last_applied_at = :applied WHERE person_id IN (:a, :b)"
            ),
            {"silver": True, "applied": (AS_OF - pd.Timedelta(days=10)).to_pydatetime(), "a": ada, "b": eve},
        )
        connection.execute(
            person_tags.insert(),
            [
                {"person_id": ada, "kind": "skill", "value": "python"},
                {"person_id": ada, "kind": "skill", "value": "sql"},
                {"person_id": bob, "kind": "skill", "value": "python"},
                {"person_id": cleo, "kind": "skill", "value": "sql"},
                {"person_id": eve, "kind": "skill", "value": "python"},
            ],
        )
        for pid in (ada, bob, cleo):
            record_event(connection, pid, "job_offers", "granted", "ats_import", AS_OF - pd.Timedelta(days=5))
        record_event(connection, dan, "events", "confirmed", "double_opt_in", AS_OF - pd.Timedelta(days=5))
        connection.execute(sa.text("UPDATE persons SET language = 'fr' WHERE person_id = :d"), {"d": dan})
    return {"ada": ada, "bob": bob, "cleo": cleo, "dan": dan, "eve": eve}


def test_members_match_filters_and_consent(crm_engine, people) -> None:
    sizes = {s.name: s.size for s in refresh_pools(crm_engine, DEFINITIONS, AS_OF)}
    with crm_engine.connect() as connection:
        assert members(connection, "python") == {people["ada"], people["bob"]}  # eve has no consent
        assert members(connection, "silver_data") == {people["ada"]}
        assert members(connection, "fr_events") == {people["dan"]}
        assert members(connection, "python_and_sql") == {people["ada"]}
        assert members(connection, "recent") == {people["ada"]}
    assert sizes == {"python": 2, "silver_data": 1, "fr_events": 1, "python_and_sql": 1, "recent": 1, "nobody": 0}


def test_withdrawal_leaves_history_and_rerun_changes_nothing(crm_engine, people) -> None:
    refresh_pools(crm_engine, DEFINITIONS, AS_OF)
    later = AS_OF + pd.Timedelta(days=1)
    with crm_engine.begin() as connection:
        record_event(connection, people["bob"], "job_offers", "withdrawn", "unsubscribe", later)
    first = refresh_pools(crm_engine, DEFINITIONS, later)
    with crm_engine.connect() as connection:
        before = connection.execute(sa.select(pool_members).order_by(*pool_members.primary_key.columns)).all()
        snapshots = connection.execute(sa.select(pool_snapshots).order_by(pool_snapshots.c.pool_id)).all()
        assert members(connection, "python") == {people["ada"]}
        bob_rows = [row for row in before if row.person_id == people["bob"]]
        assert len(bob_rows) == 1 and bob_rows[0].left_at is not None
    assert refresh_pools(crm_engine, DEFINITIONS, later) == first
    with crm_engine.connect() as connection:
        assert connection.execute(sa.select(pool_members).order_by(*pool_members.primary_key.columns)).all() == before
        assert connection.execute(sa.select(pool_snapshots).order_by(pool_snapshots.c.pool_id)).all() == snapshots
    python = next(s for s in first if s.name == "python")
    assert (python.size, python.joined, python.left) == (1, 0, 1)


def test_a_pool_dropped_from_the_definitions_is_emptied(crm_engine, people) -> None:
    refresh_pools(crm_engine, DEFINITIONS, AS_OF)
    refresh_pools(crm_engine, DEFINITIONS[1:], AS_OF + pd.Timedelta(days=1))
    with crm_engine.connect() as connection:
        assert members(connection, "python") == set()
        active = dict(connection.execute(sa.select(pools.c.name, pools.c.is_active)).all())
    assert not active["python"] and active["silver_data"]


def member_checks(engine) -> tuple:
    """pool_members' foreign keys and indexes as the database describes them."""
    inspector = sa.inspect(engine)
    keys = sorted(
        (k["name"], tuple(k["constrained_columns"]), k["referred_table"], k["options"].get("ondelete"))
        for k in inspector.get_foreign_keys("pool_members")
    )
    indexes = sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes("pool_members"))
    return keys, indexes, tuple(inspector.get_pk_constraint("pool_members")["constrained_columns"])


def watch_restores(monkeypatch) -> list:
    restores: list = []
    restore = refresh._restore_member_checks
    monkeypatch.setattr(refresh, "_restore_member_checks", lambda c, aside: restores.append(aside) or restore(c, aside))
    return restores


def test_a_first_fill_in_bulk_gives_the_same_members_and_keeps_the_checks(crm_engine, people, monkeypatch) -> None:
    monkeypatch.setattr(refresh, "BULK_JOIN_ROWS", 1)  # every first fill counts as big
    restores = watch_restores(monkeypatch)
    before = member_checks(crm_engine)
    sizes = {s.name: (s.size, s.joined, s.left) for s in refresh_pools(crm_engine, DEFINITIONS, AS_OF)}
    # PostgreSQL set the foreign keys and the person_id index aside for the insert; SQLite never does
    assert len(restores) == (1 if crm_engine.dialect.name == "postgresql" else 0)
    assert member_checks(crm_engine) == before
    assert sizes["python"] == (2, 2, 0) and sizes["fr_events"] == (1, 1, 0) and sizes["nobody"] == (0, 0, 0)
    assert refresh_pools(crm_engine, DEFINITIONS, AS_OF) == refresh_pools(crm_engine, DEFINITIONS, AS_OF)
    with crm_engine.begin() as connection:
        assert members(connection, "python") == {people["ada"], people["bob"]}
        # the rebuilt foreign key still cascades an erased person's stays
        connection.execute(persons.delete().where(persons.c.person_id == people["ada"]))
        assert members(connection, "python") == {people["bob"]}
        assert not connection.execute(sa.select(pool_members).where(pool_members.c.person_id == people["ada"])).all()


def test_a_first_fill_does_not_wait_for_locks_held_by_a_reader(crm_engine, people, monkeypatch) -> None:
    monkeypatch.setattr(refresh, "BULK_JOIN_ROWS", 1)
    monkeypatch.setattr(refresh, "BULK_LOCK_TIMEOUT", "100ms")
    restores = watch_restores(monkeypatch)
    before = member_checks(crm_engine)
    with crm_engine.connect() as reader:
        reader.execute(sa.select(pool_members)).all()  # holds its read lock on pool_members until rollback
        sizes = {s.name: s.size for s in refresh_pools(crm_engine, DEFINITIONS, AS_OF)}
        reader.rollback()
    assert restores == []  # the insert ran with the foreign keys and indexes in place
    assert member_checks(crm_engine) == before
    assert sizes == {"python": 2, "silver_data": 1, "fr_events": 1, "python_and_sql": 1, "recent": 1, "nobody": 0}


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"skills_any": ["cobol_9000"]}, "unknown value"),
        ({"colour": ["blue"]}, "unknown filter"),
        ({"silver_medalist": "yes"}, "true or false"),
        ({"contacted_within_days": -3}, "non-negative"),
        ({"purposes": ["spam"]}, "unknown value"),
    ],
)
def test_bad_definitions_are_refused_with_the_pool_named(where, message) -> None:
    with pytest.raises(PoolDefinitionError, match=message) as error:
        parse_definitions({"pools": [{"name": "broken", "where": where}]})
    assert "broken" in str(error.value)


def test_shipped_definitions_load() -> None:
    names = [d.name for d in load_definitions()]
    assert "silver_medalists" in names and len(names) == len(set(names))
