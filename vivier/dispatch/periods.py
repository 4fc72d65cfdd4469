"""Period keys: each run's messages are keyed to the period its logical date falls in (Europe/Paris),
so a re-run or a backfill of the same period finds its messages already planned."""

from __future__ import annotations

from typing import Any

import pandas as pd

TIMEZONE = "Europe/Paris"


def local_time(as_of: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(as_of)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(TIMEZONE)


def period_key(cadence: str, as_of: Any) -> str:
    """``2026-11-27`` (daily), ``2026-W48`` (weekly, ISO week), ``2026-11`` (monthly), ``2026-Q4`` (quarterly)."""
    local = local_time(as_of)
    if cadence == "daily":
        return local.strftime("%Y-%m-%d")
    if cadence == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if cadence == "monthly":
        return local.strftime("%Y-%m")
    if cadence == "quarterly":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    raise ValueError(f"unknown cadence {cadence!r}")


def as_utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
