"""What matching reads from the CRM and writes back: the consented pool, the offers, the matches."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import db_timestamp, load_frame, stage_frame
from vivier.db.schema import job_offers
from vivier.db.sqlfiles import run_sql
from vivier.ingest.normalize import split_city_country

MATCH_COLUMNS = {
    "job_offer_id": "int",
    "person_id": "int",
    "score": "float",
    "rank": "int",
    "matched_skills": "text",
    "missing_skills": "text",
    "reason": "text",
    "run_key": "text",
    "computed_at": "timestamp",
}
OFFER_COLUMNS = ["job_offer_id", "source_system", "source_job_id", "title", "location", "country", "language", "status"]
_SOURCE_ID = re.compile(r"^\s*([a-z_]+)\s*:\s*(.+?)\s*$")


class UnknownOffersError(ValueError):
    """Some requested job ids name no offer."""


@dataclass(frozen=True)
class OfferRequest:
    """Which offers to (re)match: ``job_ids`` (CRM ids or ``source_system:source_job_id``) and/or ``since``."""

    job_ids: tuple[int | str, ...] = ()
    since: date | None = None

    @classmethod
    def from_params(cls, job_ids: Iterable[int | str] | None, since: str | date | None) -> OfferRequest:
        ids = tuple(job_ids or ())
        if isinstance(since, str):
            since = date.fromisoformat(since.strip()[:10]) if since.strip() else None
        return cls(ids, since)

    def split(self) -> tuple[list[int], list[tuple[str, str]], list[str]]:
        """CRM ids, (source_system, source_job_id) pairs, and the values that are neither."""
        numbers, sources, bad = [], [], []
        for value in self.job_ids:
            text = str(value).strip()
            if isinstance(value, int) or text.isdigit():
                numbers.append(int(text))
            elif match := _SOURCE_ID.match(text):
                sources.append((match.group(1), match.group(2)))
            else:
                bad.append(text)
        return numbers, sources, bad


def _time(value) -> pd.Series:
    return pd.to_datetime(pd.Series(value), utc=True, format="ISO8601")


def select_offers(connection: sa.Connection, request: OfferRequest) -> list[int]:
    """The job_offer_ids a run re-matches: the requested ones (all when none is named), open or not."""
    query = sa.select(job_offers.c.job_offer_id).order_by(job_offers.c.job_offer_id)
    if request.job_ids:
        numbers, sources, bad = request.split()
        if bad:
            raise UnknownOffersError(f"job ids must be CRM ids or 'source_system:source_job_id', got {bad}")
        wanted = [job_offers.c.job_offer_id.in_(numbers)] if numbers else []
        wanted += [(job_offers.c.source_system == s) & (job_offers.c.source_job_id == j) for s, j in sources]
        query = query.where(sa.or_(*wanted))
        found = connection.execute(
            sa.select(job_offers.c.job_offer_id, job_offers.c.source_system, job_offers.c.source_job_id).where(
                sa.or_(*wanted)
            )
        ).all()
        missing = [n for n in numbers if n not in {r.job_offer_id for r in found}]
        missing += [f"{s}:{j}" for s, j in sources if (s, j) not in {(r.source_system, r.source_job_id) for r in found}]
        if missing:
            raise UnknownOffersError(f"no job offer with id {missing}")
    if request.since is not None:
        since = db_timestamp(connection, pd.Timestamp(request.since, tz="UTC"))
        query = query.where(sa.or_(job_offers.c.updated_at >= since, job_offers.c.opened_at >= since))
    return list(connection.execute(query).scalars())


def stage_offer_ids(connection: sa.Connection, offer_ids: list[int]) -> None:
    """The run's offers as the temporary table ``stage_match_offers``."""
    stage_frame(connection, "stage_match_offers", pd.DataFrame({"job_offer_id": offer_ids}), {"job_offer_id": "int"})


