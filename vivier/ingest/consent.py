"""What the ATS exports say about consent, one signal per person, for the consent ledger.

Per person (email) over the run's applications: an unsubscribe or an explicit refusal anywhere wins
(``wants`` False); otherwise an explicit consent gives ``wants`` True with the latest expiry the ATS
recorded. People the exports say nothing about get no signal.
"""

from __future__ import annotations

import pandas as pd

from vivier.ingest.normalize import on_distinct

SIGNAL_COLUMNS = ["email", "wants", "expires_at", "content_sha256"]  # "email": the ``key`` column


def _flag(applications: pd.DataFrame, column: str) -> pd.Series:
    if column not in applications.columns:
        return pd.Series(pd.NA, index=applications.index, dtype="boolean")
    values = applications[column]
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        words = {"true": True, "false": False, "1": True, "0": False}
        return on_distinct(
            values.astype("string"),
            lambda distinct: distinct.str.strip().str.lower().map(words).astype("boolean"),
            dtype="boolean",
        )
    return values.astype("boolean")


def consent_signals(applications: pd.DataFrame, key: str = "email") -> pd.DataFrame:
    """``<key>, wants, expires_at, content_sha256`` for every person an export recorded consent about
    (``key``: the column that names the person, the email by default)."""
    consent = _flag(applications, "consent_future_jobs")
    unsubscribed = _flag(applications, "unsubscribed")
    refuses = unsubscribed.fillna(False) | consent.eq(False).fillna(False)
    agrees = consent.eq(True).fillna(False)
    said = refuses | agrees
    expires = pd.Series(pd.NaT, index=applications.index, dtype="datetime64[ns, UTC]")
    if "consent_expires_at" in applications.columns:  # only a consent's expiry is read
        dated = agrees & applications["consent_expires_at"].notna()
        if dated.any():
            expires[dated] = pd.to_datetime(
                applications.loc[dated, "consent_expires_at"], utc=True, errors="coerce", format="mixed"
            )
    columns = [key, *SIGNAL_COLUMNS[1:]]
    if not said.any():
        return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
    frame = pd.DataFrame(
        {
            key: applications.loc[said, key],
            "refuses": refuses[said],
            "expires_at": expires[said].where(agrees[said]),
            "content_sha256": applications.loc[said, "content_sha256"],
        }
    )
    per_person = frame.groupby(key, sort=True).agg(
        refuses=("refuses", "any"), expires_at=("expires_at", "max"), content_sha256=("content_sha256", "last")
    )
    return pd.DataFrame(
        {
            key: per_person.index,
            "wants": ~per_person["refuses"].to_numpy(dtype=bool),
            "expires_at": per_person["expires_at"].to_numpy(),
            "content_sha256": per_person["content_sha256"].to_numpy(),
        }
    )
