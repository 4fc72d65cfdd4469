"""Planning in parts (the dispatch DAGs' plan -> render x N -> finalise) on both engines: any split
writes exactly the rows one transaction writes, a part or a whole run done again adds nothing,
nothing is deliverable before the batch is finalised, the frequency cap of a later campaign counts
the people staged for an earlier one, and an erasure between staging and rendering drops the
person's message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import sqlalchemy as sa

from vivier.db.schema import (
    dispatch_batches,
    dispatch_stage_parts,
    dispatch_stage_people,
    outbox,
    outbox_consents,
    outbox_items,
)
from vivier.dispatch.catalogue import load_catalogue, read_catalogue
from vivier.dispatch.config import default_config
from vivier.dispatch.delivery import write_eml_files
from vivier.dispatch.links import PreferenceLinks
from vivier.dispatch.messages import MessageBuilder
from vivier.dispatch.planning import Planner
from vivier.dispatch.service import assign_parts
from vivier.dispatch.staging import StagingProblem, part_bounds
from vivier.dispatch.synthetic import seed_population
from vivier.dispatch.templating import TemplateCatalogue
from vivier.dispatch.transports import EmlFolderTransport

KEY = b"test-suppression-key-0123456789ab"
TOKEN_KEYS = ["test-token-key-0123456789abcdef"]
AS_OF = pd.Timestamp("2026-12-01 08:00", tz="UTC")
LATER = AS_OF + pd.Timedelta(hours=1)
# the weekly digest first, then the monthly content digest an hour later: with a cap of one bulk
# message a week, whoever got (or is staged for) the digest is skipped for the content
CAMPAIGNS = [("weekly_offers", AS_OF), ("monthly_content", LATER)]


def make_planner(chunk_size: int = 40, workers: int = 2) -> Planner:
    base = default_config()
    # worker processes from 30 messages on, small chunks: the parts render in several processes and chunks
    planning = replace(base.planning, workers=workers, parallel_from=30, chunk_size=chunk_size)
    config = replace(base, cap_max_messages=1, planning=planning)
    return Planner(
        config,
        TemplateCatalogue(fallback=config.fallback_languages),
        PreferenceLinks.of("https://p.test", TOKEN_KEYS),
        KEY,
    )


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preference-centre links carry the second they were signed at: one second for every
    rendering of the test, so that two plannings can be compared byte for byte (rendering stays in
    this process, where the clock is frozen)."""
    import itsdangerous.timed

    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: 1_796_112_000.0))


@pytest.fixture
def population(crm_engine: sa.Engine) -> sa.Engine:
    seed_population(crm_engine, 160, as_of=AS_OF, suppression_key=KEY, content_share=0.9, frequency_choices=False)
    with crm_engine.begin() as connection:
        load_catalogue(connection, read_catalogue(), AS_OF)
    return crm_engine


def snapshot(engine: sa.Engine) -> dict:
    """Every row planning wrote, keyed by what does not depend on the batch ids."""
    with engine.connect() as connection:
        campaign_of = dict(
            connection.execute(sa.select(dispatch_batches.c.batch_id, dispatch_batches.c.campaign)).all()
        )
        columns = [c for c in outbox.c if c.name != "batch_id"]
        messages = [
            (*row, campaign_of[batch_id])
            for *row, batch_id in connection.execute(
                sa.select(*columns, outbox.c.batch_id).order_by(outbox.c.message_id)
            ).all()
        ]
        consents = connection.execute(sa.select(outbox_consents).order_by(*outbox_consents.primary_key)).all()
        items = connection.execute(sa.select(outbox_items).order_by(*outbox_items.primary_key)).all()
        batches = connection.execute(
            sa.select(
                dispatch_batches.c.campaign,
                dispatch_batches.c.period,
                dispatch_batches.c.kind,
                dispatch_batches.c.messages,
                dispatch_batches.c.planned,
                dispatch_batches.c.skipped,
                dispatch_batches.c.skip_reasons,
                dispatch_batches.c.template_versions,
                dispatch_batches.c.planned_at,
                dispatch_batches.c.run_id,
            ).order_by(dispatch_batches.c.campaign)
        ).all()
        staging = [
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (dispatch_stage_parts, dispatch_stage_people)
        ]
    return {
        "messages": messages,
        "consents": [tuple(r) for r in consents],
        "items": [tuple(r) for r in items],
        "batches": [tuple(r) for r in batches],
        "staging": staging,
    }


