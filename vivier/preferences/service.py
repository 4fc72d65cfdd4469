"""What the preference centre does to the CRM database, one small transaction per request.

Every function takes a SQLAlchemy connection inside a transaction; consent, contact, frequency
and language changes go through ``vivier.consent.ledger`` (the append-only ledger keeps the
evidence: time, IP address, user agent, consent-text version and language). Each mutation first
locks the person's row, so two concurrent requests for one person are applied one after the other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from vivier.consent import ledger
from vivier.consent.purposes import PURPOSES, default_frequencies
from vivier.consent.purposes import frequencies as allowed_frequencies
from vivier.db.schema import consent_events, contact_preferences, gdpr_requests, persons
from vivier.gdpr.rules import RetentionRules
from vivier.ingest.people import email_hmacs
from vivier.preferences.texts import EMAIL_LANGUAGES, ConsentText

CONTACT_SOURCE = "preference_centre"  # contact_events.source and gdpr_requests.source
REQUEST_KINDS = ("access", "erasure")
# Statuses a withdrawal applies to: an active consent or a pending double opt-in request.
WITHDRAWABLE = frozenset({"requested", "granted", "confirmed", "renewed"})


@dataclass(frozen=True)
class Evidence:
    """Where the person acted from (recorded with their consent events)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class PersonSettings:
    """A person's current consents, frequencies and language, as the preference page shows them."""

    person_id: int
    language: str | None
    preferred_language: str | None
    active: frozenset[str]
    pending: frozenset[str]
    frequencies: dict[str, str]


@dataclass
class PreferenceChanges:
    granted: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    frequencies: dict[str, str] = field(default_factory=dict)
    language: str | None = None


@dataclass(frozen=True)
class ConfirmOutcome:
    confirmed: list[str]
    already: list[str]
    stale: list[str]


