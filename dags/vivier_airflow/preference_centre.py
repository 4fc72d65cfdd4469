"""Public address and token keys of the preference centre, from the Airflow connection ``preference_centre``.

Connection fields: ``host`` (``talent.example.com``, or a whole URL), ``schema`` (the URL scheme,
``https`` by default), ``port``, extra ``path`` (the mount prefix, ``/preferences`` by default) and
``password``: the token keys, comma-separated, newest first (put a new key in front to rotate;
drop the old one once its links no longer matter). Example:
``AIRFLOW_CONN_PREFERENCE_CENTRE='{"conn_type": "http", "host": "talent.example.com", "schema": "https",
"password": "new-key,old-key"}'``. Without the connection the demo settings are used, loudly.
"""

from __future__ import annotations

import logging

PREFERENCE_CENTRE_CONN_ID = "preference_centre"
DEFAULT_PATH = "/preferences"
# The Airflow API server of `make airflow`, where the plugin mounts the app.
DEMO_BASE_URL = "http://localhost:8080" + DEFAULT_PATH
log = logging.getLogger(__name__)


def base_url_from_fields(
    host: str | None, schema: str | None = None, port: int | None = None, path: str | None = None
) -> str | None:
    """``scheme://host[:port]/path`` from connection fields (a host that is already a URL is kept)."""
    if not host:
        return None
    if "://" in host:
        return host.rstrip("/")
    scheme = schema or "https"
    netloc = f"{host}:{port}" if port else host
    suffix = "/" + (DEFAULT_PATH if path is None else path).strip("/")
    return f"{scheme}://{netloc}{suffix}".rstrip("/")


def preference_centre_settings(conn_id: str = PREFERENCE_CENTRE_CONN_ID) -> tuple[str, list[str]]:
    """(base URL, token keys newest first) for building links and running the app."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from vivier.preferences.tokens import DEMO_TOKEN_KEY, parse_keys

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        log.warning(
            "Connection %s is not defined: the preference centre uses the demo address %s and the PUBLIC demo "
            "token key (anyone can forge its links). Define the connection before real people get links.",
            conn_id,
            DEMO_BASE_URL,
        )
        return DEMO_BASE_URL, [DEMO_TOKEN_KEY]
    extra = conn.extra_dejson or {}
    base_url = base_url_from_fields(conn.host, conn.schema, conn.port, extra.get("path")) or DEMO_BASE_URL
    keys = parse_keys(conn.password)
    if not keys:
        log.warning("Connection %s has no password (token keys): using the PUBLIC demo token key.", conn_id)
        keys = [DEMO_TOKEN_KEY]
    return base_url, keys
