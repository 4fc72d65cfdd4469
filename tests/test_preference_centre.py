"""The preference centre over real HTTP (uvicorn on loopback, httpx), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from vivier.consent import ledger
from vivier.consent.purposes import PURPOSES
from vivier.db.schema import (
    consent_current,
    consent_events,
    contact_events,
    contact_preferences,
    gdpr_requests,
    persons,
)
from vivier.gdpr.rules import RetentionRules
from vivier.ingest.people import email_hmacs
from vivier.preferences import links
from vivier.preferences.app import CentreSettings, build_app
from vivier.preferences.demo import unsubscribe_over_http
from vivier.preferences.localserver import serve_on_loopback
from vivier.preferences.mail import CapturingSender
from vivier.preferences.texts import consent_texts
from vivier.preferences.tokens import CONFIRM, DEFAULT_MAX_AGE, PREFERENCES, TokenSigner

NEW_KEY = "new-token-key-0123456789abcdef"
OLD_KEY = "old-token-key-0123456789abcdef"
UNKNOWN_KEY = "someone-elses-key-0123456789"
KEYS = [NEW_KEY, OLD_KEY]
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) VivierTest/1.0"
SEEDED_AT = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
SUPPRESSION_KEY = b"test-suppression-key"


@dataclass
class Centre:
    base: str
    engine: sa.Engine
    sender: CapturingSender
    client: httpx.Client
    people: dict[str, int] = field(default_factory=dict)

    def url(self, builder, person: str, *args) -> str:
        return builder(self.base, KEYS, self.people[person], *args)


def _add_person(connection: sa.Connection, email: str, language: str) -> int:
    return connection.execute(
        persons.insert()
        .values(email=email, full_name="Test Person", language=language, created_at=SEEDED_AT, updated_at=SEEDED_AT)
        .returning(persons.c.person_id)
    ).scalar_one()


@pytest.fixture
def centre(crm_engine: sa.Engine) -> Iterator[Centre]:
    """The app on a free loopback port over a CRM with Léa (fr, consents to job offers and events) and
    Sam (en, no consent)."""
    with crm_engine.begin() as connection:
        people = {
            "lea": _add_person(connection, "lea@example.org", "fr"),
            "sam": _add_person(connection, "sam@example.org", "en"),
        }
        for purpose in ("job_offers", "events"):
            ledger.record_event(connection, people["lea"], purpose, "granted", "ats_import", SEEDED_AT)
    sender = CapturingSender()
    base: list[str] = []
    crm_url = crm_engine.url.render_as_string(hide_password=False)
    app = build_app(lambda: CentreSettings(crm_url, KEYS, base[0], suppression_key=SUPPRESSION_KEY), sender=sender)
    with serve_on_loopback(app) as base_url:
        base.append(base_url)
        with httpx.Client(timeout=30, headers={"User-Agent": BROWSER_UA}) as client:
            yield Centre(base_url, crm_engine, sender, client, people)


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row the preference centre may write, to prove that a request changed nothing."""
    with engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key))]
            for table in (consent_events, consent_current, contact_events, contact_preferences, gdpr_requests, persons)
        }


def events(engine: sa.Engine, person_id: int) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(consent_events).where(consent_events.c.person_id == person_id).order_by(consent_events.c.event_id)
        )
        return [dict(row._mapping) for row in rows]


def active_purposes(engine: sa.Engine, person_id: int) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(consent_current.c.purpose).where(
                    consent_current.c.person_id == person_id, consent_current.c.is_active
                )
            ).scalars()
        )


def contacts(engine: sa.Engine, person_id: int) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(contact_events.c.kind)
                .where(contact_events.c.person_id == person_id)
                .order_by(contact_events.c.contact_id)
            ).scalars()
        )


ONE_CLICK = {"List-Unsubscribe": "One-Click"}


# --- RFC 8058 one-click unsubscribe -----------------------------------------------------------------


def test_get_unsubscribe_shows_a_button_and_changes_nothing(centre: Centre) -> None:
    assert centre.client.get(f"{centre.base}/healthz").json() == {"status": "ok"}
    before = snapshot(centre.engine)
    response = centre.client.get(centre.url(links.unsubscribe_url, "lea", "all"))
    assert response.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in response.text
    assert 'method="post"' in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert snapshot(centre.engine) == before


