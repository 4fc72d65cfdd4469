"""Matching split into partitions of offers, so that several workers share a large run.

Scores do not depend on which other offers are matched in the same run (skill rarity is measured
over the people, not the offers), so matching the offers in partitions gives exactly the rows of
one run over all of them. Each partition replaces its own offers' rows in one transaction.
"""

from __future__ import annotations

import math

import pandas as pd
import sqlalchemy as sa

from vivier.matching.config import MatchingConfig
from vivier.matching.run import MatchRunSummary, match_offers
from vivier.matching.store import OfferRequest

MIN_OFFERS_PER_PARTITION = 50


def partition_offers(
    job_offer_ids: list[int], max_partitions: int, min_offers: int = MIN_OFFERS_PER_PARTITION
) -> list[list[int]]:
    """Split the offers into at most ``max_partitions`` balanced, contiguous partitions of at least
    ``min_offers`` offers each (each partition loads the whole pool, so tiny ones cost more than they
    save). Always at least one partition, possibly empty."""
    ids = sorted(int(i) for i in job_offer_ids)
    count = max(1, min(max(max_partitions, 1), math.ceil(len(ids) / max(min_offers, 1))))
    size = math.ceil(len(ids) / count) if ids else 0
    return [ids[i * size : (i + 1) * size] for i in range(count)] if ids else [[]]


def match_partition(
    engine: sa.Engine,
    job_offer_ids: list[int],
    *,
    as_of: pd.Timestamp,
    run_key: str,
    config: MatchingConfig | None = None,
    pool: str | None = None,
) -> MatchRunSummary:
    """Match one partition's offers (nothing at all for an empty partition, never "every offer")."""
    config = config or MatchingConfig.load()
    if not job_offer_ids:
        return MatchRunSummary(run_key, config.digest, 0, 0, 0, 0, 0, [])
    request = OfferRequest(job_ids=tuple(int(i) for i in job_offer_ids))
    return match_offers(engine, as_of=as_of, run_key=run_key, request=request, config=config, pool=pool)


def combine_summaries(summaries: list[dict]) -> dict:
    """One run's summary from its partitions' summaries (counts added, offer ids concatenated)."""
    if not summaries:
        return MatchRunSummary("", "", 0, 0, 0, 0, 0, []).to_dict()
    first = summaries[0]
    return MatchRunSummary(
        run_key=first["run_key"],
        config=first["config"],
        pool=max(s["pool"] for s in summaries),
        offers_selected=sum(s["offers_selected"] for s in summaries),
        offers_open=sum(s["offers_open"] for s in summaries),
        offers_matched=sum(s["offers_matched"] for s in summaries),
        matches=sum(s["matches"] for s in summaries),
        job_offer_ids=[i for s in summaries for i in s["job_offer_ids"]],
    ).to_dict()
