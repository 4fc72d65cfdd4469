"""The consent ledger: append events, keep ``consent_current`` in step, preferences and contact events.

Every function takes a SQLAlchemy connection inside the caller's transaction, so a web request or a
DAG task writes its events and the derived current consent atomically. The ledger is append-only:
nothing here updates or deletes an event (erasure anonymises them, see ``vivier.gdpr.erasure``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import pandas as pd
import sqlalchemy as sa

from vivier.consent.purposes import ACTIONS, CONTACT_KINDS, SOURCES, frequencies, purposes
from vivier.db.bulk import create_temp_table, db_timestamp, load_frame, stage_frame
from vivier.db.schema import consent_current, consent_events, contact_preferences, persons, suppression_list
from vivier.db.sqlfiles import run_sql

EVENT_COLUMNS = {
    "person_id": "int",
    "purpose": "text",
    "action": "text",
    "source": "text",
    "occurred_at": "timestamp",
    "expires_at": "timestamp",
    "text_version": "text",
    "language": "text",
    "evidence_ip": "text",
    "evidence_user_agent": "text",
    "file_id": "int",
    "recorded_at": "timestamp",
}
OPTIONAL_EVENT_COLUMNS = ("expires_at", "text_version", "language", "evidence_ip", "evidence_user_agent", "file_id")


class ConsentError(ValueError):
    """An event the ledger refuses (unknown purpose, action or source, or a missing person or time)."""


def _check(frame: pd.DataFrame, column: str, allowed: Iterable[str]) -> None:
    unknown = sorted(set(frame[column].dropna().astype(str)) - set(allowed))
    if unknown:
        raise ConsentError(f"unknown {column} {unknown}; expected one of {sorted(allowed)}")
    if frame[column].isna().any():
        raise ConsentError(f"{column} is missing on {int(frame[column].isna().sum())} event(s)")


def validate_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events with every ledger column, or ConsentError naming what is wrong."""
    missing = {"person_id", "purpose", "action", "source", "occurred_at"} - set(events.columns)
    if missing:
        raise ConsentError(f"events lack the column(s) {sorted(missing)}")
    _check(events, "purpose", purposes())
    _check(events, "action", ACTIONS)
    _check(events, "source", SOURCES)
    for column in ("person_id", "occurred_at"):
        if events[column].isna().any():
            raise ConsentError(f"{column} is missing on {int(events[column].isna().sum())} event(s)")
    frame = events.copy()
    for column in OPTIONAL_EVENT_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return frame


def refresh_current(connection: sa.Connection, pairs: pd.DataFrame, updated_at: Any) -> None:
    """Re-derive ``consent_current`` for the (person_id, purpose) pairs of ``pairs``."""
    if pairs.empty:
        return
    stage_frame(
        connection,
        "consent_touched",
        pairs[["person_id", "purpose"]].drop_duplicates(),
        {"person_id": "int", "purpose": "text"},
    )
    create_temp_table(connection, "consent_effective", {"event_id": "int"})
    run_sql(connection, "consent/refresh_current")
    _write_current(connection, updated_at)
    connection.exec_driver_sql("DROP TABLE IF EXISTS consent_touched")


def _write_current(connection: sa.Connection, updated_at: Any) -> None:
    """``consent_current`` rows from the events listed in the temp table ``consent_effective`` (dropped)."""
    run_sql(connection, "consent/current_from_events", updated_at=db_timestamp(connection, updated_at))
    connection.exec_driver_sql("DROP TABLE IF EXISTS consent_effective")


def record_events(connection: sa.Connection, events: pd.DataFrame, recorded_at: Any = None) -> int:
    """Append ``events`` (person_id, purpose, action, source, occurred_at, [optional columns]) in bulk
    and refresh current consent for the pairs they touch. Returns the number of events appended."""
    if events.empty:
        return 0
    frame = validate_events(events)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True)
    recorded = pd.Timestamp(recorded_at) if recorded_at is not None else occurred.max()
    frame["recorded_at"] = recorded
    frame = frame.assign(occurred_at=occurred).sort_values(["occurred_at", "person_id", "purpose"], kind="stable")
    written = load_frame(connection, "consent_events", frame, EVENT_COLUMNS)
    refresh_current(connection, frame, recorded)
    return written


def record_event(
    connection: sa.Connection,
    person_id: int,
    purpose: str,
    action: str,
    source: str,
    occurred_at: Any,
    *,
    expires_at: Any = None,
    text_version: str | None = None,
    language: str | None = None,
    evidence_ip: str | None = None,
    evidence_user_agent: str | None = None,
) -> int:
    """Append one event and refresh current consent for it; returns its ``event_id``."""
    frame = validate_events(
        pd.DataFrame(
            [
                {
                    "person_id": person_id,
                    "purpose": purpose,
                    "action": action,
                    "source": source,
                    "occurred_at": pd.Timestamp(occurred_at),
                    "expires_at": pd.Timestamp(expires_at) if expires_at is not None else None,
                    "text_version": text_version,
                    "language": language,
                    "evidence_ip": evidence_ip,
                    "evidence_user_agent": evidence_user_agent,
                }
            ]
        )
    )
    values = {
        "person_id": int(person_id),
        "purpose": purpose,
        "action": action,
        "source": source,
        "occurred_at": _as_utc(occurred_at),
        "expires_at": _as_utc(expires_at) if expires_at is not None else None,
        "text_version": text_version,
        "language": language,
        "evidence_ip": evidence_ip,
        "evidence_user_agent": evidence_user_agent,
    }
    stamp = pd.Timestamp(occurred_at)
    event_id = connection.execute(
        consent_events.insert().values(**values, recorded_at=_as_utc(stamp)).returning(consent_events.c.event_id)
    ).scalar_one()
    refresh_current(connection, frame, stamp)
    return int(event_id)


