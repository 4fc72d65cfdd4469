"""Write the weekly CRM report: one self-contained HTML file plus every figure as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from vivier.matching.shortlist import safe_cell
from vivier.paths import INCLUDE_DIR
from vivier.report import charts
from vivier.report.figures import CONSENT_ACTIONS, MESSAGE_OUTCOMES, ReportFigures

TEMPLATE_DIR = INCLUDE_DIR / "templates" / "report"
TREND_POOLS = 8
TOP_OFFERS = 20


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    csv_folder: Path
    csv_files: list[Path]


def report_name(figures: ReportFigures) -> str:
    """``crm-report-<date>``: the report of the week ending on the run's logical date."""
    return f"crm-report-{figures.period.as_of.date().isoformat()}"


def build_charts(figures: ReportFigures) -> dict[str, Markup]:
    """The SVG chart of each figure."""
    tables = figures.tables
    sizes = tables["pool_sizes"]
    latest = sizes.sort_values("day").groupby("pool")["size"].last().sort_values(ascending=False)
    shown = list(latest.index[:TREND_POOLS])
    trend = {
        pool: list(zip(group["day"], group["size"], strict=True))
        for pool, group in sizes[sizes["pool"].isin(shown)].groupby("pool", sort=False)
    }
    trend = {pool: trend[pool] for pool in shown if pool in trend}

    funnel = tables["consent_funnel"]
    by_action = funnel.groupby("action")["events"].sum()
    actions = [a for a in CONSENT_ACTIONS if a in by_action.index]
    events = funnel.pivot_table(index="action", columns="purpose", values="events", aggfunc="sum", fill_value=0)
    stacked = {purpose: [int(events.loc[a, purpose]) for a in actions] for purpose in sorted(events.columns)}

    silver = tables["silver_medalists"]
    offers = tables["offer_matches"].head(TOP_OFFERS)
    messages = tables["campaign_messages"]
    bounced = messages[["bounced", "sent"]].min(axis=1)
    outcomes = {"sent": (messages["sent"] - bounced).tolist(), "sent, then bounced": bounced.tolist()} | {
        outcome: messages[outcome].tolist() for outcome in MESSAGE_OUTCOMES if outcome != "sent"
    }
    returning = tables["returning_members"]
    scores = tables["score_distribution"]
    svg = {
        "pool_sizes": charts.line_chart("Pool sizes over time (largest pools)", trend),
        "consent_funnel": charts.bar_chart("Consent events by action, stacked by purpose", actions, stacked),
        "silver_medalists": charts.bar_chart(
            "Silver medalists by job family",
            silver["label"].tolist(),
            {
                "silver medalists": silver["silver_medalists"].tolist(),
                "other people": (silver["people"] - silver["silver_medalists"]).tolist(),
            },
        ),
        "offer_matches": charts.bar_chart(
            "People matched per open offer",
            [f"{title} (#{offer})" for title, offer in zip(offers["title"], offers["job_offer_id"], strict=True)],
            {"matches": offers["matches"].tolist()},
            label_width=260,
        ),
        "score_distribution": charts.column_chart(
            "Match scores of open offers", scores["score_bin"].tolist(), scores["matches"].tolist(), "score"
        ),
        "campaign_messages": charts.bar_chart(
            "Messages per campaign by outcome", messages["campaign"].tolist(), outcomes, label_width=160
        ),
        "returning_members": charts.bar_chart(
            "Re-applications and hires of pool members per month",
            returning["month"].tolist(),
            {
                "hires": returning["hires"].tolist(),
                "other re-applications": (returning["reapplications"] - returning["hires"]).tolist(),
            },
            label_width=80,
        ),
    }
    return {key: Markup(chart) for key, chart in svg.items()}  # noqa: S704 - charts.py escapes every label


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = charts.format_number
    return environment


def _table(frame: pd.DataFrame) -> dict:
    return {"columns": list(frame.columns), "rows": frame.astype(object).where(frame.notna(), "").values.tolist()}


def write_report(figures: ReportFigures, folder: Path, generated_by: str = "") -> ReportFiles:
    """Write ``<folder>/crm-report-<date>.html`` and ``<folder>/crm-report-<date>/<figure>.csv``.

    Same figures, same bytes: a re-run of the week overwrites the files with identical content.
    """
    name = report_name(figures)
    csv_folder = folder / name
    csv_folder.mkdir(parents=True, exist_ok=True)
    csv_files = []
    for figure, frame in figures.tables.items():
        path = csv_folder / f"{figure}.csv"
        defused = frame.copy()
        for column in defused.columns:
            if not pd.api.types.is_numeric_dtype(defused[column]):
                defused[column] = defused[column].map(safe_cell)
        defused.to_csv(path, index=False, lineterminator="\n")
        csv_files.append(path)
    html = (
        _environment()
        .get_template("crm_report.html")
        .render(
            title=f"Vivier CRM report, week ending {figures.period.as_of.date().isoformat()}",
            period=figures.period,
            headline=figures.headline,
            charts=build_charts(figures),
            tables={key: _table(frame) for key, frame in figures.tables.items()},
            csv_folder=name,
            generated_by=generated_by,
        )
    )
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return ReportFiles(html=path, csv_folder=csv_folder, csv_files=csv_files)
