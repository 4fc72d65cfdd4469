"""One matching run: the consented pool against the selected open offers, written to ``matches``.

Everything is keyed to ``as_of`` (the run's logical date): consent is read as of then, recency is
measured from then, and ``computed_at`` is then, so re-running a run writes identical rows. The
selected offers' old matches are replaced in one transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import pandas as pd
import sqlalchemy as sa

from vivier.matching.config import MatchingConfig
from vivier.matching.engine import SkillRarity, SkillSpace, prepare, top_matches
from vivier.matching.explain import explain
from vivier.matching.store import OfferRequest, load_offers, load_pool, replace_matches, select_offers


@dataclass(frozen=True)
class MatchRunSummary:
    """What a run did (counts and ids only: safe for logs and XCom)."""

    run_key: str
    config: str
    pool: int
    offers_selected: int
    offers_open: int
    offers_matched: int
    matches: int
    job_offer_ids: list[int]

    def to_dict(self) -> dict:
        return asdict(self)


@cache
def _taxonomy():
    from vivier.tagging.taxonomy import SkillTaxonomy

    return SkillTaxonomy.load()


def max_stage_rank() -> int:
    from vivier.ingest.stages import StageMap

    return max(rank for _, rank in StageMap.load().phrases)


@cache
def skill_label(skill_id: str, language: str) -> str:
    """The taxonomy's label of a skill in ``language`` (the id itself for skills outside the taxonomy)."""
    taxonomy = _taxonomy()
    return taxonomy.label(skill_id, language) if skill_id in taxonomy else skill_id


def utc(moment) -> pd.Timestamp:
    """``moment`` as a UTC timestamp (naive ones are taken as UTC)."""
    moment = pd.Timestamp(moment)
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def open_offers(offers: pd.DataFrame, offer_skills: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The open offers among ``offers`` and their skills (the others are only cleared)."""
    opened = offers[offers["status"] == "open"]
    return opened, offer_skills[offer_skills["job_offer_id"].isin(opened["job_offer_id"])]


def compute_matches(
    persons: pd.DataFrame,
    person_skills: pd.DataFrame,
    offers: pd.DataFrame,
    offer_skills: pd.DataFrame,
    *,
    config: MatchingConfig,
    as_of: pd.Timestamp,
    run_key: str,
    rarity: SkillRarity | None = None,
) -> pd.DataFrame:
    """The top N of every offer in ``offers`` with their explanations (the rows of ``matches``).

    ``persons`` may be a slice of the pool: ``rarity`` then gives the whole pool's skill counts."""
    space = SkillSpace.from_taxonomy(_taxonomy(), unrelated=config.skills.unrelated_branches)
    inputs = prepare(
        persons,
        person_skills,
        offers,
        offer_skills,
        space=space,
        config=config,
        as_of=as_of,
        max_stage_rank=max_stage_rank(),
        rarity=rarity,
    )
    top = top_matches(inputs, config)
    idf = dict(zip(inputs.space.ids, inputs.idf, strict=True))
    explained = explain(
        top,
        persons,
        person_skills,
        offer_skills,
        space=inputs.space,
        idf=idf,
        labels=skill_label,
        as_of=as_of,
    )
    return explained.assign(run_key=run_key).drop(columns=["coverage"])


def match_offers(
    engine: sa.Engine,
    *,
    as_of: pd.Timestamp,
    run_key: str,
    request: OfferRequest | None = None,
    config: MatchingConfig | None = None,
    pool: str | None = None,
) -> MatchRunSummary:
    """Re-match the requested offers (all of them by default) and replace their rows in ``matches``.

    With ``pool``, only the members of that talent pool (as of ``as_of``) are matched."""
    config = config or MatchingConfig.load()
    request = request or OfferRequest()
    as_of = utc(as_of)
    with engine.connect() as connection:
        selected = select_offers(connection, request)
        offers, offer_skills = load_offers(connection, selected)
        persons, person_skills = load_pool(connection, as_of, pool)
    opened, open_skills = open_offers(offers, offer_skills)
    rows = compute_matches(persons, person_skills, opened, open_skills, config=config, as_of=as_of, run_key=run_key)
    with engine.begin() as connection:
        written = replace_matches(connection, selected, rows, as_of=as_of)
    return MatchRunSummary(
        run_key=run_key,
        config=config.digest,
        pool=len(persons),
        offers_selected=len(selected),
        offers_open=len(opened),
        offers_matched=int(rows["job_offer_id"].nunique()),
        matches=written,
        job_offer_ids=[int(i) for i in opened["job_offer_id"]],
    )