def load_offers(connection: sa.Connection, offer_ids: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The selected offers (all statuses) and their skills."""
    stage_offer_ids(connection, offer_ids)
    offers = pd.DataFrame(run_sql(connection, "matching/selected_offers")[0].mappings().all())
    skills = pd.DataFrame(run_sql(connection, "matching/selected_offer_skills")[0].mappings().all())
    if offers.empty:
        offers = pd.DataFrame(columns=OFFER_COLUMNS)
    if skills.empty:
        skills = pd.DataFrame(columns=["job_offer_id", "skill_id", "importance"])
    offers = offers.assign(city=split_city_country(offers["location"].astype("string"))["city"])
    return offers, skills


class UnknownPoolError(ValueError):
    """A run was asked to match the members of a pool that does not exist."""


FIRST_PERSON_ID = -(2**63)  # the whole person_id range: a pool that is not split
LAST_PERSON_ID = 2**63 - 1


def check_pool(connection: sa.Connection, pool: str | None) -> None:
    """Raise :class:`UnknownPoolError` unless ``pool`` is None or the name of a pool."""
    if pool is None:
        return
    known = list(connection.execute(sa.text("SELECT name FROM pools ORDER BY name")).scalars())
    if pool not in known:
        raise UnknownPoolError(f"no pool named {pool!r}; the pools are: {', '.join(known) or 'none yet'}")


def load_pool(
    connection: sa.Connection,
    as_of: pd.Timestamp,
    pool: str | None = None,
    *,
    first_id: int | None = None,
    last_id: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The people with current consent for job offers as of ``as_of`` (only the members of ``pool``
    then, when named), and their skills; only person ids from ``first_id`` to ``last_id`` when given
    (one slice of the pool)."""
    check_pool(connection, pool)
    params = {
        "as_of": db_timestamp(connection, as_of),
        "pool": pool,
        "first_id": FIRST_PERSON_ID if first_id is None else int(first_id),
        "last_id": LAST_PERSON_ID if last_id is None else int(last_id),
    }
    persons = pd.read_sql(sa.text(_statement("matching/pool_persons")), connection, params=params)
    skills = pd.read_sql(sa.text(_statement("matching/pool_skills")), connection, params=params)
    persons["last_contact_at"] = _time(persons["last_contact_at"]).to_numpy()
    persons["is_silver_medalist"] = persons["is_silver_medalist"].fillna(False).astype(bool)
    return persons, skills


def pool_slices(connection: sa.Connection, as_of: pd.Timestamp, slices: int, pool: str | None = None) -> pd.DataFrame:
    """The pool as of ``as_of`` cut into at most ``slices`` contiguous person_id ranges of (nearly) equal
    head counts: slice, first_id, last_id, people (fewer slices than asked when fewer people)."""
    check_pool(connection, pool)
    params = {"as_of": db_timestamp(connection, as_of), "pool": pool, "slices": int(slices)}
    frame = pd.read_sql(sa.text(_statement("matching/pool_slices")), connection, params=params)
    return frame.astype({"slice": "int64", "first_id": "int64", "last_id": "int64", "people": "int64"})


def pool_skill_holders(connection: sa.Connection, as_of: pd.Timestamp, pool: str | None = None) -> dict[str, int]:
    """How many people of the pool as of ``as_of`` hold each skill (skill id -> head count)."""
    check_pool(connection, pool)
    params = {"as_of": db_timestamp(connection, as_of), "pool": pool}
    rows = connection.execute(sa.text(_statement("matching/pool_skill_counts")), params).all()
    return {str(skill): int(holders) for skill, holders in rows}


def _statement(name: str) -> str:
    from vivier.db.sqlfiles import statements

    (statement,) = statements(name)
    return statement


def replace_matches(
    connection: sa.Connection, offer_ids: list[int], matches: pd.DataFrame, *, as_of: pd.Timestamp
) -> int:
    """Delete the matches of ``offer_ids`` and write ``matches`` (their new rows) in the caller's transaction."""
    stage_offer_ids(connection, offer_ids)
    run_sql(connection, "matching/clear_matches")
    written = load_frame(connection, "matches", matches.assign(computed_at=as_of), MATCH_COLUMNS)
    connection.exec_driver_sql("DROP TABLE IF EXISTS stage_match_offers")
    return written
