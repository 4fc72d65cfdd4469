"""A shortlist per offer for the recruiter: who matches and why, as CSV and as an HTML page.

The files name people (name, e-mail): they are for the recruiter, kept under the data folder, and
rewritten by every matching run of the offer. CSV cells that a spreadsheet would run as a formula
(starting with ``= + - @``, a tab or a carriage return) are prefixed with a quote.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from jinja2 import Environment, select_autoescape

from vivier.db.schema import job_offer_skills, job_offers
from vivier.db.sqlfiles import run_sql
from vivier.matching.reverse import json_list
from vivier.matching.run import skill_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    ("rank", "rank"),
    ("score", "score"),
    ("person_id", "person_id"),
    ("full_name", "name"),
    ("email", "email"),
    ("headline", "headline"),
    ("city", "city"),
    ("country", "country"),
    ("furthest_stage", "furthest stage"),
    ("matched", "matched skills"),
    ("missing", "missing skills"),
    ("reason", "why"),
)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shortlist: {{ offer.title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}
table{border-collapse:collapse;margin-top:1rem}
th,td{border:1px solid #cbd2d9;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}.num{text-align:right}.ok{color:#1f7a1f}.ko{color:#b42318}.silver{font-weight:600}
</style></head><body>
<h1>{{ offer.title }}</h1>
<p>{{ offer.location or "" }} &middot; offer {{ offer.source_system }}:{{ offer.source_job_id }}
(CRM id {{ offer.job_offer_id }}) &middot; status {{ offer.status }}</p>
<p>Required: {{ required | join(", ") or "none" }}<br>Nice to have: {{ nice | join(", ") or "none" }}</p>
{% if rows %}
<table><thead><tr><th class="num">#</th><th class="num">score</th><th>person</th><th>headline</th><th>place</th>
<th>matched skills</th><th>missing skills</th><th>why</th></tr></thead><tbody>
{% for r in rows %}
<tr><td class="num">{{ r.rank }}</td><td class="num">{{ "%.3f" | format(r.score) }}</td>
<td{% if r.is_silver_medalist %} class="silver"{% endif %}>{{ r.full_name or "" }}<br>
<small>{{ r.email }} &middot; id {{ r.person_id }}</small></td>
<td>{{ r.headline or "" }}</td><td>{{ r.city or "" }} {{ r.country or "" }}</td>
<td class="ok">{{ r.matched }}</td><td class="ko">{{ r.missing }}</td><td>{{ r.reason }}</td></tr>
{% endfor %}
</tbody></table>
{% else %}
<p>Nobody with current consent for job offers matches this offer yet.</p>
{% endif %}
</body></html>
"""
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def safe_cell(value) -> str:
    """The cell as text, defused when a spreadsheet would read it as a formula."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def shortlist(connection: sa.Connection, job_offer_id: int, *, language: str = "en") -> pd.DataFrame:
    """The offer's matches with who they are; ``matched`` / ``missing`` name the skills in ``language``."""
    rows = pd.DataFrame(run_sql(connection, "matching/shortlist", job_offer_id=job_offer_id)[0].mappings().all())
    if rows.empty:
        return pd.DataFrame(columns=[c for c, _ in CSV_COLUMNS] + ["is_silver_medalist"])
    for column, target in (("matched_skills", "matched"), ("missing_skills", "missing")):
        rows[target] = rows[column].map(lambda v: ", ".join(skill_label(s, language) for s in json_list(v)))
    return rows


def to_csv(rows: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([header for _, header in CSV_COLUMNS])
    for record in rows.to_dict("records"):
        writer.writerow([safe_cell(record.get(column)) for column, _ in CSV_COLUMNS])
    return buffer.getvalue()


def _offer_skill_names(connection: sa.Connection, job_offer_id: int, language: str) -> dict[str, list[str]]:
    query = (
        sa.select(job_offer_skills.c.skill_id, job_offer_skills.c.importance)
        .where(job_offer_skills.c.job_offer_id == job_offer_id)
        .order_by(job_offer_skills.c.skill_id)
    )
    names: dict[str, list[str]] = {"required": [], "nice": []}
    for row in connection.execute(query):
        names.setdefault(row.importance, []).append(skill_label(row.skill_id, language))
    return names


def write_shortlists(engine: sa.Engine, job_offer_ids: list[int], out_dir: Path, *, language: str = "en") -> list[Path]:
    """``offer-<id>.csv`` (UTF-8 with BOM, for spreadsheets) and ``offer-<id>.html`` per offer; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with engine.connect() as connection:
        for job_offer_id in job_offer_ids:
            offer = connection.execute(sa.select(job_offers).where(job_offers.c.job_offer_id == job_offer_id)).first()
            if offer is None:
                continue
            rows = shortlist(connection, job_offer_id, language=language)
            names = _offer_skill_names(connection, job_offer_id, language)
            csv_path, html_path = out_dir / f"offer-{job_offer_id}.csv", out_dir / f"offer-{job_offer_id}.html"
            csv_path.write_text(to_csv(rows), encoding="utf-8-sig")
            html = _ENV.from_string(_TEMPLATE).render(
                offer=offer, rows=rows.to_dict("records"), required=names["required"], nice=names["nice"]
            )
            html_path.write_text(html, encoding="utf-8")
            written += [csv_path, html_path]
    return written
