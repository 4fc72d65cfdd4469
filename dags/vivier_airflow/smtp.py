"""The SMTP server the dispatch DAGs deliver through: the Airflow connection ``smtp_default``.

Fields as the Airflow SMTP provider reads them: ``host``, ``port``, ``login``, ``password``, extra
``from_email``, ``disable_ssl`` (default false: implicit TLS, port 465), ``disable_tls`` (default
false: STARTTLS when SSL is off), ``timeout``. Example for a relay on 587 with STARTTLS:
``AIRFLOW_CONN_SMTP_DEFAULT='{"conn_type": "smtp", "host": "smtp.example.com", "port": 587,
"login": "vivier", "password": "...", "extra": {"disable_ssl": true, "from_email": "talent@example.com"}}'``.
Without the connection, mail goes to the local demo sink (``python -m vivier.dispatch.sink``,
127.0.0.1:8025, no TLS), and the log says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vivier.dispatch.transports import SmtpSettings

SMTP_CONN_ID = "smtp_default"
DEMO_SINK_HOST, DEMO_SINK_PORT = "127.0.0.1", 8025
log = logging.getLogger(__name__)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def settings_from_fields(
    host: str | None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    extra: dict[str, Any] | None = None,
) -> SmtpSettings:
    """SmtpSettings from connection fields (the provider's defaults: SSL unless disabled)."""
    from vivier.dispatch.transports import SmtpSettings

    extra = extra or {}
    use_ssl = not _flag(extra.get("disable_ssl", False))
    starttls = not use_ssl and not _flag(extra.get("disable_tls", False))
    default_port = 465 if use_ssl else 587 if starttls else 25
    return SmtpSettings(
        host=host or "localhost",
        port=int(port or default_port),
        login=login or None,
        password=password or None,
        use_ssl=use_ssl,
        starttls=starttls,
        timeout=float(extra.get("timeout", 30)),
        from_email=extra.get("from_email") or None,
    )


def smtp_settings(conn_id: str = SMTP_CONN_ID) -> SmtpSettings:
    """The settings of ``smtp_default``, or the local demo sink when the connection is not defined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from vivier.dispatch.transports import SmtpSettings

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        log.warning(
            "Connection %s is not defined: mail goes to the local demo sink %s:%s "
            "(python -m vivier.dispatch.sink). Define the connection to send for real.",
            conn_id,
            DEMO_SINK_HOST,
            DEMO_SINK_PORT,
        )
        return SmtpSettings(host=DEMO_SINK_HOST, port=DEMO_SINK_PORT)
    return settings_from_fields(conn.host, conn.port, conn.login, conn.password, conn.extra_dejson)