@pytest.mark.parametrize("encoding", ["form", "multipart"])
def test_one_click_post_withdraws_at_once(centre: Centre, encoding: str) -> None:
    url = centre.url(links.unsubscribe_url, "lea", "all")
    lea = centre.people["lea"]
    if encoding == "form":
        response = centre.client.post(url, data=ONE_CLICK)
    else:
        response = centre.client.post(url, files={"List-Unsubscribe": (None, "One-Click")})
        assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 200
    assert active_purposes(centre.engine, lea) == set()
    withdrawn = [e for e in events(centre.engine, lea) if e["action"] == "withdrawn"]
    assert sorted(e["purpose"] for e in withdrawn) == ["events", "job_offers"]
    assert {e["source"] for e in withdrawn} == {"unsubscribe"}
    assert {e["evidence_ip"] for e in withdrawn} == {"127.0.0.1"}
    assert {e["evidence_user_agent"] for e in withdrawn} == {BROWSER_UA}
    assert contacts(centre.engine, lea) == []  # unsubscribing does not extend how long data is kept

    before = snapshot(centre.engine)  # a mail client retrying the POST changes nothing more
    assert centre.client.post(url, data=ONE_CLICK).status_code == 200
    assert snapshot(centre.engine) == before


def test_unsubscribe_from_one_purpose_keeps_the_others(centre: Centre) -> None:
    url = centre.url(links.unsubscribe_url, "lea", "events")
    before = snapshot(centre.engine)
    assert centre.client.post(url, data={"other": "x"}).status_code == 400  # not an RFC 8058 POST
    assert snapshot(centre.engine) == before
    assert centre.client.post(url, data=ONE_CLICK).status_code == 200
    assert active_purposes(centre.engine, centre.people["lea"]) == {"job_offers"}


def _tamper(token: str) -> str:
    """Change one character of the payload part (before the first dot), keeping the signature."""
    payload, _, rest = token.partition(".")
    swapped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    return f"{swapped}.{rest}"


def _bad_tokens(person_id: int) -> dict[str, str]:
    genuine = TokenSigner(KEYS).sign("unsubscribe", person_id, u="all")
    other_person = TokenSigner(KEYS).sign("unsubscribe", person_id + 1, u="all")
    return {
        "forged with an unknown key": TokenSigner([UNKNOWN_KEY]).sign("unsubscribe", person_id, u="all"),
        "tampered payload": _tamper(genuine),
        "tampered signature": genuine[:-2] + ("xy" if not genuine.endswith("xy") else "zw"),
        "payload of another person with this signature": other_person.split(".")[0] + "." + genuine.split(".")[1],
        "token of another purpose": TokenSigner(KEYS).sign("preferences", person_id),
        "enumerated": str(person_id),
        "empty payload": ".",
        "garbage": "abc.def",
    }


def test_forged_and_tampered_tokens_are_refused(centre: Centre) -> None:
    before = snapshot(centre.engine)
    for case, token in _bad_tokens(centre.people["lea"]).items():
        url = f"{centre.base}/unsubscribe/{token}"
        assert centre.client.get(url).status_code in (400, 404), case
        response = centre.client.post(url, data=ONE_CLICK)
        assert response.status_code in (400, 404), case
        assert "Lien non valable" in response.text or "Invalid link" in response.text, case
    assert snapshot(centre.engine) == before


def test_old_key_still_verifies_after_rotation(centre: Centre) -> None:
    lea = centre.people["lea"]
    old_link = links.unsubscribe_url(centre.base, [OLD_KEY], lea, "job_offers")
    assert old_link != links.unsubscribe_url(centre.base, KEYS, lea, "job_offers")  # new links use the new key
    assert centre.client.post(old_link, data=ONE_CLICK).status_code == 200
    assert active_purposes(centre.engine, lea) == {"events"}


