"""Per-run facts every Vivier task needs: the time the run stands for, and its working folders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pendulum


def run_as_of(context: dict[str, Any]) -> pendulum.DateTime:
    """The time a run stands for: its logical date, or when it was due for runs without one.

    Re-running a run gives the same value, so everything keyed to it is reproducible.
    """
    dag_run = context["dag_run"]
    moment = getattr(dag_run, "logical_date", None) or dag_run.run_after
    return pendulum.instance(moment).in_timezone("UTC")


def run_folder(base: Path, context: dict[str, Any]) -> Path:
    """A folder of ``base`` owned by this DAG run (names made file-system safe)."""
    dag_run = context["dag_run"]
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dag_run.dag_id}/{dag_run.run_id}")
    return base / safe


def run_id(context: dict[str, Any]) -> str:
    return context["dag_run"].run_id
