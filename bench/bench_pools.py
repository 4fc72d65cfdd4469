"""Benchmark: `pools_refresh` over N people (default 1,000,000) and 50 pools, on SQLite and PostgreSQL.

Fills a fresh CRM database with synthetic people (job family, seniority, country, language, stage,
rejection side, source, dates), about five skills each, and consent for about 60% of them (recorded
through the ledger), then times `vivier.pools.refresh.refresh_pools` three times:
  1. first refresh (every member joins),
  2. the same day again (nothing changes: the steady state of a nightly run),
  3. the next day after 1% of the people withdrew their consent.
Prints people/s, seconds, peak RSS and the 1-minute load average for each (the machine may be shared:
run it at least twice). Target: under 60 s per refresh on both engines.

    python bench/bench_pools.py [--people 1000000] [--pools 50] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import fresh_database  # noqa: E402

AS_OF = "2026-11-20T03:00:00Z"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_people(count: int, seed: int = 7):
    """Persons, skill tags and consent events as DataFrames (vectorised numpy)."""
    import numpy as np
    import pandas as pd

    from vivier.tagging.families import JobFamilies
    from vivier.tagging.taxonomy import SkillTaxonomy

    rng = np.random.default_rng(seed)
    families = np.array(JobFamilies.load().ids)
    skills = np.array([skill.id for skill in SkillTaxonomy.load()])
    as_of = pd.Timestamp(AS_OF)
    applied = as_of - pd.to_timedelta(rng.integers(1, 900, count), unit="D")
    persons = pd.DataFrame(
        {
            "person_id": np.arange(1, count + 1),
            "email": [f"p{i}@bench.example" for i in range(count)],
            "job_family": families[rng.integers(0, len(families), count)],
            "seniority": np.array(["intern", "junior", "mid", "senior", "lead"])[rng.integers(0, 5, count)],
            "country": np.array(["FR", "DE", "IT", "GB", "ES"])[rng.integers(0, 5, count)],
            "language": np.array(["fr", "de", "it", "en", "en"])[rng.integers(0, 5, count)],
            "furthest_stage_rank": rng.integers(1, 7, count),
            "is_silver_medalist": rng.random(count) < 0.15,
            "rejection_side": np.array(["company", "candidate", "unknown"])[rng.integers(0, 3, count)],
            "source_system": np.array(["greenhouse", "lever", "teamtailor", "recruitee", "workable"])[
                rng.integers(0, 5, count)
            ],
            "last_applied_at": applied,
            "created_at": as_of,
            "updated_at": as_of,
        }
    )
    # skill popularity follows a Zipf-like law, as in real profiles
    weights = 1.0 / np.arange(1, len(skills) + 1)
    per_person = rng.integers(2, 9, count)
    owner = np.repeat(persons["person_id"].to_numpy(), per_person)
    drawn = rng.choice(len(skills), size=len(owner), p=weights / weights.sum())
    tags = pd.DataFrame({"person_id": owner, "kind": "skill", "value": skills[drawn]}).drop_duplicates()
    consented = persons["person_id"].to_numpy()[rng.random(count) < 0.6]
    purposes = np.array(["job_offers", "job_offers", "events", "job_market", "testimonials", "company_news"])
    events = pd.DataFrame(
        {
            "person_id": consented,
            "purpose": purposes[rng.integers(0, len(purposes), len(consented))],
            "action": "granted",
            "source": "ats_import",
            "occurred_at": as_of - pd.Timedelta(days=30),
        }
    )
    return persons, tags, events


def pool_definitions(count: int):
    """``count`` pools mixing every kind of filter."""
    from vivier.pools.definitions import parse_definitions
    from vivier.tagging.families import JobFamilies
    from vivier.tagging.taxonomy import SkillTaxonomy

    skills = [skill.id for skill in SkillTaxonomy.load()]
    families = JobFamilies.load().ids
    shapes = [
        lambda i: {"skills_any": [skills[i % 40], skills[(i * 7) % 120]]},
        lambda i: {"job_families": [families[i % len(families)]], "countries": ["FR", "DE"][: 1 + i % 2]},
        lambda i: {"silver_medalist": True, "job_families": [families[i % len(families)]]},
        lambda i: {"seniority": ["senior", "lead"], "rejection_side": ["company"], "skills_any": [skills[i % 60]]},
        lambda i: {"contacted_within_days": 183, "purposes": ["job_offers"], "languages": ["fr", "en"][: 1 + i % 2]},
        lambda i: {"min_stage_rank": 4, "sources": ["lever", "greenhouse"]},
        lambda i: {"skills_all": [skills[i % 10], skills[10 + i % 20]]},
        lambda i: {"purposes": ["events"], "countries": ["IT", "ES", "GB"][: 1 + i % 3]},
    ]
    pools = [{"name": f"pool_{i:02d}", "where": shapes[i % len(shapes)](i)} for i in range(count)]
    return parse_definitions({"pools": pools})


def fill(url: str, people: int) -> None:
    import pandas as pd

    from vivier.consent.ledger import record_events
    from vivier.db import make_engine, upgrade
    from vivier.db.bulk import load_frame

    persons, tags, events = synthetic_people(people)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        load_frame(
            connection,
            "persons",
            persons,
            {
                "person_id": "int", "email": "text", "job_family": "text", "seniority": "text", "country": "text",
                "language": "text", "furthest_stage_rank": "int", "is_silver_medalist": "bool",
                "rejection_side": "text", "source_system": "text", "last_applied_at": "timestamp",
                "created_at": "timestamp", "updated_at": "timestamp",
            },
        )  # fmt: skip
        load_frame(connection, "person_tags", tags, {"person_id": "int", "kind": "text", "value": "text"})
        record_events(connection, events, recorded_at=pd.Timestamp(AS_OF))
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT setval('persons_person_id_seq', (SELECT MAX(person_id) FROM persons))")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    print(
        f"  filled: {len(persons):,} people, {len(tags):,} skill tags, {len(events):,} consent events "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    engine.dispose()


def measure(url: str, pools: int) -> None:
    import pandas as pd
    import sqlalchemy as sa

    from vivier.consent.ledger import record_events
    from vivier.db import make_engine
    from vivier.pools.refresh import refresh_pools

    engine = make_engine(url)
    definitions = pool_definitions(pools)
    day = pd.Timestamp(AS_OF)
    with engine.connect() as connection:
        people = connection.execute(sa.text("SELECT COUNT(*) FROM persons")).scalar_one()

    def timed(label: str, as_of: pd.Timestamp) -> None:
        started = time.perf_counter()
        sizes = refresh_pools(engine, definitions, as_of)
        elapsed = time.perf_counter() - started
        members = sum(s.size for s in sizes)
        joined, left = sum(s.joined for s in sizes), sum(s.left for s in sizes)
        print(
            f"  {label:<28} {elapsed:7.1f} s  {people / elapsed:>10,.0f} people/s  "
            f"members {members:,} (+{joined:,} / -{left:,})  peak RSS {peak_rss_mb():,.0f} MB  "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )

    timed("first refresh", day)
    timed("same day again", day)
    with engine.begin() as connection:
        query = sa.text("SELECT person_id FROM consent_current WHERE is_active ORDER BY person_id")
        ids = pd.read_sql(query, connection)["person_id"]  # in order: the same 1% withdraw on every run
        withdrawing = ids.sample(frac=0.01, random_state=1)
        events = pd.DataFrame(
            {"person_id": withdrawing, "purpose": "job_offers", "action": "withdrawn", "source": "unsubscribe"}
        )
        record_events(connection, events.assign(occurred_at=day + pd.Timedelta(hours=12)))
    timed("next day, 1% withdrew", day + pd.Timedelta(days=1))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vivier-bench-pools-") as tmp:
        for engine_name in args.engines.split(","):
            print(f"{engine_name}: {args.people:,} people x {args.pools} pools", flush=True)
            url, drop = fresh_database(engine_name, Path(tmp))
            try:
                fill(url, args.people)
                measure(url, args.pools)
            finally:
                drop()


if __name__ == "__main__":
    main()
