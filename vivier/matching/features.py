"""Per-person factors of the score (stage reached, rejection side, recency) and place keys.

Only the columns named here are read: age, gender or any other protected attribute never reach the
score because nothing asks for them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vivier.matching.config import MatchingConfig
from vivier.tagging.normalize import strip_accents

PERSON_FEATURE_COLUMNS = (
    "person_id",
    "language",
    "country",
    "city",
    "furthest_stage_rank",
    "is_silver_medalist",
    "rejection_side",
    "last_contact_at",
)
OFFER_FEATURE_COLUMNS = ("job_offer_id", "language", "country", "city")
SECONDS_PER_DAY = 86_400.0


def place_keys(values: pd.Series) -> pd.Series:
    """Case- and accent-free keys of place names ("Saint-Étienne" == "saint etienne"); blank -> missing."""
    text = values.astype("string").str.strip()
    distinct = text.dropna().unique()
    folded = {v: " ".join(strip_accents(v).casefold().replace("-", " ").split()) for v in distinct}
    keys = text.map(folded).astype("string")
    return keys.mask(keys == "")


def stage_factor(rank: pd.Series, silver: pd.Series, config: MatchingConfig, max_rank: int) -> np.ndarray:
    """1 for silver medalists, else the furthest stage's share of the highest rank, capped below."""
    ranks = pd.to_numeric(rank, errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    share = np.clip(ranks / float(max_rank), 0.0, 1.0) * config.stage.others_max
    is_silver = silver.fillna(False).astype(bool).to_numpy()
    return np.where(is_silver, config.stage.silver_medalist, share)


def side_factor(side: pd.Series, config: MatchingConfig) -> np.ndarray:
    values = {"company": config.rejection_side.company, "candidate": config.rejection_side.candidate}
    return side.astype("string").map(values).fillna(config.rejection_side.unknown).to_numpy(dtype=np.float64)


def recency_factor(last_contact: pd.Series, as_of: pd.Timestamp, config: MatchingConfig) -> np.ndarray:
    """Halves every ``half_life_days`` since the last contact; 0 when never in contact; no bonus for the future."""
    moments = pd.to_datetime(last_contact, utc=True, format="ISO8601")
    age_days = (pd.Timestamp(as_of) - moments).dt.total_seconds().to_numpy(dtype=np.float64) / SECONDS_PER_DAY
    known = ~np.isnan(age_days)
    factor = np.zeros(len(age_days), dtype=np.float64)
    factor[known] = np.power(0.5, np.maximum(age_days[known], 0.0) / config.recency_half_life_days)
    return factor


def person_base(persons: pd.DataFrame, config: MatchingConfig, as_of: pd.Timestamp, max_rank: int) -> np.ndarray:
    """The part of the score that depends on the person only (stage, side, recency), weighted."""
    w = config.weights
    stage = stage_factor(persons["furthest_stage_rank"], persons["is_silver_medalist"], config, max_rank)
    side = side_factor(persons["rejection_side"], config)
    recency = recency_factor(persons["last_contact_at"], as_of, config)
    return w.stage * stage + w.rejection_side * side + w.recency * recency
