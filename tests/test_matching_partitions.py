"""Matching split into slices of the pool writes exactly the rows of one run over the whole pool."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sqlalchemy as sa

from vivier.db.schema import matches, pool_members, pools
from vivier.matching.config import MatchingConfig
from vivier.matching.engine import SkillRarity, SkillSpace, skill_idf
from vivier.matching.partitions import PoolSlice, best_per_offer, match_slice, merge_slices, plan_match
from vivier.matching.run import match_offers
from vivier.matching.store import OfferRequest, load_pool, select_offers
from vivier.matching.synthetic import synthetic_matching_data, write_matching_crm

AS_OF = pd.Timestamp("2026-11-02T01:00:00Z")
ORIGINALS = 900  # synthetic people; a third of them get a twin (same skills and attributes: tied scores)
OFFERS = 30
TOP_N = 15  # odd: a twin pair often straddles the cut, so the lower person_id must win


def load_synthetic_crm(engine: sa.Engine) -> dict:
    """A CRM of synthetic people and open offers: twins with ids far apart (tied scores across slices),
    people without consent or with expired consent, people without skills, a skill outside the taxonomy,
    a closed offer, and a pool of every other person."""
    data = synthetic_matching_data(ORIGINALS, OFFERS, seed=11)
    twins = data.persons["person_id"].to_numpy()[::3]
    offset = ORIGINALS + 100
    people = pd.concat(
        [
            data.persons,
            data.persons[data.persons["person_id"].isin(twins)].assign(person_id=lambda f: f.person_id + offset),
        ],
        ignore_index=True,
    )
    skills = pd.concat(
        [
            data.person_skills,
            data.person_skills[data.person_skills["person_id"].isin(twins)].assign(
                person_id=lambda f: f.person_id + offset
            ),
        ],
        ignore_index=True,
    ).drop_duplicates()
    rng = np.random.default_rng(3)
    skills = skills[~skills["person_id"].isin(rng.choice(people["person_id"], 20, replace=False))]  # no skills
    local = pd.DataFrame({"person_id": people["person_id"].iloc[::97], "skill_id": "house_tooling"})
    skills = pd.concat([skills, local], ignore_index=True)
    stamp = pd.Timestamp("2026-11-01", tz="UTC")
    people = people.assign(
        email=[f"p{i}@synthetic.example" for i in people["person_id"]],
        full_name="Synthetic Person",
        applications_count=1,
        created_at=stamp,
        updated_at=stamp,
    )
    ids = people["person_id"].to_numpy()
    consent = pd.DataFrame(
        {
            "person_id": ids,
            "purpose": "job_offers",
            "status": np.where(ids % 17 == 0, "withdrawn", "granted"),
            "is_active": ids % 17 != 0,
            "expires_at": np.where(ids % 23 == 0, AS_OF - pd.Timedelta(days=1), pd.NaT),
            "source": "admin",
            "last_event_id": 0,
            "updated_at": stamp,
        }
    )
    consent = consent[ids % 29 != 0]  # never asked
    offers = data.offers.assign(
        source_system="greenhouse",
        source_job_id=data.offers["job_offer_id"].astype(str),
        title="Synthetic offer",
        location=data.offers["city"],
        status=np.where(data.offers["job_offer_id"] == OFFERS, "closed", "open"),
        created_at=stamp,
        updated_at=stamp,
    ).drop(columns=["city"])
    offer_skills = pd.concat(
        [data.offer_skills, pd.DataFrame({"job_offer_id": [1], "skill_id": ["house_tooling"], "importance": ["nice"]})],
        ignore_index=True,
    )
    with engine.begin() as connection:
        write_matching_crm(
            connection, persons=people, person_skills=skills, consent=consent, offers=offers, offer_skills=offer_skills
        )
        pool_id = connection.execute(
            pools.insert().values(name="every_other", definition={}, updated_at=stamp.to_pydatetime())
            .returning(pools.c.pool_id)
        ).scalar_one()  # fmt: skip
        connection.execute(
            pool_members.insert(),
            [
                {"pool_id": pool_id, "person_id": int(i), "joined_at": (AS_OF - pd.Timedelta(days=5)).to_pydatetime()}
                for i in ids[::2]
            ],
        )
    return {"twins": twins, "offset": offset}


def all_matches(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(matches).order_by(matches.c.job_offer_id, matches.c.rank)).all()
    frame = pd.DataFrame(rows, columns=[c.name for c in matches.columns])
    return frame.drop(columns=["run_key"]).reset_index(drop=True)


def split_run(engine: sa.Engine, partitions: int, staging, config: MatchingConfig, pool: str | None = None):
    """plan -> one match_slice per slice -> merge, as the DAG does it."""
    with engine.connect() as connection:
        selected = select_offers(connection, OfferRequest())
        plan = plan_match(connection, selected, as_of=AS_OF, partitions=partitions, pool=pool, min_people=10)
    rarity = SkillRarity.from_dict(plan.rarity) if plan.rarity else None
    staged = [
        match_slice(
            engine,
            plan.job_offer_ids,
            PoolSlice.from_dict(s),
            as_of=AS_OF,
            run_key="split",
            staging=staging,
            rarity=rarity,
            config=config,
            pool=pool,
        )
        for s in plan.slices
    ]
    return plan, staged, merge_slices(engine, plan.job_offer_ids, staged, as_of=AS_OF, run_key="split", config=config)


@pytest.fixture
def synthetic_crm(crm_engine: sa.Engine) -> tuple[sa.Engine, dict]:
    return crm_engine, load_synthetic_crm(crm_engine)


def ties_across_the_cut(engine: sa.Engine, synthetic: dict, rows: pd.DataFrame, pool: str | None) -> int:
    """Offers whose last kept person has a twin in the pool (same score, higher id) left out."""
    twins, offset = synthetic["twins"], synthetic["offset"]
    with engine.connect() as connection:
        pool_ids = set(load_pool(connection, AS_OF, pool)[0]["person_id"])
    kept = set(zip(rows["job_offer_id"], rows["person_id"], strict=True))
    last = rows[(rows["rank"] == TOP_N) & rows["person_id"].isin(twins)]
    return sum(1 for o, p in zip(last["job_offer_id"], last["person_id"], strict=True)
               if p + offset in pool_ids and (o, p + offset) not in kept)  # fmt: skip


@pytest.mark.parametrize("pool", [None, "every_other"])
def test_split_runs_write_the_rows_of_one_run(synthetic_crm, tmp_path, pool: str | None) -> None:
    (engine, synthetic), config = synthetic_crm, MatchingConfig.load().with_changes(top_n=TOP_N)
    whole = match_offers(engine, as_of=AS_OF, run_key="whole", config=config, pool=pool)
    expected = all_matches(engine)
    assert whole.matches == len(expected) > 0
    assert expected.duplicated(["job_offer_id", "score"]).any(), "tied scores within the top N"
    assert ties_across_the_cut(engine, synthetic, expected, pool) > 0, "a tie at the last place, broken by person_id"

    for partitions in (2, 3):
        with engine.begin() as connection:
            connection.execute(matches.delete())
        plan, staged, summary = split_run(engine, partitions, tmp_path / f"split-{partitions}", config, pool)
        assert len(plan.slices) == len(staged) == partitions
        assert all(s["candidates"] > 0 for s in staged)
        pd.testing.assert_frame_equal(all_matches(engine), expected)
        assert summary.pool == whole.pool == sum(s["people"] for s in plan.slices)
        assert (summary.matches, summary.offers_matched, summary.offers_open, summary.offers_selected) == (
            whole.matches,
            whole.offers_matched,
            whole.offers_open,
            whole.offers_selected,
        )
        assert sorted(summary.job_offer_ids) == sorted(whole.job_offer_ids)
        assert not list(tmp_path.rglob("*.parquet")), "the staged candidates are removed once merged"

    # re-running the same run writes the same rows
    split_run(engine, 3, tmp_path / "again", config, pool)
    pd.testing.assert_frame_equal(all_matches(engine), expected)


def test_one_partition_plans_nothing_and_writes_the_rows_of_match_offers(synthetic_crm, tmp_path) -> None:
    engine, _ = synthetic_crm
    match_offers(engine, as_of=AS_OF, run_key="whole")
    expected = all_matches(engine)
    with engine.begin() as connection:
        connection.execute(matches.delete())
    plan, staged, summary = split_run(engine, 1, tmp_path / "one", MatchingConfig.load())
    assert plan.slices == [PoolSlice(0).to_dict()] and plan.rarity == {}
    assert summary.matches == len(expected) > 0
    pd.testing.assert_frame_equal(all_matches(engine), expected)


def test_the_plan_cuts_the_pool_into_contiguous_balanced_slices(synthetic_crm) -> None:
    engine, _ = synthetic_crm
    with engine.connect() as connection:
        persons, person_skills = load_pool(connection, AS_OF)
        plan = plan_match(connection, [1, 2], as_of=AS_OF, partitions=3, min_people=10)
        few = plan_match(connection, [1, 2], as_of=AS_OF, partitions=8, min_people=len(persons) // 2)
        one = plan_match(connection, [1, 2], as_of=AS_OF, partitions=8, min_people=len(persons) + 1)
        no_offers = plan_match(connection, [], as_of=AS_OF, partitions=8, min_people=1)
    slices = [PoolSlice.from_dict(s) for s in plan.slices]
    assert slices[0].first_id is None and slices[-1].last_id is None
    assert all(a.last_id + 1 == b.first_id for a, b in zip(slices, slices[1:], strict=False))
    ids = persons["person_id"].to_numpy()
    for s in slices:
        inside = (ids >= (s.first_id if s.first_id is not None else ids.min())) & (
            ids <= (s.last_id if s.last_id is not None else ids.max())
        )
        assert inside.sum() == s.people
    assert sum(s.people for s in slices) == len(persons)
    assert max(s.people for s in slices) - min(s.people for s in slices) <= 1
    assert len(few.slices) == 2 and len(one.slices) == 1 and one.rarity == {}
    assert len(no_offers.slices) == 1 and no_offers.rarity == {}

    # the rarity counted in SQL is exactly the one measured over the loaded pool
    rarity = SkillRarity.from_dict(plan.rarity)
    assert rarity.persons == len(persons)
    space = SkillSpace.build({}, sorted(person_skills["skill_id"].unique()))
    rows = pd.Index(ids).get_indexer(person_skills["person_id"])
    has = sp.csr_matrix(
        (np.ones(len(rows)), (rows, space.codes(person_skills["skill_id"]))), shape=(len(ids), len(space.ids))
    )
    has.sum_duplicates()
    assert np.array_equal(rarity.idf(space), skill_idf(has))


def test_a_slice_without_people_stages_nothing(synthetic_crm, tmp_path) -> None:
    engine, _ = synthetic_crm
    match_offers(engine, as_of=AS_OF, run_key="whole")
    expected = all_matches(engine)
    with engine.begin() as connection:
        connection.execute(matches.delete())
        selected = select_offers(connection, OfferRequest())
        last = int(connection.execute(sa.text("SELECT MAX(person_id) FROM persons")).scalar_one())
        plan = plan_match(connection, selected, as_of=AS_OF, partitions=2, min_people=10)
    rarity = SkillRarity.from_dict(plan.rarity)
    slices = [PoolSlice(0, None, last), PoolSlice(1, last + 1, None), PoolSlice(2, -5, 0)]
    staged = [
        match_slice(engine, selected, s, as_of=AS_OF, run_key="r", staging=tmp_path, rarity=rarity) for s in slices
    ]
    assert [s["pool"] > 0 for s in staged] == [True, False, False]
    assert staged[1]["candidates"] == staged[2]["candidates"] == 0
    merge_slices(engine, selected, staged, as_of=AS_OF, run_key="r")
    pd.testing.assert_frame_equal(all_matches(engine), expected)

    # nothing staged anywhere (every slice empty): the offers' rows are cleared
    empty = [
        match_slice(engine, selected, s, as_of=AS_OF, run_key="r", staging=tmp_path, rarity=rarity) for s in slices[1:]
    ]
    summary = merge_slices(engine, selected, empty, as_of=AS_OF, run_key="r")
    assert summary.matches == 0 and summary.pool == 0
    assert all_matches(engine).empty


def test_no_offers_reads_no_pool(crm_engine: sa.Engine, tmp_path) -> None:
    staged = match_slice(crm_engine, [], PoolSlice(0), as_of=AS_OF, run_key="none", staging=tmp_path)
    assert staged["path"] is None and staged["pool"] == 0
    summary = merge_slices(crm_engine, [], [staged], as_of=AS_OF, run_key="none")
    assert summary.matches == 0 and summary.offers_selected == 0


def test_the_merge_keeps_the_best_n_with_the_lower_person_id_first() -> None:
    candidates = pd.DataFrame(
        {
            "job_offer_id": [1, 1, 1, 1, 2, 2],
            "person_id": [40, 7, 12, 3, 5, 6],
            "score": [0.5, 0.75, 0.5, 0.25, 0.1, 0.1],
            "rank": [1, 1, 2, 2, 1, 1],  # ranks within each slice
        }
    )
    best = best_per_offer(candidates, 2)
    assert best[["job_offer_id", "person_id", "rank"]].values.tolist() == [[1, 7, 1], [1, 12, 2], [2, 5, 1], [2, 6, 2]]