def _as_utc(value: Any) -> Any:
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def record_contact(connection: sa.Connection, person_id: int, kind: str, source: str, occurred_at: Any) -> None:
    """Record an active act of the person; it moves ``persons.last_contact_at`` (the retention clock)."""
    if kind not in CONTACT_KINDS:
        raise ConsentError(f"unknown contact kind {kind!r}; expected one of {list(CONTACT_KINDS)}")
    at = _as_utc(occurred_at)
    connection.execute(
        sa.text(
            "INSERT INTO contact_events (person_id, kind, source, occurred_at, recorded_at) "
            "VALUES (:person_id, :kind, :source, :at, :at)"
        ),
        {"person_id": person_id, "kind": kind, "source": source, "at": db_timestamp(connection, at)},
    )
    connection.execute(
        persons.update()
        .where(persons.c.person_id == person_id)
        .where(sa.or_(persons.c.last_contact_at.is_(None), persons.c.last_contact_at < at))
        .values(last_contact_at=at)
    )


def set_frequency(
    connection: sa.Connection, person_id: int, purpose: str, frequency: str, source: str, at: Any
) -> None:
    """The person's frequency for a purpose (``never`` pauses it without withdrawing consent)."""
    if purpose not in purposes():
        raise ConsentError(f"unknown purpose {purpose!r}")
    if frequency not in frequencies():
        raise ConsentError(f"unknown frequency {frequency!r}; expected one of {list(frequencies())}")
    key = {"person_id": person_id, "purpose": purpose}
    values = {"frequency": frequency, "source": source, "updated_at": _as_utc(at)}
    updated = connection.execute(
        contact_preferences.update()
        .where(contact_preferences.c.person_id == person_id)
        .where(contact_preferences.c.purpose == purpose)
        .values(**values)
    ).rowcount
    if not updated:
        connection.execute(contact_preferences.insert().values(**key, **values))


def set_preferred_language(connection: sa.Connection, person_id: int, language: str | None) -> None:
    """The language the person wants to be written to (ISO 639-1), or None for the ATS's."""
    if language is not None and (len(language) != 2 or not language.isalpha()):
        raise ConsentError(f"not an ISO 639-1 language code: {language!r}")
    connection.execute(
        persons.update()
        .where(persons.c.person_id == person_id)
        .values(preferred_language=language and language.lower())
    )


def current_consents(connection: sa.Connection, person_id: int, as_of: Any) -> dict[str, dict[str, Any]]:
    """Purpose -> current consent of the person (status, is_active as of ``as_of``, expiry, proof)."""
    at = _as_utc(as_of)
    rows = connection.execute(sa.select(consent_current).where(consent_current.c.person_id == person_id)).mappings()
    result = {}
    for row in rows:
        expires = row["expires_at"]
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=at.tzinfo)
        result[row["purpose"]] = {
            "status": row["status"],
            "is_active": bool(row["is_active"]) and (expires is None or expires > at),
            "granted_at": row["granted_at"],
            "expires_at": row["expires_at"],
            "source": row["source"],
            "text_version": row["text_version"],
            "event_id": row["last_event_id"],
        }
    return result


def is_suppressed(connection: sa.Connection, email_hmac: str) -> bool:
    """Whether a keyed email hash is on the suppression list."""
    found = connection.execute(
        sa.select(suppression_list.c.email_hmac).where(suppression_list.c.email_hmac == email_hmac)
    )
    return found.first() is not None


def import_ats_consent(
    connection: sa.Connection, signals: pd.DataFrame, as_of: Any, *, new_persons: Collection[int] = ()
) -> int:
    """Ledger events from what ATS exports recorded (``signals``: person_id, wants, expires_at, file_id).

    ``wants`` is True for consent to future jobs, False for a refusal or an unsubscribe. Grants only
    fill a gap in the ledger and never override a withdrawal (``sql/consent/ats_import.sql``).
    ``new_persons``: ids of persons created by the caller's transaction (they have no ledger yet), whose
    current consent is the import's one event, written without re-deriving it from a ledger.
    Returns the number of events appended.
    """
    if signals.empty:
        return 0
    stage_columns = {"person_id": "int", "wants": "bool", "expires_at": "timestamp", "file_id": "int", "is_new": "bool"}
    is_new = signals["person_id"].isin(new_persons).to_numpy()
    stage_frame(connection, "stage_ats_consent", signals.assign(is_new=is_new), stage_columns)
    stamp = db_timestamp(connection, as_of)
    last_event = connection.execute(sa.select(sa.func.max(consent_events.c.event_id))).scalar_one() or 0
    appended = run_sql(connection, "consent/ats_import", as_of=stamp)[0].rowcount
    refresh_current(connection, signals.loc[~is_new].assign(purpose="job_offers"), as_of)
    if is_new.any():
        create_temp_table(connection, "consent_effective", {"event_id": "int"})
        run_sql(connection, "consent/current_of_new_persons", after_event_id=int(last_event))
        _write_current(connection, as_of)
    connection.exec_driver_sql("DROP TABLE IF EXISTS stage_ats_consent")
    return int(appended)
