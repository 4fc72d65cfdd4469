"""A large synthetic pool and set of open offers, as the four frames the engine reads (benchmarks).

People and offers belong to the job families of :mod:`vivier.synth.vocab`; skills are drawn from the
family's list (typical ones more often), plus a little noise from other families and spoken
languages, and mapped to the taxonomy's ids. Seeded: the same arguments give the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from vivier.synth.vocab import JOB_FAMILIES, SKILLS


@dataclass(frozen=True)
class SyntheticMatchingData:
    persons: pd.DataFrame
    person_skills: pd.DataFrame
    offers: pd.DataFrame
    offer_skills: pd.DataFrame


@cache
def family_skill_ids() -> tuple[tuple[str, ...], ...]:
    """Per job family, the taxonomy ids of its skills (most typical first, each once)."""
    from vivier.tagging import SkillMatcher

    matcher = SkillMatcher()
    ids_of = {}
    for key, skill in SKILLS.items():
        for wording in (*skill.en, *skill.fr, *skill.aliases):
            found = matcher.skills_of(wording)
            if found:
                ids_of[key] = found[0]
                break
    return tuple(tuple(dict.fromkeys(ids_of[k] for k in family.skills if k in ids_of)) for family in JOB_FAMILIES)


def _draw_skills(
    rng: np.random.Generator, families: np.ndarray, counts: np.ndarray, skill_lists: tuple[tuple[str, ...], ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(owner row, skill id) pairs: ``counts[i]`` skills of family ``families[i]``, typical ones first."""
    owners, skills = [], []
    for family, names in enumerate(skill_lists):
        rows = np.flatnonzero(families == family)
        if len(rows) == 0:
            continue
        n = len(names)
        weights = np.linspace(1.0, 0.25, n)
        # Gumbel top-k: a weighted sample without replacement per row, all rows at once
        keys = np.log(weights)[np.newaxis, :] - np.log(-np.log(rng.random((len(rows), n))))
        order = np.argsort(-keys, axis=1)
        take = np.minimum(counts[rows], n)
        mask = np.arange(n)[np.newaxis, :] < take[:, np.newaxis]
        owners.append(np.repeat(rows, take))
        skills.append(np.asarray(names, dtype=object)[order[mask]])
    return np.concatenate(owners), np.concatenate(skills)


