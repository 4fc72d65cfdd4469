"""The figures of the weekly CRM report, computed as of a date by the SQL under ``sql/report/``.

Each figure is a small DataFrame of aggregates (no personal data): it becomes a chart, a table and
a CSV file. Everything is filtered to what existed at ``as_of``, so re-running a week's report
gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp
from vivier.db.sqlfiles import statements
from vivier.tagging.families import JobFamilies

CONSENT_ACTIONS = ("requested", "granted", "confirmed", "renewed", "withdrawn", "expired")
MESSAGE_OUTCOMES = ("sent", "planned", "failed", "unknown", "skipped")
SCORE_BINS = np.linspace(0.0, 1.0, 11)


@dataclass(frozen=True)
class ReportPeriod:
    """The week (or any window) a report covers: ``(since, as_of]``."""

    as_of: pd.Timestamp
    trend_weeks: int = 26

    @property
    def since(self) -> pd.Timestamp:
        return self.as_of - pd.Timedelta(weeks=1)

    @property
    def trend_since(self) -> pd.Timestamp:
        return self.as_of - pd.Timedelta(weeks=self.trend_weeks)


@dataclass
class ReportFigures:
    """Every figure of one report (DataFrames keyed by the CSV file name they are written to)."""

    period: ReportPeriod
    headline: dict[str, int]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _query(connection: sa.Connection, name: str, **params) -> pd.DataFrame:
    (statement,) = statements(f"report/{name}")
    used = {key: value for key, value in params.items() if f":{key}" in statement}
    result = connection.execute(sa.text(statement), used)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _utc(value: pd.Timestamp) -> pd.Timestamp:
    value = pd.Timestamp(value)
    return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")


def _as_int(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    return frame


def pool_sizes(rows: pd.DataFrame) -> pd.DataFrame:
    """Pool sizes per refresh day, one row per (day, pool)."""
    rows = _as_int(rows, ["size", "joined", "left_count"])
    rows["as_of"] = pd.to_datetime(rows["as_of"]).dt.date
    return rows.rename(columns={"as_of": "day", "left_count": "left"})[["day", "pool", "size", "joined", "left"]]


def consent_funnel(rows: pd.DataFrame) -> pd.DataFrame:
    """Events and people per purpose and action, actions in funnel order."""
    rows = _as_int(rows, ["events", "people", "events_in_window"])
    order = {action: i for i, action in enumerate(CONSENT_ACTIONS)}
    rows["order"] = rows["action"].map(order).fillna(len(order))
    return rows.sort_values(["order", "purpose"]).drop(columns="order").reset_index(drop=True)


def silver_medalists(rows: pd.DataFrame, families: JobFamilies) -> pd.DataFrame:
    """People and silver medalists per job family, most silver medalists first."""
    rows = _as_int(rows, ["people", "silver_medalists"])
    known = set(families.ids)
    rows["label"] = [families.label(f) if f in known else f for f in rows["job_family"]]
    rows["share"] = (rows["silver_medalists"] / rows["people"].where(rows["people"] > 0)).round(3).fillna(0.0)
    rows = rows.sort_values(["silver_medalists", "job_family"], ascending=[False, True])
    return rows[["job_family", "label", "people", "silver_medalists", "share"]].reset_index(drop=True)


def offer_matches(rows: pd.DataFrame) -> pd.DataFrame:
    rows = _as_int(rows, ["job_offer_id", "matches"])
    for column in ("best_score", "mean_score"):
        rows[column] = pd.to_numeric(rows[column]).round(3)
    return rows


def score_distribution(scores: pd.Series) -> pd.DataFrame:
    """Counts of match scores in ten bins of 0.1 (the last one includes 1.0)."""
    counts, edges = np.histogram(pd.to_numeric(scores).to_numpy(dtype=float), bins=SCORE_BINS)
    labels = [f"{low:.1f}-{high:.1f}" for low, high in zip(edges[:-1], edges[1:], strict=True)]
    return pd.DataFrame({"score_bin": labels, "matches": counts.astype("int64")})


def campaign_messages(batches: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """Per campaign: messages, their outcomes, and the bounces and complaints they drew."""
    counts = ["batches", "messages", *MESSAGE_OUTCOMES, "messages_in_window"]
    batches = _as_int(batches, counts)
    feedback = _as_int(feedback, ["hard_bounces", "soft_bounces", "complaints"])
    merged = batches.merge(feedback, on="campaign", how="outer")
    merged = _as_int(merged, [*counts, "hard_bounces", "soft_bounces", "complaints"])
    merged["bounced"] = merged["hard_bounces"] + merged["soft_bounces"]
    return merged.sort_values("campaign").reset_index(drop=True)


def returning_members(applications: pd.DataFrame) -> pd.DataFrame:
    """Re-applications and hires of pool members per month of application."""
    if applications.empty:
        return pd.DataFrame({"month": [], "people": [], "reapplications": [], "hires": []}).astype(
            {"people": "int64", "reapplications": "int64", "hires": "int64"}
        )
    applied = pd.to_datetime(applications["applied_at"], utc=True, format="mixed")
    frame = applications.assign(
        month=applied.dt.strftime("%Y-%m"), hired=(applications["status"] == "hired").astype("int64")
    )
    grouped = frame.groupby("month").agg(
        people=("person_id", "nunique"), reapplications=("application_id", "size"), hires=("hired", "sum")
    )
    return grouped.reset_index().astype({"people": "int64", "reapplications": "int64", "hires": "int64"})


def collect_figures(
    engine: sa.Engine, as_of: pd.Timestamp, families: JobFamilies | None = None, trend_weeks: int = 26
) -> ReportFigures:
    """Every figure of the report as of ``as_of`` (read in one transaction, a consistent snapshot)."""
    period = ReportPeriod(_utc(as_of), trend_weeks=trend_weeks)
    families = families or JobFamilies.load()
    with engine.connect() as connection:
        stamp = {
            "as_of": db_timestamp(connection, period.as_of),
            "since": db_timestamp(connection, period.since),
            "as_of_date": period.as_of.date(),
            "since_date": period.trend_since.date(),
        }
        headline_row = _query(connection, "headline", **stamp).iloc[0]
        tables = {
            "pool_sizes": pool_sizes(_query(connection, "pool_sizes", **stamp)),
            "consent_funnel": consent_funnel(_query(connection, "consent_funnel", **stamp)),
            "silver_medalists": silver_medalists(_query(connection, "silver_medalists", **stamp), families),
            "offer_matches": offer_matches(_query(connection, "offer_matches", **stamp)),
            "score_distribution": score_distribution(_query(connection, "match_scores", **stamp)["score"]),
            "campaign_messages": campaign_messages(
                _query(connection, "campaign_messages", **stamp), _query(connection, "campaign_feedback", **stamp)
            ),
            "returning_members": returning_members(_query(connection, "returning_members", **stamp)),
            "returning_by_pool": _as_int(
                _query(connection, "returning_by_pool", **stamp), ["people", "reapplications", "hires"]
            ).sort_values(["reapplications", "pool"], ascending=[False, True], ignore_index=True),
        }
    headline = {key: int(value or 0) for key, value in headline_row.items()}
    returning = tables["returning_members"]
    headline["reapplications"] = int(returning["reapplications"].sum())
    headline["hires"] = int(returning["hires"].sum())
    return ReportFigures(period=period, headline=headline, tables=tables)
