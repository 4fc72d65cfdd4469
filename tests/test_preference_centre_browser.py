"""The preference centre's pages rendered once in headless Chromium (Debian's ``chromium``).

Screenshots are kept in ``test-artifacts/`` at the repository root. The database behaviour is
covered on both engines by ``test_preference_centre.py``; this test is about how the pages look, so
it renders them once, on SQLite. Chromium is installed by ``.ci/run``: missing, the test fails under
CI=true and is skipped locally.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import IN_CI, REPO_ROOT
from vivier.consent import ledger
from vivier.db import make_engine, upgrade
from vivier.db.schema import persons
from vivier.preferences.app import create_app
from vivier.preferences.links import join_url, preferences_url, unsubscribe_url
from vivier.preferences.localserver import serve_on_loopback
from vivier.preferences.mail import CapturingSender

ARTIFACTS = REPO_ROOT / "test-artifacts"
KEYS = ["browser-test-key-0123456789abcdef"]
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
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
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


def test_pages_render_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.sqlite'}")
    upgrade(engine)
    with engine.begin() as connection:
        person_id = connection.execute(
            persons.insert()
            .values(email="browser@example.org", language="fr", created_at=sa.func.now(), updated_at=sa.func.now())
            .returning(persons.c.person_id)
        ).scalar_one()
        ledger.record_event(connection, person_id, "job_offers", "granted", "ats_import", "2026-01-01T00:00:00Z")
    crm_url = engine.url.render_as_string(hide_password=False)
    app = create_app(crm_url, KEYS, "http://127.0.0.1", sender=CapturingSender())
    ARTIFACTS.mkdir(exist_ok=True)
    profile = tmp_path / "chromium-profile"
    with serve_on_loopback(app) as base:
        pages = {
            "preference-centre-manage-fr.png": preferences_url(base, KEYS, person_id),
            "preference-centre-unsubscribe-en.png": unsubscribe_url(base, KEYS, person_id, "all") + "?lang=en",
            "preference-centre-join-en.png": join_url(base, KEYS, person_id) + "?lang=en",
        }
        for name, url in pages.items():
            (ARTIFACTS / name).unlink(missing_ok=True)
            _run_chromium(chromium, profile, f"--screenshot={ARTIFACTS / name}", url)
        dom = _run_chromium(chromium, profile, "--dump-dom", preferences_url(base, KEYS, person_id)).stdout

    for name in pages:
        width, height, distinct = png_summary(ARTIFACTS / name)
        assert (width, height) == WINDOW, name
        assert distinct > 20, f"{name} looks blank"
    # the DOM as Chromium parsed it: the French form with its five purposes and one ticked
    assert '<html lang="fr">' in dom
    assert dom.count('name="consent"') == 5
    assert 'value="job_offers" checked=""' in dom
    assert "Enregistrer mes préférences" in dom
