"""Choosing what goes into each digest, set-based (pandas), for every recipient at once."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def _json_list(value: Any) -> list | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return list(value) if value is not None else None


def top_offers(candidates: pd.DataFrame, per_person: int) -> pd.DataFrame:
    """The best ``per_person`` offers of each person (score, then offer id for ties)."""
    if candidates.empty:
        return candidates.assign(matched_skills=[])
    frame = candidates.copy()
    parsed: dict[Any, list] = {}
    skills = []
    for value in frame["matched_skills"]:
        key = value if isinstance(value, str) else json.dumps(value)
        if key not in parsed:
            parsed[key] = _json_list(value) or []
        skills.append(parsed[key])
    frame["matched_skills"] = skills
    frame = frame.sort_values(["person_id", "score", "job_offer_id"], ascending=[True, False, True], kind="mergesort")
    return frame.groupby("person_id", sort=False).head(per_person).reset_index(drop=True)


def _multipliers(segment_weights: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    rows = [
        {"age_band": band, "purpose": purpose, "multiplier": float(weight)}
        for band, weights in segment_weights.items()
        for purpose, weight in weights.items()
    ]
    return pd.DataFrame(rows, columns=["age_band", "purpose", "multiplier"])


def choose_content(
    audience: pd.DataFrame,
    available: pd.DataFrame,
    already_sent: pd.DataFrame,
    *,
    purposes: Sequence[str],
    items_per_purpose: int,
    max_items: int,
    segment_weights: Mapping[str, Mapping[str, float]],
) -> pd.DataFrame:
    """Catalogue items per person: one row per (person, item), in digest order.

    ``audience`` has a row per (person_id, purpose) the person consents to at this cadence, with
    their ``language`` (the template's), ``age_band`` and ``job_family``. An item fits a person when
    it has the purpose and the language, its age bands (if any) include the person's, its job family
    (if any) is the person's, and it was not sent to them before. Items are ranked by ``weight`` x
    the segment multiplier, events soonest first; a person gets ``items_per_purpose`` x multiplier
    items of each purpose (18-24 year-olds: twice the events), at most ``max_items`` in all.
    """
    columns = ["person_id", "purpose", "item_id", "title", "summary", "url", "location", "starts_at"]
    if audience.empty or available.empty:
        return pd.DataFrame(columns=columns)
    people = audience[["person_id", "purpose", "language", "age_band", "job_family"]].copy()
    people["age_band"] = people["age_band"].fillna("unknown")
    items = available.rename(columns={"job_family": "item_family"}).copy()
    items["age_bands"] = [_json_list(v) for v in items["age_bands"]]
    open_to_all = items[items["age_bands"].isna()].drop(columns=["age_bands"])
    by_band = items[items["age_bands"].notna()].explode("age_bands").rename(columns={"age_bands": "band"})
    candidates = pd.concat(
        [
            people.merge(open_to_all, on=["purpose", "language"]),
            people.merge(
                by_band, left_on=["purpose", "language", "age_band"], right_on=["purpose", "language", "band"]
            ).drop(columns=["band"]),
        ],
        ignore_index=True,
    )
    candidates = candidates[candidates["item_family"].isna() | (candidates["item_family"] == candidates["job_family"])]
    if not already_sent.empty:
        seen = already_sent[["person_id", "item_id"]].drop_duplicates().assign(_seen=True)
        candidates = candidates.merge(seen, on=["person_id", "item_id"], how="left")
        candidates = candidates[candidates["_seen"].isna()].drop(columns=["_seen"])
    if candidates.empty:
        return pd.DataFrame(columns=columns)
    candidates = candidates.merge(_multipliers(segment_weights), on=["age_band", "purpose"], how="left")
    candidates["multiplier"] = candidates["multiplier"].fillna(1.0)
    candidates["score"] = candidates["weight"].astype(float) * candidates["multiplier"]
    candidates["starts_at"] = pd.to_datetime(candidates["starts_at"], utc=True)
    candidates = candidates.sort_values(
        ["person_id", "purpose", "score", "starts_at", "item_id"],
        ascending=[True, True, False, True, True],
        na_position="last",
        kind="mergesort",
    )
    candidates["rank"] = candidates.groupby(["person_id", "purpose"]).cumcount()
    slots = (candidates["multiplier"] * items_per_purpose).round().clip(lower=1)
    chosen = candidates[candidates["rank"] < slots].copy()
    order = {purpose: position for position, purpose in enumerate(purposes)}
    chosen["purpose_order"] = chosen["purpose"].map(order)
    chosen = chosen.sort_values(["person_id", "purpose_order", "rank"], kind="mergesort")
    chosen = chosen[chosen.groupby("person_id").cumcount() < max_items]
    return chosen[columns].reset_index(drop=True)