def test_other_tokens_refused_too(centre: Centre) -> None:
    """Preference, join, confirmation and data links with a wrong key or purpose, or of an unknown person,
    change nothing."""
    lea = centre.people["lea"]
    forged = TokenSigner([UNKNOWN_KEY])
    wrong_purpose = TokenSigner(KEYS).sign("unsubscribe", lea, u="all")
    before = snapshot(centre.engine)
    for path, token in [
        ("manage", forged.sign("preferences", lea)),
        ("manage", wrong_purpose),
        ("join", forged.sign("join", lea)),
        ("confirm", forged.sign("confirm", lea, u=["events"], r=1)),
        ("data", forged.sign("request", lea)),
        ("data", wrong_purpose),
    ]:
        url = f"{centre.base}/{path}/{token}"
        assert centre.client.get(url).status_code == 404, url
        assert centre.client.post(url, data={"kind": "access", "purpose": "events"}).status_code == 404, url
    missing = max(centre.people.values()) + 100  # genuine links of a person who is not (or no longer) there
    for url in (
        links.preferences_url(centre.base, KEYS, missing),
        links.join_url(centre.base, KEYS, missing),
        links.data_request_url(centre.base, KEYS, missing),
    ):
        assert centre.client.get(url).status_code == 404, url
    assert snapshot(centre.engine) == before


# --- join, double opt-in ------------------------------------------------------------------------


def _join(centre: Centre, person: str, purposes: list[str]) -> str:
    """Submit the invitation form; returns the confirmation link that was mailed."""
    url = centre.url(links.join_url, person)
    response = centre.client.post(url, data={"purpose": purposes})
    assert response.status_code == 200, response.text
    mail = centre.sender.mails[-1]
    assert mail.person_id == centre.people[person]
    assert mail.url in mail.body
    return mail.url


def test_join_then_confirm_then_replay(centre: Centre) -> None:
    sam = centre.people["sam"]
    page = centre.client.get(centre.url(links.join_url, "sam"))
    assert page.status_code == 200
    assert 'type="checkbox" name="purpose" value="job_offers">' in page.text  # never pre-ticked
    assert consent_texts()["en"].statement.split(".")[0] in page.text
    assert contacts(centre.engine, sam) == ["click"]

    confirm_link = _join(centre, "sam", ["job_offers", "testimonials"])
    assert confirm_link.startswith(f"{centre.base}/confirm/")
    assert centre.sender.mails[-1].to == "sam@example.org"
    requested = events(centre.engine, sam)
    assert [(e["purpose"], e["action"], e["source"]) for e in requested] == [
        ("job_offers", "requested", "web_form"),
        ("testimonials", "requested", "web_form"),
    ]
    assert {e["text_version"] for e in requested} == {consent_texts()["en"].version}
    assert {e["language"] for e in requested} == {"en"}
    assert {e["evidence_ip"] for e in requested} == {"127.0.0.1"}
    assert active_purposes(centre.engine, sam) == set()  # nothing until confirmed
    assert contacts(centre.engine, sam) == ["click", "form"]

    before = snapshot(centre.engine)
    shown = centre.client.get(confirm_link)  # a link scanner's prefetch confirms nothing
    assert shown.status_code == 200 and 'method="post"' in shown.text
    assert snapshot(centre.engine) == before

    confirmed = centre.client.post(confirm_link)
    assert confirmed.status_code == 200
    assert "Sign-up confirmed" in confirmed.text
    assert active_purposes(centre.engine, sam) == {"job_offers", "testimonials"}
    confirmations = [e for e in events(centre.engine, sam) if e["action"] == "confirmed"]
    assert {(e["source"], e["text_version"], e["language"]) for e in confirmations} == {
        ("double_opt_in", consent_texts()["en"].version, "en")
    }
    assert {e["evidence_user_agent"] for e in confirmations} == {BROWSER_UA}

    before = snapshot(centre.engine)
    replay = centre.client.post(confirm_link)
    assert replay.status_code == 200
    assert "Already confirmed" in replay.text
    assert snapshot(centre.engine) == before


def test_expired_confirmation_and_preference_links_are_refused(centre: Centre) -> None:
    sam = centre.people["sam"]
    _join(centre, "sam", ["events"])
    request_event = events(centre.engine, sam)[-1]["event_id"]
    eight_days_ago = time.time() - (DEFAULT_MAX_AGE[CONFIRM] + timedelta(days=1)).total_seconds()
    old_token = TokenSigner(KEYS, clock=lambda: eight_days_ago).sign(CONFIRM, sam, u=["events"], r=request_event)
    before = snapshot(centre.engine)
    for response in (
        centre.client.get(f"{centre.base}/confirm/{old_token}"),
        centre.client.post(f"{centre.base}/confirm/{old_token}"),
    ):
        assert response.status_code == 410
        assert "Link expired" in response.text
    long_ago = time.time() - (DEFAULT_MAX_AGE[PREFERENCES] + timedelta(days=1)).total_seconds()
    old_preferences = TokenSigner(KEYS, clock=lambda: long_ago).sign(PREFERENCES, sam)
    assert centre.client.get(f"{centre.base}/manage/{old_preferences}").status_code == 410
    assert centre.client.post(f"{centre.base}/manage/{old_preferences}", data={"consent": "events"}).status_code == 410
    assert snapshot(centre.engine) == before
    assert active_purposes(centre.engine, sam) == set()