@dataclass(frozen=True)
class DataRequest:
    request_id: int
    kind: str
    received_at: datetime
    due_at: datetime
    created: bool


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC datetimes (SQLite hands back naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def lock_person(connection: sa.Connection, person_id: int) -> bool:
    """Lock the person's row for this transaction (PostgreSQL); False when the person does not exist."""
    query = sa.select(persons.c.person_id).where(persons.c.person_id == person_id).with_for_update()
    return connection.execute(query).first() is not None


def find_person_by_email(connection: sa.Connection, email: str) -> int | None:
    """The person with this email (trimmed, lower-cased), or None."""
    normalised = (email or "").strip().lower()
    if not normalised or len(normalised) > 320:
        return None
    return connection.execute(sa.select(persons.c.person_id).where(persons.c.email == normalised)).scalar()


def person_email(connection: sa.Connection, person_id: int) -> str | None:
    return connection.execute(sa.select(persons.c.email).where(persons.c.person_id == person_id)).scalar()


def load_settings(connection: sa.Connection, person_id: int, at: datetime) -> PersonSettings | None:
    """The person's settings as of ``at``, or None when the person does not exist."""
    row = connection.execute(
        sa.select(persons.c.language, persons.c.preferred_language).where(persons.c.person_id == person_id)
    ).first()
    if row is None:
        return None
    consents = ledger.current_consents(connection, person_id, at)
    active = frozenset(purpose for purpose, state in consents.items() if state["is_active"])  # expiry included
    pending = frozenset(purpose for purpose, state in consents.items() if state.get("status") == "requested")
    frequencies = dict(default_frequencies())
    chosen = connection.execute(
        sa.select(contact_preferences.c.purpose, contact_preferences.c.frequency).where(
            contact_preferences.c.person_id == person_id
        )
    )
    frequencies.update({purpose: frequency for purpose, frequency in chosen})
    return PersonSettings(
        person_id=person_id,
        language=row.preferred_language or row.language,
        preferred_language=row.preferred_language,
        active=active,
        pending=pending - active,
        frequencies=frequencies,
    )


def _record(
    connection: sa.Connection,
    person_id: int,
    purpose: str,
    action: str,
    source: str,
    at: datetime,
    evidence: Evidence,
    text_version: str | None,
    language: str | None,
) -> int:
    return ledger.record_event(
        connection,
        person_id,
        purpose,
        action,
        source,
        at,
        text_version=text_version,
        language=language,
        evidence_ip=evidence.ip,
        evidence_user_agent=evidence.user_agent,
    )


def unsubscribe(
    connection: sa.Connection, person_id: int, purpose: str, at: datetime, evidence: Evidence
) -> list[str] | None:
    """Withdraw ``purpose`` (every purpose for "all"): active consents and pending requests.

    Returns the purposes withdrawn (empty when nothing was active: a repeated POST changes nothing),
    or None when the person does not exist (any more). Unsubscribing is not a contact: it does not
    extend how long the person's data is kept.
    """
    if not lock_person(connection, person_id):
        return None
    wanted = PURPOSES if purpose == "all" else (purpose,)
    consents = ledger.current_consents(connection, person_id, at)
    withdrawn = [p for p in wanted if consents.get(p, {}).get("status") in WITHDRAWABLE]
    for p in withdrawn:
        _record(connection, person_id, p, "withdrawn", "unsubscribe", at, evidence, None, None)
    return withdrawn


def request_join(
    connection: sa.Connection,
    person_id: int,
    purposes: Iterable[str],
    at: datetime,
    evidence: Evidence,
    text: ConsentText,
    *,
    person_acted: bool,
) -> int | None:
    """Record 'requested' events (double opt-in pending) for ``purposes``; returns the first event id.

    ``person_acted`` is False for the anonymous form (anyone can type an address): then the
    submission is not counted as the person's contact. Returns None when the person does not exist.
    """
    chosen = [p for p in PURPOSES if p in set(purposes)]
    if not chosen or not lock_person(connection, person_id):
        return None
    event_ids = [
        _record(connection, person_id, p, "requested", "web_form", at, evidence, text.version, text.language)
        for p in chosen
    ]
    if person_acted:
        ledger.record_contact(connection, person_id, "form", CONTACT_SOURCE, at)
    return min(event_ids)


def confirm_join(
    connection: sa.Connection,
    person_id: int,
    purposes: Collection[str],
    request_event: int,
    at: datetime,
    evidence: Evidence,
) -> ConfirmOutcome | None:
    """Confirm the purposes requested from ledger position ``request_event`` on (double opt-in).

    Per purpose, the latest event since the request decides: still 'requested' -> a 'confirmed'
    event (same text version and language as the request); already 'confirmed' -> nothing (a
    replayed link is idempotent); anything else (withdrawn since...) -> nothing, the link is stale.
    """
    if not lock_person(connection, person_id):
        return None
    requested_at = connection.execute(
        sa.select(consent_events.c.occurred_at).where(
            consent_events.c.event_id == request_event, consent_events.c.person_id == person_id
        )
    ).scalar()
    since = []
    if requested_at is not None:  # the ledger's order: occurred_at, then event_id
        since = connection.execute(
            sa.select(
                consent_events.c.purpose,
                consent_events.c.action,
                consent_events.c.text_version,
                consent_events.c.language,
            )
            .where(
                consent_events.c.person_id == person_id,
                consent_events.c.purpose.in_(list(purposes)),
                sa.or_(
                    consent_events.c.occurred_at > requested_at,
                    sa.and_(consent_events.c.occurred_at == requested_at, consent_events.c.event_id >= request_event),
                ),
            )
            .order_by(consent_events.c.occurred_at, consent_events.c.event_id)
        ).all()
    latest = {row.purpose: row for row in since}
    confirmed, already, stale = [], [], []
    for purpose in [p for p in PURPOSES if p in purposes]:
        row = latest.get(purpose)
        if row is not None and row.action == "requested":
            version, language = row.text_version, row.language
            _record(connection, person_id, purpose, "confirmed", "double_opt_in", at, evidence, version, language)
            confirmed.append(purpose)
        elif row is not None and row.action == "confirmed":
            already.append(purpose)
        else:
            stale.append(purpose)
    if confirmed:
        ledger.record_contact(connection, person_id, "click", CONTACT_SOURCE, at)
    return ConfirmOutcome(confirmed, already, stale)


def update_preferences(
    connection: sa.Connection,
    person_id: int,
    consents: Collection[str],
    frequencies: Mapping[str, str],
    language: str | None,
    at: datetime,
    evidence: Evidence,
    text: ConsentText,
) -> PreferenceChanges | None:
    """Apply the preference form: ticked purposes granted, unticked active ones withdrawn, frequencies
    and language changed where they differ. The submission counts as the person's contact ('form').

    The preference link reached the person's mailbox, so a purpose ticked here is granted at once
    (no second confirmation). Returns what changed, or None when the person does not exist.
    """
    if not lock_person(connection, person_id):
        return None
    current = load_settings(connection, person_id, at)
    changes = PreferenceChanges()
    for purpose in PURPOSES:
        if purpose in consents and purpose not in current.active:
            _record(connection, person_id, purpose, "granted", "web_form", at, evidence, text.version, text.language)
            changes.granted.append(purpose)
        elif purpose not in consents and purpose in current.active:
            _record(connection, person_id, purpose, "withdrawn", "web_form", at, evidence, text.version, text.language)
            changes.withdrawn.append(purpose)
        wanted = frequencies.get(purpose)
        if wanted in allowed_frequencies() and wanted != current.frequencies.get(purpose):
            ledger.set_frequency(connection, person_id, purpose, wanted, "web_form", at)
            changes.frequencies[purpose] = wanted
    if language in EMAIL_LANGUAGES and language != current.language:
        ledger.set_preferred_language(connection, person_id, language)
        changes.language = language
    ledger.record_contact(connection, person_id, "form", CONTACT_SOURCE, at)
    return changes


def create_data_request(
    connection: sa.Connection, person_id: int, kind: str, at: datetime, suppression_key: bytes | None = None
) -> DataRequest | None:
    """A data-subject request (access or erasure) with status 'received', answered by the
    ``gdpr_request`` DAG; due ``request_deadline_days`` later (include/gdpr/retention.yaml: a month).

    With the suppression key, the request also keeps the keyed hash of the person's email (as
    requests recorded by email do), so it still names them once they are erased. A second request
    of the same kind while the first is still open returns the open one. Returns None when the
    person does not exist.
    """
    if kind not in REQUEST_KINDS:
        raise ValueError(f"unknown request kind {kind!r}")
    if not lock_person(connection, person_id):
        return None
    ledger.record_contact(connection, person_id, "request", CONTACT_SOURCE, at)
    open_request = connection.execute(
        sa.select(gdpr_requests.c.request_id, gdpr_requests.c.received_at, gdpr_requests.c.due_at)
        .where(
            gdpr_requests.c.person_id == person_id,
            gdpr_requests.c.kind == kind,
            gdpr_requests.c.status == "received",
        )
        .order_by(gdpr_requests.c.request_id)
        .limit(1)
    ).first()
    if open_request is not None:
        received_at, due_at = utc(open_request.received_at), utc(open_request.due_at)
        return DataRequest(open_request.request_id, kind, received_at, due_at, False)
    due_at = at + RetentionRules.load().days("request_deadline_days").to_pytimedelta()
    email_hmac = None
    if suppression_key:
        email_hmac = email_hmacs([person_email(connection, person_id)], suppression_key)[0]
    request_id = connection.execute(
        gdpr_requests.insert()
        .values(
            kind=kind,
            person_id=person_id,
            email_hmac=email_hmac,
            source=CONTACT_SOURCE,
            received_at=at,
            due_at=due_at,
            status="received",
        )
        .returning(gdpr_requests.c.request_id)
    ).scalar_one()
    return DataRequest(request_id, kind, at, due_at, True)


def record_click(connection: sa.Connection, person_id: int, at: datetime) -> bool:
    """A click on a signed link (preference, join or data-request page): the person's contact."""
    if not lock_person(connection, person_id):
        return False
    ledger.record_contact(connection, person_id, "click", CONTACT_SOURCE, at)
    return True


def person_language(connection: sa.Connection, person_id: int) -> str | None:
    """The language to write to the person in (their choice, else the ATS's), or None."""
    row = connection.execute(
        sa.select(persons.c.preferred_language, persons.c.language).where(persons.c.person_id == person_id)
    ).first()
    return None if row is None else (row.preferred_language or row.language)


def recently_requested(connection: sa.Connection, person_id: int, at: datetime, window: timedelta) -> bool:
    """Whether the person had a join request in the last ``window`` (throttles the anonymous form)."""
    found = connection.execute(
        sa.select(consent_events.c.event_id)
        .where(
            consent_events.c.person_id == person_id,
            consent_events.c.action == "requested",
            consent_events.c.source == "web_form",
            consent_events.c.occurred_at > at - window,
        )
        .limit(1)
    )
    return found.first() is not None
