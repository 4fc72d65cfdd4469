"""Planning into the outbox on both engines: who gets what, once per period, in which language and
under which consent; and, with the consent ledger, that nobody without current consent for the
purpose and nobody suppressed receives bulk mail (property test, delivery included)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vivier.consent.ledger import record_events, set_frequency
from vivier.db.schema import (
    applications,
    consent_current,
    content_items,
    dispatch_batches,
    job_offers,
    outbox,
    outbox_consents,
    outbox_items,
    persons,
    retention_notices,
    suppression_list,
)
from vivier.dispatch.catalogue import load_catalogue, read_catalogue
from vivier.dispatch.config import DeliverySettings, default_config
from vivier.dispatch.delivery import deliver
from vivier.dispatch.links import PreferenceLinks
from vivier.dispatch.messages import MessageBuilder
from vivier.dispatch.planning import Planner
from vivier.dispatch.sink import SinkHandler, start_sink
from vivier.dispatch.synthetic import person_email, seed_population
from vivier.dispatch.templating import TemplateCatalogue
from vivier.dispatch.transports import SmtpSettings, SmtpTransport
from vivier.ingest.people import email_hmacs

KEY = b"test-suppression-key-0123456789ab"
TOKEN_KEYS = ["test-token-key-0123456789abcdef"]
AS_OF = pd.Timestamp("2026-12-01 08:00", tz="UTC")
FAST = DeliverySettings(messages_per_second=0, chunk_size=50, backoff_seconds=0.01, max_wait_seconds=5)


def make_planner(config=None) -> Planner:
    config = config or default_config()
    return Planner(
        config,
        TemplateCatalogue(fallback=config.fallback_languages),
        PreferenceLinks.of("https://p.test", TOKEN_KEYS),
        KEY,
    )


def rows(engine: sa.Engine, query) -> list:
    with engine.connect() as connection:
        return connection.execute(query).all()


def test_rejection_emails_go_once_per_application_personal_from_the_configured_stage(crm_engine) -> None:
    population = seed_population(crm_engine, 300, as_of=AS_OF, suppression_key=KEY, rejected_share=0.3)
    with crm_engine.begin() as connection:
        connection.execute(
            applications.update().where(applications.c.person_id % 7 == 0).values(rejection_side="candidate")
        )
    planner = make_planner()
    result = planner.plan(crm_engine, "rejection_feedback", AS_OF, "run-1")
    assert result.created and result.period == "2026-12-01" and result.planned > 0

    apps = rows(
        crm_engine, sa.select(applications.c.application_id, applications.c.person_id, applications.c.stage_rank)
    )
    suppressed = set(rows(crm_engine, sa.select(suppression_list.c.email_hmac)))
    mailed = rows(
        crm_engine,
        sa.select(
            outbox.c.period, outbox.c.person_id, outbox.c.template, outbox.c.body_text, outbox.c.recipient_hmac
        ).where(outbox.c.campaign == "rejection_feedback"),
    )
    expected = {
        f"application-{a.application_id}"
        for a in apps
        if a.person_id % 7 and (email_hmacs([person_email(a.person_id)], KEY)[0],) not in suppressed
    }
    assert {m.period for m in mailed} == expected and len(mailed) == len(expected)
    assert population.suppressed > 0 and len(expected) < len(apps)
    rank = {f"application-{a.application_id}": a.stage_rank for a in apps}
    in_pool = set(
        rows(
            crm_engine,
            sa.select(consent_current.c.person_id).where(
                consent_current.c.purpose == "job_offers", consent_current.c.is_active
            ),
        )
    )
    for message in mailed:
        personal = rank[message.period] >= default_config().personal_from_stage_rank
        assert message.template == ("rejection_personal" if personal else "rejection_short")
        assert ("Salary expectations above the range" in message.body_text) == personal
        # the invitation to join the pool, or the preferences of someone already in it
        link = "p.test/manage/" if (message.person_id,) in in_pool else "p.test/join/"
        assert link in message.body_text
    headers = rows(
        crm_engine, sa.select(outbox.c.headers, outbox.c.is_bulk).where(outbox.c.campaign == "rejection_feedback")
    )
    assert all(not h.is_bulk and not h.headers for h in headers), "transactional: no List-Unsubscribe"

    again = planner.plan(crm_engine, "rejection_feedback", AS_OF + pd.Timedelta(hours=3), "run-2")
    assert not again.created and again.batch_id == result.batch_id
    tomorrow = planner.plan(crm_engine, "rejection_feedback", AS_OF + pd.Timedelta(days=1), "run-3")
    assert tomorrow.created and tomorrow.planned == 0, "an application is mailed once, whatever the day"


def test_weekly_offers_follow_consent_frequency_and_suppression_and_never_repeat_an_offer(crm_engine) -> None:
    seed_population(crm_engine, 400, as_of=AS_OF, suppression_key=KEY, content_share=0.0)
    planner = make_planner()
    week = planner.plan(crm_engine, "weekly_offers", AS_OF, "w48")
    assert week.period == "2026-W49" and week.planned > 100

    with crm_engine.connect() as connection:
        active = {
            r.person_id: r.last_event_id
            for r in connection.execute(
                sa.select(consent_current).where(consent_current.c.purpose == "job_offers", consent_current.c.is_active)
            )
        }
        frequency = dict(
            connection.execute(
                sa.text("SELECT person_id, frequency FROM contact_preferences WHERE purpose = 'job_offers'")
            ).all()
        )
        suppressed = set(connection.execute(sa.select(suppression_list.c.email_hmac)).scalars())
        messages = connection.execute(sa.select(outbox).where(outbox.c.batch_id == week.batch_id)).all()
        consents = dict(
            connection.execute(
                sa.select(outbox_consents.c.message_id, outbox_consents.c.consent_event_id).where(
                    outbox_consents.c.purpose == "job_offers"
                )
            ).all()
        )
        items = Counter(
            connection.execute(sa.select(outbox_items.c.message_id).where(outbox_items.c.kind == "job_offer")).scalars()
        )
        closed = set(
            connection.execute(sa.text("SELECT job_offer_id FROM job_offers WHERE status = 'closed'")).scalars()
        )
        offered = set(
            connection.execute(sa.select(outbox_items.c.item_ref).where(outbox_items.c.kind == "job_offer")).scalars()
        )
    for message in messages:
        assert message.person_id in active and frequency.get(message.person_id, "weekly") == "weekly"
        assert message.recipient_hmac not in suppressed and message.is_bulk
        assert consents[message.message_id] == active[message.person_id] == message.consent_event_id
        assert 1 <= items[message.message_id] <= 5
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.headers["List-Unsubscribe"].startswith("<https://p.test/unsubscribe/")
        assert message.language in ("fr", "en", "de", "it") and message.template_version
    assert not offered & {str(c) for c in closed}, "closed offers are never proposed"

    month = planner.plan(crm_engine, "monthly_offers", AS_OF, "m12")
    monthly_people = set(rows(crm_engine, sa.select(outbox.c.person_id).where(outbox.c.batch_id == month.batch_id)))
    assert monthly_people and all(frequency.get(p) == "monthly" for (p,) in monthly_people)

    next_week = planner.plan(crm_engine, "weekly_offers", AS_OF + pd.Timedelta(days=7), "w50")
    pairs = Counter(
        rows(
            crm_engine,
            sa.select(outbox.c.person_id, outbox_items.c.item_ref)
            .join(outbox_items, outbox_items.c.message_id == outbox.c.message_id)
            .where(outbox_items.c.kind == "job_offer"),
        )
    )
    assert next_week.planned < week.planned and max(pairs.values()) == 1, "an offer is proposed to a person once"


def test_content_digests_by_language_family_and_age_band(crm_engine) -> None:
    seed_population(crm_engine, 600, as_of=AS_OF, suppression_key=KEY, job_offers_share=0.0, content_share=0.9)
    with crm_engine.begin() as connection:
        counts = load_catalogue(connection, read_catalogue(), AS_OF)
    assert counts.inserted == counts.items > 30
    planner = make_planner()
    result = planner.plan(crm_engine, "monthly_content", AS_OF, "m12")
    assert result.planned > 50
    with crm_engine.connect() as connection:
        chosen = connection.execute(
            sa.select(
                outbox.c.person_id,
                outbox.c.language,
                outbox.c.headers,
                persons.c.age_band,
                persons.c.job_family,
                content_items.c.purpose,
                content_items.c.language.label("item_language"),
                content_items.c.job_family.label("item_family"),
                content_items.c.age_bands,
            )
            .join(outbox_items, outbox_items.c.message_id == outbox.c.message_id)
            .join(content_items, content_items.c.item_id == outbox_items.c.item_ref)
            .join(persons, persons.c.person_id == outbox.c.person_id)
            .where(outbox.c.batch_id == result.batch_id)
        ).all()
    events = Counter()
    for row in chosen:
        assert row.item_language == row.language
        assert row.item_family is None or row.item_family == row.job_family, "testimonials from the person's family"
        bands = json.loads(row.age_bands) if isinstance(row.age_bands, str) else row.age_bands
        assert bands is None or row.age_band in bands
        assert row.headers["List-Unsubscribe"].startswith("<https://p.test/unsubscribe/")
        if row.purpose == "events":
            events[(row.person_id, row.age_band)] += 1
    assert max(n for (_, band), n in events.items() if band == "18-24") == 2, "18-24: events weigh twice"
    assert max(n for (_, band), n in events.items() if band != "18-24") == 1

    again = planner.plan(crm_engine, "monthly_content", AS_OF + pd.Timedelta(days=31), "m01")
    seen = Counter(
        rows(
            crm_engine,
            sa.select(outbox.c.person_id, outbox_items.c.item_ref)
            .join(outbox_items, outbox_items.c.message_id == outbox.c.message_id)
            .where(outbox_items.c.kind == "content"),
        )
    )
    assert again.created and max(seen.values()) == 1, "an item goes to a person once"


def test_the_frequency_cap_counts_bulk_mail_across_campaigns(crm_engine) -> None:
    from dataclasses import replace

    seed_population(crm_engine, 200, as_of=AS_OF, suppression_key=KEY, content_share=0.9, frequency_choices=False)
    with crm_engine.begin() as connection:
        load_catalogue(connection, read_catalogue(), AS_OF)
    planner = make_planner(replace(default_config(), cap_max_messages=1))
    weekly = planner.plan(crm_engine, "weekly_offers", AS_OF, "w")
    content = planner.plan(crm_engine, "monthly_content", AS_OF + pd.Timedelta(hours=1), "m")
    assert weekly.planned > 0 and content.skipped.get("frequency_cap", 0) > 0
    with crm_engine.connect() as connection:
        per_person = Counter(
            connection.execute(
                sa.select(outbox.c.person_id).where(outbox.c.is_bulk, outbox.c.state == "planned")
            ).scalars()
        )
        skipped = connection.execute(
            sa.select(outbox.c.skip_reason, outbox.c.body_html).where(outbox.c.state == "skipped")
        ).all()
        batch = connection.execute(
            sa.select(dispatch_batches).where(dispatch_batches.c.batch_id == content.batch_id)
        ).one()
    assert max(per_person.values()) == 1
    assert {s.skip_reason for s in skipped} == {"frequency_cap"} and all(s.body_html is None for s in skipped)
    assert batch.skip_reasons == {"frequency_cap": content.skipped["frequency_cap"]} and batch.skipped == len(skipped)


def test_consent_renewal_notices_are_sent_once_and_marked_sent(crm_engine) -> None:
    seed_population(crm_engine, 30, as_of=AS_OF, suppression_key=KEY, suppressed_share=0.0)
    with crm_engine.begin() as connection:
        connection.execute(
            retention_notices.insert(),
            [
                {
                    "person_id": person_id,
                    "kind": "consent_renewal",
                    "purpose": purpose,
                    "deadline": AS_OF + pd.Timedelta(days=30),
                    "send_on": AS_OF - pd.Timedelta(days=offset),
                    "status": "planned",
                    "planned_at": AS_OF - pd.Timedelta(days=20),
                }
                for person_id, purpose, offset in [(1, "job_offers", 1), (2, None, 2), (3, "events", -3)]
            ],
        )
    result = make_planner().plan(crm_engine, "consent_renewal", AS_OF, "r")
    assert result.planned == 2, "the notice whose send_on is still ahead waits"
    handler = SinkHandler()
    controller = start_sink(handler)
    try:
        builder = MessageBuilder("T", "talent@vivier.test")
        report = deliver(
            crm_engine, [result.batch_id], SmtpTransport(SmtpSettings(port=controller.port)), builder, FAST
        )
    finally:
        controller.stop()
    assert report.sent == 2 and sum(handler.received.values()) == 2
    notices = {
        r.person_id: r for r in rows(crm_engine, sa.select(retention_notices).order_by(retention_notices.c.person_id))
    }
    assert notices[1].status == notices[2].status == "sent" and notices[3].status == "planned"
    assert notices[1].message_id in handler.received and notices[1].sent_at is not None
    body = rows(crm_engine, sa.select(outbox.c.body_text).where(outbox.c.person_id == 1))[0][0]
    assert "p.test/manage/" in body


# --------------------------------------------------------------------------- property test

PEOPLE = 6
ACTIONS = st.sampled_from(["granted", "withdrawn", "renewed", "expired_grant"])
PERSON = st.fixed_dictionaries(
    {
        "job_offers": st.lists(ACTIONS, max_size=3),
        "events": st.lists(ACTIONS, max_size=3),
        "frequency": st.sampled_from([None, "weekly", "monthly", "never"]),
        "suppressed": st.booleans(),
        "after_planning": st.sampled_from([None, "withdraw", "suppress", "never"]),
    }
)


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in (
            "outbox_items",
            "outbox_consents",
            "outbox",
            "dispatch_batches",
            "consent_current",
            "consent_events",
            "contact_preferences",
            "suppression_list",
            "matches",
            "job_offers",
            "content_items",
            "persons",
        ):
            connection.exec_driver_sql(f"DELETE FROM {table}")


def _effective(actions: list[str], now: datetime) -> bool:
    """Whether the last decisive event leaves consent current at ``now`` (the oracle)."""
    if not actions:
        return False
    return actions[-1] in ("granted", "renewed")


@pytest.fixture
def sink():
    handler = SinkHandler()
    controller = start_sink(handler)
    yield handler, controller.port
    controller.stop()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(people=st.lists(PERSON, min_size=PEOPLE, max_size=PEOPLE))
def test_nobody_without_current_consent_or_suppressed_receives_bulk_mail(crm_engine, sink, people) -> None:
    handler, port = sink
    _reset(crm_engine)
    handler.received.clear()
    now = datetime.now(UTC).replace(microsecond=0)
    as_of = pd.Timestamp(now - timedelta(hours=1))
    ids = list(range(1, PEOPLE + 1))
    with crm_engine.begin() as connection:
        connection.execute(
            persons.insert(),
            [
                {
                    "person_id": i,
                    "email": person_email(i),
                    "first_name": "Zoé",
                    "language": "fr",
                    "age_band": "18-24",
                    "job_family": "software_engineering",
                    "created_at": as_of,
                    "updated_at": as_of,
                }
                for i in ids
            ],
        )
        connection.execute(
            job_offers.insert().values(
                job_offer_id=1,
                source_system="greenhouse",
                source_job_id="J1",
                title="Développeur",
                status="open",
                created_at=as_of,
                updated_at=as_of,
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO matches (job_offer_id, person_id, score, rank, matched_skills, missing_skills, reason, "
                "computed_at) VALUES (1, :p, 0.9, :p, '[]', '[]', 'r', :at)"
            ),
            [{"p": i, "at": as_of.to_pydatetime()} for i in ids],
        )
        load_catalogue(
            connection,
            [item for item in read_catalogue() if item["language"] == "fr" and item["purpose"] == "events"],
            as_of,
        )
        events = []
        for person_id, spec in zip(ids, people, strict=True):
            for purpose in ("job_offers", "events"):
                for step, action in enumerate(spec[purpose]):
                    event = {
                        "person_id": person_id,
                        "purpose": purpose,
                        "action": "granted" if action == "expired_grant" else action,
                        "source": "web_form",
                        "occurred_at": as_of - pd.Timedelta(days=10 - step),
                        "expires_at": as_of - pd.Timedelta(days=1) if action == "expired_grant" else None,
                    }
                    events.append(event)
            if spec["frequency"]:
                set_frequency(
                    connection, person_id, "job_offers", spec["frequency"], "web_form", as_of - pd.Timedelta(days=5)
                )
            if spec["suppressed"]:
                connection.execute(
                    suppression_list.insert().values(
                        email_hmac=email_hmacs([person_email(person_id)], KEY)[0], reason="erasure", created_at=as_of
                    )
                )
        if events:
            record_events(connection, pd.DataFrame(events))

    planner = make_planner()
    plans = [planner.plan(crm_engine, c, as_of, "p") for c in ("weekly_offers", "monthly_content")]

    with crm_engine.begin() as connection:  # changes between planning and sending
        for person_id, spec in zip(ids, people, strict=True):
            change = spec["after_planning"]
            if change == "withdraw":
                withdrawn = pd.DataFrame(
                    {
                        "person_id": person_id,
                        "purpose": ["job_offers", "events"],
                        "action": "withdrawn",
                        "source": "unsubscribe",
                        "occurred_at": pd.Timestamp(now),
                    }
                )
                record_events(connection, withdrawn)
            elif change == "suppress" and not spec["suppressed"]:
                connection.execute(
                    suppression_list.insert().values(
                        email_hmac=email_hmacs([person_email(person_id)], KEY)[0], reason="complaint", created_at=as_of
                    )
                )
            elif change == "never":
                set_frequency(connection, person_id, "events", "never", "web_form", now)

    deliver(
        crm_engine,
        [p.batch_id for p in plans],
        SmtpTransport(SmtpSettings(port=port)),
        MessageBuilder("T", "talent@vivier.test"),
        FAST,
    )
    with crm_engine.connect() as connection:
        sent = connection.execute(
            sa.select(outbox.c.message_id, outbox.c.person_id, outbox.c.campaign).where(outbox.c.state == "sent")
        ).all()
    assert {m.message_id for m in sent} == set(handler.received) and max(handler.received.values(), default=1) == 1

    def allowed(person_id: int, purpose: str) -> bool:
        spec = people[person_id - 1]
        if spec["suppressed"] or spec["after_planning"] in ("suppress", "withdraw"):
            return False
        actions = spec[purpose]
        if not _effective(actions, now) or actions[-1] == "expired_grant":
            return False
        if purpose == "events" and spec["after_planning"] == "never":
            return False
        return True

    for message in sent:
        purpose = "job_offers" if message.campaign == "weekly_offers" else "events"
        assert allowed(message.person_id, purpose), (message.campaign, people[message.person_id - 1])

    weekly_expected = {i for i in ids if allowed(i, "job_offers") and people[i - 1]["frequency"] in (None, "weekly")}
    assert {m.person_id for m in sent if m.campaign == "weekly_offers"} == weekly_expected


def test_large_batches_render_in_worker_processes_with_the_same_result(crm_engine) -> None:
    from dataclasses import replace

    seed_population(crm_engine, 150, as_of=AS_OF, suppression_key=KEY, content_share=0.0, frequency_choices=False)
    base = default_config()
    parallel = replace(base, planning=replace(base.planning, workers=2, parallel_from=1, chunk_size=40))
    result = make_planner(parallel).plan(crm_engine, "weekly_offers", AS_OF, "w")
    with crm_engine.connect() as connection:
        messages = connection.execute(sa.select(outbox).where(outbox.c.batch_id == result.batch_id)).all()
        consents = connection.execute(sa.select(sa.func.count()).select_from(outbox_consents)).scalar_one()
        items = Counter(connection.execute(sa.select(outbox_items.c.message_id)).scalars())
    assert result.planned == len(messages) > 80 and consents == len(messages)
    assert all(items[m.message_id] >= 1 and m.body_html and m.subject for m in messages)
    expected = {
        p for (p,) in rows(crm_engine, sa.select(consent_current.c.person_id).where(consent_current.c.is_active))
    }
    assert {m.person_id for m in messages} <= expected
    versions = {m.template_version for m in messages}
    assert versions == set(result.template_versions.values()), "workers render the same templates"


def test_a_template_failing_in_a_worker_process_fails_the_whole_period(crm_engine, tmp_path) -> None:
    import shutil
    from dataclasses import replace

    from vivier.dispatch.templating import TEMPLATES_DIR, TemplateProblem

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    for language in ("fr", "en", "de", "it"):
        html = folder / "job_offers_digest" / f"{language}.html"
        trap = '{% if person.first_name not in ["Camille", "Alex", "Lena", "Giulia"] %}{{ misspelt }}{% endif %}'
        html.write_text(html.read_text(encoding="utf-8").replace("{% block content %}", "{% block content %}" + trap))
    seed_population(crm_engine, 150, as_of=AS_OF, suppression_key=KEY, content_share=0.0, frequency_choices=False)
    base = default_config()
    config = replace(base, planning=replace(base.planning, workers=2, parallel_from=1, chunk_size=40))
    links = PreferenceLinks.of("https://p.test", TOKEN_KEYS)
    planner = Planner(config, TemplateCatalogue(folder, config.fallback_languages), links, KEY)
    with pytest.raises(TemplateProblem, match="job_offers_digest/.*UndefinedError"):
        planner.plan(crm_engine, "weekly_offers", AS_OF, "w")
    assert not rows(crm_engine, sa.select(outbox.c.message_id)), "nothing of the period is written"
    assert not rows(crm_engine, sa.select(dispatch_batches.c.batch_id)), "the period can be planned again"
