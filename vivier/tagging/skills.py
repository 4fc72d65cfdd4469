"""Skill extraction from free texts (skills lists, tags, headlines), set-based.

Alias rules (see :mod:`vivier.tagging.taxonomy` for the YAML):

* texts are split into phrases on ``| , ; / : ( ) [ ] ! ?``, newlines, tabs, bullets, " - " and
  a sentence-ending dot; phrases into tokens that keep ``+ # .`` ("C++", "C#", ".NET",
  "Node.js"); tokens are case-folded, accent-stripped, plural- and feminine-folded;
* an alias matches a run of consecutive tokens inside one phrase, never part of a token
  ("Java" is not found in "JavaScript"; "C" is not found in "C++");
* ``standalone_only`` aliases ("Go", "R", "C") match only a whole phrase (a list cell "Go"),
  ``case_sensitive`` ones ("AI", "Excel") only with their exact case; with both flags, either;
* the longest match wins inside a phrase ("Java Script" -> javascript only);
* one row per (input row, skill), the first alias met is reported.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from vivier.tagging.lookup import Entry, Matches, PhraseIndex
from vivier.tagging.taxonomy import SkillTaxonomy

OUTPUT_COLUMNS = ("row", "skill_id", "matched_alias")


class SkillMatcher:
    """Tags texts with the skills of a :class:`SkillTaxonomy`.

    >>> m = SkillMatcher(SkillTaxonomy.load())
    >>> m.extract(pd.Series(["Python | JS", "Comptabilité"], index=["a", "b"]))  # doctest: +SKIP
      row     skill_id matched_alias
    0   a       python        Python
    1   a   javascript            JS
    2   b   accounting  Comptabilité
    """

    def __init__(self, taxonomy: SkillTaxonomy | None = None):
        self.taxonomy = taxonomy if taxonomy is not None else SkillTaxonomy.load()
        entries = [
            Entry(e.key, e.skill_id, e.text, e.standalone_only, e.case_sensitive) for e in self.taxonomy.alias_entries()
        ]
        self.index = PhraseIndex(entries, self.taxonomy.tokenizer)
        # Output categories: every skill id of the taxonomy (stable across calls, concat-friendly)
        # and every alias text.
        ids = self.taxonomy.ids
        position = {sid: i for i, sid in enumerate(ids)}
        self._skill_categories = pd.Index(ids, dtype=object)
        self._target_code = np.array([position[t] for t in self.index.targets], dtype=np.int64)
        alias_codes, alias_categories = pd.factorize(np.asarray([e.text for e in self.index.entries], dtype=object))
        self._alias_code = np.asarray(alias_codes, dtype=np.int64)
        self._alias_categories = pd.Index(alias_categories, dtype=object)

    # ------------------------------------------------------------------
    def match_distinct(self, texts: Iterable[str]) -> Matches:
        """Raw matches of distinct strings (positions into the given sequence)."""
        return self.index.match(list(texts))

    def skills_of(self, text: str) -> list[str]:
        """Skill ids found in one text, in order of appearance."""
        m = self.index.match([text])
        return [self.index.targets[t] for t in m.target]

    def extract(self, texts: pd.Series) -> pd.DataFrame:
        """Long format ``(row, skill_id, matched_alias)``: one row per (input row, skill).

        ``row`` holds the index labels of ``texts``; rows come in input order, then in order of
        appearance in the text. Only the distinct texts are tokenised and looked up; missing
        values give no rows. ``skill_id`` and ``matched_alias`` are categoricals.
        """
        if not isinstance(texts, pd.Series):
            texts = pd.Series(texts)
        codes, uniques = pd.factorize(texts, use_na_sentinel=True)
        distinct = [u if isinstance(u, str) else str(u) for u in np.asarray(uniques, dtype=object)]
        m = self.index.match(distinct)
        if len(m) == 0:
            return self._frame(texts.index[:0], np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

        # Matches are sorted by distinct-text position; expand them to every input row.
        n_distinct = len(distinct)
        counts = np.bincount(m.text, minlength=n_distinct)
        first = np.cumsum(counts) - counts
        codes = np.asarray(codes)
        valid = codes >= 0
        row_counts = np.zeros(len(codes), dtype=np.int64)
        row_counts[valid] = counts[codes[valid]]
        total = int(row_counts.sum())
        rows = np.repeat(np.arange(len(codes)), row_counts)
        within = np.arange(total) - np.repeat(np.cumsum(row_counts) - row_counts, row_counts)
        safe_codes = np.where(valid, codes, 0)
        match_idx = np.repeat(first[safe_codes], row_counts) + within

        return self._frame(texts.index.take(rows), m.target[match_idx], m.entry[match_idx])

    def _frame(self, rows: pd.Index, targets: np.ndarray, entries: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                OUTPUT_COLUMNS[0]: rows,
                OUTPUT_COLUMNS[1]: pd.Categorical.from_codes(
                    self._target_code[targets], categories=self._skill_categories
                ),
                OUTPUT_COLUMNS[2]: pd.Categorical.from_codes(
                    self._alias_code[entries], categories=self._alias_categories
                ),
            }
        )


def extract_skills(texts: pd.Series, taxonomy: SkillTaxonomy | None = None) -> pd.DataFrame:
    """Convenience wrapper: ``SkillMatcher(taxonomy).extract(texts)``."""
    return SkillMatcher(taxonomy).extract(texts)
