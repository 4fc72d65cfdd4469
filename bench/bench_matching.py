"""Benchmark of skill-based matching: the engine on a big pool, and the per-pair scorer it replaces.

    python bench/bench_matching.py [--persons 1000000] [--offers 1000] [--top-n 50]
                                   [--sample-persons 20000] [--sample-offers 10] [--seed 7]

1. builds a synthetic pool (``vivier.matching.synthetic``: people and offers of the synthetic job
   families, about 6 skills each) - not timed;
2. times the engine end to end (``prepare``: sparse matrices, IDF, per-person factors; then
   ``top_matches``: the top N of every offer) and prints pairs/s and the peak RSS; then the
   explanations of those matches (matched and missing skills, the reason line);
3. times the straightforward per-pair Python scorer (``vivier.matching.naive``) on a sample
   (``--sample-persons`` x ``--sample-offers``), runs the engine on the same sample, checks that both
   give the same top N (ids, scores, ranks) and prints the speed-up.

The machine's load average is printed before and after: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vivier.matching.config import MatchingConfig  # noqa: E402
from vivier.matching.engine import SkillSpace, prepare, skill_idf, top_matches  # noqa: E402
from vivier.matching.explain import explain  # noqa: E402
from vivier.matching.naive import naive_top_matches  # noqa: E402
from vivier.matching.run import skill_label  # noqa: E402
from vivier.matching.synthetic import SyntheticMatchingData, synthetic_matching_data  # noqa: E402
from vivier.tagging.taxonomy import SkillTaxonomy  # noqa: E402

AS_OF = pd.Timestamp("2026-11-01", tz="UTC")
MAX_STAGE_RANK = 6


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_engine(
    data: SyntheticMatchingData, space: SkillSpace, config: MatchingConfig, *, explained: bool = False
) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    inputs = prepare(
        data.persons,
        data.person_skills,
        data.offers,
        data.offer_skills,
        space=space,
        config=config,
        as_of=AS_OF,
        max_stage_rank=MAX_STAGE_RANK,
    )
    prepared = time.perf_counter()
    result = top_matches(inputs, config)
    done = time.perf_counter()
    print(f"  prepare {prepared - started:6.2f} s, top_matches {done - prepared:6.2f} s")
    if explained:
        idf = dict(zip(inputs.space.ids, skill_idf(inputs.has_skill), strict=True))
        started_explaining = time.perf_counter()
        explain(
            result,
            data.persons,
            data.person_skills,
            data.offer_skills,
            space=inputs.space,
            idf=idf,
            labels=skill_label,
            as_of=AS_OF,
        )
        print(f"  explanations of the {len(result):,} matches: {time.perf_counter() - started_explaining:.2f} s")
    return result, done - started


def sample(data: SyntheticMatchingData, n_persons: int, n_offers: int) -> SyntheticMatchingData:
    persons = data.persons.iloc[:n_persons]
    offers = data.offers.iloc[:n_offers]
    return SyntheticMatchingData(
        persons,
        data.person_skills[data.person_skills["person_id"].isin(persons["person_id"])],
        offers,
        data.offer_skills[data.offer_skills["job_offer_id"].isin(offers["job_offer_id"])],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--offers", type=int, default=1_000)
    parser.add_argument("--top-n", type=int, default=50)
    parser.add_argument("--sample-persons", type=int, default=20_000)
    parser.add_argument("--sample-offers", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    config = MatchingConfig.load().with_changes(top_n=args.top_n)
    space = SkillSpace.from_taxonomy(SkillTaxonomy.load(), unrelated=config.skills.unrelated_branches)
    print(f"{load()} (before), config {config.digest}")
    started = time.perf_counter()
    data = synthetic_matching_data(args.persons, args.offers, seed=args.seed)
    print(
        f"synthetic pool: {len(data.persons):,} persons ({len(data.person_skills):,} skills), "
        f"{len(data.offers):,} offers ({len(data.offer_skills):,} skills) in {time.perf_counter() - started:.1f} s"
    )

    print(f"engine, {args.persons:,} persons x {args.offers:,} offers, top {args.top_n}:")
    result, elapsed = run_engine(data, space, config, explained=True)
    pairs = args.persons * args.offers
    engine_rate = pairs / elapsed
    print(
        f"  {elapsed:.2f} s for {pairs:,} pairs = {engine_rate / 1e6:,.1f} M pairs/s; "
        f"{len(result):,} matches; peak RSS {peak_rss_mb():,.0f} MB"
    )

    small = sample(data, args.sample_persons, args.sample_offers)
    print(f"per-pair scorer on a sample of {args.sample_persons:,} persons x {args.sample_offers} offers:")
    started = time.perf_counter()
    expected = naive_top_matches(
        small.persons,
        small.person_skills,
        small.offers,
        small.offer_skills,
        branch_of=space.branch_of,
        config=config,
        as_of=AS_OF,
        max_stage_rank=MAX_STAGE_RANK,
    )
    naive_elapsed = time.perf_counter() - started
    naive_rate = args.sample_persons * args.sample_offers / naive_elapsed
    print(f"  {naive_elapsed:.2f} s = {naive_rate / 1e3:,.1f} k pairs/s")
    print("engine on the same sample:")
    got, _ = run_engine(small, space, config)
    same = got.reset_index(drop=True).equals(expected.astype(got.dtypes.to_dict()).reset_index(drop=True))
    print(f"same top {args.top_n} (persons, scores, ranks) as the per-pair scorer: {'yes' if same else 'NO'}")
    print(f"speed-up of the engine over the per-pair scorer: {engine_rate / naive_rate:,.0f}x")
    print(f"{load()} (after); peak RSS {peak_rss_mb():,.0f} MB")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
