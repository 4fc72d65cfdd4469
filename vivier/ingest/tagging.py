"""Tags for ingested people: skills, ATS tags, job families, seniority and age band (set-based).

Tags come out in long format, one row per (person, kind, value): ``person`` is the person's
position in the persons frame, ``kind``, ``value`` and ``evidence`` are categoricals (a million
applications give several million tags, with few distinct values).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

TAG_KINDS = ("skill", "ats_tag", "job_family")
MAX_TAG_CHARS = 100
TAG_FRAME_COLUMNS = ("person", "kind", "value", "evidence")


@cache
def _matcher():
    from vivier.tagging.skills import SkillMatcher

    return SkillMatcher()


def _expand(group_counts: np.ndarray, group_first: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a sequence of group ids (-1: none), the items of each group in turn.

    Items of group ``g`` are ``group_first[g] .. group_first[g] + group_counts[g] - 1``. Returns
    (position in ``groups`` of each item, the item).
    """
    if len(group_counts) == 0:  # no group has items
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    counts = np.where(groups >= 0, group_counts[np.maximum(groups, 0)], 0)
    owner = np.repeat(np.arange(len(groups)), counts)
    within = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(group_first[np.maximum(groups, 0)], counts) + within


def _skills(texts: pd.Series) -> pd.DataFrame:
    """``SkillMatcher.extract`` of the texts, matching each distinct comma-separated part once.

    A comma always ends a phrase and a match never spans phrases, so matching the parts in turn
    finds what matching the whole text finds, in the same order (the first alias of a skill is
    kept per text, as ``extract`` does). Skill lists repeat the same few hundred parts in many
    combinations: there are far fewer distinct parts than distinct texts.
    """
    matcher = _matcher()
    if any("," in compound for compound in matcher.index.tokenizer.compounds):
        return matcher.extract(texts)  # an alias spans a comma: match whole texts
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, distinct = pd.factorize(texts.astype("string"), use_na_sentinel=True)
    distinct_texts = pa.array(pd.Series(distinct, dtype="string").array)
    if isinstance(distinct_texts, pa.ChunkedArray):
        distinct_texts = distinct_texts.combine_chunks()
    split = pc.split_pattern(distinct_texts, ",")
    text_of_part = pc.list_parent_indices(split).to_numpy()
    # spaces around a part only separate words: trimmed, "Python, SQL" and "SQL, Python" share parts
    encoded = pc.dictionary_encode(pc.utf8_trim(pc.list_flatten(split), characters=" "))
    part_codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    distinct_parts = encoded.dictionary
    found = matcher.extract(pd.Series(pd.arrays.ArrowStringArray(distinct_parts)))
    skill, alias = found["skill_id"].array, found["matched_alias"].array
    n_parts = len(distinct_parts)
    per_part = np.bincount(found["row"].to_numpy(dtype=np.int64), minlength=n_parts)
    # matches of each distinct text: its parts' matches, part after part
    owner, match = _expand(per_part, np.cumsum(per_part) - per_part, part_codes)
    text = text_of_part.astype(np.int64)[owner]
    key = text * (len(skill.categories) + 1) + skill.codes[match]
    _, first = np.unique(key, return_index=True)
    first.sort()
    text, match = text[first], match[first]
    # then the matches of each row's text
    per_text = np.bincount(text, minlength=len(distinct))
    row, picked = _expand(per_text, np.cumsum(per_text) - per_text, np.asarray(codes, dtype=np.int64))
    match = match[picked]
    return pd.DataFrame(
        {"row": texts.index.take(row), "skill_id": skill.take(match), "matched_alias": alias.take(match)}
    )


def _first_per_person(persons: np.ndarray, values: pd.Categorical) -> np.ndarray:
    """Positions of the first occurrence of each (person, value) pair, in their original order."""
    keys = persons.astype(np.int64) * (len(values.categories) + 1) + values.codes
    _, first = np.unique(keys, return_index=True)
    first.sort()
    return first


