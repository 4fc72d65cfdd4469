"""Staging folders left behind by runs that failed (they can hold personal data: staged exports,
people, candidates), removed once nothing in them has been written for the retention period."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path


def _newest_write(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    times += [path.stat().st_mtime for path in folder.rglob("*") if not path.is_symlink()]
    return max(times)


def remove_stale_run_folders(root: Path, older_than: datetime) -> int:
    """Delete the run folders of ``root`` whose newest file was written before ``older_than``
    (a run still working writes in its folder, so it is never old); returns how many went."""
    if not root.is_dir():
        return 0
    cutoff = older_than.timestamp()
    stale = [folder for folder in sorted(root.iterdir()) if folder.is_dir() and _newest_write(folder) < cutoff]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)
