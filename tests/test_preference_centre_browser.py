"""The preference centre's pages rendered once in headless Chromium (Debian's ``chromium``).

Screenshots are kept in ``test-artifacts/`` at the repository root. The database behaviour is
covered on both engines by ``test_preference_centre.py``; this test is about how the pages look, so
it renders them once, on SQLite. Chromium is installed by ``.ci/run``: missing, the test fails under
CI=true and is skipped locally.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser import ARTIFACTS, WINDOW, chromium_path, png_summary, run_chromium
from vivier.consent import ledger
from vivier.db import make_engine, upgrade
from vivier.db.schema import persons
from vivier.preferences.app import create_app
from vivier.preferences.links import join_url, preferences_url, unsubscribe_url
from vivier.preferences.localserver import serve_on_loopback
from vivier.preferences.mail import CapturingSender

KEYS = ["browser-test-key-0123456789abcdef"]


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


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
            run_chromium(chromium, profile, f"--screenshot={ARTIFACTS / name}", url)
        dom = run_chromium(chromium, profile, "--dump-dom", preferences_url(base, KEYS, person_id)).stdout

    for name in pages:
        width, height, distinct = png_summary(ARTIFACTS / name)
        assert (width, height) == WINDOW, name
        assert distinct > 20, f"{name} looks blank"
    # the DOM as Chromium parsed it: the French form with its five purposes and one ticked
    assert '<html lang="fr">' in dom
    assert dom.count('name="consent"') == 5
    assert 'value="job_offers" checked=""' in dom
    assert "Enregistrer mes préférences" in dom