def test_confirmation_after_unsubscribing_changes_nothing(centre: Centre) -> None:
    sam = centre.people["sam"]
    confirm_link = _join(centre, "sam", ["events"])
    assert centre.client.post(centre.url(links.unsubscribe_url, "sam", "all"), data=ONE_CLICK).status_code == 200
    before = snapshot(centre.engine)
    response = centre.client.post(confirm_link)
    assert response.status_code == 200 and "Outdated link" in response.text
    assert snapshot(centre.engine) == before
    assert active_purposes(centre.engine, sam) == set()


def test_anonymous_join_never_tells_whether_the_address_is_known(centre: Centre) -> None:
    sam = centre.people["sam"]
    known = centre.client.post(f"{centre.base}/join", data={"email": "  SAM@example.org ", "purpose": ["events"]})
    unknown = centre.client.post(f"{centre.base}/join", data={"email": "nobody@example.org", "purpose": ["events"]})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert [mail.to for mail in centre.sender.mails] == ["sam@example.org"]
    assert [(e["purpose"], e["action"]) for e in events(centre.engine, sam)] == [("events", "requested")]
    assert contacts(centre.engine, sam) == []  # anyone can type an address: not the person's own act

    again = centre.client.post(f"{centre.base}/join", data={"email": "sam@example.org", "purpose": ["events"]})
    assert again.text == known.text
    assert len(centre.sender.mails) == 1  # no mail bombing through the anonymous form

    assert centre.client.post(centre.sender.mails[0].url).status_code == 200
    assert active_purposes(centre.engine, sam) == {"events"}
    assert contacts(centre.engine, sam) == ["click"]


def test_join_without_a_purpose_is_refused_and_input_is_escaped(centre: Centre) -> None:
    before = snapshot(centre.engine)
    response = centre.client.post(centre.url(links.join_url, "sam"), data={"purpose": "not-a-purpose"})
    assert response.status_code == 400
    assert "Choose at least one topic" in response.text
    echoed = centre.client.post(f"{centre.base}/join", data={"email": '"><script>alert(1)</script>'})
    assert echoed.status_code == 400
    assert "<script>alert(1)</script>" not in echoed.text
    assert "&lt;script&gt;" in echoed.text
    assert snapshot(centre.engine) == before
    assert centre.sender.mails == []


# --- preferences -----------------------------------------------------------------------------------


def test_preference_update_writes_consents_frequency_and_language(centre: Centre) -> None:
    lea = centre.people["lea"]
    url = centre.url(links.preferences_url, "lea")
    page = centre.client.get(url)
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text and "Vos préférences" in page.text
    assert 'name="consent" value="job_offers" checked' in page.text
    assert contacts(centre.engine, lea) == ["click"]

    form = {f"frequency_{p}": "monthly" for p in PURPOSES}
    form |= {"frequency_events": "quarterly", "consent": ["job_offers", "testimonials"], "language": "en"}
    response = centre.client.post(url, data=form)
    assert response.status_code == 200
    assert '<html lang="en">' in response.text and "Preferences saved" in response.text

    assert active_purposes(centre.engine, lea) == {"job_offers", "testimonials"}
    changed = [e for e in events(centre.engine, lea) if e["source"] == "web_form"]
    assert sorted((e["purpose"], e["action"]) for e in changed) == [
        ("events", "withdrawn"),
        ("testimonials", "granted"),
    ]
    # recorded with the text Léa read: the French page, before she switched to English
    assert {(e["text_version"], e["language"], e["evidence_ip"]) for e in changed} == {
        (consent_texts()["fr"].version, "fr", "127.0.0.1")
    }
    with centre.engine.connect() as connection:
        chosen = dict(
            connection.execute(
                sa.select(contact_preferences.c.purpose, contact_preferences.c.frequency).where(
                    contact_preferences.c.person_id == lea
                )
            ).all()
        )
        person = connection.execute(sa.select(persons).where(persons.c.person_id == lea)).one()
    # only the frequencies that differ from the defaults were stored
    assert chosen == {
        "job_offers": "monthly",
        "events": "quarterly",
        "testimonials": "monthly",
        "company_news": "monthly",
    }
    assert person.preferred_language == "en"
    assert person.last_contact_at is not None
    assert contacts(centre.engine, lea) == ["click", "form"]

    again = centre.client.get(url)
    assert '<html lang="en">' in again.text
    assert '<option value="monthly" selected>' in again.text


