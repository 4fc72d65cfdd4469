"""The daily retention pass (CNIL): clear old explanations, renew, expire, then erase.

One transaction, keyed to the run's logical date ``as_of``, so a re-run finds nothing left to do:
1. rejection reasons older than ``explanation_days`` are cleared, old quarantined rows deleted, and
   dispatch plans staged more than ``staging_days`` ago but never rendered dropped;
2. consent lapses ``consent_days`` after the last contact (a reply, click, form, request, new
   application or renewal): a renewal notice is planned ``renewal_notice_days`` before, and at the
   deadline the consent expires (ledger events, source ``retention``); so do consents whose own
   expiry (from the ATS) has passed;
3. people without current consent are erased once the longest of these has passed: the rejection
   plus ``explanation_days``, the end of their consent plus ``grace_days``, an unanswered invitation
   plus ``pending_request_days``. Nobody still in a hiring process or with an open request is erased.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.consent.ledger import record_events
from vivier.db.bulk import db_timestamp, stage_frame
from vivier.db.schema import applications, consent_current, gdpr_requests, quarantine
from vivier.db.sqlfiles import run_sql, statements
from vivier.dispatch.staging import drop_stale_parts
from vivier.gdpr.erasure import erase_persons
from vivier.gdpr.rules import RetentionRules


@dataclass(frozen=True)
class RetentionReport:
    as_of: str
    explanations_cleared: int
    quarantine_deleted: int
    notices_planned: int
    notices_cancelled: int
    consents_expired: int
    persons_erased: int
    consented_persons: int
    expiring_within_warning: int
    requests_open: int
    requests_due_soon: int
    requests_overdue: int
    staged_parts_dropped: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="mixed").astype("datetime64[us, UTC]")


def _latest(*series: pd.Series) -> pd.Series:
    return pd.concat(series, axis=1).max(axis=1)


def person_clock(connection: sa.Connection, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row per person with the dates the rules need (``sql/gdpr/person_clock.sql``)."""
    (statement,) = statements("gdpr/person_clock")
    frame = pd.read_sql(sa.text(statement), connection, params={"as_of": db_timestamp(connection, as_of)})
    for column in ("created_at", "last_applied_at", "last_rejected_at", "last_contact_at", "last_granted_at",
                   "inactive_since", "pending_since", "lapsed_since"):  # fmt: skip
        frame[column] = _utc(frame[column])
    # a consent past its own expiry ended then, even before the ledger records it
    frame["inactive_since"] = _latest(frame["inactive_since"], frame.pop("lapsed_since"))
    frame["active_purposes"] = frame["active_purposes"].fillna(0).astype(np.int64)
    return frame


def consent_deadlines(clock: pd.DataFrame, rules: RetentionRules) -> pd.Series:
    """When the consent of each person lapses: ``consent_days`` after their last contact."""
    last_contact = _latest(clock["last_contact_at"], clock["last_applied_at"], clock["last_granted_at"])
    return last_contact + rules.days("consent_days")


def erasable(clock: pd.DataFrame, rules: RetentionRules, as_of: pd.Timestamp, active: pd.Series) -> pd.Series:
    """People whose every reason to keep data has run out."""
    process_end = clock["last_rejected_at"].fillna(clock["last_applied_at"]).fillna(clock["created_at"])
    keep_until = _latest(
        process_end + rules.days("explanation_days"),
        clock["inactive_since"] + rules.days("grace_days"),
        clock["pending_since"] + rules.days("pending_request_days"),
    )
    return ~active & (keep_until <= as_of) & clock["in_process"].eq(0) & clock["open_request"].eq(0)


