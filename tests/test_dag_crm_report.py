"""The crm_report DAG run for real with dag.test(), and the report looked at in headless Chromium."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, chromium_path, png_summary, run_chromium
from tests.conftest import DAGS_DIR
from tests.test_report import build_crm
from vivier.db import make_engine, upgrade
from vivier.paths import data_dir

LOGICAL_DATE = "2026-06-01T05:00:00+00:00"


@pytest.mark.airflow
def test_crm_report_writes_the_report_and_its_csv_files(airflow_db, crm_connection_env: str, tmp_path: Path) -> None:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    engine = make_engine(crm_connection_env)
    upgrade(engine)
    with engine.begin() as connection:
        build_crm(connection)
    engine.dispose()

    dag = DagBag(dag_folder=str(DAGS_DIR / "crm_report.py")).get_dag("crm_report")
    run = dag.test(logical_date=pendulum.parse(LOGICAL_DATE))
    assert run.state == "success"
    html = data_dir() / "reports" / "crm-report-2026-06-01.html"
    text = html.read_text(encoding="utf-8")
    assert text.count("<svg") == 7
    assert f"crm_report run {run.run_id}" in text
    with (data_dir() / "reports" / "crm-report-2026-06-01" / "returning_by_pool.csv").open(encoding="utf-8") as handle:
        rows = {row["pool"]: row for row in csv.DictReader(handle)}
    assert rows["data <engineers>"]["hires"] == "1" and rows["data <engineers>"]["reapplications"] == "3"


def test_report_renders_in_headless_chromium(sqlite_url: str, tmp_path: Path) -> None:
    import pandas as pd

    from vivier.report import collect_figures, write_report

    chromium = chromium_path()
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as connection:
        build_crm(connection)
    files = write_report(collect_figures(engine, pd.Timestamp(LOGICAL_DATE)), tmp_path / "reports")
    engine.dispose()
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "crm-report.png"
    screenshot.unlink(missing_ok=True)
    profile = tmp_path / "chromium-profile"
    window = (1000, 3200)
    run_chromium(chromium, profile, f"--screenshot={screenshot}", files.html.as_uri(), window=window)
    width, height, distinct = png_summary(screenshot)
    assert (width, height) == window
    assert distinct > 20, "the report looks blank"
    dom = run_chromium(chromium, profile, "--dump-dom", files.html.as_uri()).stdout
    # the DOM as Chromium parsed it: seven charts, the headline cards, escaped pool names as text
    assert dom.count("<svg") == 7
    assert dom.count('class="card"') == 7
    assert "data &lt;engineers&gt;" in dom