def test_preference_page_links_to_data_requests_and_unsubscribe(centre: Centre) -> None:
    page = centre.client.get(centre.url(links.preferences_url, "sam"))
    relative = re.findall(r'href="(\.\./(?:data|unsubscribe)/[^"]+)"', page.text)
    assert len(relative) == 2
    for link in relative:
        target = httpx.URL(f"{centre.base}/manage/x").join(link)
        assert centre.client.get(target).status_code == 200


# --- data-subject requests ---------------------------------------------------------------------------


def test_access_and_erasure_requests(centre: Centre) -> None:
    sam = centre.people["sam"]
    url = centre.url(links.data_request_url, "sam")
    page = centre.client.get(url)
    assert page.status_code == 200 and "Send me my data" in page.text

    first = centre.client.post(url, data={"kind": "access"})
    assert first.status_code == 200 and "Request received" in first.text
    second = centre.client.post(url, data={"kind": "access"})
    assert "already received" in second.text

    refused = centre.client.post(url, data={"kind": "erasure"})
    assert refused.status_code == 400
    erase = centre.client.post(url, files={"kind": (None, "erasure"), "confirm_erasure": (None, "yes")})
    assert erase.status_code == 200
    assert centre.client.post(url, data={"kind": "everything"}).status_code == 400

    with centre.engine.connect() as connection:
        rows = connection.execute(
            sa.select(gdpr_requests).where(gdpr_requests.c.person_id == sam).order_by(gdpr_requests.c.request_id)
        ).all()
    assert [(r.kind, r.status, r.source) for r in rows] == [
        ("access", "received", "preference_centre"),
        ("erasure", "received", "preference_centre"),
    ]
    deadline = timedelta(days=RetentionRules.load().request_deadline_days)
    for row in rows:
        assert row.due_at - row.received_at == deadline  # answered within a month (GDPR Art. 12(3))
        assert row.email_hmac == email_hmacs(["sam@example.org"], SUPPRESSION_KEY)[0]  # survives the erasure
    assert contacts(centre.engine, sam).count("request") == 3


# --- languages -------------------------------------------------------------------------------------


def test_french_and_english_pages(centre: Centre) -> None:
    lea_unsubscribe = centre.url(links.unsubscribe_url, "lea", "all")
    french = centre.client.get(lea_unsubscribe)
    assert '<html lang="fr">' in french.text and "Me désabonner" in french.text
    english = centre.client.get(lea_unsubscribe, params={"lang": "en"})
    assert '<html lang="en">' in english.text and "Unsubscribe me" in english.text
    browser_french = centre.client.get(f"{centre.base}/join", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in browser_french.text and "Rejoindre notre vivier" in browser_french.text
    browser_german = centre.client.get(f"{centre.base}/join", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en">' in browser_german.text
    label = consent_texts()["fr"].purposes["events"].label
    one = centre.client.get(centre.url(links.unsubscribe_url, "lea", "events"))
    assert label.replace("'", "&#39;") in one.text


# --- the demo's helper -------------------------------------------------------------------------------


def test_unsubscribe_over_http_for_the_demo(crm_engine: sa.Engine) -> None:
    with crm_engine.begin() as connection:
        person_id = _add_person(connection, "demo@example.org", "en")
        ledger.record_event(connection, person_id, "job_offers", "granted", "ats_import", SEEDED_AT)
    crm_url = crm_engine.url.render_as_string(hide_password=False)
    assert unsubscribe_over_http(crm_url, person_id) == 200
    assert active_purposes(crm_engine, person_id) == set()
    with crm_engine.connect() as connection:
        status = connection.execute(
            sa.select(consent_current.c.status).where(consent_current.c.person_id == person_id)
        ).scalar_one()
    assert status == "withdrawn"
