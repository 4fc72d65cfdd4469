"""Skill-based matching of the consented talent pool to open job offers.

from vivier.matching.run import match_offers              # one run, written to ``matches``
from vivier.matching.reverse import best_offers_per_person  # the weekly digest's view
from vivier.matching.shortlist import write_shortlists    # the recruiter's CSV and HTML
from vivier.matching.summary import demo_lines            # what the demo prints

``docs/matching.md`` explains the score, the evaluation set and the benchmark.
"""
