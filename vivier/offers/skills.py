"""The skills an offer asks for, required or nice to have, with the same taxonomy as people.

Where the ATS has explicit lists (Lever lists, Workable and Recruitee requirements, spreadsheet
columns) they decide; otherwise the description does, sentence by sentence: a sentence with a
"nice to have" marker ("is a plus", "serait un plus", "von Vorteil", "gradito"...) gives nice-to-have
skills, one with a requirement marker ("must have", "vous maîtrisez", "Kenntnisse", "esperienza"...)
required ones; a heading such as "Nice to have" or "Profil recherché" sets the kind of the sentences
below it. Unmarked sentences (the introduction, the company) count, as required, only when the
description marks nothing. A skill named in the title ("Java Developer") is required.

Recruitee puts both lists in one ``requirements`` field: an explicitly required skill that the
description names only as nice to have is taken as nice to have.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from vivier.tagging.normalize import strip_accents

SKILL_COLUMNS = ("row", "skill_id", "importance", "evidence")
_NICE = re.compile(
    r"nice to have|is a plus|are a plus|\ba plus\b|bonus|preferred|desirable|ideally|would be great|optional|"
    r"un plus|les plus|serait un|apprecie|idealement|atout|souhaite|"
    r"wunschenswert|von vorteil|ein plus|gerne gesehen|"
    r"gradit|costituisce un plus|titolo preferenziale|preferibil"
)
_REQUIRED = re.compile(
    r"requir|must|mandatory|essential|you have|you bring|you are comfortable|experience (with|in)|knowledge of|"
    r"proficien|familiar with|expertise|profile|qualifications|skills|"
    r"profil|indispensable|exige|obligatoire|maitris|competences|experience (de|avec|en|sur)|connaissance|"
    r"erforderlich|voraussetzung|anforderung|kenntnisse|erfahrung|"
    r"requisit|necessari|competenze|richiest|esperienza|conoscenza"
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
HEADING_MAX_CHARS = 60


@cache
def _matcher():
    from vivier.tagging.skills import SkillMatcher

    return SkillMatcher()


def _folded(text: str) -> str:
    return strip_accents(text).casefold()


def description_sentences(descriptions: pd.Series) -> pd.DataFrame:
    """One row per sentence: ``row`` (the offer), ``text`` and ``kind``.

    ``kind`` is ``required`` or ``nice`` for a sentence with a marker or under a heading, else ``context``
    (an introduction, the company...).
    """
    rows, texts, kinds = [], [], []
    for row, description in descriptions.dropna().items():
        section = "context"
        for sentence in _SENTENCES.split(str(description)):
            sentence = sentence.strip()
            if not sentence:
                continue
            folded = _folded(sentence)
            marked = "nice" if _NICE.search(folded) else "required" if _REQUIRED.search(folded) else None
            heading = (
                len(sentence) <= HEADING_MAX_CHARS
                and not sentence.endswith((".", "!", "?"))
                and not _matcher().skills_of(sentence)
            )
            if heading and marked:
                section = marked
                continue
            rows.append(row)
            texts.append(sentence)
            kinds.append(marked or section)
    return pd.DataFrame({"row": rows, "text": pd.Series(texts, dtype="string"), "kind": kinds})


def _tag(texts: pd.Series, rows, importance, source: str) -> pd.DataFrame:
    """Skills found in ``texts``; ``rows`` (the offer of each text) and ``importance`` align with ``texts``."""
    found = _matcher().extract(texts.reset_index(drop=True))
    rows = pd.Series(np.asarray(rows))
    importance = pd.Series(np.asarray(importance) if not isinstance(importance, str) else [importance] * len(texts))
    prefix = {"list": "ats list: ", "title": "title: ", "description": "description: "}[source]
    return pd.DataFrame(
        {
            "row": rows.reindex(found["row"]).to_numpy(),
            "skill_id": found["skill_id"].astype(str).to_numpy(),
            "importance": importance.reindex(found["row"]).to_numpy(),
            "evidence": (prefix + found["matched_alias"].astype(str)).to_numpy(),
            "source": source,
        }
    )


def offer_skills(offers: pd.DataFrame) -> pd.DataFrame:
    """Long ``(row, skill_id, importance, evidence)``: one row per offer row and skill, required first."""
    required_lists = offers["required_skills_text"].dropna()
    nice_lists = offers["nice_skills_text"].dropna()
    titles = offers["title"].dropna()
    sentences = description_sentences(offers["description"])
    parts = [
        _tag(required_lists, required_lists.index, "required", "list"),
        _tag(nice_lists, nice_lists.index, "nice", "list"),
        _tag(titles, titles.index, "required", "title"),
        _tag(sentences["text"], sentences["row"], sentences["kind"], "description"),
    ]
    found = pd.concat(parts, ignore_index=True)
    if found.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SKILL_COLUMNS})
    # context sentences count only for offers whose description marks no skill at all
    context = found["importance"] == "context"
    marked_rows = found.loc[(found["source"] == "description") & ~context, "row"].unique()
    found = found.loc[~(context & found["row"].isin(marked_rows))]
    found.loc[found["importance"] == "context", "importance"] = "required"

    has_list = found.loc[found["source"] == "list", "row"].unique()
    from_description = found["source"] == "description"
    described = found.loc[from_description].groupby(["row", "skill_id"])["importance"].agg(set)
    only_nice = described[described.map(lambda kinds: kinds == {"nice"})].index
    key = pd.MultiIndex.from_frame(found[["row", "skill_id"]])
    # Recruitee mixes both lists in "requirements": the description says which were only nice to have
    demoted = (found["source"] == "list") & (found["importance"] == "required") & key.isin(only_nice)
    found.loc[demoted, "importance"] = "nice"
    # where the ATS lists skills, the description only adds nice-to-have ones it names and the lists do not
    listed = found["row"].isin(has_list)
    found = found.loc[~(listed & from_description & (found["importance"] == "required"))]
    found = found.assign(order=(found["importance"] != "required").astype(int))
    found = found.sort_values(["row", "skill_id", "order"], kind="stable").drop_duplicates(["row", "skill_id"])
    found = found.sort_values(["row", "order", "skill_id"], kind="stable")
    return found.loc[:, list(SKILL_COLUMNS)].reset_index(drop=True)
