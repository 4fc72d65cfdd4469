"""Stage names -> rank (how far a candidate went), from a configurable map."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from vivier.paths import INCLUDE_DIR

DEFAULT_STAGE_MAP = INCLUDE_DIR / "ingest" / "stages.yaml"


def fold(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive form of free text, whitespace collapsed (vectorised)."""
    text = series.astype("string")
    return (
        text.str.normalize("NFKD")
        .str.replace(r"\p{Mn}", "", regex=True)
        .str.lower()
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


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

    def rank(self, stage_names: pd.Series) -> pd.Series:
        """Rank of each stage name (nullable Int64): <NA> for an empty or unknown name."""
        folded = fold(stage_names)
        uniques = folded.dropna().unique()
        ranks: dict[str, int] = {}
        for value in uniques:  # the most specific (longest) phrase found decides
            for pattern, rank in self.phrases:
                if pattern.search(value):
                    ranks[value] = rank
                    break
        return folded.map(ranks).astype("Int64")

    def is_known(self, stage_names: pd.Series) -> pd.Series:
        """True where the name is empty (no stage recorded) or matches a rule."""
        blank = stage_names.isna() | (stage_names.astype("string").str.strip() == "")
        return (blank | self.rank(stage_names).notna()).astype(bool)

    def silver_medalist(self, ranks: pd.Series, status: pd.Series) -> pd.Series:
        """Rejected at or after the final-interview rank (configurable)."""
        reached = ranks.fillna(0).to_numpy(dtype=np.int64) >= self.silver_medalist_min_rank
        return pd.Series(reached & (status.to_numpy() == "rejected"), index=ranks.index)
