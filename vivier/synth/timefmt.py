"""Vectorised time formatting for the exports.

Times are carried as int64 seconds since the Unix epoch (UTC); ``NA`` marks a missing time.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

import numpy as np

NA = -1  # missing time
DAY = 86_400


def epoch_seconds(day: date) -> int:
    """Midnight UTC of ``day`` in epoch seconds."""
    return calendar.timegm(day.timetuple())


def _as_seconds(secs: np.ndarray) -> np.ndarray:
    return np.asarray(secs, dtype=np.int64)


def _with_na(strings: list[str], secs: np.ndarray) -> list[str | None]:
    if (secs == NA).any():
        return [None if t == NA else s for s, t in zip(strings, secs.tolist(), strict=True)]
    return strings


def iso_seconds(secs: np.ndarray, suffix: str = "Z") -> list[str | None]:
    """``2025-03-04T10:11:12Z`` (or another suffix such as ``.000Z``)."""
    secs = _as_seconds(secs)
    text = np.datetime_as_string(np.maximum(secs, 0).astype("datetime64[s]"), unit="s").tolist()
    return _with_na([s + suffix for s in text], secs)


def iso_millis(secs: np.ndarray, millis: np.ndarray) -> list[str | None]:
    """``2025-03-04T10:11:12.734Z``."""
    secs = _as_seconds(secs)
    ms = np.maximum(secs, 0) * 1000 + np.asarray(millis, dtype=np.int64)
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()
    return _with_na([s + "Z" for s in text], secs)


def _paris_offsets(secs: np.ndarray) -> np.ndarray:
    """UTC offset of Europe/Paris in seconds (EU rule: summer time between the last Sundays of
    March and October, 01:00 UTC)."""
    years = np.unique(np.maximum(secs, 0).astype("datetime64[s]").astype("datetime64[Y]").astype(int) + 1970)
    starts, ends = [], []
    for year in years.tolist():
        starts.append(_last_sunday(year, 3))
        ends.append(_last_sunday(year, 10))
    bounds = np.array(sorted(starts + ends), dtype=np.int64)
    # an odd number of boundaries passed means summer time
    passed = np.searchsorted(bounds, secs, side="right")
    return np.where(passed % 2 == 1, 7200, 3600)


def _last_sunday(year: int, month: int) -> int:
    last_day = calendar.monthrange(year, month)[1]
    day = datetime(year, month, last_day, 1, 0, tzinfo=UTC)
    day = day.replace(day=last_day - (day.weekday() + 1) % 7)
    return int(day.timestamp())


def iso_paris(secs: np.ndarray, millis: np.ndarray) -> list[str | None]:
    """Local Paris time with offset: ``2025-03-04T11:11:12.734+01:00``."""
    secs = _as_seconds(secs)
    offsets = _paris_offsets(secs)
    local_ms = (np.maximum(secs, 0) + offsets) * 1000 + np.asarray(millis, dtype=np.int64)
    text = np.datetime_as_string(local_ms.astype("datetime64[ms]"), unit="ms").tolist()
    out = [s + ("+02:00" if o == 7200 else "+01:00") for s, o in zip(text, offsets.tolist(), strict=True)]
    return _with_na(out, secs)


def day_first(secs: np.ndarray) -> list[str | None]:
    """``04/03/2025`` (French spreadsheets)."""
    secs = _as_seconds(secs)
    text = np.datetime_as_string(np.maximum(secs, 0).astype("datetime64[s]").astype("datetime64[D]"), unit="D").tolist()
    return _with_na([f"{s[8:10]}/{s[5:7]}/{s[0:4]}" for s in text], secs)


def epoch_millis(secs: np.ndarray, millis: np.ndarray) -> list[int | None]:
    """Epoch milliseconds (Lever)."""
    secs = _as_seconds(secs)
    ms = (secs * 1000 + np.asarray(millis, dtype=np.int64)).tolist()
    return _with_na(ms, secs)


def to_dates(secs: np.ndarray) -> list[date | None]:
    """``datetime.date`` objects (Excel cells)."""
    secs = _as_seconds(secs)
    ordinal0 = date(1970, 1, 1).toordinal()
    days = (np.maximum(secs, 0) // DAY).tolist()
    return [None if t == NA else date.fromordinal(ordinal0 + d) for d, t in zip(days, secs.tolist(), strict=True)]
