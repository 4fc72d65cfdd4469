"""Matching split into slices of the pool, so that several workers share a large run.

Loading the pool and building its matrices is most of a run's work, so a run is split by people,
not by offers: the plan cuts the consented pool into contiguous person_id ranges of (nearly) equal
head counts and counts, in SQL, how many people of the whole pool hold each skill. Each slice then
loads only its people and finds every selected offer's top N among them, with the whole pool's skill
rarity (IDF): everything else in a score depends on the person and the offer only, so a person scores
exactly as in a run over the whole pool. The slices' candidates (with their explanations) are staged
as small parquet files under the data folder, keyed to the run; the merge keeps each offer's best N
over every slice with the same order as one run (higher score, then lower person_id), ranks them and
replaces the offers' rows of ``matches`` in one transaction. Any split writes the same rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.matching.config import MatchingConfig
from vivier.matching.engine import SCORE_SCALE, SkillRarity
from vivier.matching.run import MatchRunSummary, compute_matches, open_offers, utc
from vivier.matching.store import (
    MATCH_COLUMNS,
    load_offers,
    load_pool,
    pool_skill_holders,
    pool_slices,
    replace_matches,
)

MIN_PEOPLE_PER_PARTITION = 1_000  # smaller slices cost more (loading offers, building matrices) than they save
CANDIDATE_COLUMNS = [c for c in MATCH_COLUMNS if c != "computed_at"]


@dataclass(frozen=True)
class PoolSlice:
    """One slice of the pool: person ids from ``first_id`` to ``last_id`` (None: no bound on that side)."""

    index: int
    first_id: int | None = None
    last_id: int | None = None
    people: int | None = None  # head count when planned (None: not counted)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict) -> PoolSlice:
        return cls(**value)


@dataclass(frozen=True)
class MatchPlan:
    """A run's plan (ids and counts only: safe for logs and XCom). ``rarity`` is empty when there is
    one slice: the slice is the whole pool and measures it itself."""

    job_offer_ids: list[int]
    slices: list[dict]
    rarity: dict

    def to_dict(self) -> dict:
        return asdict(self)


def _contiguous(counted: pd.DataFrame, count: int) -> list[PoolSlice]:
    """``count`` slices from the planned tiles (ordered, balanced), merging neighbours; together they
    cover every person_id, so people who gain consent after planning still fall in one slice."""
    groups = [g for g in np.array_split(np.arange(len(counted)), count) if len(g)]
    starts = [int(counted["first_id"].iloc[g[0]]) for g in groups]
    return [
        PoolSlice(
            index=i,
            first_id=None if i == 0 else starts[i],
            last_id=None if i == len(groups) - 1 else starts[i + 1] - 1,
            people=int(counted["people"].iloc[g].sum()),
        )
        for i, g in enumerate(groups)
    ]


def plan_match(
    connection: sa.Connection,
    job_offer_ids: list[int],
    *,
    as_of: pd.Timestamp,
    partitions: int,
    pool: str | None = None,
    min_people: int | None = None,
) -> MatchPlan:
    """Up to ``partitions`` slices of the pool (at least ``min_people`` people each), and the whole pool's
    skill counts when there is more than one. With one partition asked, nothing is read."""
    min_people = MIN_PEOPLE_PER_PARTITION if min_people is None else min_people
    ids = [int(i) for i in job_offer_ids]
    if partitions <= 1 or not ids:
        return MatchPlan(ids, [PoolSlice(0).to_dict()], {})
    as_of = utc(as_of)
    counted = pool_slices(connection, as_of, partitions, pool)
    total = int(counted["people"].sum())
    count = max(1, min(len(counted), total // max(min_people, 1)))
    if count == 1:
        return MatchPlan(ids, [PoolSlice(0, people=total).to_dict()], {})
    rarity = SkillRarity(total, pool_skill_holders(connection, as_of, pool))
    return MatchPlan(ids, [s.to_dict() for s in _contiguous(counted, count)], rarity.to_dict())


def match_slice(
    engine: sa.Engine,
    job_offer_ids: list[int],
    person_slice: PoolSlice,
    *,
    as_of: pd.Timestamp,
    run_key: str,
    staging: Path,
    rarity: SkillRarity | None = None,
    config: MatchingConfig | None = None,
    pool: str | None = None,
) -> dict:
    """Every selected open offer's top N among one slice's people, with their explanations, staged as
    ``staging/slice-<index>.parquet``; returns its path and counts (nothing is read for no offers)."""
    config = config or MatchingConfig.load()
    as_of = utc(as_of)
    summary = {"slice": person_slice.index, "path": None, "pool": 0, "candidates": 0, "open_offer_ids": []}
    if not job_offer_ids:
        return summary
    with engine.connect() as connection:
        offers, offer_skills = load_offers(connection, [int(i) for i in job_offer_ids])
        persons, person_skills = load_pool(
            connection, as_of, pool, first_id=person_slice.first_id, last_id=person_slice.last_id
        )
    offers, offer_skills = open_offers(offers, offer_skills)
    rows = compute_matches(
        persons, person_skills, offers, offer_skills, config=config, as_of=as_of, run_key=run_key, rarity=rarity
    )
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"slice-{person_slice.index:03d}.parquet"
    rows[CANDIDATE_COLUMNS].to_parquet(path, index=False)
    return summary | {
        "path": str(path),
        "pool": len(persons),
        "candidates": len(rows),
        "open_offer_ids": [int(i) for i in offers["job_offer_id"]],
    }


def best_per_offer(candidates: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """Each offer's ``top_n`` best candidates over every slice, ranked as one run ranks them: higher
    score (to the engine's 1e-6), then lower person_id."""
    quantised = np.rint(candidates["score"].to_numpy(dtype=np.float64) * SCORE_SCALE).astype(np.int64)
    ordered = candidates.assign(_score=quantised).sort_values(
        ["job_offer_id", "_score", "person_id"], ascending=[True, False, True], kind="stable"
    )
    best = ordered.groupby("job_offer_id", sort=False).head(top_n).drop(columns=["_score"])
    best = best.assign(rank=best.groupby("job_offer_id", sort=False).cumcount().to_numpy(dtype=np.int64) + 1)
    return best.reset_index(drop=True)


def merge_slices(
    engine: sa.Engine,
    job_offer_ids: list[int],
    staged: list[dict],
    *,
    as_of: pd.Timestamp,
    run_key: str,
    config: MatchingConfig | None = None,
) -> MatchRunSummary:
    """The slices' candidates merged into each offer's top N, written over the selected offers' rows
    of ``matches`` in one transaction; the staged files are removed once written."""
    config = config or MatchingConfig.load()
    as_of = utc(as_of)
    ids = [int(i) for i in job_offer_ids]
    paths = [Path(s["path"]) for s in staged if s.get("path")]
    frames = [pd.read_parquet(p) for p in paths]
    candidates = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else None
    if candidates is None:
        candidates = frames[0] if frames else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    rows = best_per_offer(candidates, config.top_n)
    written = 0
    if ids:
        with engine.begin() as connection:
            written = replace_matches(connection, ids, rows, as_of=as_of)
    for path in paths:
        path.unlink(missing_ok=True)
    for folder in {p.parent for p in paths}:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    open_ids = max((s.get("open_offer_ids", []) for s in staged), key=len, default=[])
    return MatchRunSummary(
        run_key=run_key,
        config=config.digest,
        pool=sum(int(s.get("pool", 0)) for s in staged),
        offers_selected=len(ids),
        offers_open=len(open_ids),
        offers_matched=int(rows["job_offer_id"].nunique()),
        matches=written,
        job_offer_ids=[int(i) for i in open_ids],
    )