def forget_plans(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        for table in (outbox_items, outbox_consents, outbox, dispatch_stage_people, dispatch_stage_parts):
            connection.execute(table.delete())
        connection.execute(dispatch_batches.delete())


def plan_in_one_go(engine: sa.Engine) -> list:
    planner = make_planner(workers=1)
    return [planner.plan(engine, campaign, as_of, "run").as_dict() for campaign, as_of in CAMPAIGNS]


def plan_in_parts(engine: sa.Engine, parts: int, eml: Path | None = None, workers: int = 1) -> tuple[list, list, list]:
    """Stage every campaign first (as the plan task does), render the parts in reverse order, one
    part twice, then finalise; returns (staged, rendered, finalised)."""
    planner = make_planner(workers=workers)
    staged = [planner.stage(engine, campaign, as_of, "run", parts).as_dict() for campaign, as_of in CAMPAIGNS]
    pairs = [pair for task in assign_parts(staged, parts) for pair in task]
    rendered = [planner.render_part(engine, batch_id, part) for batch_id, part in reversed(pairs)]
    rendered.append(planner.render_part(engine, *pairs[0]))  # a retried task: writes nothing
    if eml is not None:
        builder = MessageBuilder("Vivier", "talent@vivier.test")
        batch_ids = [s["batch_id"] for s in staged]
        assert write_eml_files(engine, batch_ids, EmlFolderTransport(eml), builder) == 0, "not before finalise"
    finalised = [planner.finalise(engine, s["batch_id"]).as_dict() for s in staged]
    return staged, rendered, finalised


def test_part_bounds_cover_every_job_once() -> None:
    for count in (0, 1, 2, 5, 7, 100):
        for parts in (1, 2, 3, 8):
            bounds = part_bounds(count, parts)
            assert [i for start, end in bounds for i in range(start, end)] == list(range(count))
            assert len(bounds) == min(parts, count) and all(end > start for start, end in bounds)
            sizes = [end - start for start, end in bounds]
            assert not sizes or max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("parts", [1, 3])
def test_any_split_writes_exactly_the_rows_of_one_transaction(
    population: sa.Engine, parts: int, tmp_path: Path, frozen_clock: None
) -> None:
    whole = plan_in_one_go(population)
    expected = snapshot(population)
    assert whole[0]["planned"] > 30 and whole[1]["skipped"].get("frequency_cap", 0) > 0, "the cap is exercised"
    forget_plans(population)

    staged, rendered, finalised = plan_in_parts(population, parts, tmp_path / "eml")
    got = snapshot(population)
    assert [s["parts"] for s in staged] == [list(range(parts))] * 2
    assert [r["rendered_now"] for r in rendered] == [True] * (2 * parts) + [False]
    assert sum(r["messages"] for r in rendered[:-1]) == sum(p["planned"] for p in whole)
    assert got["messages"] == expected["messages"], "bodies, headers, Message-IDs and states are the same"
    assert got["consents"] == expected["consents"] and got["items"] == expected["items"]
    assert got["batches"] == expected["batches"] and got["staging"] == [0, 0]
    assert [{k: v for k, v in f.items() if k != "batch_id"} for f in finalised] == [
        {k: v for k, v in p.items() if k != "batch_id"} for p in whole
    ]
    builder = MessageBuilder("Vivier", "talent@vivier.test")
    written = write_eml_files(population, [f["batch_id"] for f in finalised], EmlFolderTransport(tmp_path), builder)
    assert written == sum(p["planned"] for p in whole), "deliverable once finalised"


def test_a_rerun_or_a_retried_part_adds_nothing(population: sa.Engine) -> None:
    _, _, finalised = plan_in_parts(population, 2, workers=2)  # rendered in worker processes
    before = snapshot(population)
    planner = make_planner()
    again = [planner.stage(population, campaign, as_of, "rerun", 3).as_dict() for campaign, as_of in CAMPAIGNS]
    assert [(a["created"], a["finalised"], a["parts"], a["staged"]) for a in again] == [(False, True, [], 0)] * 2
    assert assign_parts(again, 3) == [[], [], []]
    assert planner.render_part(population, finalised[0]["batch_id"], 0)["messages"] == 0
    assert [planner.finalise(population, f["batch_id"]).created for f in finalised] == [False, False]
    assert snapshot(population) == before


def test_a_part_that_fails_half_way_is_rendered_again_in_full(
    population: sa.Engine, monkeypatch: pytest.MonkeyPatch, frozen_clock: None
) -> None:
    whole = plan_in_one_go(population)
    expected = snapshot(population)
    forget_plans(population)

    import vivier.dispatch.planning as planning

    real = planning.write_rendered
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first chunk of the first part was written
            raise ConnectionError("the database went away")
        return real(*args, **kwargs)

    planner = make_planner(chunk_size=10, workers=1)
    staged = [planner.stage(population, campaign, as_of, "run", 2).as_dict() for campaign, as_of in CAMPAIGNS]
    monkeypatch.setattr(planning, "write_rendered", failing)
    with pytest.raises(ConnectionError):
        planner.render_part(population, staged[0]["batch_id"], 0)
    monkeypatch.setattr(planning, "write_rendered", real)
    with population.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == sum(
            s["skipped"].get("frequency_cap", 0) for s in staged
        ), "the failed part left nothing but the staged skips"
    with pytest.raises(StagingProblem, match="not rendered yet"):
        planner.finalise(population, staged[0]["batch_id"])
    for pair in (pair for task in assign_parts(staged, 2) for pair in task):
        planner.render_part(population, *pair)
    finalised = [planner.finalise(population, s["batch_id"]).as_dict() for s in staged]
    assert snapshot(population) == expected
    assert [f["planned"] for f in finalised] == [p["planned"] for p in whole]


def test_a_tampered_staged_part_is_refused(population: sa.Engine) -> None:
    planner = make_planner()
    staged = planner.stage(population, "weekly_offers", AS_OF, "run", 2)
    with population.begin() as connection:
        payload = connection.execute(
            sa.select(dispatch_stage_parts.c.payload).where(dispatch_stage_parts.c.part == 1)
        ).scalar_one()
        connection.execute(
            dispatch_stage_parts.update()
            .where(dispatch_stage_parts.c.part == 1)
            .values(payload=bytes(payload).replace(b"Camille", b"Mallory"))
        )
    assert planner.render_part(population, staged.batch_id, 0)["rendered_now"]
    with pytest.raises(StagingProblem, match="signature"):
        planner.render_part(population, staged.batch_id, 1)


def test_someone_erased_between_staging_and_rendering_gets_nothing(population: sa.Engine) -> None:
    from vivier.gdpr.erasure import erase_persons

    planner = make_planner()
    staged = planner.stage(population, "weekly_offers", AS_OF, "run", 2)
    with population.connect() as connection:
        people = connection.execute(
            sa.select(dispatch_stage_people.c.person_id).order_by(dispatch_stage_people.c.job)
        ).scalars()
        erased = list(people)[:3]
    with population.begin() as connection:
        erase_persons(connection, erased, as_of=AS_OF, reason="erasure_request", run_id="g", suppression_key=KEY)
    rendered = [planner.render_part(population, staged.batch_id, part) for part in staged.parts]
    result = planner.finalise(population, staged.batch_id)
    assert sum(r["messages"] for r in rendered) == result.planned == staged.staged - len(erased)
    with population.connect() as connection:
        recipients = set(
            connection.execute(sa.select(outbox.c.person_id).where(outbox.c.batch_id == staged.batch_id)).scalars()
        )
    assert recipients.isdisjoint(erased)


def test_an_empty_audience_stages_nothing_and_finalises(crm_engine: sa.Engine) -> None:
    planner = make_planner()
    staged = planner.stage(crm_engine, "weekly_offers", AS_OF, "run", 3)
    assert (staged.created, staged.staged, staged.parts) == (True, 0, [])
    assert assign_parts([staged.as_dict()], 3) == [[], [], []]
    result = planner.finalise(crm_engine, staged.batch_id)
    assert (result.created, result.planned, result.skipped) == (True, 0, {})
    with crm_engine.connect() as connection:
        batch = connection.execute(sa.select(dispatch_batches)).one()
    assert batch.messages == 0 and batch.finalised_at is not None


def test_a_plan_left_unrendered_loses_its_personal_data_after_the_staging_days(population: sa.Engine) -> None:
    from vivier.gdpr.retention import run_retention
    from vivier.gdpr.rules import RetentionRules

    planner = make_planner()
    staged = planner.stage(population, "weekly_offers", AS_OF, "run", 2)
    assert planner.render_part(population, staged.batch_id, 0)["rendered_now"]  # then the run failed

    def part_rows() -> list[tuple]:
        with population.connect() as connection:
            parts = connection.execute(
                sa.select(dispatch_stage_parts.c.part, dispatch_stage_parts.c.payload.is_(None))
                .where(dispatch_stage_parts.c.batch_id == staged.batch_id)
                .order_by(dispatch_stage_parts.c.part)
            ).all()
            people = connection.execute(
                sa.select(sa.func.count()).where(dispatch_stage_people.c.batch_id == staged.batch_id)
            ).scalar_one()
        return [tuple(row) for row in parts], people

    rules = RetentionRules(staging_days=7)
    assert run_retention(population, AS_OF + pd.Timedelta(days=6), rules=rules).staged_parts_dropped == 0
    parts, people = part_rows()
    assert parts == [(0, True), (1, False)] and people > 0, "a recent plan keeps its staged part"

    assert run_retention(population, AS_OF + pd.Timedelta(days=8), rules=rules).staged_parts_dropped == 1
    parts, people = part_rows()
    assert parts == [(0, True), (1, True)] and people == 0, "nothing personal is left in the staging"
    assert run_retention(population, AS_OF + pd.Timedelta(days=9), rules=rules).staged_parts_dropped == 0

    # the period run again is finalised with what was written before the failure
    with population.connect() as connection:
        written = connection.execute(
            sa.select(sa.func.count()).where(outbox.c.batch_id == staged.batch_id, outbox.c.state == "planned")
        ).scalar_one()
    assert written > 0
    finalised = planner.finalise(population, staged.batch_id).as_dict()
    assert finalised["planned"] == written
