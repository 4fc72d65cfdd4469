"""Airflow plugin: the preference centre (unsubscribe, preferences, double opt-in, data requests)
mounted on the Airflow API server at ``/preferences``.

The plugin manager imports this file in every Airflow component, so it imports nothing heavy: the
app is built at its first request, with the CRM database of the connection ``crm_db`` and the
address and token keys of the connection ``preference_centre`` (see
``dags/vivier_airflow/preference_centre.py``). Its pages are public (no Airflow login): every
link carries a signed token.
"""

from __future__ import annotations

import sys
import threading

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/preferences"


def _load_settings():
    try:
        import vivier_airflow  # noqa: F401 - the dags folder holds the Airflow-side helpers
    except ImportError:  # the API server does not put the dags folder on sys.path by itself
        from airflow.settings import DAGS_FOLDER

        sys.path.append(DAGS_FOLDER)
    from vivier.preferences.app import CentreSettings
    from vivier_airflow.crm import crm_url
    from vivier_airflow.preference_centre import preference_centre_settings
    from vivier_airflow.secrets import suppression_key

    base_url, keys = preference_centre_settings()
    return CentreSettings(crm_url=crm_url(), keys=keys, base_url=base_url, suppression_key=suppression_key())


class PreferenceCentreApp:
    """An ASGI app that builds the preference centre on its first request."""

    def __init__(self) -> None:
        self._app = None
        self._lock = threading.Lock()

    def _build(self):
        with self._lock:
            if self._app is None:
                from vivier.preferences.app import build_app

                self._app = build_app(_load_settings)
        return self._app

    async def __call__(self, scope, receive, send) -> None:
        app = self._app or self._build()
        await app(scope, receive, send)


class PreferenceCentrePlugin(AirflowPlugin):
    name = "preference_centre"
    fastapi_apps = [{"app": PreferenceCentreApp(), "url_prefix": URL_PREFIX, "name": "Preference centre"}]
