"""The matching engine: same top N as the per-pair scorer, the score's rules, ties, protected attributes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from vivier.matching.config import ConfigError, MatchingConfig
from vivier.matching.engine import SkillSpace, prepare, top_matches
from vivier.matching.naive import naive_top_matches

AS_OF = pd.Timestamp("2026-11-01", tz="UTC")
BRANCHES = {
    "python": "software.languages",
    "java": "software.languages",
    "go": "software.languages",
    "sql": "data.databases",
    "postgresql": "data.databases",
    "docker": "devops.containers",
    "kubernetes": "devops.containers",
    "excel": "office",
    "english": "languages",
    "german": "languages",
    "communication": "soft_skills",
    "teamwork": "soft_skills",
}


def config(**sections) -> MatchingConfig:
    base = MatchingConfig()
    changes = {}
    for name, values in sections.items():
        current = getattr(base, name)
        changes[name] = replace(current, **values) if isinstance(values, dict) else values
    return replace(base, **changes)


def person(person_id: int, **values) -> dict:
    row = {
        "person_id": person_id,
        "language": "en",
        "country": "GB",
        "city": "London",
        "furthest_stage_rank": 3,
        "is_silver_medalist": False,
        "rejection_side": "company",
        "last_contact_at": pd.Timestamp("2026-06-01", tz="UTC"),
    }
    row.update(values)
    return row


def run(persons, person_skills, offers, offer_skills, cfg: MatchingConfig) -> pd.DataFrame:
    space = SkillSpace.build(BRANCHES, unrelated=cfg.skills.unrelated_branches)
    inputs = prepare(
        pd.DataFrame(persons),
        pd.DataFrame(person_skills, columns=["person_id", "skill_id"]),
        pd.DataFrame(offers),
        pd.DataFrame(offer_skills, columns=["job_offer_id", "skill_id", "importance"]),
        space=space,
        config=cfg,
        as_of=AS_OF,
        max_stage_rank=6,
    )
    return top_matches(inputs, cfg)


def one_offer(skills: dict[str, str], **values) -> tuple[list[dict], list[tuple]]:
    offer = {"job_offer_id": 1, "language": "en", "country": "GB", "city": "London"} | values
    return [offer], [(1, skill, importance) for skill, importance in skills.items()]


def random_pool(seed: int, n_persons: int, n_offers: int) -> tuple[pd.DataFrame, ...]:
    """A pool with many identical profiles (ties) and every kind of missing value."""
    rng = np.random.default_rng(seed)
    skills = np.array(list(BRANCHES) + ["unknown_skill"], dtype=object)
    persons = pd.DataFrame(
        {
            "person_id": rng.permutation(n_persons) * 7 + 3,
            "language": rng.choice(np.array(["en", "fr", "de", None], dtype=object), n_persons),
            "country": rng.choice(np.array(["GB", "FR", "DE", None], dtype=object), n_persons),
            "city": rng.choice(np.array(["London", "Paris", "paris", "Berlin", None], dtype=object), n_persons),
            "furthest_stage_rank": rng.choice(np.array([1, 3, 4, 5, None], dtype=object), n_persons),
            "is_silver_medalist": rng.random(n_persons) < 0.3,
            "rejection_side": rng.choice(np.array(["company", "candidate", "unknown", None], dtype=object), n_persons),
            "last_contact_at": pd.Series(
                pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 5, n_persons) * 100, unit="D")
            ).where(rng.random(n_persons) > 0.1),
        }
    )
    owners = rng.choice(persons["person_id"].to_numpy(), size=n_persons * 4)
    person_skills = pd.DataFrame({"person_id": owners, "skill_id": rng.choice(skills[:8], size=len(owners))})
    offers = pd.DataFrame(
        {
            "job_offer_id": np.arange(10, 10 + n_offers),
            "language": rng.choice(np.array(["en", "fr", None], dtype=object), n_offers),
            "country": rng.choice(np.array(["GB", "FR", None], dtype=object), n_offers),
            "city": rng.choice(np.array(["London", "Paris", None], dtype=object), n_offers),
        }
    )
    job = np.repeat(offers["job_offer_id"].to_numpy(), 5)
    offer_skills = pd.DataFrame(
        {
            "job_offer_id": job,
            "skill_id": rng.choice(skills, size=len(job)),
            "importance": rng.choice(["required", "nice"], size=len(job)),
        }
    )
    return persons, person_skills, offers, offer_skills


CONFIGS = {
    "shipped": MatchingConfig.load(),
    "no_gate_low_minimum": config(hard_gate={"enabled": False}, skills={"min_coverage": 0.0}),
    "strict_gate_top_3": config(hard_gate={"enabled": True, "max_missing_required": 0}, top_n=3),
    "no_idf_no_related": config(skills={"idf": False, "related_credit": 0.0, "min_coverage": 0.2}),
    "skills_only": config(
        weights=replace(
            MatchingConfig().weights, skills=1.0, stage=0.0, rejection_side=0.0, recency=0.0, language=0.0, location=0.0
        ),
        top_n=5,
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("seed", [1, 2])
def test_engine_finds_the_same_top_n_as_the_per_pair_scorer(name: str, seed: int) -> None:
    cfg = CONFIGS[name]
    persons, person_skills, offers, offer_skills = random_pool(seed, n_persons=400, n_offers=6)
    fast = run(persons, person_skills, offers, offer_skills, cfg)
    slow = naive_top_matches(
        persons,
        person_skills,
        offers,
        offer_skills,
        branch_of=BRANCHES,
        config=cfg,
        as_of=AS_OF,
        max_stage_rank=6,
    )
    assert len(slow) > 0
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), slow.reset_index(drop=True), check_dtype=False)


def test_required_skills_weigh_more_than_nice_to_have_ones() -> None:
    persons = [person(1), person(2)]
    skills = [(1, "python"), (2, "excel")]
    offers, wanted = one_offer({"python": "required", "excel": "nice"})
    result = run(persons, skills, offers, wanted, config(hard_gate={"enabled": False}, skills={"min_coverage": 0}))
    coverage = result.set_index("person_id")["coverage"]
    assert coverage[1] > coverage[2] > 0
    assert result["person_id"].tolist() == [1, 2]


def test_rare_skills_weigh_more_than_common_ones() -> None:
    # everyone speaks English, one person in four knows Go: Go is the rarer, heavier skill
    persons = [person(i) for i in range(1, 9)]
    skills = [(i, "english") for i in range(1, 8)] + [(8, "go"), (7, "go")]
    offers, wanted = one_offer({"english": "required", "go": "required"})
    cfg = config(hard_gate={"enabled": False}, skills={"min_coverage": 0})
    coverage = run(persons, skills, offers, wanted, cfg).set_index("person_id")["coverage"]
    assert coverage[8] > 0.5 > coverage[1] > 0
    without_idf = run(persons, skills, offers, wanted, config(hard_gate={"enabled": False}, skills={"idf": False}))
    assert without_idf.set_index("person_id")["coverage"][8] == pytest.approx(0.5)


def test_a_related_skill_counts_partly_and_unrelated_branches_never() -> None:
    persons = [person(1), person(2), person(3)]
    skills = [(1, "python"), (2, "java"), (3, "german")]
    offers, wanted = one_offer({"python": "required", "english": "required"})
    cfg = config(hard_gate={"enabled": False}, skills={"min_coverage": 0, "idf": False, "related_credit": 0.5})
    coverage = run(persons, skills, offers, wanted, cfg).set_index("person_id")["coverage"]
    assert coverage[1] == pytest.approx(0.5)  # python held, english missing
    assert coverage[2] == pytest.approx(0.25)  # java stands in for python at half credit
    assert 3 not in coverage.index  # German is no stand-in for English (unrelated branch)


def test_the_hard_gate_drops_people_missing_too_many_required_skills() -> None:
    persons = [person(1), person(2)]
    skills = [(1, "python"), (1, "sql"), (1, "docker"), (2, "python"), (2, "excel"), (2, "english")]
    offers, wanted = one_offer(
        {"python": "required", "sql": "required", "docker": "required", "excel": "nice", "english": "nice"}
    )
    open_gate = config(hard_gate={"enabled": False}, skills={"min_coverage": 0})
    assert set(run(persons, skills, offers, wanted, open_gate)["person_id"]) == {1, 2}
    gate = config(hard_gate={"enabled": True, "max_missing_required": 1}, skills={"min_coverage": 0})
    assert run(persons, skills, offers, wanted, gate)["person_id"].tolist() == [1]


def test_stage_side_recency_language_and_location_break_equal_skills() -> None:
    base = {"furthest_stage_rank": 2, "rejection_side": "candidate", "language": "fr", "country": "FR", "city": "Paris"}
    old = pd.Timestamp("2023-01-01", tz="UTC")
    persons = [
        person(1, **base, last_contact_at=old),
        person(2, **base | {"is_silver_medalist": True}, last_contact_at=old),
        person(3, **base | {"rejection_side": "company"}, last_contact_at=old),
        person(4, **base),
        person(5, **base | {"language": "en"}, last_contact_at=old),
        person(6, **base | {"country": "GB", "city": "London"}, last_contact_at=old),
    ]
    skills = [(i, "python") for i in range(1, 7)]
    offers, wanted = one_offer({"python": "required"})
    score = run(persons, skills, offers, wanted, MatchingConfig.load()).set_index("person_id")["score"]
    for better in (2, 3, 4, 5, 6):
        assert score[better] > score[1], better


def test_ties_are_broken_by_person_id_and_reruns_are_identical() -> None:
    persons = [person(i) for i in (30, 10, 20, 40)]
    skills = [(i, "python") for i in (30, 10, 20, 40)]
    offers, wanted = one_offer({"python": "required"})
    cfg = config(top_n=3)
    first = run(persons, skills, offers, wanted, cfg)
    assert first["person_id"].tolist() == [10, 20, 30]
    assert first["rank"].tolist() == [1, 2, 3]
    assert first["score"].nunique() == 1
    pd.testing.assert_frame_equal(first, run(list(reversed(persons)), skills[::-1], offers, wanted, cfg))


def test_protected_attributes_never_change_a_score() -> None:
    persons, person_skills, offers, offer_skills = random_pool(3, n_persons=300, n_offers=4)
    rng = np.random.default_rng(0)
    with_attributes = persons.assign(
        age_band=rng.choice(["18-24", "25-34", "55+"], len(persons)),
        gender=rng.choice(["f", "m", "x"], len(persons)),
        birth_date=pd.Timestamp("1990-01-01") + pd.to_timedelta(rng.integers(0, 9000, len(persons)), unit="D"),
    )
    changed = with_attributes.assign(
        age_band=with_attributes["age_band"].sample(frac=1, random_state=1).to_numpy(),
        gender=np.where(with_attributes["gender"] == "f", "m", "f"),
        birth_date=with_attributes["birth_date"] - pd.Timedelta(days=365 * 30),
    )
    cfg = MatchingConfig.load()
    before = run(with_attributes, person_skills, offers, offer_skills, cfg)
    after = run(changed, person_skills, offers, offer_skills, cfg)
    assert len(before) > 0
    pd.testing.assert_frame_equal(before, after)


def test_an_offer_without_skills_and_an_empty_pool_give_no_matches() -> None:
    offers, _ = one_offer({})
    assert run([person(1)], [(1, "python")], offers, [], MatchingConfig.load()).empty
    offers, wanted = one_offer({"python": "required"})
    empty = pd.DataFrame([person(1)]).iloc[:0]
    assert run(empty, [], offers, wanted, MatchingConfig.load()).empty


def test_the_shipped_configuration_loads_and_bad_ones_are_refused(tmp_path) -> None:
    shipped = MatchingConfig.load()
    assert shipped.top_n == 50 and shipped.skills.required_weight > shipped.skills.nice_weight
    assert len(shipped.digest) == 12
    bad = tmp_path / "bad.yaml"
    bad.write_text("weights: {skills: 0.9}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="sum to 1"):
        MatchingConfig.load(bad)
    bad.write_text("top_k: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown"):
        MatchingConfig.load(bad)
