"""Which side ended a rejected application: the company, or the candidate (withdrew, declined)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from vivier.ingest.stages import fold
from vivier.paths import INCLUDE_DIR

DEFAULT_REASONS = INCLUDE_DIR / "ingest" / "rejection_reasons.yaml"


def candidate_side_pattern(path: Path | str | None = None) -> re.Pattern[str]:
    words = yaml.safe_load(Path(path or DEFAULT_REASONS).read_text(encoding="utf-8"))["candidate_side"]
    folded = sorted(set(fold(pd.Series([str(w) for w in words]))), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in folded) + r")(?!\w)")


def rejection_side(
    status: pd.Series, reasons: pd.Series, hints: pd.Series, pattern: re.Pattern[str] | None = None
) -> pd.Series:
    """``company`` | ``candidate`` | ``unknown`` for rejected rows, missing otherwise.

    The ATS's own flag (``hints``) wins; else candidate-side words in the reason; else a rejection
    with a recorded reason is the company's; with no reason at all the side is unknown.
    """
    pattern = pattern or candidate_side_pattern()
    from vivier.ingest.normalize import on_distinct

    folded = fold(reasons)
    says_candidate = on_distinct(
        folded, lambda distinct: [bool(pattern.search(value)) for value in distinct], dtype="boolean"
    ).fillna(False)
    has_reason = folded.fillna("").str.len() > 0
    hint = hints.astype("string").str.lower()
    side = np.select(
        [hint.isin(["company", "candidate"]).fillna(False), says_candidate.astype(bool), has_reason],
        [hint.fillna(""), "candidate", "company"],
        default="unknown",
    )
    rejected = status.astype("string").eq("rejected").fillna(False).to_numpy()
    return pd.Series(np.where(rejected, side, None), index=status.index, dtype="string")
