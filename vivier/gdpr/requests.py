"""Data-subject requests: recorded with their one-month deadline, answered by ``gdpr_request``/``gdpr_retention``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from vivier.consent.ledger import record_contact
from vivier.db.schema import gdpr_requests, persons
from vivier.gdpr.access import export_person, write_export
from vivier.gdpr.erasure import erase_persons, suppress
from vivier.gdpr.rules import RetentionRules
from vivier.ingest.normalize import normalize_emails, valid_email
from vivier.ingest.people import email_hmacs

KINDS = ("access", "erasure")


class RequestError(ValueError):
    """A data-subject request that cannot be recorded (unknown kind, no valid email)."""


@dataclass(frozen=True)
class RequestOutcome:
    request_id: int
    kind: str
    status: str
    outcome: str
    export_path: str | None


def normalised_email(email: str) -> str:
    """The email as ingestion keys people (so a request finds the person the ATS created)."""
    values = normalize_emails(pd.Series([email], dtype="string"))
    value = values.iloc[0]
    if pd.isna(value) or not bool(valid_email(values).iloc[0]):
        raise RequestError("the request does not name a valid email address")
    return str(value)


def submit_request(
    connection: sa.Connection,
    kind: str,
    *,
    received_at: pd.Timestamp,
    source: str,
    suppression_key: bytes,
    email: str | None = None,
    person_id: int | None = None,
    rules: RetentionRules | None = None,
) -> int:
    """Record a request (by email or by person) with its deadline; returns its ``request_id``.

    Only a keyed hash of the email is stored. The same kind, email and time again returns the
    request already recorded. A request is an active act of the person: it counts
    as a contact.
    """
    if kind not in KINDS:
        raise RequestError(f"unknown request kind {kind!r}; expected one of {list(KINDS)}")
    rules = rules or RetentionRules.load()
    if person_id is None:
        if not email:
            raise RequestError("a request needs an email or a person")
        normalised = normalised_email(email)
        person_id = connection.execute(sa.select(persons.c.person_id).where(persons.c.email == normalised)).scalar()
    else:
        normalised = connection.execute(sa.select(persons.c.email).where(persons.c.person_id == person_id)).scalar()
        if normalised is None:
            raise RequestError(f"no person {person_id}")
    received = pd.Timestamp(received_at)
    email_hmac = email_hmacs([normalised], suppression_key)[0]
    same = connection.execute(
        sa.select(gdpr_requests.c.request_id).where(
            gdpr_requests.c.kind == kind,
            gdpr_requests.c.email_hmac == email_hmac,
            gdpr_requests.c.received_at == received.to_pydatetime(),
        )
    ).scalar()
    if same is not None:  # the same request recorded again (a re-run): nothing new
        return int(same)
    request_id = connection.execute(
        gdpr_requests.insert()
        .values(
            kind=kind,
            person_id=person_id,
            email_hmac=email_hmac,
            source=source,
            received_at=received.to_pydatetime(),
            due_at=(received + rules.days("request_deadline_days")).to_pydatetime(),
            status="received",
        )
        .returning(gdpr_requests.c.request_id)
    ).scalar_one()
    if person_id is not None:
        record_contact(connection, person_id, "request", source, received)
    return int(request_id)


def process_pending(
    engine: sa.Engine,
    *,
    as_of: pd.Timestamp,
    exports_dir: Path,
    suppression_key: bytes,
    run_id: str | None,
    request_ids: list[int] | None = None,
) -> list[RequestOutcome]:
    """Answer the received requests (or those of ``request_ids``), each in its own transaction."""
    with engine.connect() as connection:
        query = (
            sa.select(gdpr_requests).where(gdpr_requests.c.status == "received").order_by(gdpr_requests.c.request_id)
        )
        if request_ids is not None:
            query = query.where(gdpr_requests.c.request_id.in_(request_ids))
        pending = connection.execute(query).mappings().all()
    outcomes = []
    for request in pending:
        with engine.begin() as connection:
            outcomes.append(_answer(connection, dict(request), as_of, exports_dir, suppression_key, run_id))
    return outcomes


def _answer(
    connection: sa.Connection,
    request: dict,
    as_of: pd.Timestamp,
    exports_dir: Path,
    suppression_key: bytes,
    run_id: str | None,
) -> RequestOutcome:
    person_id, kind = request["person_id"], request["kind"]
    export_path = None
    if kind == "access":
        if person_id is None:
            status, outcome = "not_found", "no data held for this email"
        else:
            document = export_person(connection, person_id)
            export_path = str(write_export(document, exports_dir, request["request_id"]))
            rows = sum(len(rows) for rows in document.values())
            status, outcome = "completed", f"exported {rows} row(s) from {len(document)} table(s)"
    else:
        if person_id is None and request["email_hmac"] is None:
            status, outcome = "not_found", "no data held"
        elif person_id is None:
            added = suppress(connection, [request["email_hmac"]], "erasure", as_of)
            status = "not_found"
            outcome = "no data held; email suppressed" if added else "no data held; email already suppressed"
        else:
            counts = erase_persons(
                connection, [person_id], as_of=as_of, reason="erasure", run_id=run_id, suppression_key=suppression_key
            )
            status = "completed"
            outcome = (
                f"erased person {person_id}: all rows removed or anonymised, "
                f"{counts.quarantine_rows} quarantined row(s) deleted, email suppressed"
            )
    connection.execute(
        gdpr_requests.update()
        .where(gdpr_requests.c.request_id == request["request_id"])
        .values(
            status=status,
            outcome=outcome,
            completed_at=pd.Timestamp(as_of).to_pydatetime(),
            export_path=export_path,
            run_id=run_id,
        )
    )
    return RequestOutcome(request["request_id"], kind, status, outcome, export_path)
