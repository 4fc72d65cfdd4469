"""Profile tags derived per candidate row: job family, seniority, age band. All vectorised."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from vivier.tagging.families import DEFAULT_FAMILIES_PATH, FAMILIES_ENV_VAR, OTHER, JobFamilies
from vivier.tagging.normalize import strip_accents

SENIORITY_LEVELS: tuple[str, ...] = ("intern", "junior", "mid", "senior", "lead", "unknown")
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+", "unknown")

# Title words, matched on accent-stripped, case-folded titles. German compounds end with the
# keyword ("Teamleiter", "Abteilungsleiterin"), hence no left boundary for -leiter.
_INTERN_RE = re.compile(
    r"\b(?:intern|interns|internship|stagiaire|stage|alternant|alternante|alternance|apprenti|apprentie|apprentice"
    r"|apprentissage|trainee|praktikant|praktikantin|praktikum|werkstudent|werkstudentin|azubi|auszubildende|auszubildender"
    r"|tirocinante|tirocinio|stagista|apprendista|v\.?i\.?e)\b"
)
_JUNIOR_RE = re.compile(
    r"\b(?:junior|jr|debutant|debutante|entry[- ]level|graduate|young graduate|jeune diplome|jeune diplomee"
    r"|einsteiger|berufseinsteiger|berufseinsteigerin|neolaureato|neolaureata|neodiplomato)\b"
)
_LEAD_RE = re.compile(
    r"\blead(?!\s*gen)\b|\bleader\b|\bprincipal\b|\bhead\b|\bchefs? d(?:e|u|es)\b|\bchefs? d['\u2019]"
    r"|\bdirect(?:eur|rice|or|ors)\b|\bdirett(?:ore|rice)\b|(?<!beg)leiter(?:in)?\b|\bresponsabile\b|\bresponsable\b"
    r"|\bvp\b|\bvice[- ]president\b|\bc[etfoi]o\b|\bmanaging director\b|\bgeschaftsfuhrer(?:in)?\b|\bcapo\b"
)
_SENIOR_RE = re.compile(
    r"\b(?:senior|sr|confirme|confirmee|experimente|experimentee|experienced|expert|experte|erfahren|erfahrene|erfahrener"
    r"|esperto|esperta)\b"
)


def _title_flags(titles: pd.Series) -> dict[str, np.ndarray]:
    """Keyword flags per row, computed on the distinct titles only."""
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    norm = [strip_accents(str(u)).casefold() for u in np.asarray(uniques, dtype=object)]
    out = {}
    for name, rx in (("intern", _INTERN_RE), ("junior", _JUNIOR_RE), ("lead", _LEAD_RE), ("senior", _SENIOR_RE)):
        flags = np.fromiter((rx.search(t) is not None for t in norm), dtype=bool, count=len(norm))
        flags = np.append(flags, False)  # position -1: missing title
        out[name] = flags[np.where(codes >= 0, codes, len(norm))]
    return out


def _categorical(values: np.ndarray, categories: tuple[str, ...] | list[str], index: pd.Index, name: str) -> pd.Series:
    return pd.Series(pd.Categorical(values, categories=list(categories)), index=index, name=name)


def seniority(years_experience: pd.Series, titles: pd.Series | None = None) -> pd.Series:
    """Seniority level per row: intern, junior (<2 y), mid (2-5 y), senior (5-10 y), lead, unknown.

    Order of precedence: an intern title ("stagiaire", "Praktikant", "tirocinante"...) gives
    ``intern``; an explicit junior title ("Junior", "débutant"...) gives ``junior``; a lead title
    (lead, principal, head, chef de, directeur, Leiter, responsabile, director...) gives ``lead``;
    then years of experience (>= 10 y is ``lead``); then a senior title word gives ``senior``;
    else ``unknown``. Missing, negative or implausible (> 60) years count as unknown.
    Returns a categorical aligned on ``years_experience``'s index.
    """
    years = pd.to_numeric(years_experience, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    index = years_experience.index
    if titles is None:
        titles = pd.Series([None] * len(index), index=index, dtype=object)
    elif not titles.index.equals(index):
        titles = titles.reindex(index)
    flags = _title_flags(titles)
    known = np.isfinite(years) & (years >= 0) & (years <= 60)
    y = np.where(known, years, -1.0)
    conditions = [
        flags["intern"],
        flags["junior"],
        flags["lead"],
        known & (y >= 10),
        known & (y >= 5),
        known & (y >= 2),
        known,
        flags["senior"],
    ]
    choices = ["intern", "junior", "lead", "lead", "senior", "mid", "junior", "senior"]
    values = np.select(conditions, choices, default="unknown")
    return _categorical(values, SENIORITY_LEVELS, index, "seniority")


def _to_datetime(values: pd.Series) -> pd.Series:
    """Parse dates given as Timestamps, date objects, ISO-8601 strings or dd/mm/yyyy strings (naive UTC)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
    else:
        out = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
        missing = out.isna() & values.notna()
        if missing.any():
            alt = pd.to_datetime(values[missing].astype(str), errors="coerce", format="%d/%m/%Y", utc=True)
            out = out.where(~missing, alt.reindex(out.index))
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert(None)
    return out


