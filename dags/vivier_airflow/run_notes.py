"""Write a DAG run's note (shown on the run in the Airflow UI) through the Airflow REST API.

Tasks cannot change their own run in Airflow 3 except through the public API, so the note is
written with the credentials of the Airflow connection ``airflow_api`` (type ``http``: host and
port of the API server, or a full ``http(s)://`` URL as host; login and password of a user allowed
to edit DAG runs). Without that connection (``airflow dags test``, the demo) the note is only
printed in the task log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

API_CONN_ID = "airflow_api"
NOTE_LIMIT = 1000  # the API refuses longer notes
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    login: str
    password: str


def api_settings(conn_id: str = API_CONN_ID) -> ApiSettings | None:
    """The API server and credentials of the connection, or None when it is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    host = (conn.host or "localhost").rstrip("/")
    if not host.startswith(("http://", "https://")):
        scheme = conn.schema if conn.schema in ("http", "https") else "http"
        host = f"{scheme}://{host}:{conn.port or 8080}"
    elif conn.port:
        host = f"{host}:{conn.port}"
    return ApiSettings(base_url=host, login=conn.login or "", password=conn.password or "")


def set_run_note(settings: ApiSettings, dag_id: str, run_id: str, note: str, timeout: float = 30) -> None:
    """Replace the note of one DAG run (a JWT from ``/auth/token``, then PATCH with ``update_mask=note``)."""
    import httpx

    with httpx.Client(base_url=settings.base_url, timeout=timeout) as client:
        answer = client.post("/auth/token", json={"username": settings.login, "password": settings.password})
        answer.raise_for_status()
        token = answer.json()["access_token"]
        answer = client.patch(
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
            params={"update_mask": "note"},
            json={"note": note[:NOTE_LIMIT]},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()


def note_this_run(context: dict, note: str) -> bool:
    """Set the running DAG run's note when ``airflow_api`` is configured; True when it was written."""
    settings = api_settings()
    print(f"run note:\n{note}")
    if settings is None:
        print(f"No '{API_CONN_ID}' connection: the note is only in this log.")
        return False
    dag_run = context["dag_run"]
    set_run_note(settings, dag_run.dag_id, dag_run.run_id, note)
    return True
