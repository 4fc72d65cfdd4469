"""The text of the report's DAG run note (Markdown, as the Airflow UI shows notes)."""

from __future__ import annotations

import os
from pathlib import Path

REPORTS_URL_VARIABLE = "VIVIER_REPORTS_URL"


def report_link(html: str | Path) -> str:
    """Where a reader opens the report: under ``$VIVIER_REPORTS_URL`` when the reports folder is
    published there (a static web server, a bucket), else the file's own URI."""
    path = Path(html)
    base = os.environ.get(REPORTS_URL_VARIABLE, "").rstrip("/")
    return f"{base}/{path.name}" if base else path.resolve().as_uri()


def run_note(html: str | Path, csv_folder: str | Path, headline: dict[str, int]) -> str:
    """A short Markdown note: the link, the CSV folder and the headline figures."""
    name = Path(html).name
    return "\n".join(
        [
            f"**Weekly CRM report**: [{name}]({report_link(html)})",
            "",
            f"Figures as CSV: `{csv_folder}`",
            "",
            f"Hires of former pool members: {headline.get('hires', 0):,} · "
            f"re-applications: {headline.get('reapplications', 0):,} · "
            f"people in pools: {headline.get('pool_members', 0):,} · "
            f"open offers: {headline.get('open_offers', 0):,}",
        ]
    )
