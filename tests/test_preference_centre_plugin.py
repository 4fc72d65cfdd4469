"""The preference centre as an Airflow plugin: found by the plugin manager, mounted at /preferences,
configured from the connections ``crm_db`` and ``preference_centre``."""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from tests.conftest import REPO_ROOT
from vivier.consent import ledger
from vivier.db.schema import consent_current, persons
from vivier.preferences.links import preferences_url, unsubscribe_url
from vivier.preferences.localserver import serve_on_loopback
from vivier.preferences.tokens import DEMO_TOKEN_KEY

KEYS = ["plugin-key-new-0123456789abc", "plugin-key-old-0123456789abc"]


def _plugin_module():
    spec = importlib.util.spec_from_file_location(
        "preference_centre_plugin", REPO_ROOT / "plugins" / "preference_centre.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plugin_manager_mounts_the_app_at_preferences() -> None:
    from airflow import plugins_manager
    from airflow.api_fastapi.app import RESERVED_URL_PREFIXES, init_plugins

    apps, _ = plugins_manager.get_fastapi_plugins()
    ours = [entry for entry in apps if entry.get("name") == "Preference centre"]
    assert len(ours) == 1
    assert ours[0]["url_prefix"] == "/preferences"
    assert not any(ours[0]["url_prefix"].startswith(prefix) for prefix in RESERVED_URL_PREFIXES)
    host = FastAPI()
    init_plugins(host)  # what the Airflow API server does at start-up
    assert "/preferences" in {getattr(route, "path", None) for route in host.routes}


def test_settings_default_to_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    from vivier_airflow.preference_centre import DEMO_BASE_URL, preference_centre_settings

    monkeypatch.delenv("AIRFLOW_CONN_PREFERENCE_CENTRE", raising=False)
    assert preference_centre_settings() == (DEMO_BASE_URL, [DEMO_TOKEN_KEY])


def test_settings_from_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from vivier_airflow.preference_centre import base_url_from_fields, preference_centre_settings

    connection = {"conn_type": "http", "host": "talent.example.com", "schema": "https", "password": ",".join(KEYS)}
    monkeypatch.setenv("AIRFLOW_CONN_PREFERENCE_CENTRE", json.dumps(connection))
    assert preference_centre_settings() == ("https://talent.example.com/preferences", KEYS)
    assert base_url_from_fields("example.org", "http", 8080, "/") == "http://example.org:8080"
    assert base_url_from_fields("https://example.org/prefs/") == "https://example.org/prefs"
    assert base_url_from_fields(None) is None


def test_the_mounted_plugin_serves_real_requests(crm_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with crm_engine.begin() as connection:
        person_id = connection.execute(
            persons.insert()
            .values(email="plugin@example.org", language="fr", created_at=sa.func.now(), updated_at=sa.func.now())
            .returning(persons.c.person_id)
        ).scalar_one()
        ledger.record_event(connection, person_id, "job_offers", "granted", "ats_import", "2026-01-01T00:00:00Z")

    module = _plugin_module()
    host = FastAPI()
    host.mount(module.URL_PREFIX, module.PreferenceCentreApp())  # as Airflow's init_plugins mounts it
    with serve_on_loopback(host) as server:
        host_port = server.removeprefix("http://")
        conn = {"conn_type": "http", "host": host_port.split(":")[0], "port": int(host_port.split(":")[1])}
        monkeypatch.setenv(
            "AIRFLOW_CONN_PREFERENCE_CENTRE", json.dumps({**conn, "schema": "http", "password": ",".join(KEYS)})
        )
        monkeypatch.setenv("AIRFLOW_CONN_CRM_DB", crm_engine.url.render_as_string(hide_password=False))
        base = f"{server}/preferences"
        with httpx.Client(timeout=30) as client:
            page = client.get(preferences_url(base, KEYS, person_id))
            assert page.status_code == 200 and "Vos préférences" in page.text
            old_key_link = unsubscribe_url(base, KEYS[1:], person_id, "all")
            assert client.post(old_key_link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
            assert client.get(unsubscribe_url(base, [DEMO_TOKEN_KEY], person_id, "all")).status_code == 404
    with crm_engine.connect() as connection:
        status = connection.execute(
            sa.select(consent_current.c.status).where(consent_current.c.person_id == person_id)
        ).scalar_one()
    assert status == "withdrawn"
