"""The task bodies the dispatch DAGs share (each DAG file keeps its schedule, params and wiring):
stage the period's plan, render it in mapped partitions, finalise the batches, deliver, report.

Called from inside ``@task`` functions: they read the running task's context themselves.
"""

from __future__ import annotations


def load_content_catalogue() -> dict:
    """The content catalogue files -> content_items (upsert; removed items retired)."""
    from dataclasses import asdict

    from airflow.sdk import get_current_context

    from vivier.dispatch.catalogue import load_catalogue, read_catalogue
    from vivier_airflow.crm import crm_engine
    from vivier_airflow.runs import run_as_of

    context = get_current_context()
    with crm_engine().begin() as connection:
        counts = load_catalogue(connection, read_catalogue(), run_as_of(context))
    print(f"content catalogue: {asdict(counts)}")
    return asdict(counts)


def _planner(config=None):
    from vivier.dispatch.service import make_planner
    from vivier_airflow.preference_centre import preference_centre_settings
    from vivier_airflow.secrets import suppression_key

    base_url, keys = preference_centre_settings()
    return make_planner(base_url, keys, suppression_key(), config)


def stage_period(campaigns: list[str], config=None) -> list[list[list[int]]]:
    """Decide and stage the campaigns of the run's period (once per period), in up to
    ``render_partitions`` parts. Returns one list of [batch_id, part] per mapped render task (the
    task's return value, mapped over); the staged batches (ids and counts) go to the XCom key
    ``plans``, read by finalise."""
    from airflow.sdk import get_current_context

    from vivier.dispatch.service import assign_parts, stage_campaigns
    from vivier_airflow.crm import crm_engine
    from vivier_airflow.runs import run_as_of, run_id

    context = get_current_context()
    parts = int(context["params"].get("render_partitions") or 1)
    staged = stage_campaigns(crm_engine(), _planner(config), campaigns, run_as_of(context), run_id(context), parts)
    for result in staged:
        if result["created"]:
            state = "staged now"
        elif result["finalised"]:
            state = "already planned"
        else:
            state = "staged before, not finalised"
        counts = f"{result['staged']} messages in {len(result['parts'])} part(s) to render, skipped {result['skipped']}"
        print(f"{result['campaign']} {result['period']} ({state}): {counts}")
    context["ti"].xcom_push(key="plans", value=staged)
    return assign_parts(staged, parts)


def render_partition(partition: list[list[int]]) -> list[dict]:
    """Render the staged parts given to this mapped task ([batch_id, part] pairs) into the outbox."""
    from vivier.dispatch.service import render_staged
    from vivier_airflow.crm import crm_engine

    rendered = render_staged(crm_engine(), _planner(), partition)
    for result in rendered:
        state = "rendered now" if result["rendered_now"] else "rendered before"
        print(f"batch {result['batch_id']} part {result['part']} ({state}): {result['messages']} messages")
    if not rendered:
        print("nothing to render in this partition")
    return rendered


def finalise_period(staged: list[dict]) -> list[dict]:
    """Close the staged batches (counts, template versions; deliverable from now on)."""
    from vivier.dispatch.service import finalise_staged
    from vivier_airflow.crm import crm_engine

    plans = finalise_staged(crm_engine(), _planner(), staged)
    for result in plans:
        state = "planned now" if result["created"] else "already planned"
        counts = f"{result['planned']} messages, skipped {result['skipped']}"
        print(f"{result['campaign']} {result['period']} ({state}): {counts}")
    return plans


def deliver_planned(plans: list[dict]) -> dict:
    """Send the planned messages through smtp_default (or write .eml files in a dry run)."""
    from pathlib import Path

    from airflow.sdk import get_current_context

    from vivier.dispatch.service import send_batches
    from vivier.paths import data_dir
    from vivier_airflow.crm import crm_engine
    from vivier_airflow.smtp import smtp_settings

    params = get_current_context()["params"]
    batch_ids = [p["batch_id"] for p in plans if p["batch_id"]]
    if params["dry_run"]:
        folder = Path(params["eml_folder"] or data_dir() / "outbox-eml")
        result = send_batches(crm_engine(), batch_ids, eml_folder=folder)
    else:
        result = send_batches(crm_engine(), batch_ids, smtp=smtp_settings())
    print(dict(result.items()))
    return result


def report_batches(plans: list[dict]) -> list[dict]:
    """The batch record: who got which template version under which consent (counts only)."""
    from vivier.dispatch.service import batch_record, describe_record
    from vivier_airflow.crm import crm_engine

    records = batch_record(crm_engine(), [p["batch_id"] for p in plans if p["batch_id"]])
    for record in records:
        print("\n".join(describe_record(record)))
    return [
        {k: r[k] for k in ("campaign", "period", "messages", "sent", "failed", "unknown", "skipped")} for r in records
    ]
