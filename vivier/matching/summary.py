"""What the demo prints about matching: a new open offer and its best candidates, with matched and missing skills.

People appear by CRM id and headline only (no name or e-mail on the console).
"""

from __future__ import annotations

import sqlalchemy as sa

from vivier.db.schema import job_offer_skills, job_offers, matches, persons
from vivier.matching.reverse import json_list
from vivier.matching.run import skill_label


def _labels(skill_ids: list[str], language: str) -> str:
    return ", ".join(skill_label(s, language) for s in skill_ids) or "-"


def newest_matched_offer(connection: sa.Connection) -> sa.Row | None:
    """The most recently opened open offer that has matches (ties: the higher id)."""
    query = (
        sa.select(job_offers)
        .where(job_offers.c.status == "open")
        .where(sa.exists().where(matches.c.job_offer_id == job_offers.c.job_offer_id))
        .order_by(job_offers.c.opened_at.desc().nulls_last(), job_offers.c.job_offer_id.desc())
        .limit(1)
    )
    return connection.execute(query).first()


def demo_lines(engine: sa.Engine, *, top: int = 5, language: str = "en") -> list[str]:
    """For the newest open offer with matches: its skills, then its ``top`` candidates and why."""
    with engine.connect() as connection:
        offer = newest_matched_offer(connection)
        if offer is None:
            return ["No open job offer has matches yet (no offer, or nobody with consent for job offers)."]
        wanted = connection.execute(
            sa.select(job_offer_skills.c.skill_id, job_offer_skills.c.importance)
            .where(job_offer_skills.c.job_offer_id == offer.job_offer_id)
            .order_by(job_offer_skills.c.skill_id)
        ).all()
        best = connection.execute(
            sa.select(matches, persons.c.headline)
            .join(persons, persons.c.person_id == matches.c.person_id)
            .where(matches.c.job_offer_id == offer.job_offer_id)
            .order_by(matches.c.rank)
            .limit(top)
        ).all()
        total = connection.execute(
            sa.select(sa.func.count()).select_from(matches).where(matches.c.job_offer_id == offer.job_offer_id)
        ).scalar_one()
    required = [s.skill_id for s in wanted if s.importance == "required"]
    nice = [s.skill_id for s in wanted if s.importance != "required"]
    lines = [
        f"New offer #{offer.job_offer_id} ({offer.source_system}): {offer.title} - {offer.location or 'no location'}",
        f"  required: {_labels(required, language)}",
        f"  nice to have: {_labels(nice, language)}",
        f"  {total} matching candidate(s) with consent; the best {len(best)}:",
    ]
    for row in best:
        lines += [
            f"  {row.rank:>2}. person {row.person_id} ({row.headline or 'no headline'}), score {row.score:.3f}",
            f"      matched: {_labels(json_list(row.matched_skills), language)}",
            f"      missing: {_labels(json_list(row.missing_skills), language)}",
            f"      why: {row.reason}",
        ]
    return lines
