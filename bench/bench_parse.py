"""Benchmark: parse_file on a generated 1,000,000-row recruiter CSV (cp1252-free UTF-8, ';', dd/mm/yyyy).

    python bench/bench_parse.py [--rows 1000000] [--keep DIR]

Generates the CSV in a temporary directory with numpy-made values (self-contained), then parses it in a
fresh subprocess so the reported peak RSS is the parser's alone. Prints rows/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FIRST = np.array(
    [
        "Élodie",
        "Jürgen",
        "Giulia",
        "Seán",
        "Anaïs",
        "Zoë",
        "Hervé",
        "Matteo",
        "Katharina",
        "Noémie",
        "Björn",
        "Francesca",
        "Luca",
        "Amélie",
        "Stefan",
        "Chiara",
        "François",
        "Léa",
        "Marco",
        "Ingrid",
    ]
)
LAST = np.array(
    [
        "Marchand",
        "Müller",
        "Ricci",
        "O'Connor",
        "Lefèvre",
        "Côté",
        "Esposito",
        "Groß",
        "Girard",
        "Lindqvist",
        "Romano",
        "Marino",
        "Dubois",
        "Köhler",
        "Bianchi",
        "Rousseau",
        "Perrin",
        "Fabre",
    ]
)
JOBS = np.array(
    [
        "Data Engineer",
        "Chef de projet digital",
        "Comptable",
        "Développeur Python",
        "UX Designer",
        "Juriste droit social",
        "Account Executive",
        "Product Manager",
    ]
)
STAGES = np.array(["Présélection", "Entretien RH", "Test technique", "Entretien final", "Offre"])
REASONS = np.array(
    ["Profil trop junior", "Salaire trop élevé", "Désistement", "Poste pourvu", "Autre candidat retenu", ""]
)
SIDES = np.array(["Entreprise", "Candidat", ""])
SKILLS = np.array(["Python, SQL", "Excel", "Figma; user research", "SAP FI", "Java, Spring", "Agile; Scrum", ""])
DOMAINS = np.array(["gmail.com", "orange.fr", "web.de", "libero.it", "yahoo.fr", "proton.me"])


def _dates(rng: np.random.Generator, n: int, start: str, days: int) -> np.ndarray:
    base = np.datetime64(start) + rng.integers(0, days, n).astype("timedelta64[D]")
    return pd.DatetimeIndex(base).strftime("%d/%m/%Y").to_numpy()


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    first = FIRST[rng.integers(0, len(FIRST), rows)]
    last = LAST[rng.integers(0, len(LAST), rows)]
    ids = pd.Series(rng.integers(0, 10**7, rows)).astype(str)
    local = pd.Series(first).str.lower() + "." + pd.Series(last).str.lower().str.replace("'", "") + ids
    email = local + "@" + pd.Series(DOMAINS[rng.integers(0, len(DOMAINS), rows)])
    phone = "06 " + pd.Series(rng.integers(10**7, 10**8, rows)).astype(str)
    frame = pd.DataFrame(
        {
            "Nom": last,
            "Prénom": first,
            "E-mail": email,
            "Téléphone": phone,
            "Poste": JOBS[rng.integers(0, len(JOBS), rows)],
            "Étape": STAGES[rng.integers(0, len(STAGES), rows)],
            "Motif de refus": REASONS[rng.integers(0, len(REASONS), rows)],
            "Date de candidature": _dates(rng, rows, "2023-01-01", 500),
            "Date de refus": _dates(rng, rows, "2024-06-01", 200),
            "Compétences": SKILLS[rng.integers(0, len(SKILLS), rows)],
            "Refusé par": SIDES[rng.integers(0, len(SIDES), rows)],
            "Commentaire": np.where(rng.random(rows) < 0.01, "à recontacter\nen septembre", ""),
        }
    )
    frame.to_csv(path, sep=";", index=False, encoding="utf-8")


def parse_once(path: Path) -> dict[str, float]:
    from vivier.ingest.formats import parse_file  # noqa: PLC0415 - measured in the child only

    started = time.perf_counter()
    parsed = parse_file(path, mapping_dir=path.parent)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "rows": len(parsed.applications),
        "rejected": len(parsed.rejected),
        "seconds": elapsed,
        "peak_rss_mib": peak_kib / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the CSV here instead of a temporary directory")
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.parse:
        print(json.dumps(parse_once(args.parse)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "bench_refus.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 2**20:.0f} MiB) "
            f"in {time.perf_counter() - started:.1f}s"
        )
        child = subprocess.run(
            [sys.executable, __file__, "--parse", str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"parsed {result['rows']:,} rows (+{result['rejected']} rejected) in {result['seconds']:.2f}s = "
            f"{result['rows'] / result['seconds']:,.0f} rows/s; peak RSS {result['peak_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
