"""SQLAlchemy engines for the CRM database (SQLite embedded default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from vivier.paths import default_crm_sqlite_path

POSTGRES_CONN_TYPES = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "psql"}


def default_crm_url() -> str:
    """The embedded default: a SQLite file under the project's data folder."""
    path = default_crm_sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def crm_url_from_connection(
    conn_type: str,
    *,
    host: str | None = None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Turn the fields of an Airflow-style connection into a SQLAlchemy URL.

    PostgreSQL connections (``postgres``/``postgresql[+driver]``) always use psycopg 3; every
    ``extra`` key is passed on as a libpq parameter (``sslmode``, ``options``...). SQLite
    connections name the file in ``schema`` or ``host`` (``sqlite:////abs/path.sqlite``).
    """
    kind = (conn_type or "").lower().replace("-", "_")
    if kind in POSTGRES_CONN_TYPES:
        query = {str(k): str(v) for k, v in (extra or {}).items() if v is not None}
        url = URL.create(
            "postgresql+psycopg",
            username=login or None,
            password=password or None,
            host=host or None,
            port=port or None,
            database=schema or None,
            query=query,
        )
        return url.render_as_string(hide_password=False)
    if kind == "sqlite":
        path = schema or host
        if not path:
            return default_crm_url()
        return f"sqlite:///{path}"
    raise ValueError(f"crm_db connection type {conn_type!r} is not supported: use 'postgres' (PostgreSQL) or 'sqlite'")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache: bulk upserts touch big indexes
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str | URL | None = None, **kwargs: Any) -> sa.Engine:
    """An engine for the CRM database at ``url`` (the SQLite default when ``None``)."""
    url = make_url(url or default_crm_url())
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"
