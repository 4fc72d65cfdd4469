"""The weekly CRM report's figures, on both engines, from a small CRM whose answers are known."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.consent_helpers import add_persons
from vivier.consent import ledger
from vivier.db.schema import (
    applications,
    delivery_feedback,
    dispatch_batches,
    job_offers,
    matches,
    outbox,
    pool_members,
    pool_snapshots,
    pools,
)
from vivier.report import collect_figures, write_report
from vivier.report.charts import axis_scale, bar_chart, format_number, line_chart, nice_ceiling

AS_OF = pd.Timestamp("2026-06-01T05:00:00Z")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def build_crm(connection: sa.Connection) -> dict[str, int]:
    """Three people, two pools, offers, matches, campaigns and feedback, some of it after AS_OF."""
    ada, bob = add_persons(connection, 2, job_family="data_analytics", is_silver_medalist=True)
    (cyd,) = add_persons(connection, 1, job_family="sales", is_silver_medalist=False)
    (late,) = add_persons(connection, 1, job_family="sales", created_at=at("2026-07-01"), updated_at=at("2026-07-01"))
    stamp = at("2026-01-01")
    data_pool, sales_pool = (
        connection.execute(
            pools.insert().values(name=name, definition={}, updated_at=stamp).returning(pools.c.pool_id)
        ).scalar_one()
        for name in ("data <engineers>", "sales")
    )
    connection.execute(
        pool_members.insert(),
        [
            {"pool_id": data_pool, "person_id": ada, "joined_at": at("2026-03-01"), "left_at": None},
            {"pool_id": data_pool, "person_id": bob, "joined_at": at("2026-03-01"), "left_at": at("2026-04-01")},
            {"pool_id": sales_pool, "person_id": ada, "joined_at": at("2026-04-20"), "left_at": None},
        ],
    )
    connection.execute(
        pool_snapshots.insert(),
        [
            {"pool_id": data_pool, "as_of": date(2026, 3, 1), "size": 2, "joined": 2, "left_count": 0},
            {"pool_id": data_pool, "as_of": date(2026, 4, 1), "size": 1, "joined": 0, "left_count": 1},
            {"pool_id": sales_pool, "as_of": date(2026, 4, 20), "size": 1, "joined": 1, "left_count": 0},
            {"pool_id": sales_pool, "as_of": date(2026, 6, 2), "size": 9, "joined": 8, "left_count": 0},
        ],
    )

    def application(key: str, person: int, applied: str, status: str) -> dict:
        return {
            "person_id": person,
            "source_system": "lever",
            "source_application_id": key,
            "applied_at": at(applied),
            "status": status,
            "created_at": stamp,
            "updated_at": stamp,
        }

    connection.execute(
        applications.insert(),
        [
            application("a-before", ada, "2026-02-01", "rejected"),  # before joining: not a re-application
            application("a-hired", ada, "2026-04-10", "hired"),  # after joining the data pool: a hire
            application("a-again", ada, "2026-05-05", "rejected"),  # after joining both pools
            application("b-left", bob, "2026-04-15", "rejected"),  # after joining (and leaving): counts
            application("c-never", cyd, "2026-05-01", "hired"),  # never in a pool
            application("a-future", ada, "2026-06-15", "hired"),  # after the report date
        ],
    )
    for person, action, when in (
        (ada, "granted", "2026-02-01"),
        (bob, "granted", "2026-02-01"),
        (bob, "withdrawn", "2026-05-28"),
        (cyd, "requested", "2026-05-30"),
        (cyd, "granted", "2026-06-20"),  # after the report date
    ):
        ledger.record_event(connection, person, "job_offers", action, "web_form", when + "T00:00:00Z")

    offers = {}
    offer_rows = (("o1", "=cmd|' /C calc'!A0", "open"), ("o2", "Data engineer", "open"), ("o3", "Old", "closed"))
    for key, title, status in offer_rows:
        values = {"source_job_id": key, "title": title, "status": status, "created_at": stamp, "updated_at": stamp}
        offers[key] = connection.execute(
            job_offers.insert().values(source_system="lever", **values).returning(job_offers.c.job_offer_id)
        ).scalar_one()
    match_rows = [
        (offers["o1"], ada, 0.95, 1),
        (offers["o1"], bob, 0.42, 2),
        (offers["o2"], ada, 1.0, 1),
        (offers["o3"], bob, 0.55, 1),  # closed offer: not counted
    ]
    connection.execute(
        matches.insert(),
        [
            {
                "job_offer_id": offer,
                "person_id": person,
                "score": score,
                "rank": rank,
                "matched_skills": [],
                "missing_skills": [],
                "reason": "r",
                "computed_at": stamp,
            }
            for offer, person, score, rank in match_rows
        ],
    )

    batch = connection.execute(
        dispatch_batches.insert()
        .values(campaign="weekly_offers", period="2026-W22", kind="bulk", planned_at=at("2026-05-26"))
        .values(messages=3, sent=2, failed=1)
        .returning(dispatch_batches.c.batch_id)
    ).scalar_one()
    connection.execute(
        dispatch_batches.insert().values(
            campaign="weekly_offers", period="2026-W26", kind="bulk", messages=50, sent=50, planned_at=at("2026-06-22")
        )
    )
    connection.execute(
        outbox.insert(),
        [
            {
                "message_id": f"<m{i}@vivier>",
                "person_id": person,
                "campaign": "weekly_offers",
                "period": "2026-W22",
                "template": "job_offers_digest",
                "state": state,
                "planned_at": at("2026-05-26"),
                "sent_at": at("2026-05-27") if state == "sent" else None,
                "batch_id": batch,
            }
            for i, (person, state) in enumerate(((ada, "sent"), (bob, "sent"), (cyd, "failed")))
        ],
    )
    connection.execute(
        delivery_feedback.insert(),
        [
            {
                "source_file": "bounces.csv",
                "file_sha256": "0" * 64,
                "record_no": n,
                "kind": kind,
                "email_hmac": "1" * 64,
                "message_id": message,
                "action": "recorded",
                "recorded_at": at("2026-05-28"),
            }
            for n, (kind, message) in enumerate((("hard_bounce", "<m0@vivier>"), ("complaint", "<m1@vivier>")))
        ],
    )
    return {"ada": ada, "bob": bob, "cyd": cyd, "late": late}


def test_figures_count_what_existed_at_the_report_date(crm_engine: sa.Engine) -> None:
    with crm_engine.begin() as connection:
        build_crm(connection)
    figures = collect_figures(crm_engine, AS_OF)
    tables, headline = figures.tables, figures.headline

    assert headline["people"] == 3
    assert headline["silver_medalists"] == 2
    assert headline["pool_members"] == 1  # ada (bob left)
    assert headline["people_with_consent"] == 1  # ada (bob withdrew; cyd only asked, and granted later)
    assert headline["open_offers"] == 2
    assert headline["messages_sent_in_window"] == 2
    # Re-applications after first joining a pool: ada's hire and second application, bob's one.
    assert headline["reapplications"] == 3
    assert headline["hires"] == 1
    returning = tables["returning_members"].set_index("month")
    assert returning.loc["2026-04", ["people", "reapplications", "hires"]].tolist() == [2, 2, 1]
    assert returning.loc["2026-05", ["people", "reapplications", "hires"]].tolist() == [1, 1, 0]
    by_pool = tables["returning_by_pool"].set_index("pool")
    assert by_pool.loc["data <engineers>", ["people", "reapplications", "hires"]].tolist() == [2, 3, 1]
    assert by_pool.loc["sales", ["people", "reapplications", "hires"]].tolist() == [1, 1, 0]

    sizes = tables["pool_sizes"]
    assert len(sizes) == 3  # the 2026-06-02 snapshot is after the report date
    assert sizes[sizes["pool"] == "data <engineers>"]["size"].tolist() == [2, 1]

    funnel = tables["consent_funnel"]
    assert funnel["action"].tolist() == ["requested", "granted", "withdrawn"]  # funnel order
    assert funnel.set_index("action").loc["granted", "events"] == 2
    assert funnel.set_index("action").loc["withdrawn", "events_in_window"] == 1

    silver = tables["silver_medalists"].set_index("job_family")
    assert silver.loc["data_analytics", ["people", "silver_medalists"]].tolist() == [2, 2]
    assert silver.loc["sales", ["people", "silver_medalists"]].tolist() == [1, 0]
    assert silver.loc["data_analytics", "label"] == "Data and analytics"

    offers = tables["offer_matches"].set_index("source_job_id")
    assert offers["matches"].to_dict() == {"o1": 2, "o2": 1}
    assert offers.loc["o1", "best_score"] == pytest.approx(0.95)
    scores = tables["score_distribution"].set_index("score_bin")["matches"]
    assert scores.sum() == 3 and scores["0.4-0.5"] == 1 and scores["0.9-1.0"] == 2

    messages = tables["campaign_messages"].set_index("campaign")
    outcomes = ["batches", "messages", "sent", "failed", "bounced", "complaints"]
    assert messages.loc["weekly_offers", outcomes].tolist() == [1, 3, 2, 1, 1, 1]


def test_report_files_are_self_contained_escaped_and_reproducible(crm_engine: sa.Engine, tmp_path: Path) -> None:
    with crm_engine.begin() as connection:
        build_crm(connection)
    files = write_report(collect_figures(crm_engine, AS_OF), tmp_path, generated_by="run manual__1")
    html = files.html.read_text(encoding="utf-8")
    assert files.html.name == "crm-report-2026-06-01.html"
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert html.count("<svg") == 7
    assert "data &lt;engineers&gt;" in html and "data <engineers>" not in html
    assert {p.name for p in files.csv_files} >= {"pool_sizes.csv", "consent_funnel.csv", "campaign_messages.csv"}
    with (files.csv_folder / "offer_matches.csv").open(encoding="utf-8") as handle:
        titles = [row["title"] for row in csv.DictReader(handle)]
    assert "'=cmd|' /C calc'!A0" in titles  # a formula in a title is defused for spreadsheets
    before = {p.name: p.read_bytes() for p in [files.html, *files.csv_files]}
    again = write_report(collect_figures(crm_engine, AS_OF), tmp_path, generated_by="run manual__1")
    assert {p.name: p.read_bytes() for p in [again.html, *again.csv_files]} == before


def test_an_empty_crm_gives_a_report_with_placeholders(crm_engine: sa.Engine, tmp_path: Path) -> None:
    figures = collect_figures(crm_engine, AS_OF)
    assert all(value == 0 for value in figures.headline.values())
    html = write_report(figures, tmp_path).html.read_text(encoding="utf-8")
    assert html.count("No data yet.") == 7


def test_chart_scales_and_labels() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 7, 12, 230, 2600)] == [1, 0.5, 1, 10, 20, 250, 5000]
    assert [axis_scale(v) for v in (2, 7, 23, 0.3)] == [(5, 5), (10, 5), (25, 5), (5, 5)]
    assert axis_scale(0.3, counts=False) == (0.5, 5) and axis_scale(180, counts=False) == (200, 4)
    assert [format_number(v) for v in (1234, 0.5, 2.25, 1234.5)] == ["1,234", "0.5", "2.25", "1,234.5"]
    svg = bar_chart("t", ["a & b"], {"x": [3], "y": [1]})
    assert "a &amp; b" in svg and ">4<" in svg  # stacked total written after the bar
    line = line_chart("pools", {"p": [(date(2026, 1, 1), 1), (date(2026, 1, 8), 3)]})
    assert "<polyline" in line and "2026-01-08" in line
    many = line_chart("pools", {f"pool {i}": [(date(2026, 1, 1), i)] for i in range(6)})
    legend_colours = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', many)
    assert len(legend_colours) == len(set(legend_colours)) == 6, "each series keeps its own colour in the legend"


def test_the_demo_follow_up_export_has_pool_members_applying_again(crm_engine: sa.Engine, tmp_path: Path) -> None:
    from vivier.ingest.formats.greenhouse import parse
    from vivier.synth.returning import write_returning_applications

    with crm_engine.begin() as connection:
        people = build_crm(connection)
    path = tmp_path / "returning.json"
    count = write_returning_applications(crm_engine, path, AS_OF, people=5, hires=1)
    assert count == 1  # ada is the only current pool member
    parsed = parse(path)
    assert parsed.rejected == []
    application = parsed.applications.iloc[0]
    with crm_engine.connect() as connection:
        email = connection.execute(sa.text("SELECT email FROM persons WHERE person_id = :p"), {"p": people["ada"]})
        assert application["email"] == email.scalar_one()
    assert application["status"] == "hired" and application["job_title"] == "=cmd|' /C calc'!A0"
