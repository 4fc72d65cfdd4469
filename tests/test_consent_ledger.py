"""The consent ledger: events append, current consent follows them, imports never raise consent."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.consent_helpers import AS_OF, add_persons
from vivier.consent.ledger import (
    ConsentError,
    current_consents,
    import_ats_consent,
    record_contact,
    record_event,
    record_events,
    set_frequency,
    set_preferred_language,
)
from vivier.db.schema import consent_events, contact_preferences, persons


def day(n: int) -> pd.Timestamp:
    return AS_OF + pd.Timedelta(days=n)


def status(connection, person_id: int, purpose: str = "job_offers", as_of=None) -> tuple[str, bool] | None:
    found = current_consents(connection, person_id, as_of if as_of is not None else day(1000)).get(purpose)
    return (found["status"], found["is_active"]) if found else None


def test_grant_withdraw_and_ask_again(crm_engine) -> None:
    with crm_engine.begin() as connection:
        (pid,) = add_persons(connection, 1)
        record_event(connection, pid, "job_offers", "requested", "web_form", day(0))
        assert status(connection, pid) == ("requested", False)
        record_event(connection, pid, "job_offers", "confirmed", "double_opt_in", day(1), text_version="v1")
        assert status(connection, pid) == ("confirmed", True)
        # asking again while consent is active changes nothing
        record_event(connection, pid, "job_offers", "requested", "web_form", day(2))
        assert status(connection, pid) == ("confirmed", True)
        record_event(connection, pid, "job_offers", "withdrawn", "unsubscribe", day(3))
        assert status(connection, pid) == ("withdrawn", False)
        record_event(connection, pid, "job_offers", "requested", "web_form", day(4))
        assert status(connection, pid) == ("requested", False)
        assert status(connection, pid, "events") is None


def test_consent_lapses_at_its_expiry(crm_engine) -> None:
    with crm_engine.begin() as connection:
        (pid,) = add_persons(connection, 1)
        record_event(connection, pid, "events", "granted", "admin", day(0), expires_at=day(30))
        assert current_consents(connection, pid, day(29))["events"]["is_active"] is True
        assert current_consents(connection, pid, day(30))["events"]["is_active"] is False


def test_bulk_events_and_refusals(crm_engine) -> None:
    with crm_engine.begin() as connection:
        ids = add_persons(connection, 3)
        events = pd.DataFrame(
            {
                "person_id": ids + ids[:1],
                "purpose": ["job_offers", "events", "job_market", "job_offers"],
                "action": ["granted", "granted", "confirmed", "withdrawn"],
                "source": ["admin", "admin", "double_opt_in", "unsubscribe"],
                "occurred_at": [day(0), day(0), day(0), day(5)],
            }
        )
        assert record_events(connection, events) == 4
        assert status(connection, ids[0]) == ("withdrawn", False)
        assert status(connection, ids[1], "events") == ("granted", True)
        assert status(connection, ids[2], "job_market") == ("confirmed", True)
        with pytest.raises(ConsentError, match="purpose"):
            record_events(connection, events.assign(purpose="spam"))
        with pytest.raises(ConsentError, match="action"):
            record_events(connection, events.assign(action="maybe"))
        assert connection.execute(sa.select(sa.func.count()).select_from(consent_events)).scalar_one() == 4


def test_ats_import_fills_gaps_only_and_never_overrides_a_withdrawal(crm_engine) -> None:
    with crm_engine.begin() as connection:
        fresh, withdrawn, confirmed, refused, lapsed = add_persons(connection, 5)
        record_event(connection, withdrawn, "job_offers", "withdrawn", "unsubscribe", day(-10))
        record_event(connection, confirmed, "job_offers", "confirmed", "double_opt_in", day(-10), expires_at=day(400))
        signals = pd.DataFrame(
            {
                "person_id": [fresh, withdrawn, confirmed, refused, lapsed],
                "wants": [True, True, True, False, True],
                "expires_at": [day(100), None, day(900), None, day(-1)],
                "file_id": [None] * 5,
            }
        )
        appended = import_ats_consent(connection, signals, AS_OF)
        assert appended == 2  # the fresh grant and the refusal
        assert status(connection, fresh, as_of=day(1)) == ("granted", True)
        assert status(connection, withdrawn) == ("withdrawn", False)
        # the import does not extend the expiry the person gave
        assert current_consents(connection, confirmed, day(1))["job_offers"]["source"] == "double_opt_in"
        assert status(connection, refused) == ("withdrawn", False)
        assert status(connection, lapsed) is None
        # the same export again appends nothing
        assert import_ats_consent(connection, signals, day(1)) == 0


def _consent_rows(connection) -> list[tuple]:
    current = sa.table(
        "consent_current",
        *(sa.column(c) for c in ("person_id", "purpose", "status", "is_active", "granted_at", "expires_at", "source")),
    )
    return connection.execute(sa.select(current).order_by(current.c.person_id, current.c.purpose)).all()


def test_ats_import_for_new_persons_writes_what_the_ledger_derivation_writes(crm_engine) -> None:
    """Persons created by the load get their current consent straight from the import's event: the
    same rows as re-deriving it from the ledger, next to persons the CRM already had."""
    results = []
    for new in (False, True):
        with crm_engine.begin() as connection:
            ids = add_persons(connection, 5)
            record_event(connection, ids[4], "job_offers", "withdrawn", "unsubscribe", day(-3))  # a known person
            signals = pd.DataFrame(
                {
                    "person_id": ids,
                    "wants": [True, False, True, True, True],
                    "expires_at": [day(100), None, None, day(-1), day(50)],
                    "file_id": [None] * 5,
                }
            )
            appended = import_ats_consent(connection, signals, AS_OF, new_persons=ids[:4] if new else ())
            rows = _consent_rows(connection)
            results.append((appended, [(row[0] - ids[0], *row[1:]) for row in rows]))
            connection.execute(sa.delete(consent_events))
            connection.exec_driver_sql("DELETE FROM consent_current")
            connection.execute(sa.delete(persons))
    assert results[0] == results[1]
    appended, rows = results[1]
    assert appended == 3  # two grants (one had lapsed) and one refusal; the known withdrawal stays
    assert [(row[0], row[2], bool(row[3])) for row in rows] == [
        (0, "granted", True),
        (1, "withdrawn", False),
        (2, "granted", True),
        (4, "withdrawn", False),
    ]


def test_contacts_preferences_and_language(crm_engine) -> None:
    with crm_engine.begin() as connection:
        (pid,) = add_persons(connection, 1)
        record_contact(connection, pid, "click", "preference_centre", day(3))
        record_contact(connection, pid, "form", "preference_centre", day(1))  # older: the clock stays
        set_frequency(connection, pid, "job_offers", "monthly", "web_form", day(3))
        set_frequency(connection, pid, "job_offers", "never", "web_form", day(4))
        set_preferred_language(connection, pid, "FR")
        person = connection.execute(sa.select(persons).where(persons.c.person_id == pid)).mappings().one()
        assert pd.Timestamp(person["last_contact_at"]).tz_localize(None) == day(3).tz_localize(None)
        assert person["preferred_language"] == "fr"
        prefs = connection.execute(sa.select(contact_preferences.c.purpose, contact_preferences.c.frequency)).all()
        assert prefs == [("job_offers", "never")]
        with pytest.raises(ConsentError):
            set_frequency(connection, pid, "job_offers", "hourly", "web_form", day(4))
        with pytest.raises(ConsentError):
            record_contact(connection, pid, "open", "mailbox", day(4))


def test_export_signals_per_person_a_refusal_anywhere_wins() -> None:
    from vivier.ingest.consent import consent_signals

    applications = pd.DataFrame(
        {
            "email": ["a@x.org", "a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"],
            "consent_future_jobs": [True, None, True, None, False, None],
            "consent_expires_at": ["2027-01-01", None, "2027-03-01T00:00:00Z", None, None, None],
            "unsubscribed": [None, True, None, None, None, None],
            "content_sha256": ["f1", "f2", "f1", "f1", "f2", "f2"],
        }
    )
    signals = consent_signals(applications).set_index("email")
    assert sorted(signals.index) == ["a@x.org", "b@x.org", "d@x.org"]  # c and e said nothing
    assert not signals.loc["a@x.org", "wants"]  # consented once, unsubscribed later
    assert signals.loc["b@x.org", "wants"]
    assert pd.Timestamp(signals.loc["b@x.org", "expires_at"]) == pd.Timestamp("2027-03-01T00:00:00Z")
    assert not signals.loc["d@x.org", "wants"]
