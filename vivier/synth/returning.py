"""A follow-up export in which some pool members apply again: the outcome the weekly report measures.

The demo runs it after the pools are filled: current pool members (lowest person ids first, so the
file is the same for the same CRM) apply to open offers at ``applied_at``, a few of them hired. The
file is a Greenhouse Harvest candidate list, ingested by ``ats_ingest`` like any other export.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

MEMBERS_SQL = """
SELECT p.person_id, p.email, p.first_name, p.last_name
FROM persons AS p
WHERE p.person_id IN (SELECT person_id FROM pool_members WHERE left_at IS NULL)
ORDER BY p.person_id
LIMIT :people
"""
OFFERS_SQL = "SELECT source_job_id, title FROM job_offers WHERE status = 'open' ORDER BY job_offer_id"


def write_returning_applications(
    engine: sa.Engine, path: Path, applied_at: pd.Timestamp, *, people: int = 12, hires: int = 3
) -> int:
    """Write the export of ``people`` pool members applying again (the first ``hires`` hired); returns the count."""
    with engine.connect() as connection:
        members = connection.execute(sa.text(MEMBERS_SQL), {"people": people}).all()
        offers = connection.execute(sa.text(OFFERS_SQL)).all() or [("returning-job", "Open application")]
    stamp = pd.Timestamp(applied_at).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    day = stamp[:10]
    candidates = []
    for index, member in enumerate(members):
        job_id, title = offers[index % len(offers)]
        hired = index < hires
        candidates.append(
            {
                "id": f"returning-{member.person_id}",
                "first_name": member.first_name,
                "last_name": member.last_name,
                "email_addresses": [{"value": member.email, "type": "personal"}],
                "applications": [
                    {
                        "id": f"returning-{member.person_id}-{day}",
                        "jobs": [{"id": job_id, "name": title}],
                        "applied_at": stamp,
                        "rejected_at": None,
                        "status": "hired" if hired else "active",
                        "current_stage": {"name": "Hired" if hired else "Phone screen"},
                        "source": {"public_name": "Talent pool"},
                    }
                ],
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(candidates, indent=1), encoding="utf-8")
    return len(candidates)
