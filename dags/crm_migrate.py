"""
### Upgrade the CRM database schema

Runs the Alembic migrations shipped with `vivier` against the database named by the
Airflow connection **`crm_db`** (the embedded SQLite file `data/crm.sqlite` when the
connection is not defined). Every other Vivier DAG refuses to run on an outdated schema
and points here (or to `make migrate`).

Safe to re-run: a database already at the head revision is left untouched.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

DEFAULT_ARGS = {"owner": "vivier", "retries": 1, "retry_delay": pendulum.duration(minutes=1)}


@dag(
    dag_id="crm_migrate",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "maintenance"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def crm_migrate():
    @task
    def upgrade_schema() -> dict[str, str | None]:
        """Upgrade to the head revision; returns the revisions before and after."""
        from vivier.db import current_revision, upgrade
        from vivier_airflow.crm import crm_engine

        engine = crm_engine(check_schema=False)
        before = current_revision(engine)
        after = upgrade(engine)
        return {"before": before, "after": after}

    upgrade_schema()


crm_migrate()
