"""
### Match the talent pool to open job offers, by skills

Runs when `crm://job_offers` (new or changed offers) or `crm://pools` (pools refreshed) changes,
and every night at 04:00 Europe/Paris. Only people whose consent for job offers is current at the
run's logical date are matched.

1. **plan_partitions**: the selected offers' ids and, with `partitions` above 1, the consented pool
   cut into up to that many contiguous person_id ranges of equal head counts (at least 1,000 people
   each), and how many people of the whole pool hold each skill (skill rarity), counted in SQL.
2. **match_partition** (one mapped task per slice of the pool): loads only its slice's people and,
   for each selected open offer, finds the best of them (top N, `include/matching/config.yaml`):
   explainable skill coverage (required > nice-to-have, rare skills > common ones, with the whole
   pool's rarity; related skills of the same taxonomy branch count partly), then stage reached
   (silver medalists first), rejection side, recency of last contact, language and location, with
   the matched and missing skills and a one-line reason in the person's language. The candidates
   are staged under `data/staging/` for this run (only paths and counts go through XCom).
3. **merge_matches**: each offer's best N over every slice (higher score, then lower person_id, as
   one run ranks them), ranked; the selected offers' rows in `matches` are replaced in one
   transaction and the staged files removed. Any split writes the same rows as one slice. Emits
   `crm://matches` with the run's counts.
4. **write_shortlists**: per matched offer, `data/shortlists/offer-<id>.csv` (safe against formula
   injection) and `.html` for the recruiter.

By hand: one opening or a backfill, from the trigger form or the command line:
`airflow dags test match_job_offers -c '{"job_ids": [12, "greenhouse:4050003"]}'`,
`airflow dags test match_job_offers -c '{"since": "2026-11-01"}'`; add `"pool": "silver_medalists"`
to match only the current members of one talent pool, `"partitions": 2` to share a large pool
between two worker slots. Everything is keyed to the
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
                "Split the pool into up to this many slices of people (at least 1,000 each), matched in "
                "parallel: each slice loads only its people, so a large pool finishes sooner with several "
                "workers. Any split writes the same matches."
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
    def plan_partitions() -> list[dict]:
        """The slices of the pool (mapped over); the selected offers' ids and the pool's skill counts
        go to XCom under their own keys (no personal data)."""
        import pandas as pd

        from vivier.matching.partitions import plan_match
        from vivier.matching.store import OfferRequest, select_offers
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of

        context = get_current_context()
        params = context["params"]
        request = OfferRequest.from_params(params.get("job_ids"), params.get("since"))
        with crm_engine().connect() as connection:
            selected = select_offers(connection, request)
            plan = plan_match(
                connection,
                selected,
                as_of=pd.Timestamp(run_as_of(context)),
                partitions=int(params["partitions"]),
                pool=params.get("pool") or None,
            )
        people = [s["people"] for s in plan.slices]
        print(f"{len(selected)} offer(s) selected; pool in {len(plan.slices)} slice(s) of {people} people")
        context["ti"].xcom_push(key="job_offer_ids", value=plan.job_offer_ids)
        context["ti"].xcom_push(key="rarity", value=plan.rarity)
        return plan.slices

    @task
    def match_partition(person_slice: dict, job_offer_ids: list[int], rarity: dict) -> dict:
        """Every selected offer's top N among one slice of the pool, staged for merge_matches."""
        import pandas as pd

        from vivier.matching.engine import SkillRarity
        from vivier.matching.partitions import PoolSlice, match_slice
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_folder, run_id

        context = get_current_context()
        staged = match_slice(
            crm_engine(),
            job_offer_ids,
            PoolSlice.from_dict(person_slice),
            as_of=pd.Timestamp(run_as_of(context)),
            run_key=run_id(context),
            staging=run_folder(data_dir() / "staging", context),
            rarity=SkillRarity.from_dict(rarity) if rarity else None,
            pool=context["params"].get("pool") or None,
        )
        print(
            f"slice {staged['slice']}: {staged['pool']} people with consent, {len(staged['open_offer_ids'])} open "
            f"offer(s), {staged['candidates']} candidate(s)"
        )
        return staged

    @task(outlets=[MATCHES])
    def merge_matches(staged: list[dict], job_offer_ids: list[int]) -> dict:
        """Each offer's top N over every slice, written to `matches` in one transaction; emits crm://matches."""
        import pandas as pd

        from vivier.matching.partitions import merge_slices
        from vivier_airflow.crm import crm_engine
        from vivier_airflow.runs import run_as_of, run_id

        context = get_current_context()
        summary = merge_slices(
            crm_engine(),
            job_offer_ids,
            list(staged),
            as_of=pd.Timestamp(run_as_of(context)),
            run_key=run_id(context),
        ).to_dict()
        counts = {k: v for k, v in summary.items() if k != "job_offer_ids"}
        print(counts)
        context["outlet_events"][MATCHES].extra = counts
        return summary

    @task
    def write_shortlists(summary: dict) -> int:
        """The recruiter's shortlist of every matched offer, as CSV and HTML under data/shortlists/."""
        from vivier.matching.shortlist import write_shortlists as write
        from vivier.paths import data_dir
        from vivier_airflow.crm import crm_engine

        paths = write(crm_engine(), summary["job_offer_ids"], data_dir() / "shortlists")
        print(f"{len(paths) // 2} shortlist(s) in {data_dir() / 'shortlists'}")
        return len(paths) // 2

    plan = plan_partitions()
    staged = match_partition.partial(job_offer_ids=plan["job_offer_ids"], rarity=plan["rarity"]).expand(
        person_slice=plan
    )
    write_shortlists(merge_matches(staged, plan["job_offer_ids"]))


match_job_offers()
