"""Benchmark of the skill tagger.

    python bench/bench_tagging.py [--rows 1000000] [--distinct 3000] [--all-distinct 200000] [--regex]

Prints rows/s and the peak RSS (``resource.getrusage``) for
  1. ``--rows`` input rows drawn from ``--distinct`` distinct skills strings,
  2. ``--all-distinct`` rows that are all different,
and with ``--regex`` the same cases with a single-alternation regex baseline (one compiled
pattern of all alias keys with custom boundaries, run on the normalised distinct texts),
kept to justify the choice of the n-gram/trie lookup.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vivier.tagging.normalize import strip_accents  # noqa: E402
from vivier.tagging.skills import SkillMatcher  # noqa: E402
from vivier.tagging.taxonomy import SkillTaxonomy  # noqa: E402

FILLER = (
    "experience with|years of|junior|senior|knowledge of|notions de|connaissances en|Kenntnisse in|"
    "conoscenza di|team|projects|clients|ready to go|je go au bureau|mon CV|bonne maîtrise|fluent|"
    "daily use of|certifié|zertifiziert|esperienza in|advanced|basic|référent|leading"
).split("|")
SEPARATORS = [" | ", ", ", "; ", " / ", "\n", " "]


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_strings(taxonomy: SkillTaxonomy, n: int, seed: int) -> list[str]:
    """``n`` distinct skills strings: 3-10 aliases and filler words joined by separators."""
    rng = np.random.default_rng(seed)
    aliases = [e.text for e in taxonomy.alias_entries()]
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(3, 11))
        parts = [aliases[i] for i in rng.integers(0, len(aliases), size=k)]
        for _ in range(int(rng.integers(0, 3))):
            parts.insert(int(rng.integers(0, len(parts) + 1)), FILLER[int(rng.integers(0, len(FILLER)))])
        sep = SEPARATORS[int(rng.integers(0, len(SEPARATORS)))]
        text = sep.join(parts)
        if rng.random() < 0.3:
            text = text.upper() if rng.random() < 0.5 else text.lower()
        out.add(text + ("" if rng.random() < 0.7 else f" #{len(out)}"))
    return sorted(out)


class RegexBaseline:
    """One alternation of all alias keys, longest first, on casefolded accent-stripped texts.

    Boundaries: ``(?<![\\w+#.])`` - no word character, "+", "#" or "." just before (so "Java" is
    not found in "JavaScript" nor "NET" in "ASP.NET"); ``(?![\\w+#])`` - no word character, "+"
    or "#" just after (so "C" is not found in "C++" or "C#"); a following "." is allowed
    ("Java."). No plural folding, standalone rules or case rules: speed comparison only.
    """

    def __init__(self, taxonomy: SkillTaxonomy):
        entries = taxonomy.alias_entries()
        keys = sorted({e.key for e in entries}, key=lambda k: (-len(k), k))
        self.skill_of = {e.key: e.skill_id for e in entries}
        self.pattern = re.compile(r"(?<![\w+#.])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w+#])")

    def extract(self, texts: pd.Series) -> pd.DataFrame:
        codes, uniques = pd.factorize(texts)
        norm = [strip_accents(str(u)).casefold() for u in uniques]
        found = pd.Series([self.pattern.findall(t) for t in norm]).explode().dropna()
        pairs = pd.DataFrame({"code": found.index.to_numpy(), "skill_id": found.map(self.skill_of).to_numpy()})
        pairs = pairs.drop_duplicates()
        rows = pd.DataFrame({"row": texts.index, "code": codes})
        return rows.merge(pairs, on="code")[["row", "skill_id"]]


def run(label: str, fn, texts: pd.Series) -> None:
    t0 = time.perf_counter()
    out = fn(texts)
    dt = time.perf_counter() - t0
    print(
        f"{label:<44} rows={len(texts):>9,} distinct={texts.nunique():>7,} out_rows={len(out):>9,} "
        f"time={dt:6.2f}s  rows/s={len(texts) / dt:>12,.0f}  peak_rss={peak_rss_mb():7.0f} MB",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=3_000)
    ap.add_argument("--all-distinct", type=int, default=200_000)
    ap.add_argument("--regex", action="store_true", help="also time the single-regex baseline")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    taxonomy = SkillTaxonomy.load()
    matcher = SkillMatcher(taxonomy)
    print(
        f"taxonomy: {len(taxonomy)} skills, {len(matcher.index.entries)} alias keys, "
        f"built in {time.perf_counter() - t0:.2f}s"
    )

    pool = make_strings(taxonomy, args.distinct, seed=1)
    rng = np.random.default_rng(2)
    many = pd.Series(np.asarray(pool, dtype=object)[rng.integers(0, len(pool), size=args.rows)])
    unique = pd.Series(make_strings(taxonomy, args.all_distinct, seed=3))
    print(f"inputs built, peak_rss={peak_rss_mb():.0f} MB")

    run(f"{args.rows:,} rows / {args.distinct:,} distinct", matcher.extract, many)
    run(f"{args.all_distinct:,} all-distinct rows", matcher.extract, unique)
    if args.regex:
        baseline = RegexBaseline(taxonomy)
        run(f"regex baseline: {args.rows:,} rows", baseline.extract, many)
        run(f"regex baseline: {args.all_distinct:,} all-distinct", baseline.extract, unique)


if __name__ == "__main__":
    main()
