"""Identity review suggestions computed from a load's persons, for a load into a CRM with no person yet.

The same pairs as ``sql/ingest/identity_suggestions.sql`` when every person of the CRM is in the load:
persons sharing an E.164 phone, and persons sharing a folded name in the same country, where the
shared value is held by 2 to ``max_group`` persons (more is a switchboard or a very common name,
not evidence). Never a merge: a data team reviews them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUGGESTION_RULES = ("same_phone", "similar_name")


def _pairs(person_ids: np.ndarray, group: pd.Series, within: pd.Series | None, max_group: int) -> pd.DataFrame:
    """(person_id, other_person_id), person_id < other_person_id, of persons in the same group (and
    the same ``within`` value, when given) whose group has 2 to ``max_group`` persons."""
    frame = pd.DataFrame({"person_id": person_ids, "key": group.to_numpy(dtype=object, na_value=None)})
    if within is not None:
        frame["within"] = within.to_numpy(dtype=object, na_value=None)
    frame = frame[frame["key"].notna()]
    sizes = frame.groupby("key", sort=False)["person_id"].transform("size")
    frame = frame[(sizes >= 2) & (sizes <= max_group)]
    if within is not None:
        frame = frame[frame["within"].notna()]
    on = ["key", "within"] if within is not None else ["key"]
    pairs = frame.merge(frame, on=on, suffixes=("", "_other"))
    pairs = pairs[pairs["person_id"] < pairs["person_id_other"]]
    return pd.DataFrame(
        {
            "person_id": pairs["person_id"].to_numpy(dtype=np.int64),
            "other_person_id": pairs["person_id_other"].to_numpy(dtype=np.int64),
        }
    )


def suggestion_pairs(persons: pd.DataFrame, person_ids: np.ndarray, max_group: int) -> pd.DataFrame:
    """``person_id, other_person_id, rule`` for ``persons`` (``phone_e164``, ``name_key``, ``country``
    columns, one row per person id of ``person_ids``), phone pairs first, each rule in id order."""
    person_ids = np.asarray(person_ids, dtype=np.int64)
    blocks = [
        _pairs(person_ids, persons["phone_e164"], None, max_group).assign(rule="same_phone"),
        _pairs(person_ids, persons["name_key"], persons["country"], max_group).assign(rule="similar_name"),
    ]
    return pd.concat(
        [block.sort_values(["person_id", "other_person_id"], kind="stable") for block in blocks], ignore_index=True
    )
