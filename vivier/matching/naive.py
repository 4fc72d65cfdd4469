"""A straightforward per-pair scorer: the score formula written plainly, one (offer, person) at a time.

It is the reference the fast engine is checked against (same top N) and the baseline the benchmark
measures the speed-up over. Too slow for real pools: use :mod:`vivier.matching.engine`.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd

from vivier.matching.config import MatchingConfig
from vivier.matching.engine import COVERAGE_EPSILON, SCORE_SCALE
from vivier.matching.features import place_keys


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) or str(value).strip() == "" else str(value)


def _stage(rank, silver, config: MatchingConfig, max_rank: int) -> float:
    if _text(silver) is not None and bool(silver):
        return config.stage.silver_medalist
    ranks = 0.0 if _text(rank) is None else float(rank)
    return min(max(ranks / float(max_rank), 0.0), 1.0) * config.stage.others_max


def _side(side, config: MatchingConfig) -> float:
    return {"company": config.rejection_side.company, "candidate": config.rejection_side.candidate}.get(
        _text(side) or "", config.rejection_side.unknown
    )


def _recency(last_contact, as_of: pd.Timestamp, config: MatchingConfig) -> float:
    if _text(last_contact) is None:
        return 0.0
    moment = pd.Timestamp(last_contact)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    days = (as_of - moment).total_seconds() / 86_400.0
    return math.pow(0.5, max(days, 0.0) / config.recency_half_life_days)


def naive_top_matches(
    persons: pd.DataFrame,
    person_skills: pd.DataFrame,
    offers: pd.DataFrame,
    offer_skills: pd.DataFrame,
    *,
    branch_of: dict[str, str],
    config: MatchingConfig,
    as_of: pd.Timestamp,
    max_stage_rank: int,
) -> pd.DataFrame:
    """The same result as ``engine.top_matches(engine.prepare(...))``, computed pair by pair."""
    s, w = config.skills, config.weights
    skills_of: dict[int, set[str]] = defaultdict(set)
    for person_id, skill_id in zip(person_skills["person_id"], person_skills["skill_id"], strict=True):
        skills_of[int(person_id)].add(str(skill_id))
    pool = [int(p) for p in persons["person_id"]]
    pool_set = set(pool)
    n_persons = len(pool)
    df: dict[str, int] = defaultdict(int)
    for person_id in pool:
        for skill in skills_of.get(person_id, ()):
            df[skill] += 1

    def idf(skill: str) -> float:
        return math.log((1.0 + n_persons) / (1.0 + df[skill])) + 1.0 if s.idf else 1.0

    def relatable(skill: str) -> bool:
        return skill in branch_of and branch_of[skill] not in s.unrelated_branches

    people = persons.assign(city_key=place_keys(persons["city"])).to_dict("records")
    required_of: dict[int, set[str]] = defaultdict(set)
    nice_of: dict[int, set[str]] = defaultdict(set)
    for job, skill, importance in zip(
        offer_skills["job_offer_id"], offer_skills["skill_id"], offer_skills["importance"], strict=True
    ):
        (required_of if importance == "required" else nice_of)[int(job)].add(str(skill))

    rows = []
    for offer in offers.assign(city_key=place_keys(offers["city"])).to_dict("records"):
        job = int(offer["job_offer_id"])
        required = required_of[job]
        nice = nice_of[job] - required
        weight = {k: s.required_weight * idf(k) for k in required} | {k: s.nice_weight * idf(k) for k in nice}
        total_weight = sum(weight.values())
        scored = []
        for person in people:
            person_id = int(person["person_id"])
            if person_id not in pool_set:
                continue
            held = skills_of.get(person_id, set())
            held_branches = {branch_of[k] for k in held if k in branch_of}
            coverage = 0.0
            for skill, wk in weight.items():
                if skill in held:
                    coverage += wk / total_weight
                elif relatable(skill) and branch_of[skill] in held_branches:
                    coverage += s.related_credit * wk / total_weight
            if coverage <= 0 or coverage < s.min_coverage - COVERAGE_EPSILON:  # no shared skill: no match
                continue
            if config.hard_gate.enabled and len(required - held) > config.hard_gate.max_missing_required:
                continue
            base = (
                w.stage * _stage(person["furthest_stage_rank"], person["is_silver_medalist"], config, max_stage_rank)
                + w.rejection_side * _side(person["rejection_side"], config)
                + w.recency * _recency(person["last_contact_at"], as_of, config)
            )
            score = (
                w.skills * coverage
                + base
                + w.language * _language_fit(person, offer, held, config)
                + w.location * _location_fit(person, offer, config)
            )
            scored.append((round(score * SCORE_SCALE), person_id, coverage))
        scored.sort(key=lambda item: (-item[0], item[1]))
        for rank, (quantised, person_id, coverage) in enumerate(scored[: config.top_n], start=1):
            rows.append((job, person_id, quantised / SCORE_SCALE, rank, round(coverage, 6)))
    return pd.DataFrame(rows, columns=["job_offer_id", "person_id", "score", "rank", "coverage"])


def _language_fit(person: dict, offer: dict, held: set[str], config: MatchingConfig) -> float:
    settings = config.language
    mine, theirs = _text(person["language"]), _text(offer["language"])
    if theirs is not None and settings.skill_for_language.get(theirs.lower()) in held:
        return settings.same
    if mine is None or theirs is None:
        return settings.unknown
    return settings.same if mine.lower() == theirs.lower() else settings.other


def _location_fit(person: dict, offer: dict, config: MatchingConfig) -> float:
    settings = config.location
    mine, theirs = _text(person["country"]), _text(offer["country"])
    countries_agree = mine is None or theirs is None or mine.upper() == theirs.upper()
    if _text(person["city_key"]) is not None and person["city_key"] == offer["city_key"] and countries_agree:
        return settings.same_city
    if mine is None or theirs is None:
        return settings.unknown
    return settings.same_country if mine.upper() == theirs.upper() else settings.other