def _ats_tags(tags: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The ATS's '|'-separated tags: (row of each tag, tag) in row order, then order in the cell.

    Tag cells repeat (a few labels, combined): each distinct cell is split once.
    """
    codes, cells = pd.factorize(tags.astype("string"), use_na_sentinel=True)
    split = pd.Series(cells, dtype="string").str.split("|").explode().str.strip()
    split = split[split.notna() & (split != "")].str.slice(0, MAX_TAG_CHARS)
    per_cell = np.bincount(split.index.to_numpy(dtype=np.int64), minlength=len(cells))  # explode keeps order
    rows, picked = _expand(per_cell, np.cumsum(per_cell) - per_cell, np.asarray(codes, dtype=np.int64))
    return rows, split.iloc[picked].reset_index(drop=True)


def _categorical(values) -> pd.Categorical:
    """A categorical with plain Python-string categories (so that blocks can be combined)."""
    if isinstance(values, pd.Categorical) or isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        values = pd.Categorical(values)
        return values.rename_categories(pd.Index(np.asarray(values.categories, dtype=object), dtype=object))
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object))


def _block(kind: str, persons: np.ndarray, values, evidence) -> tuple[str, np.ndarray, pd.Categorical, pd.Categorical]:
    """One kind of tags, the first (person, value) occurrence kept."""
    values, evidence = _categorical(values), _categorical(evidence)
    keep = _first_per_person(persons, values)
    return kind, persons[keep], values[keep], evidence[keep]


def tag_people(
    applications: pd.DataFrame,
    persons: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    codes: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Person-level job family, seniority and age band, plus the long ``(person, kind, value, evidence)`` tags.

    ``codes``: each application's person (position in ``persons``), looked up by email when not
    given. Skills come from each application's ``skills_text`` (skills lists, tags, headline,
    summary) against the multilingual taxonomy; only distinct texts are matched. A person keeps the
    evidence of the first application that gave a tag. The age band is for content segmentation
    only: matching never reads it.
    """
    from vivier.tagging.profile import age_band, job_family, seniority

    applications = applications.reset_index(drop=True)
    if codes is None:
        codes = pd.Index(persons["email"]).get_indexer(applications["email_normalized"])
    codes = np.asarray(codes, dtype=np.int64)

    skills = _skills(applications["skills_text"])  # row: the application's position
    skill_rows = skills["row"].to_numpy(dtype=np.int64)
    skill_tags = _block("skill", codes[skill_rows], skills["skill_id"], skills["matched_alias"])

    ats_rows, ats_values = _ats_tags(applications["tags"])
    ats_tags = _block("ats_tag", codes[ats_rows], ats_values, _categorical(applications["source_system"])[ats_rows])

    application_families = job_family(applications["job_title"].fillna(applications["headline"]), skills)
    has_family = (application_families.notna() & (application_families != "other")).to_numpy(dtype=bool)
    family_tags = _block(
        "job_family",
        codes[has_family],
        _categorical(application_families)[has_family],
        _categorical(applications["job_title"])[has_family],
    )

    person_skills = pd.DataFrame({"row": codes[skill_rows], "skill_id": skills["skill_id"]})
    latest_title = persons["headline"]
    if "job_title" in persons:
        latest_title = persons["job_title"].fillna(latest_title)
    persons = persons.assign(
        job_family=job_family(latest_title, person_skills),
        seniority=seniority(persons["years_experience"], persons["headline"]),
        age_band=age_band(persons["birth_date_ts"], as_of),
    )
    return persons, _combine([skill_tags, ats_tags, family_tags])


def _combine(blocks: list[tuple[str, np.ndarray, pd.Categorical, pd.Categorical]]) -> pd.DataFrame:
    """The blocks as one frame in (person, kind, value) order, text columns categorical."""
    from pandas.api.types import union_categoricals

    kinds = sorted(TAG_KINDS)
    person = np.concatenate([b[1] for b in blocks]).astype(np.int64, copy=False)
    kind = pd.Categorical.from_codes(
        np.concatenate([np.full(len(b[1]), kinds.index(b[0]), dtype=np.int8) for b in blocks]), categories=kinds
    )
    value = union_categoricals([b[2] for b in blocks])
    value = value.reorder_categories(sorted(value.categories))
    evidence = union_categoricals([b[3] for b in blocks])
    order = np.lexsort((value.codes, kind.codes, person))
    return pd.DataFrame(
        {"person": person[order], "kind": kind[order], "value": value[order], "evidence": evidence[order]}
    )