def run_retention(
    engine: sa.Engine, as_of: pd.Timestamp, *, rules: RetentionRules | None = None, run_id: str | None = None
) -> RetentionReport:
    """Apply the retention rules as of ``as_of`` (see the module docstring)."""
    rules = rules or RetentionRules.load()
    as_of = pd.Timestamp(as_of).as_unit("us")
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    with engine.begin() as connection:
        cleared = connection.execute(
            applications.update()
            .where(applications.c.rejection_reason.is_not(None))
            .where(applications.c.rejected_at < (as_of - rules.days("explanation_days")).to_pydatetime())
            .values(rejection_reason=None)
        ).rowcount
        purged = connection.execute(
            quarantine.delete().where(
                quarantine.c.quarantined_at < (as_of - rules.days("quarantine_days")).to_pydatetime()
            )
        ).rowcount

        staged_dropped = drop_stale_parts(
            connection, (as_of - rules.days("staging_days")).to_pydatetime(), as_of.to_pydatetime()
        )

        clock = person_clock(connection, as_of)
        deadlines = consent_deadlines(clock, rules)
        had_active = clock["active_purposes"] > 0
        lapses = had_active & (deadlines <= as_of)
        expired = _expire(connection, clock.loc[lapses, "person_id"], as_of)

        still_active = had_active & ~lapses
        send_on = (deadlines - rules.days("renewal_notice_days")).where(lambda s: s > as_of, as_of)
        stage = pd.DataFrame(
            {
                "person_id": clock.loc[still_active, "person_id"],
                "deadline": deadlines[still_active],
                "send_on": send_on[still_active],
                "due_soon": (send_on[still_active] <= as_of + rules.days("renewal_planning_days")),
            }
        )
        stage_frame(
            connection,
            "stage_deadlines",
            stage,
            {"person_id": "int", "deadline": "timestamp", "send_on": "timestamp", "due_soon": "bool"},
        )
        planned, cancelled = (
            r.rowcount for r in run_sql(connection, "gdpr/plan_notices", as_of=db_timestamp(connection, as_of))
        )
        connection.exec_driver_sql("DROP TABLE IF EXISTS stage_deadlines")

        # consents that just expired count as ended now: the grace period starts today
        clock.loc[lapses, "inactive_since"] = as_of
        to_erase = clock.loc[erasable(clock, rules, as_of, still_active), "person_id"].tolist()
        erased = erase_persons(
            connection,
            to_erase,
            as_of=as_of,
            reason="retention",
            run_id=run_id,
            suppression_key=None,
            actor="gdpr_retention",
        ).persons

        warning = as_of + rules.days("request_warning_days")
        open_requests = (
            connection.execute(sa.select(gdpr_requests.c.due_at).where(gdpr_requests.c.status == "received"))
            .scalars()
            .all()
        )
        due = pd.to_datetime(pd.Series(open_requests, dtype=object), utc=True)
    return RetentionReport(
        as_of=as_of.isoformat(),
        explanations_cleared=cleared,
        quarantine_deleted=purged,
        notices_planned=planned,
        notices_cancelled=cancelled,
        consents_expired=expired,
        persons_erased=erased,
        consented_persons=int(still_active.sum()),
        expiring_within_warning=int((still_active & (deadlines <= as_of + rules.days("renewal_planning_days"))).sum()),
        requests_open=len(due),
        requests_due_soon=int(((due > as_of) & (due <= warning)).sum()),
        requests_overdue=int((due <= as_of).sum()),
        staged_parts_dropped=staged_dropped,
    )


def _expire(connection: sa.Connection, person_ids: pd.Series, as_of: pd.Timestamp) -> int:
    """``expired`` ledger events for the active consents of ``person_ids`` and for any consent whose
    own expiry has passed."""
    lapsed_own = pd.read_sql(
        sa.select(consent_current.c.person_id, consent_current.c.purpose).where(
            consent_current.c.is_active.is_(sa.true()),
            consent_current.c.expires_at.is_not(None),
            consent_current.c.expires_at <= as_of.to_pydatetime(),
        ),
        connection,
    )
    by_clock = pd.DataFrame(columns=["person_id", "purpose"])
    if len(person_ids):
        stage_frame(connection, "stage_lapsing", pd.DataFrame({"person_id": person_ids}), {"person_id": "int"})
        by_clock = pd.read_sql(
            sa.text(
                "SELECT c.person_id, c.purpose FROM consent_current AS c "
                "JOIN stage_lapsing AS s ON s.person_id = c.person_id WHERE c.is_active"
            ),
            connection,
        )
        connection.exec_driver_sql("DROP TABLE IF EXISTS stage_lapsing")
    pairs = pd.concat([lapsed_own, by_clock], ignore_index=True).drop_duplicates().sort_values(["person_id", "purpose"])
    if pairs.empty:
        return 0
    events = pairs.assign(action="expired", source="retention", occurred_at=as_of)
    return record_events(connection, events, recorded_at=as_of)
