"""The reverse view for the weekly digest: the best open offers for each person."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp
from vivier.db.sqlfiles import statements


def json_list(value) -> list:
    """A JSON column as a list (PostgreSQL hands back lists, SQLite the JSON text)."""
    if isinstance(value, list):
        return value
    return json.loads(value) if isinstance(value, str) and value else []


def best_offers_per_person(connection: sa.Connection, as_of: pd.Timestamp, *, per_person: int = 5) -> pd.DataFrame:
    """Per person with current consent for job offers, their ``per_person`` best open offers.

    Columns: person_id, job_offer_id, title, location, score, person_rank (1 = best for the person),
    offer_rank (the person's rank among the offer's matches), matched_skills, missing_skills (lists), reason.
    """
    (statement,) = statements("matching/best_offers_per_person")
    frame = pd.read_sql(
        sa.text(statement), connection, params={"as_of": db_timestamp(connection, as_of), "per_person": per_person}
    )
    for column in ("matched_skills", "missing_skills"):
        frame[column] = frame[column].map(json_list)
    return frame
