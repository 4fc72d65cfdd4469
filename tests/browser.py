"""Headless Debian ``chromium`` for the tests that look at rendered pages (screenshots kept in test-artifacts/)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"
WINDOW = (1000, 1400)
# Headless, and quiet: no sync, no component updates, no background traffic (loopback only).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
]


def chromium_path() -> str:
    """Debian's chromium; fails under CI=true (``.ci/run`` installs it) and skips locally when missing."""
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_chromium(
    chromium: str, profile: Path, *args: str, window: tuple[int, int] = WINDOW
) -> subprocess.CompletedProcess:
    command = [chromium, *CHROMIUM_FLAGS, f"--window-size={window[0]},{window[1]}", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def png_summary(path: Path) -> tuple[int, int, int]:
    """(width, height, number of distinct byte values in the decoded image data) of a PNG file."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    chunks, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))
