"""Per-step timings of an ingestion run (step names, seconds and peak memory: never any data).

The steps call ``step("name")``; nothing is kept unless a caller collects them with ``recording()``
(the benchmark does), and each step is also logged at DEBUG level.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepTime:
    name: str
    seconds: float
    peak_rss_mb: float  # the process's peak so far, at the end of the step
    rss_mb: float = 0.0  # the process's resident memory at the end of the step
    cpu_seconds: float = 0.0  # CPU time of this process (all its threads) during the step


_recorded: list[StepTime] | None = None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):  # not Linux
        return 0.0


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time the block as step ``name``."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        took = StepTime(name, time.perf_counter() - started, _peak_rss_mb(), _rss_mb(), time.process_time() - cpu)
        log.debug(
            "step %s: %.2fs (CPU %.2fs), peak %.0f MB", took.name, took.seconds, took.cpu_seconds, took.peak_rss_mb
        )
        if _recorded is not None:
            _recorded.append(took)


@contextmanager
def recording() -> Iterator[list[StepTime]]:
    """Collect the steps timed inside the block (in the order they finish)."""
    global _recorded
    previous, _recorded = _recorded, []
    try:
        yield _recorded
    finally:
        _recorded = previous
