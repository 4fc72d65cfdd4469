"""Tagging of candidates: skills (multilingual taxonomy), job family, seniority, age band.

from vivier.tagging import SkillTaxonomy, SkillMatcher, job_family, seniority, age_band

matcher = SkillMatcher(SkillTaxonomy.load())
skills = matcher.extract(df["skills_text"])          # long format: row, skill_id, matched_alias
df["job_family"] = job_family(df["headline"], skills)
df["seniority"] = seniority(df["years_experience"], df["headline"])
df["age_band"] = age_band(df["birth_date"], as_of=date.today())   # segmentation only
"""

from vivier.tagging.families import JobFamilies, JobFamily
from vivier.tagging.profile import AGE_BANDS, SENIORITY_LEVELS, age_band, job_family, seniority
from vivier.tagging.skills import SkillMatcher, extract_skills
from vivier.tagging.taxonomy import Alias, AliasEntry, Skill, SkillTaxonomy, TaxonomyError

__all__ = [
    "AGE_BANDS",
    "SENIORITY_LEVELS",
    "Alias",
    "AliasEntry",
    "JobFamilies",
    "JobFamily",
    "Skill",
    "SkillMatcher",
    "SkillTaxonomy",
    "TaxonomyError",
    "age_band",
    "extract_skills",
    "job_family",
    "seniority",
]
