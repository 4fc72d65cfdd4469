"""Property-based tests of the consent invariants over random sequences of what people and systems do.

Actions: grant (double opt-in), withdraw one purpose, unsubscribe from everything, hard bounce,
erase, re-import from the ATS (consent or refusal), refresh the pools. After every step:
- the ledger only grows (no event disappears; erasure may only blank its person and evidence);
- a withdrawal is never undone by an import (only the person's own new consent reactivates);
- an erased person never comes back (the ingestion gate refuses their email);
and after every pool refresh, no pool member lacks current consent.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vivier.consent.ledger import current_consents, import_ats_consent, record_event, record_events
from vivier.consent.purposes import PURPOSES
from vivier.db.schema import consent_events, metadata, persons, suppression_list
from vivier.gdpr.erasure import erase_persons, suppress
from vivier.ingest.people import email_hmacs, suppressed_mask
from vivier.pools.definitions import parse_definitions
from vivier.pools.refresh import refresh_pools

KEY = b"property-suppression-key"
PEOPLE = 3
START = pd.Timestamp("2026-03-01T08:00:00Z")
POOLS = parse_definitions(
    {
        "pools": [
            {"name": "anyone", "where": {}},
            {"name": "offers", "where": {"purposes": ["job_offers"]}},
            {"name": "events", "where": {"purposes": ["events"]}},
        ]
    }
)

person = st.integers(0, PEOPLE - 1)
purpose = st.sampled_from(PURPOSES)
step = st.one_of(
    st.tuples(st.just("grant"), person, purpose),
    st.tuples(st.just("withdraw"), person, purpose),
    st.tuples(st.just("unsubscribe"), person),
    st.tuples(st.just("bounce"), person),
    st.tuples(st.just("erase"), person),
    st.tuples(st.just("reimport"), person, st.booleans()),
    st.tuples(st.just("refresh")),
)


def email(index: int) -> str:
    return f"candidate{index}@example.org"


def reset(engine: sa.Engine) -> dict[int, int]:
    """Empty every table, then create the people; index -> person_id."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
        stamp = START.to_pydatetime()
        connection.execute(
            persons.insert(), [{"email": email(i), "created_at": stamp, "updated_at": stamp} for i in range(PEOPLE)]
        )
        rows = connection.execute(sa.select(persons.c.email, persons.c.person_id)).all()
    by_email = dict(rows)
    return {i: by_email[email(i)] for i in range(PEOPLE)}


def reimport(connection: sa.Connection, index: int, ids: dict[int, int], wants: bool, at: pd.Timestamp) -> None:
    """What ingestion does with one person's row: the suppression gate, re-creation, the consent import."""
    suppressed = set(connection.execute(sa.select(suppression_list.c.email_hmac)).scalars())
    if suppressed_mask(pd.Series([email(index)]), suppressed, KEY)[0]:
        return  # quarantined as not_suppressed by the pipeline: never re-created
    person_id = connection.execute(sa.select(persons.c.person_id).where(persons.c.email == email(index))).scalar()
    if person_id is None:
        stamp = at.to_pydatetime()
        person_id = connection.execute(
            persons.insert()
            .values(email=email(index), created_at=stamp, updated_at=stamp)
            .returning(persons.c.person_id)
        ).scalar_one()
        ids[index] = person_id
    signals = pd.DataFrame({"person_id": [person_id], "wants": [wants], "expires_at": [None], "file_id": [None]})
    import_ats_consent(connection, signals, at)


def withdraw_all(connection: sa.Connection, person_id: int, source: str, at: pd.Timestamp) -> None:
    events = pd.DataFrame({"person_id": person_id, "purpose": list(PURPOSES), "action": "withdrawn", "source": source})
    record_events(connection, events.assign(occurred_at=at), recorded_at=at)


def open_members_without_consent(connection: sa.Connection, at: pd.Timestamp) -> int:
    return connection.execute(
        sa.text(
            "SELECT COUNT(*) FROM pool_members AS m WHERE m.left_at IS NULL AND NOT EXISTS ("
            " SELECT 1 FROM consent_current AS c WHERE c.person_id = m.person_id AND c.is_active"
            " AND (c.expires_at IS NULL OR c.expires_at > :at))"
        ),
        {"at": at.to_pydatetime() if connection.dialect.name != "sqlite" else at.strftime("%Y-%m-%d %H:%M:%S.%f")},
    ).scalar_one()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_consent_invariants_hold_for_any_sequence(crm_engine, steps) -> None:
    ids = reset(crm_engine)
    erased: set[int] = set()
    withdrawn: set[tuple[int, str]] = set()  # withdrawn and not given again by the person since
    ledger: dict[int, tuple] = {}
    for position, action in enumerate(steps):
        at = START + pd.Timedelta(minutes=position + 1)
        kind, index = action[0], (action[1] if len(action) > 1 else None)
        with crm_engine.begin() as connection:
            alive = index is not None and index not in erased
            if kind == "grant" and alive:
                record_event(connection, ids[index], action[2], "confirmed", "double_opt_in", at)
                withdrawn.discard((index, action[2]))
            elif kind == "withdraw" and alive:
                record_event(connection, ids[index], action[2], "withdrawn", "web_form", at)
                withdrawn.add((index, action[2]))
            elif kind in ("unsubscribe", "bounce") and alive:
                withdraw_all(connection, ids[index], "unsubscribe" if kind == "unsubscribe" else "hard_bounce", at)
                withdrawn.update((index, p) for p in PURPOSES)
                if kind == "bounce":
                    suppress(connection, email_hmacs([email(index)], KEY), "hard_bounce", at)
            elif kind == "erase" and alive:
                erase_persons(connection, [ids[index]], as_of=at, reason="erasure", run_id=None, suppression_key=KEY)
                erased.add(index)
            elif kind == "reimport":
                reimport(connection, index, ids, action[2], at)
        if kind == "refresh":
            refresh_pools(crm_engine, POOLS, at)
            with crm_engine.connect() as connection:
                assert open_members_without_consent(connection, at) == 0, "a pool member lacks current consent"

        with crm_engine.connect() as connection:
            events = connection.execute(
                sa.select(consent_events.c.event_id, consent_events.c.purpose, consent_events.c.action)
            ).all()
            for index_erased in erased:
                found = connection.execute(sa.select(persons.c.person_id).where(persons.c.email == email(index_erased)))
                assert found.first() is None, "an erased person came back"
            for index_w, purpose_w in withdrawn:
                if index_w in erased:
                    continue
                now = current_consents(connection, ids[index_w], at).get(purpose_w)
                assert now is not None and not now["is_active"], "an import undid a withdrawal"
        current = {row.event_id: (row.purpose, row.action) for row in events}
        assert all(current.get(event_id) == fact for event_id, fact in ledger.items()), "the ledger lost an event"
        ledger = current