def age_band(birth_dates: pd.Series, as_of: date | datetime | None = None) -> pd.Series:
    """Age band per row on ``as_of`` (default: today): 18-24, 25-34, 35-44, 45-54, 55+, unknown.

    For content segmentation only (e.g. which newsletter or event invitations to send), never
    for matching or ranking candidates to jobs. Missing or unparsable dates, ages under 18
    (minors are not segmented) and ages over 100 give ``unknown``.
    """
    as_of = as_of or date.today()
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    dt = _to_datetime(birth_dates)
    year = dt.dt.year.to_numpy(dtype=np.float64, na_value=np.nan)
    month_day = (dt.dt.month * 100 + dt.dt.day).to_numpy(dtype=np.float64, na_value=np.nan)
    age = as_of.year - year - (month_day > as_of.month * 100 + as_of.day)
    known = np.isfinite(age) & (age >= 18) & (age <= 100)
    a = np.where(known, age, -1)
    values = np.select(
        [~known, a < 25, a < 35, a < 45, a < 55],
        ["unknown", "18-24", "25-34", "35-44", "45-54"],
        default="55+",
    )
    return _categorical(values, AGE_BANDS, birth_dates.index, "age_band")


@lru_cache(maxsize=4)
def _load_families(path: str, mtime: float) -> JobFamilies:
    return JobFamilies.load(path)


def default_families() -> JobFamilies:
    """The job families of ``$VIVIER_JOB_FAMILIES`` or the shipped file, cached until the file changes."""
    path = os.environ.get(FAMILIES_ENV_VAR) or str(DEFAULT_FAMILIES_PATH)
    return _load_families(path, os.path.getmtime(path))


def job_family(
    titles: pd.Series,
    skills: pd.DataFrame | None = None,
    *,
    families: JobFamilies | None = None,
    min_skills: int = 1,
) -> pd.Series:
    """Job family id per row of ``titles``.

    1. A title keyword (FR/EN/DE/IT) decides: the longest keyword found wins, then the family
       listed first in ``job_families.yaml``.
    2. Else the family with the most characteristic skills among ``skills`` (long format with
       columns ``row`` and ``skill_id``, as returned by ``SkillMatcher.extract``; ``row`` holds
       labels of ``titles.index``), at least ``min_skills`` of them; ties go to the family
       listed first.
    3. Else ``"other"``.
    Returns a categorical aligned on ``titles.index``.
    """
    families = families or default_families()
    order = families.ids
    rank = {f: i for i, f in enumerate(order)}
    index = titles.index

    # 1. Title keywords on the distinct titles.
    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    distinct = [str(u) for u in np.asarray(uniques, dtype=object)]
    by_title = np.full(len(distinct) + 1, "", dtype=object)
    idx = families.title_index
    m = idx.match(distinct)
    if len(m):
        fam_rank = np.array([rank[t] for t in idx.targets], dtype=np.int64)[m.target]
        best = np.lexsort((fam_rank, -m.length, m.text))  # per text: longest, then family order
        first = np.ones(len(best), dtype=bool)
        first[1:] = m.text[best][1:] != m.text[best][:-1]
        chosen = best[first]
        targets = np.asarray(idx.targets, dtype=object)
        by_title[m.text[chosen]] = targets[m.target[chosen]]
    from_title = by_title[np.where(codes >= 0, codes, len(distinct))]

    # 2. Characteristic skills.
    from_skills = np.full(len(index), "", dtype=object)
    if skills is not None and len(skills) and (from_title == "").any():
        # only rows the title left undecided need their skills counted
        if (from_title != "").any():
            skills = skills[skills["row"].isin(index[from_title == ""])]
        skill_fams = families.skill_families()
        pairs = pd.DataFrame(
            {"row": skills["row"].to_numpy(), "skill_id": skills["skill_id"].astype(object).to_numpy()}
        )
        pairs = pairs.drop_duplicates()
        pairs["family"] = pairs["skill_id"].map(skill_fams)
        pairs = pairs.dropna(subset=["family"]).explode("family")
        if len(pairs):
            counts = pairs.groupby(["row", "family"], sort=False).size().rename("n").reset_index()
            counts = counts[counts["n"] >= min_skills]
            counts["rank"] = counts["family"].map(rank)
            counts = counts.sort_values(["row", "n", "rank"], ascending=[True, False, True], kind="stable")
            top = counts.drop_duplicates("row").set_index("row")["family"]
            if index.is_unique:
                from_skills = top.reindex(index).fillna("").to_numpy(dtype=object)
            else:
                from_skills = index.map(top).to_numpy(dtype=object)
                from_skills = np.where(pd.isna(from_skills), "", from_skills)

    values = np.where(from_title != "", from_title, np.where(from_skills != "", from_skills, OTHER))
    return _categorical(values, [*order, OTHER], index, "job_family")
