"""Synthetic ATS exports of rejected candidates, for the demo, the tests and the benchmarks.

Writes realistic candidate exports in each vendor's shape (Greenhouse, Lever, Teamtailor, Recruitee,
Workable JSON; a recruiter's CSV and XLSX with their column mapping) and the matching job offers.
Generation is seeded (same arguments, same bytes), relative to a fixed ``as_of`` date (never the
clock), vectorised and streamed chunk by chunk, so a million applications fit in modest memory.

    from vivier.synth import generate_export, generate_inbox
    generate_export("csv", Path("data/inbox/export.csv"), applications=1000, seed=7, defects=0.05)

Word lists (job families, skills in French and English with their aliases, stages, rejection reasons)
live in :mod:`vivier.synth.vocab`.
"""

from vivier.synth.api import (
    DEFAULT_AS_OF,
    FORMATS,
    INBOX_CANDIDATE_FILES,
    INBOX_JOB_FILES,
    JSON_FORMATS,
    ExportSummary,
    generate_export,
    generate_inbox,
    generate_jobs,
)
from vivier.synth.broken import (
    write_broken_files,
    write_empty_file,
    write_truncated_json,
    write_unknown_json_shape,
)
from vivier.synth.population import DEFECT_KINDS, HUGE_FIELD

__all__ = [
    "DEFAULT_AS_OF",
    "DEFECT_KINDS",
    "FORMATS",
    "HUGE_FIELD",
    "INBOX_CANDIDATE_FILES",
    "INBOX_JOB_FILES",
    "JSON_FORMATS",
    "ExportSummary",
    "generate_export",
    "generate_inbox",
    "generate_jobs",
    "write_broken_files",
    "write_empty_file",
    "write_truncated_json",
    "write_unknown_json_shape",
]
