"""The CRM database as named by the Airflow connection ``crm_db`` (SQLite default when undefined)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

CRM_CONN_ID = "crm_db"
log = logging.getLogger(__name__)


def crm_url(conn_id: str = CRM_CONN_ID) -> str:
    """SQLAlchemy URL of the CRM database from the Airflow connection (env var, secrets backend or metastore)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from vivier.db import crm_url_from_connection, default_crm_url

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return default_crm_url()
    return crm_url_from_connection(
        conn.conn_type,
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )


def crm_engine(*, check_schema: bool = True) -> sa.Engine:
    """An engine on the CRM database; refuses an outdated schema unless ``check_schema`` is False."""
    from vivier.db import ensure_current, make_engine

    engine = make_engine(crm_url())
    if check_schema:
        ensure_current(engine)
    return engine


def main(argv: list[str] | None = None) -> int:
    """``python -m vivier_airflow.crm migrate|check|url`` (used by ``make migrate``)."""
    from vivier.db import current_revision, head_revision, upgrade

    parser = argparse.ArgumentParser(prog="vivier_airflow.crm", description=main.__doc__)
    parser.add_argument("action", choices=["migrate", "check", "url"])
    args = parser.parse_args(argv)
    engine = crm_engine(check_schema=False)
    where = engine.url.render_as_string(hide_password=True)
    if args.action == "url":
        print(where)
    elif args.action == "migrate":
        before = current_revision(engine)
        after = upgrade(engine)
        print(f"CRM database {where}: {before or 'empty'} -> {after}")
    else:
        current, head = current_revision(engine), head_revision()
        print(f"CRM database {where}: at {current or 'empty'}, code needs {head}")
        return 0 if current == head else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
