"""What the ATS exports say about consent, one signal per person, for the consent ledger.

Per person (email) over the run's applications: an unsubscribe or an explicit refusal anywhere wins
(``wants`` False); otherwise an explicit consent gives ``wants`` True with the latest expiry the ATS
recorded. People the exports say nothing about get no signal.
"""

from __future__ import annotations

import pandas as pd

SIGNAL_COLUMNS = ["email", "wants", "expires_at", "content_sha256"]


def _flag(applications: pd.DataFrame, column: str) -> pd.Series:
    if column not in applications.columns:
        return pd.Series(pd.NA, index=applications.index, dtype="boolean")
    values = applications[column]
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        lowered = values.astype("string").str.strip().str.lower()
        values = lowered.map({"true": True, "false": False, "1": True, "0": False}, na_action="ignore")
    return values.astype("boolean")


def consent_signals(applications: pd.DataFrame) -> pd.DataFrame:
    """``email, wants, expires_at, content_sha256`` for every person an export recorded consent about."""
    consent = _flag(applications, "consent_future_jobs")
    unsubscribed = _flag(applications, "unsubscribed")
    refuses = unsubscribed.fillna(False) | consent.eq(False).fillna(False)
    agrees = consent.eq(True).fillna(False)
    expires = (
        pd.to_datetime(applications["consent_expires_at"], utc=True, errors="coerce", format="mixed")
        if "consent_expires_at" in applications.columns
        else pd.Series(pd.NaT, index=applications.index, dtype="datetime64[ns, UTC]")
    )
    said = refuses | agrees
    if not said.any():
        return pd.DataFrame({column: pd.Series(dtype=object) for column in SIGNAL_COLUMNS})
    frame = pd.DataFrame(
        {
            "email": applications.loc[said, "email"],
            "refuses": refuses[said],
            "expires_at": expires[said].where(agrees[said]),
            "content_sha256": applications.loc[said, "content_sha256"],
        }
    )
    per_person = frame.groupby("email", sort=True).agg(
        refuses=("refuses", "any"), expires_at=("expires_at", "max"), content_sha256=("content_sha256", "last")
    )
    return pd.DataFrame(
        {
            "email": per_person.index,
            "wants": ~per_person["refuses"].to_numpy(dtype=bool),
            "expires_at": per_person["expires_at"].to_numpy(),
            "content_sha256": per_person["content_sha256"].to_numpy(),
        }
    )
