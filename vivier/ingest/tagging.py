"""Tags for ingested people: skills, ATS tags, job families, seniority and age band (set-based)."""

from __future__ import annotations

from functools import cache

import pandas as pd

TAG_KINDS = ("skill", "ats_tag", "job_family")
MAX_TAG_CHARS = 100


@cache
def _matcher():
    from vivier.tagging.skills import SkillMatcher

    return SkillMatcher()


def _with_email(long: pd.DataFrame, emails: pd.Series) -> pd.DataFrame:
    return long.assign(email=emails.reindex(long["row"]).to_numpy())


def tag_people(
    applications: pd.DataFrame, persons: pd.DataFrame, *, as_of: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Person-level job family, seniority and age band, plus the long ``(email, kind, value, evidence)`` tags.

    Skills come from each application's ``skills_text`` (skills lists, tags, headline, summary)
    against the multilingual taxonomy; only distinct texts are matched. The age band is for content
    segmentation only: matching never reads it.
    """
    from vivier.tagging.profile import age_band, job_family, seniority

    emails = applications["email_normalized"]
    skills = _with_email(_matcher().extract(applications["skills_text"]), emails)
    skill_tags = pd.DataFrame(
        {
            "email": skills["email"],
            "kind": "skill",
            "value": skills["skill_id"].astype(str),
            "evidence": skills["matched_alias"].astype(str),
        }
    )

    ats = applications["tags"].astype("string").str.split("|").explode().str.strip()
    ats = ats[ats.notna() & (ats != "")].str.slice(0, MAX_TAG_CHARS)
    ats_tags = pd.DataFrame({"email": emails.reindex(ats.index).to_numpy(), "kind": "ats_tag", "value": ats.to_numpy()})
    ats_tags["evidence"] = applications["source_system"].reindex(ats.index).to_numpy()

    application_families = job_family(applications["job_title"].fillna(applications["headline"]), skills)
    family_tags = pd.DataFrame(
        {"email": emails, "kind": "job_family", "value": application_families, "evidence": applications["job_title"]}
    )
    family_tags = family_tags[family_tags["value"].notna() & (family_tags["value"] != "other")]

    person_index = pd.Series(persons.index, index=persons["email"])
    person_skills = skills.assign(row=person_index.reindex(skills["email"]).to_numpy())
    latest_title = persons["headline"]
    if "job_title" in persons:
        latest_title = persons["job_title"].fillna(latest_title)
    persons = persons.assign(
        job_family=job_family(latest_title, person_skills),
        seniority=seniority(persons["years_experience"], persons["headline"]),
        age_band=age_band(persons["birth_date_ts"], as_of),
    )
    tags = (
        pd.concat([skill_tags, ats_tags, family_tags], ignore_index=True)
        .drop_duplicates(["email", "kind", "value"])
        .reset_index(drop=True)
    )
    return persons, tags
