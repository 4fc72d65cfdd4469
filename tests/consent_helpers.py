"""Small builders shared by the consent, pool and GDPR tests."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from vivier.db.schema import persons

AS_OF = pd.Timestamp("2026-06-01T00:00:00Z")


def add_persons(connection: sa.Connection, count: int, **columns) -> list[int]:
    """``count`` persons person<i>@example.org with the given column values; returns their ids."""
    start = connection.execute(sa.select(sa.func.count()).select_from(persons)).scalar_one()
    rows = [
        {
            "email": f"person{start + i}@example.org",
            "full_name": f"Person {start + i}",
            "created_at": AS_OF.to_pydatetime(),
            "updated_at": AS_OF.to_pydatetime(),
            **columns,
        }
        for i in range(count)
    ]
    connection.execute(persons.insert(), rows)
    emails = [row["email"] for row in rows]
    found = connection.execute(
        sa.select(persons.c.person_id).where(persons.c.email.in_(emails)).order_by(persons.c.person_id)
    )
    return list(found.scalars())
