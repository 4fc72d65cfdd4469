"""
### Consent-filtered talent pools

Recomputes every talent pool declared in `include/pools/*.yaml` from the people's tags and their
**current consent**: nobody without current consent for at least one purpose (or for one of the
pool's `purposes`) is ever a member. Runs nightly and after every `ats_ingest` load (Asset
`crm://persons`).

1. **check_definitions**: parses and checks the YAML (unknown filters, skills or job families fail
   here with the pool named, before anything is written).
2. **refresh**: one transaction: definitions upserted into `pools` (pools no longer declared are
   deactivated and emptied), members recomputed with set-based SQL, joins and leaves recorded in
   `pool_members`, sizes in `pool_snapshots`; emits `crm://pools` with the sizes in its extra.

Re-running a run changes nothing (stays are keyed to the run's logical date). Only ids and counts
reach the logs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

PERSONS = Asset("crm://persons")
POOLS = Asset("crm://pools")
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="pools_refresh",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 3 * * *", timezone="Europe/Paris"), assets=[PERSONS]
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "pools", "consent"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def pools_refresh():
    @task
    def check_definitions() -> int:
        """The pool definitions parse and name only known filters, skills and families."""
        from vivier.pools.definitions import load_definitions

        definitions = load_definitions()
        print(f"{len(definitions)} pool definition(s), {sum(d.active for d in definitions)} active")
        return len(definitions)

    @task(outlets=[POOLS])
    def refresh(definitions: int) -> dict:
        """Recompute the members of every pool and record joins, leaves and sizes."""
        import pandas as pd

        from vivier.pools.definitions import load_definitions
        from vivier.pools.refresh import refresh_pools
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of

        context = get_current_context()
        sizes = refresh_pools(crm_engine(), load_definitions(), pd.Timestamp(run_as_of(context)))
        for size in sizes:
            print(f"pool {size.name}: {size.size} members (+{size.joined} / -{size.left})")
        extra = {"pools": {size.name: size.size for size in sizes}, "definitions": definitions}
        context["outlet_events"][POOLS].extra = extra
        return extra

    refresh(check_definitions())


pools_refresh()
