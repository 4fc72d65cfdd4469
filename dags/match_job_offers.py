"""
### Match the talent pool to open job offers, by skills

Runs when `crm://job_offers` (new or changed offers) or `crm://pools` (pools refreshed) changes,
and every night at 04:00 Europe/Paris. Only people whose consent for job offers is current at the
run's logical date are matched.

1. **plan_partitions**: the selected offers, split into up to `partitions` groups (at least 50
   offers each; default 1) so that several workers can share a large run.
2. **match_partition** (one mapped task per group): for each offer, the best people (top N,
   `include/matching/config.yaml`): explainable skill coverage (required > nice-to-have, rare
   skills > common ones, related skills of the same taxonomy branch count partly), then stage
   reached (silver medalists first), rejection side, recency of last contact, language and
   location. The group's rows in `matches` are replaced in one transaction with the score, rank,
   matched and missing skills and a one-line reason in the person's language. Scores do not depend
   on the grouping: any split writes the same rows.
3. **summarise**: the run's counts; emits `crm://matches`.
4. **write_shortlists**: per matched offer, `data/shortlists/offer-<id>.csv` (safe against formula
   injection) and `.html` for the recruiter.

By hand: one opening or a backfill, from the trigger form or the command line:
`airflow dags test match_job_offers -c '{"job_ids": [12, "greenhouse:4050003"]}'`,
`airflow dags test match_job_offers -c '{"since": "2026-11-01"}'`; add `"pool": "silver_medalists"`
to match only the current members of one talent pool. Everything is keyed to the
run's logical date, so re-running a run writes identical rows. Only ids and counts reach the logs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)

JOB_OFFERS = Asset("crm://job_offers")
POOLS = Asset("crm://pools")
MATCHES = Asset("crm://matches")
DEFAULT_ARGS = {"owner": "vivier", "retries": 2, "retry_delay": pendulum.duration(minutes=5)}


@dag(
    dag_id="match_job_offers",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 4 * * *", timezone="Europe/Paris"), assets=(JOB_OFFERS | POOLS)
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Paris"),
    catchup=False,
    max_active_runs=1,
    tags=["vivier", "matching"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    params={
        "job_ids": Param(
            [],
            type="array",
            items={"type": ["integer", "string"]},
            title="Job offers",
            description=(
                "Re-match only these offers: CRM job_offer_id numbers, or source_system:source_job_id "
                "(e.g. greenhouse:4050003), one per line. Empty: every offer."
            ),
        ),
        "pool": Param(
            None,
            type=["null", "string"],
            title="Only the members of this pool",
            description=(
                "Match only the current members of this talent pool (a name from include/pools/, e.g. "
                "silver_medalists). Empty: everyone with consent for job offers."
            ),
        ),
        "partitions": Param(
            1,
            type="integer",
            minimum=1,
            maximum=64,
            title="Parallel partitions",
            description=(
                "Match the offers in up to this many groups in parallel (each of at least 50 offers). Every "
                "group loads the whole pool, so more than 1 pays only with idle workers and many offers."
            ),
        ),
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Offers opened or changed since",
            description="Backfill: only offers opened or changed on or after this date (YYYY-MM-DD). Empty: no limit.",
        ),
    },
)
def match_job_offers():
    @task
    def plan_partitions() -> list[list[int]]:
        """The selected offers' ids, in groups matched in parallel (ids only through XCom)."""
        from vivier.matching.partitions import partition_offers
        from vivier.matching.store import OfferRequest, select_offers
        from vivier_airflow.crm import crm_engine

        params = get_current_context()["params"]
        request = OfferRequest.from_params(params.get("job_ids"), params.get("since"))
        with crm_engine().connect() as connection:
            selected = select_offers(connection, request)
        partitions = partition_offers(selected, max_partitions=int(params["partitions"]))
        print(f"{len(selected)} offer(s) selected, in {len(partitions)} partition(s)")
        return partitions

    @task
    def match_partition(job_offer_ids: list[int]) -> dict:
        """Top N people per offer of one partition, written to `matches` in one transaction."""
        import pandas as pd

        from vivier.matching.partitions import match_partition as match
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id

        context = get_current_context()
        summary = match(
            crm_engine(),
            job_offer_ids,
            as_of=pd.Timestamp(run_as_of(context)),
            run_key=run_id(context),
            pool=context["params"].get("pool") or None,
        )
        print(
            f"pool {summary.pool} people with consent; {summary.offers_selected} offer(s), {summary.offers_open} "
            f"open, {summary.offers_matched} matched; {summary.matches} match(es) (config {summary.config})"
        )
        return summary.to_dict()

    @task(outlets=[MATCHES])
    def summarise(summaries: list[dict]) -> dict:
        """The run's counts over every partition; emits crm://matches with them."""
        from vivier.matching.partitions import combine_summaries

        result = combine_summaries(list(summaries))
        print({k: v for k, v in result.items() if k != "job_offer_ids"})
        get_current_context()["outlet_events"][MATCHES].extra = {
            k: v for k, v in result.items() if k != "job_offer_ids"
        }
        return result

    @task
    def write_shortlists(summary: dict) -> int:
        """The recruiter's shortlist of every matched offer, as CSV and HTML under data/shortlists/."""
        from vivier.matching.shortlist import write_shortlists as write
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine

        paths = write(crm_engine(), summary["job_offer_ids"], data_dir() / "shortlists")
        print(f"{len(paths) // 2} shortlist(s) in {data_dir() / 'shortlists'}")
        return len(paths) // 2

    write_shortlists(summarise(match_partition.expand(job_offer_ids=plan_partitions())))


match_job_offers()
