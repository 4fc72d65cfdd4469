"""Matching split into partitions of offers writes exactly the rows of one run over all of them."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.test_matching_run import AS_OF, add_offer, add_person
from vivier.db.schema import matches
from vivier.matching.partitions import combine_summaries, match_partition, partition_offers
from vivier.matching.run import match_offers

SKILL_SETS = [["python", "sql"], ["python"], ["sql", "statistics"], ["figma", "ux_design"], ["python", "statistics"]]


@pytest.mark.parametrize(
    ("ids", "max_partitions", "min_offers", "expected"),
    [
        ([], 4, 50, [[]]),
        ([3, 1, 2], 4, 50, [[1, 2, 3]]),  # fewer offers than a partition's minimum: one partition
        (list(range(10)), 3, 2, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
        (list(range(10)), 8, 5, [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]),
        (list(range(4)), 0, 1, [[0, 1, 2, 3]]),  # nonsense settings still give one partition
    ],
)
def test_partitions_are_balanced_contiguous_and_cover_every_offer(ids, max_partitions, min_offers, expected) -> None:
    partitions = partition_offers(ids, max_partitions, min_offers)
    assert partitions == expected
    assert sorted(i for p in partitions for i in p) == sorted(ids)


def all_matches(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(matches).order_by(matches.c.job_offer_id, matches.c.rank)).all()
    frame = pd.DataFrame(rows, columns=[c.name for c in matches.columns])
    return frame.drop(columns=["run_key"]).reset_index(drop=True)


def test_partitioned_matching_writes_the_rows_of_one_run(crm_engine: sa.Engine) -> None:
    with crm_engine.begin() as connection:
        for i in range(15):
            add_person(connection, f"Person {i}", SKILL_SETS[i % len(SKILL_SETS)], is_silver_medalist=i % 4 == 0)
        offers = [
            add_offer(connection, str(100 + i), {s: "required" if j == 0 else "nice" for j, s in enumerate(skills)})
            for i, skills in enumerate(SKILL_SETS * 2)
        ]
    whole = match_offers(crm_engine, as_of=AS_OF, run_key="whole")
    expected = all_matches(crm_engine)
    assert whole.matches == len(expected) > 0

    with crm_engine.begin() as connection:
        connection.execute(matches.delete())
    partitions = partition_offers(offers, max_partitions=3, min_offers=2)
    assert len(partitions) == 3
    summaries = [match_partition(crm_engine, p, as_of=AS_OF, run_key="parts").to_dict() for p in partitions]
    pd.testing.assert_frame_equal(all_matches(crm_engine), expected)
    combined = combine_summaries(summaries)
    assert combined["matches"] == whole.matches
    assert combined["offers_matched"] == whole.offers_matched
    assert sorted(combined["job_offer_ids"]) == sorted(whole.job_offer_ids)


def test_an_empty_partition_matches_nothing(crm_engine: sa.Engine) -> None:
    with crm_engine.begin() as connection:
        add_person(connection, "Someone", ["python"])
        add_offer(connection, "1", {"python": "required"})
    summary = match_partition(crm_engine, [], as_of=AS_OF, run_key="empty")
    assert summary.matches == 0 and summary.offers_selected == 0
    with crm_engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(matches)).scalar_one() == 0
