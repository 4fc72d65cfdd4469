"""Files no parser can read whole, for tests of the error paths."""

from __future__ import annotations

import os
from pathlib import Path

from vivier.synth._io import encode


def write_empty_file(path: Path) -> Path:
    """A zero-byte file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def write_truncated_json(path: Path, *, seed: int = 0, applications: int = 30, keep: float = 0.6) -> Path:
    """A Greenhouse export cut after ``keep`` of its bytes (as an interrupted download leaves it)."""
    from vivier.synth.api import generate_export

    path = Path(path)
    generate_export("greenhouse", path, applications=applications, seed=seed)
    size = path.stat().st_size
    os.truncate(path, max(1, int(size * keep)))
    return path


def write_unknown_json_shape(path: Path) -> Path:
    """Valid JSON that is no ATS export."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "results": [{"uid": 1, "label": "alpha", "score": 0.5}, {"uid": 2, "label": "beta", "score": 0.25}],
        "count": 2,
        "next": None,
    }
    path.write_text(encode(document) + "\n", encoding="utf-8")
    return path


def write_broken_files(directory: Path, *, seed: int = 0) -> list[Path]:
    """``empty.json``, ``empty.csv``, ``truncated_greenhouse.json`` and ``unknown_shape.json``."""
    directory = Path(directory)
    return [
        write_empty_file(directory / "empty.json"),
        write_empty_file(directory / "empty.csv"),
        write_truncated_json(directory / "truncated_greenhouse.json", seed=seed),
        write_unknown_json_shape(directory / "unknown_shape.json"),
    ]