def synthetic_matching_data(n_persons: int, n_offers: int, *, seed: int = 7) -> SyntheticMatchingData:
    rng = np.random.default_rng(seed)
    skill_lists = family_skill_ids()
    weights = np.array([f.weight for f in JOB_FAMILIES])
    weights = weights / weights.sum()
    all_skills = np.array(sorted({s for names in skill_lists for s in names}), dtype=object)

    person_ids = np.arange(1, n_persons + 1, dtype=np.int64)
    families = rng.choice(len(JOB_FAMILIES), size=n_persons, p=weights)
    owners, skills = _draw_skills(rng, families, rng.integers(2, 9, size=n_persons), skill_lists)
    noise_owner = rng.integers(0, n_persons, size=n_persons // 2)
    speaks = rng.random(n_persons) < 0.35
    person_skills = pd.DataFrame(
        {
            "person_id": np.concatenate([person_ids[owners], person_ids[noise_owner], person_ids[speaks]]),
            "skill_id": np.concatenate(
                [skills, rng.choice(all_skills, size=len(noise_owner)), np.full(int(speaks.sum()), "english")]
            ),
        }
    ).drop_duplicates()
    countries = np.array(["FR", "GB", "DE", "IT"], dtype=object)
    cities = np.array(["Paris", "Lyon", "London", "Manchester", "Berlin", "Munich", "Milano", "Roma"], dtype=object)
    languages = np.array(["fr", "en", "de", "it"], dtype=object)
    place = rng.choice(4, size=n_persons, p=[0.55, 0.15, 0.15, 0.15])
    last_contact = pd.Timestamp("2026-11-01", tz="UTC") - pd.to_timedelta(
        rng.integers(0, 1_000, size=n_persons), unit="D"
    )
    persons = pd.DataFrame(
        {
            "person_id": person_ids,
            "language": languages[place],
            "country": countries[place],
            "city": cities[place * 2 + rng.integers(0, 2, size=n_persons)],
            "furthest_stage_rank": rng.integers(1, 6, size=n_persons),
            "is_silver_medalist": rng.random(n_persons) < 0.12,
            "rejection_side": rng.choice(["company", "candidate", "unknown"], size=n_persons, p=[0.7, 0.2, 0.1]),
            "last_contact_at": last_contact,
        }
    )

    offer_ids = np.arange(1, n_offers + 1, dtype=np.int64)
    offer_families = rng.choice(len(JOB_FAMILIES), size=n_offers, p=weights)
    n_required = rng.integers(3, 6, size=n_offers)
    n_nice = rng.integers(1, 4, size=n_offers)
    owners, skills = _draw_skills(rng, offer_families, n_required + n_nice, skill_lists)
    position = pd.Series(owners).groupby(owners).cumcount().to_numpy()  # typical skills come first: required
    offer_skills = pd.DataFrame(
        {
            "job_offer_id": offer_ids[owners],
            "skill_id": skills,
            "importance": np.where(position < n_required[owners], "required", "nice"),
        }
    )
    offer_place = rng.choice(4, size=n_offers, p=[0.6, 0.15, 0.15, 0.1])
    offers = pd.DataFrame(
        {
            "job_offer_id": offer_ids,
            "language": languages[offer_place],
            "country": countries[offer_place],
            "city": cities[offer_place * 2 + rng.integers(0, 2, size=n_offers)],
        }
    )
    return SyntheticMatchingData(persons, person_skills, offers, offer_skills)


POOL_PERSON_COLUMNS = {
    "person_id": "int",
    "email": "text",
    "full_name": "text",
    "language": "text",
    "country": "text",
    "city": "text",
    "furthest_stage_rank": "int",
    "is_silver_medalist": "bool",
    "rejection_side": "text",
    "last_contact_at": "timestamp",
    "applications_count": "int",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}
POOL_CONSENT_COLUMNS = {
    "person_id": "int",
    "purpose": "text",
    "status": "text",
    "is_active": "bool",
    "expires_at": "timestamp",
    "source": "text",
    "last_event_id": "int",
    "updated_at": "timestamp",
}
POOL_OFFER_COLUMNS = {
    "job_offer_id": "int",
    "source_system": "text",
    "source_job_id": "text",
    "title": "text",
    "location": "text",
    "country": "text",
    "language": "text",
    "status": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
}


def write_matching_crm(
    connection,
    *,
    persons: pd.DataFrame,
    person_skills: pd.DataFrame,
    consent: pd.DataFrame,
    offers: pd.DataFrame,
    offer_skills: pd.DataFrame,
) -> None:
    """Bulk-write a synthetic pool (persons, skill tags, job-offer consent) and its offers into a
    migrated CRM database (benchmarks and tests); ``consent`` may leave out ``expires_at``."""
    from vivier.db.bulk import load_frame

    tags = person_skills.rename(columns={"skill_id": "value"}).assign(kind="skill")
    consent = consent if "expires_at" in consent else consent.assign(expires_at=pd.NaT)
    load_frame(connection, "persons", persons, POOL_PERSON_COLUMNS)
    load_frame(connection, "person_tags", tags, {"person_id": "int", "kind": "text", "value": "text"})
    load_frame(connection, "consent_current", consent, POOL_CONSENT_COLUMNS)
    load_frame(connection, "job_offers", offers, POOL_OFFER_COLUMNS)
    load_frame(
        connection, "job_offer_skills", offer_skills, {"job_offer_id": "int", "skill_id": "text", "importance": "text"}
    )
