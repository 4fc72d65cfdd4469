"""GDPR: access exports, erasure that leaves no trace anywhere, and the daily retention rules."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.consent_helpers import AS_OF, add_persons
from tests.test_ingest_pipeline import KEY, greenhouse_export, run, write_json
from vivier.consent.ledger import current_consents, record_contact, record_event, set_frequency
from vivier.db.schema import (
    applications,
    consent_events,
    gdpr_requests,
    metadata,
    outbox,
    persons,
    quarantine,
    retention_notices,
    suppression_list,
)
from vivier.gdpr.requests import RequestError, process_pending, submit_request
from vivier.gdpr.retention import run_retention
from vivier.gdpr.rules import RetentionRules
from vivier.ingest.people import email_hmacs
from vivier.pools.definitions import parse_definitions
from vivier.pools.refresh import refresh_pools

EMAIL = "lea.rossi@example.org"
EVERYONE = parse_definitions({"pools": [{"name": "everyone", "where": {}}]})


def traces(engine: sa.Engine, person_id: int, email: str) -> list[str]:
    """Where the person still shows: any person-id column equal to theirs, any text holding their email."""
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if column.name in ("person_id", "other_person_id"):
                    if connection.execute(sa.select(sa.func.count()).where(column == person_id)).scalar_one():
                        found.append(f"{table.name}.{column.name}")
                elif isinstance(column.type, sa.Text | sa.String | sa.JSON):
                    text = sa.cast(column, sa.Text)
                    hits = connection.execute(
                        sa.select(sa.func.count()).where(sa.func.lower(text).contains(email.lower()))
                    ).scalar_one()
                    if hits:
                        found.append(f"{table.name}.{column.name}")
    return found


def test_access_then_erasure_leaves_no_trace_and_the_person_never_returns(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_json(inbox, "gh.json", greenhouse_export(EMAIL))
    run(crm_engine, inbox, tmp_path)
    with crm_engine.begin() as connection:
        pid = connection.execute(sa.select(persons.c.person_id).where(persons.c.email == EMAIL)).scalar_one()
        record_event(
            connection,
            pid,
            "job_offers",
            "confirmed",
            "double_opt_in",
            AS_OF,
            evidence_ip="203.0.113.9",
            evidence_user_agent="UA",
        )
        record_contact(connection, pid, "click", "preference_centre", AS_OF)
        set_frequency(connection, pid, "job_offers", "monthly", "web_form", AS_OF)
        connection.execute(
            outbox.insert().values(
                message_id="<m1@vivier>", person_id=pid, campaign="weekly", period="2026-W22", template="digest",
                recipient=EMAIL, subject="Offers for Lea", body_text=f"Hello Lea ({EMAIL})", state="sent",
                planned_at=AS_OF.to_pydatetime(),
            )
        )  # fmt: skip
        connection.execute(
            quarantine.insert().values(
                source_file="old.csv", reasons=[{"check": "x"}], raw_record=json.dumps({"email": EMAIL.upper()}),
                quarantined_at=AS_OF.to_pydatetime(),
            )
        )  # fmt: skip
        access_id = submit_request(
            connection, "access", email=f"  {EMAIL.upper()} ", received_at=AS_OF, source="admin", suppression_key=KEY
        )
    refresh_pools(crm_engine, EVERYONE, AS_OF)
    events_before = len(pd.read_sql(sa.select(consent_events), crm_engine))

    (access,) = process_pending(
        crm_engine, as_of=AS_OF, exports_dir=tmp_path / "exports", suppression_key=KEY, run_id="r"
    )
    assert access.status == "completed" and access.request_id == access_id
    exported = json.loads(Path(access.export_path).read_text(encoding="utf-8"))
    assert exported["persons"][0]["email"] == EMAIL
    assert {"applications", "consent_events", "contact_events", "pool_members", "outbox"} <= set(exported)

    later = AS_OF + pd.Timedelta(days=2)
    with crm_engine.begin() as connection:
        submit_request(connection, "erasure", email=EMAIL, received_at=later, source="admin", suppression_key=KEY)
    (erasure,) = process_pending(
        crm_engine, as_of=later, exports_dir=tmp_path / "exports", suppression_key=KEY, run_id="r2"
    )
    assert erasure.status == "completed"
    assert traces(crm_engine, pid, EMAIL) == []
    assert not Path(access.export_path).exists()
    with crm_engine.connect() as connection:
        events = pd.read_sql(sa.select(consent_events).order_by(consent_events.c.event_id), connection)
        requests = pd.read_sql(sa.select(gdpr_requests).order_by(gdpr_requests.c.request_id), connection)
        assert connection.execute(sa.select(suppression_list.c.email_hmac)).scalars().all() == email_hmacs([EMAIL], KEY)
    assert len(events) == events_before + 1 and events["person_id"].isna().all()
    assert events.iloc[-1][["action", "source"]].tolist() == ["withdrawn", "erasure"]
    assert requests["status"].tolist() == ["completed", "completed"] and requests["person_id"].isna().all()
    assert requests["due_at"].notna().all()

    again = tmp_path / "inbox-again"
    write_json(again, "gh-again.json", greenhouse_export(EMAIL.upper()))
    run(crm_engine, again, tmp_path, run_id="run-2")
    with crm_engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(persons)).scalar_one() == 0


def test_requests_for_unknown_emails_and_bad_input(crm_engine, tmp_path: Path) -> None:
    with crm_engine.begin() as connection:
        submit_request(
            connection, "erasure", email="nobody@example.org", received_at=AS_OF, source="admin", suppression_key=KEY
        )
        submit_request(
            connection, "access", email="nobody@example.org", received_at=AS_OF, source="admin", suppression_key=KEY
        )
        with pytest.raises(RequestError, match="valid email"):
            submit_request(
                connection, "access", email="not an email", received_at=AS_OF, source="admin", suppression_key=KEY
            )
        with pytest.raises(RequestError, match="kind"):
            submit_request(
                connection, "rectify", email="a@b.org", received_at=AS_OF, source="admin", suppression_key=KEY
            )
    outcomes = process_pending(crm_engine, as_of=AS_OF, exports_dir=tmp_path, suppression_key=KEY, run_id=None)
    assert [o.status for o in outcomes] == ["not_found", "not_found"]
    assert outcomes[1].export_path is None
    with crm_engine.connect() as connection:
        # erasure of someone we do not hold still keeps them from being imported later
        assert connection.execute(sa.select(suppression_list.c.email_hmac)).scalars().all() == email_hmacs(
            ["nobody@example.org"], KEY
        )
    assert process_pending(crm_engine, as_of=AS_OF, exports_dir=tmp_path, suppression_key=KEY, run_id=None) == []


def days_ago(n: int) -> object:
    return (AS_OF - pd.Timedelta(days=n)).to_pydatetime()


def test_retention_renews_expires_then_erases(crm_engine) -> None:
    rules = RetentionRules()
    with crm_engine.begin() as connection:
        old_reject, recent_reject, renew_soon, lapsed, ats_expired, consented_old_reject, asked = add_persons(
            connection, 7
        )
        connection.execute(
            sa.update(persons).values(last_rejected_at=days_ago(100), last_applied_at=days_ago(120))
            .where(persons.c.person_id.in_([old_reject, consented_old_reject, ats_expired, asked]))
        )  # fmt: skip
        connection.execute(
            sa.update(persons).values(last_rejected_at=days_ago(800), last_applied_at=days_ago(820))
            .where(persons.c.person_id.in_([lapsed, renew_soon]))
        )  # fmt: skip
        connection.execute(
            sa.update(persons).values(last_rejected_at=days_ago(30), last_applied_at=days_ago(40))
            .where(persons.c.person_id == recent_reject)
        )  # fmt: skip
        connection.execute(
            applications.insert(),
            [
                {"person_id": p, "source_system": "lever", "source_application_id": f"a{p}", "status": "rejected",
                 "rejected_at": days_ago(d), "rejection_reason": "Skills",
                 "created_at": days_ago(d), "updated_at": days_ago(d)}
                for p, d in ((consented_old_reject, 100), (recent_reject, 30))
            ],
        )  # fmt: skip
        record_event(connection, consented_old_reject, "job_offers", "granted", "ats_import", days_ago(100))
        record_event(connection, renew_soon, "events", "confirmed", "double_opt_in", days_ago(730 - 30))
        record_event(connection, lapsed, "job_offers", "confirmed", "double_opt_in", days_ago(731))
        record_event(
            connection, ats_expired, "job_offers", "granted", "ats_import", days_ago(90), expires_at=days_ago(1)
        )
        record_event(connection, asked, "events", "requested", "web_form", days_ago(5))

    report = run_retention(crm_engine, AS_OF, rules=rules, run_id="r1")
    with crm_engine.connect() as connection:
        left = set(connection.execute(sa.select(persons.c.person_id)).scalars())
        reasons = dict(connection.execute(sa.select(applications.c.person_id, applications.c.rejection_reason)).all())
        notices = connection.execute(sa.select(retention_notices)).mappings().all()
        assert current_consents(connection, lapsed, AS_OF)["job_offers"]["status"] == "expired"
        assert current_consents(connection, ats_expired, AS_OF)["job_offers"]["status"] == "expired"
    assert old_reject not in left  # no consent, rejected more than 3 months ago
    assert {recent_reject, renew_soon, lapsed, ats_expired, consented_old_reject, asked} <= left
    assert reasons == {consented_old_reject: None, recent_reject: "Skills"}
    assert [n["person_id"] for n in notices] == [renew_soon]
    assert pd.Timestamp(notices[0]["deadline"]).date() == (AS_OF + pd.Timedelta(days=30)).date()
    assert (report.consents_expired, report.persons_erased, report.notices_planned) == (2, 1, 1)

    rerun = run_retention(crm_engine, AS_OF, rules=rules, run_id="r1")
    assert (rerun.consents_expired, rerun.persons_erased, rerun.notices_planned, rerun.explanations_cleared) == (
        0,
        0,
        0,
        0,
    )

    # a click moves renew_soon's clock: the planned notice is cancelled; after the grace period the
    # lapsed consents lead to erasure
    with crm_engine.begin() as connection:
        record_contact(connection, renew_soon, "click", "preference_centre", AS_OF + pd.Timedelta(days=1))
    month_later = run_retention(crm_engine, AS_OF + pd.Timedelta(days=rules.grace_days + 1), rules=rules)
    with crm_engine.connect() as connection:
        left = set(connection.execute(sa.select(persons.c.person_id)).scalars())
        statuses = connection.execute(sa.select(retention_notices.c.status)).scalars().all()
    assert lapsed not in left and ats_expired not in left and asked not in left
    assert renew_soon in left and recent_reject in left  # rejected 61 days before: within the 3 months
    assert statuses == ["cancelled"] and month_later.notices_cancelled == 1


def test_an_open_request_keeps_the_person_until_it_is_answered(crm_engine) -> None:
    with crm_engine.begin() as connection:
        (pid,) = add_persons(connection, 1, last_rejected_at=days_ago(200))
        submit_request(connection, "access", person_id=pid, received_at=AS_OF, source="admin", suppression_key=KEY)
    report = run_retention(crm_engine, AS_OF + pd.Timedelta(days=25))
    assert report.persons_erased == 0
    assert (report.requests_open, report.requests_due_soon, report.requests_overdue) == (1, 1, 0)


def test_an_erased_persons_id_is_never_given_to_a_newcomer(crm_engine: sa.Engine) -> None:
    """Links and tokens name people by id: after erasing the newest person, the next one gets a new id."""
    from tests.consent_helpers import add_persons
    from vivier.gdpr.erasure import erase_persons

    with crm_engine.begin() as connection:
        first, newest = add_persons(connection, 2)
        erase_persons(connection, [newest], as_of=AS_OF, reason="test", run_id=None, suppression_key=None)
    with crm_engine.begin() as connection:
        (newcomer,) = add_persons(connection, 1)
    assert newcomer > newest > first


def test_staging_folders_of_failed_runs_go_after_the_staging_days(tmp_path) -> None:
    import os
    from datetime import UTC, datetime, timedelta

    from vivier.gdpr.staging_files import remove_stale_run_folders

    now = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
    root = tmp_path / "staging"

    def folder(name: str, written: datetime, newer_file: datetime | None = None) -> None:
        path = root / name / "people"
        path.mkdir(parents=True)
        staged = path / "persons.parquet"
        staged.write_bytes(b"staged")
        for item in (staged, path, path.parent):
            os.utime(item, (written.timestamp(), written.timestamp()))
        if newer_file is not None:
            recent = path.parent / "applications.parquet"
            recent.write_bytes(b"still working")
            os.utime(recent, (newer_file.timestamp(), newer_file.timestamp()))

    folder("ats_ingest_failed_run", now - timedelta(days=10))
    folder("match_job_offers_recent_run", now - timedelta(days=2))
    folder("ats_ingest_long_run", now - timedelta(days=10), newer_file=now - timedelta(hours=1))
    assert remove_stale_run_folders(root, now - timedelta(days=7)) == 1
    assert sorted(p.name for p in root.iterdir()) == ["ats_ingest_long_run", "match_job_offers_recent_run"]
    assert remove_stale_run_folders(root, now - timedelta(days=7)) == 0
    assert remove_stale_run_folders(tmp_path / "missing", now) == 0
