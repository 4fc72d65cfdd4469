"""Stage names -> rank (how far a candidate went), from a configurable map."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from vivier.ingest.normalize import on_distinct
from vivier.paths import INCLUDE_DIR

DEFAULT_STAGE_MAP = INCLUDE_DIR / "ingest" / "stages.yaml"


def _fold_values(text: pd.Series) -> pd.Series:
    return (
        text.str.normalize("NFKD")
        .str.replace(r"\p{Mn}", "", regex=True)
        .str.lower()
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


def fold(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive form of free text, whitespace collapsed (vectorised, once per
    distinct value)."""
    return on_distinct(series.astype("string"), _fold_values)


@dataclass(frozen=True)
class StageMap:
    """Ordered rules turning a stage name into a rank, plus the silver-medalist threshold."""

    phrases: tuple[tuple[re.Pattern[str], int], ...]  # longest phrase first
    silver_medalist_min_rank: int

    @classmethod
    def load(cls, path: Path | str | None = None) -> StageMap:
        data = yaml.safe_load(Path(path or DEFAULT_STAGE_MAP).read_text(encoding="utf-8"))
        phrases: dict[str, int] = {}
        for entry in data["ranks"]:
            folded = fold(pd.Series([str(p) for p in entry["patterns"]]))
            for phrase in folded:
                phrases.setdefault(phrase, int(entry["rank"]))
        ordered = sorted(phrases.items(), key=lambda item: (-len(item[0]), item[0]))
        compiled = tuple((re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)"), rank) for p, rank in ordered)
        return cls(compiled, int(data["silver_medalist_min_rank"]))

    def _rank_of(self, folded: str) -> int | None:
        for pattern, rank in self.phrases:  # the most specific (longest) phrase found decides
            if pattern.search(folded):
                return rank
        return None

    def rank(self, stage_names: pd.Series) -> pd.Series:
        """Rank of each stage name (nullable Int64): <NA> for an empty or unknown name.

        Stage names repeat a lot: only the distinct names are folded and matched.
        """
        codes, uniques = pd.factorize(stage_names.astype("string"), use_na_sentinel=True)
        folded = fold(pd.Series(uniques, dtype="string"))
        ranks = pd.array([None if pd.isna(f) else self._rank_of(f) for f in folded], dtype="Int64")
        return pd.Series(ranks.take(codes, allow_fill=True), index=stage_names.index)

    def is_known(self, stage_names: pd.Series, *, ranks: pd.Series | None = None) -> pd.Series:
        """True where the name is empty (no stage recorded) or matches a rule (``ranks``: from ``rank``)."""
        blank = stage_names.isna() | (stage_names.astype("string").str.strip() == "")
        ranks = self.rank(stage_names) if ranks is None else ranks
        return (blank | ranks.notna()).fillna(True).astype(bool)

    def silver_medalist(self, ranks: pd.Series, status: pd.Series) -> pd.Series:
        """Rejected at or after the final-interview rank (configurable)."""
        reached = ranks.fillna(0).to_numpy(dtype=np.int64) >= self.silver_medalist_min_rank
        return pd.Series(reached & (status.to_numpy() == "rejected"), index=ranks.index)
