"""The matching engine: the best people for every offer, exactly, without scoring every pair.

Skill coverage of person p for offer j, with w(s) = importance weight x IDF normalised over the
offer's skills (sum = 1) and rc the related credit::

    coverage(p, j) = sum_s w(s) * [ (1 - rc) * has(p, s) + rc * has_branch(p, branch(s)) ]

A held skill counts fully (its branch is held too: (1 - rc) + rc = 1); a missing skill whose branch
holds another of the person's skills counts rc; skills of "unrelated" branches count only when held.
So coverage is a weighted sum over 0/1 "columns" (skills, then branches): a row of a sparse
(offers x columns) weight matrix times a sparse (columns x persons) matrix.

Scoring all pairs is wasteful: 1,000,000 people x 1,000 offers is 10^9 pairs, a third of them
non-zero because of popular skills, and a blocked sparse product over all of them ran at about 25
million pairs/s here (40 s). An offer only needs its top N, and a score is bounded:
``w_skills * coverage + base + [fit_low, fit_high]`` where base (stage, side, recency) depends on the
person only. So offers are searched one at a time (:meth:`_OfferScorer.top`): the offer's columns
are read rarest first, each column's holders by decreasing base, and two bounds stop the search as
soon as nobody left can beat the N-th best score found:

* nobody beats full coverage: once a column's next holder (best base first) cannot reach the N-th
  best score with coverage 1, the rest of that column cannot either;
* people holding none of the columns read so far have at most the unread weight as coverage.

Everyone met is scored exactly (sparse row x weight vector), so the top N is the same as scoring
every pair; the tests and ``bench/bench_matching.py`` check it against the per-pair scorer of
:mod:`vivier.matching.naive`.

Scores are rounded to 1e-6; ranking is by score, then by the lower person_id, through one integer
key per person, so the top N is exact and the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vivier.matching.config import MatchingConfig
from vivier.matching.features import person_base, place_keys

SCORE_SCALE = 1_000_000  # scores are kept to 6 decimals
COVERAGE_EPSILON = 1e-9
PERSON_BITS = 32
FIRST_CHUNK_FACTOR = 4  # a column's first chunk: this many times N holders
CHUNK_GROWTH = 4  # each next chunk of the column is this many times larger


@dataclass(frozen=True)
class SkillSpace:
    """The skill columns: ids, their branch number and whether a branch-mate may stand in for them.

    Ids outside the taxonomy (``branch_of``) get a branch of their own and are never stood in for.
    """

    ids: tuple[str, ...]
    branch: np.ndarray  # int64 per skill
    relatable: np.ndarray  # bool per skill
    branches: tuple[str, ...]
    branch_of: dict[str, str]
    unrelated: tuple[str, ...]

    @classmethod
    def build(
        cls, branch_of: dict[str, str], extra_ids: list[str] | tuple[str, ...] = (), unrelated: tuple[str, ...] = ()
    ) -> SkillSpace:
        """``branch_of`` maps skill id -> branch (the taxonomy); ``unrelated`` branches never stand in."""
        ids = list(branch_of) + sorted({s for s in extra_ids if s not in branch_of})
        branches_of = [branch_of.get(s, f"~{s}") for s in ids]
        names, codes = np.unique(np.asarray(branches_of, dtype=object), return_inverse=True)
        relatable = np.array([s in branch_of and branch_of[s] not in unrelated for s in ids], dtype=bool)
        return cls(
            tuple(ids), codes.astype(np.int64), relatable, tuple(str(n) for n in names), dict(branch_of), unrelated
        )

    @classmethod
    def from_taxonomy(cls, taxonomy, unrelated: tuple[str, ...] = ()) -> SkillSpace:
        return cls.build({s.id: s.branch for s in taxonomy}, (), unrelated)

    def extended(self, skill_ids: pd.Series) -> SkillSpace:
        """This space plus the ids of ``skill_ids`` it lacks."""
        missing = {str(s) for s in skill_ids.dropna().unique()} - set(self.ids)
        if not missing:
            return self
        return SkillSpace.build(self.branch_of, [*self.ids, *missing], self.unrelated)

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.ids)}

    def codes(self, skill_ids: pd.Series) -> np.ndarray:
        """Column numbers of skill ids (-1 for ids outside the space)."""
        return pd.Categorical(skill_ids.astype(object), categories=list(self.ids)).codes.astype(np.int64)


@dataclass
class MatchInputs:
    """Everything the scorer needs, as arrays; persons are sorted by person_id."""

    space: SkillSpace
    person_ids: np.ndarray  # int64, ascending
    has_skill: sp.csr_matrix  # persons x skills, 1.0 where held
    person_base: np.ndarray  # weighted stage + side + recency, per person
    person_language: np.ndarray  # int64 codes, -1 unknown (codes shared with offers)
    person_country: np.ndarray
    person_city: np.ndarray
    offer_ids: np.ndarray  # int64
    required: sp.csr_matrix  # offers x skills, 1.0 where required
    nice: sp.csr_matrix  # offers x skills, 1.0 where nice to have (never also required)
    offer_language: np.ndarray
    offer_country: np.ndarray
    offer_city: np.ndarray
    language_skill: dict[int, int]  # language code -> skill column of "speaks that language"
    idf: np.ndarray | None = None  # rarity of every skill column; None: measured over these persons

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.offer_ids), len(self.person_ids)


def _shared_codes(*series: pd.Series) -> tuple[list[np.ndarray], list[str]]:
    """Factorise several columns over one vocabulary: the codes of each (missing -> -1), the vocabulary."""
    joined = pd.concat([s.astype("string").reset_index(drop=True) for s in series], ignore_index=True)
    codes, uniques = pd.factorize(joined, use_na_sentinel=True)
    out, start = [], 0
    for s in series:
        out.append(np.asarray(codes[start : start + len(s)], dtype=np.int64))
        start += len(s)
    return out, [str(u) for u in uniques]


def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float64), (rows[keep], cols[keep])), shape=shape, dtype=np.float64
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def prepare(
    persons: pd.DataFrame,
    person_skills: pd.DataFrame,
    offers: pd.DataFrame,
    offer_skills: pd.DataFrame,
    *,
    space: SkillSpace,
    config: MatchingConfig,
    as_of: pd.Timestamp,
    max_stage_rank: int,
    rarity: SkillRarity | None = None,
) -> MatchInputs:
    """Arrays for :func:`top_matches` from frames.

    ``persons``: the columns of ``features.PERSON_FEATURE_COLUMNS``; ``person_skills``: person_id, skill_id;
    ``offers``: job_offer_id, language, country, city; ``offer_skills``: job_offer_id, skill_id, importance
    (``required`` or ``nice``; a skill listed both ways counts as required). ``rarity``: how many people
    of the whole pool hold each skill, when ``persons`` is only a slice of it (the skills' IDF is then
    the whole pool's, so a slice scores every person exactly as a run over the whole pool does).
    """
    persons = persons.sort_values("person_id", kind="stable").reset_index(drop=True)
    offers = offers.sort_values("job_offer_id", kind="stable").reset_index(drop=True)
    space = space.extended(pd.concat([person_skills["skill_id"], offer_skills["skill_id"]], ignore_index=True))
    person_ids = persons["person_id"].to_numpy(dtype=np.int64)
    offer_ids = offers["job_offer_id"].to_numpy(dtype=np.int64)
    n_skills = len(space.ids)

    person_rows = pd.Index(person_ids).get_indexer(person_skills["person_id"].to_numpy(dtype=np.int64))
    has_skill = _binary(person_rows, space.codes(person_skills["skill_id"]), (len(person_ids), n_skills))

    offer_rows = pd.Index(offer_ids).get_indexer(offer_skills["job_offer_id"].to_numpy(dtype=np.int64))
    skill_cols = space.codes(offer_skills["skill_id"])
    is_required = (offer_skills["importance"].astype("string") == "required").fillna(False).to_numpy(dtype=bool)
    required = _binary(np.where(is_required, offer_rows, -1), skill_cols, (len(offer_ids), n_skills))
    nice_all = _binary(np.where(~is_required, offer_rows, -1), skill_cols, (len(offer_ids), n_skills))
    nice = (nice_all - nice_all.multiply(required)).tocsr()
    nice.eliminate_zeros()

    languages, vocabulary = _shared_codes(
        persons["language"].astype("string").str.lower(), offers["language"].astype("string").str.lower()
    )
    countries, _ = _shared_codes(
        persons["country"].astype("string").str.upper(), offers["country"].astype("string").str.upper()
    )
    cities, _ = _shared_codes(place_keys(persons["city"]), place_keys(offers["city"]))
    index = space.index
    language_skill = {
        code: index[skill]
        for code, language in enumerate(vocabulary)
        if (skill := config.language.skill_for_language.get(language)) in index
    }
    return MatchInputs(
        space=space,
        person_ids=person_ids,
        has_skill=has_skill,
        person_base=person_base(persons, config, as_of, max_stage_rank),
        person_language=languages[0],
        person_country=countries[0],
        person_city=cities[0],
        offer_ids=offer_ids,
        required=required,
        nice=nice,
        offer_language=languages[1],
        offer_country=countries[1],
        offer_city=cities[1],
        language_skill=language_skill,
        idf=skill_idf(has_skill) if rarity is None else rarity.idf(space),
    )


def _idf(n_persons: int, holders: np.ndarray) -> np.ndarray:
    return np.log((1.0 + n_persons) / (1.0 + holders.astype(np.float64))) + 1.0


def skill_idf(has_skill: sp.csr_matrix, enabled: bool = True) -> np.ndarray:
    """Smoothed inverse document frequency of every skill over the pool: ln((1 + N) / (1 + df)) + 1."""
    n_persons, n_skills = has_skill.shape
    if not enabled:
        return np.ones(n_skills, dtype=np.float64)
    return _idf(n_persons, np.bincount(has_skill.indices, minlength=n_skills))


@dataclass(frozen=True)
class SkillRarity:
    """The whole pool's skill counts (people, and holders of each skill id), measured once for a run
    that matches the pool slice by slice; :meth:`idf` gives exactly what :func:`skill_idf` gives over
    the whole pool."""

    persons: int
    holders: dict[str, int]

    def idf(self, space: SkillSpace) -> np.ndarray:
        holders = np.array([self.holders.get(s, 0) for s in space.ids], dtype=np.int64)
        return _idf(self.persons, holders)

    def to_dict(self) -> dict:
        return {"persons": int(self.persons), "holders": {str(k): int(v) for k, v in self.holders.items()}}

    @classmethod
    def from_dict(cls, value: dict) -> SkillRarity:
        return cls(int(value["persons"]), {str(k): int(v) for k, v in value["holders"].items()})


def offer_weights(inputs: MatchInputs, config: MatchingConfig) -> sp.csr_matrix:
    """w(s) per offer skill: importance x IDF, normalised to sum 1 over each offer's skills."""
    s = config.skills
    if not s.idf:
        idf = np.ones(len(inputs.space.ids), dtype=np.float64)
    else:
        idf = skill_idf(inputs.has_skill) if inputs.idf is None else inputs.idf
    weights = (inputs.required * s.required_weight + inputs.nice * s.nice_weight).tocsr()
    weights = weights.multiply(idf[np.newaxis, :]).tocsr()
    totals = np.asarray(weights.sum(axis=1)).ravel()
    scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.diags(scale) @ weights


def _branch_one_hot(space: SkillSpace) -> sp.csr_matrix:
    """skills x branches, 1 where a relatable skill sits in a branch."""
    n_skills, n_branches = len(space.ids), len(space.branches)
    rows = np.flatnonzero(space.relatable)
    return sp.csr_matrix(
        (np.ones(len(rows)), (rows, space.branch[rows])), shape=(n_skills, n_branches), dtype=np.float64
    )


def column_weights(inputs: MatchInputs, config: MatchingConfig) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(offers x columns) coverage weights and (persons x columns) 0/1 holdings; columns = skills, then branches."""
    rc = config.skills.related_credit
    weights = offer_weights(inputs, config)
    one_hot = _branch_one_hot(inputs.space)
    direct = weights @ sp.diags(1.0 - rc * inputs.space.relatable.astype(np.float64))
    by_branch = (weights @ one_hot) * rc
    holds_branch = (inputs.has_skill @ one_hot).tocsr()
    holds_branch.data[:] = 1.0
    offer_columns = sp.hstack([direct, by_branch], format="csr")
    offer_columns.eliminate_zeros()
    return offer_columns, sp.hstack([inputs.has_skill, holds_branch], format="csr")


def _language_fit(
    inputs: MatchInputs, config: MatchingConfig, offer: int, persons: np.ndarray, speakers: dict[int, np.ndarray]
) -> np.ndarray:
    """Same language (or the offer's language listed among the person's skills), unknown, or other."""
    settings = config.language
    mine, theirs = inputs.person_language[persons], inputs.offer_language[offer]
    if theirs < 0:
        return np.full(len(persons), settings.unknown)
    fit = np.where(mine < 0, settings.unknown, np.where(mine == theirs, settings.same, settings.other))
    if theirs in speakers:
        fit = np.where(speakers[theirs][persons], settings.same, fit)
    return fit


def _location_fit(inputs: MatchInputs, config: MatchingConfig, offer: int, persons: np.ndarray) -> np.ndarray:
    settings = config.location
    mine, theirs = inputs.person_country[persons], inputs.offer_country[offer]
    my_city, their_city = inputs.person_city[persons], inputs.offer_city[offer]
    if theirs < 0:
        fit = np.full(len(persons), settings.unknown)
    else:
        fit = np.where(mine < 0, settings.unknown, np.where(mine == theirs, settings.same_country, settings.other))
    same_city = (my_city >= 0) & (my_city == their_city) & ((mine < 0) | (theirs < 0) | (mine == theirs))
    return np.where(same_city, settings.same_city, fit)


def _top_positions(keys: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest (unique) keys, largest first."""
    if len(keys) > k:
        chosen = np.argpartition(keys, len(keys) - k)[len(keys) - k :]
    else:
        chosen = np.arange(len(keys))
    return chosen[np.argsort(-keys[chosen], kind="stable")]


@dataclass
class _Offer:
    """One offer as the scorer reads it."""

    index: int
    columns: np.ndarray  # its columns, rarest first
    column_weight: np.ndarray  # their coverage weights (sum 1)
    weights: np.ndarray  # the same weights, dense over every column
    required: np.ndarray  # 1 on required skill columns, dense over every column
    n_required: int


class _OfferScorer:
    """Finds one offer's top N in the whole pool (see the module doc for the pruning)."""

    def __init__(self, inputs: MatchInputs, config: MatchingConfig):
        if len(inputs.person_ids) >= 2**PERSON_BITS:
            raise ValueError("too many persons for the ranking key")
        self.inputs, self.config = inputs, config
        self.offer_columns, self.person_columns = column_weights(inputs, config)
        # each column's holders, listed by decreasing stage + side + recency (ties: lower person first)
        self.by_base = np.lexsort((np.arange(len(inputs.person_ids)), -inputs.person_base)).astype(np.int64)
        self.column_persons = self.person_columns[self.by_base].T.tocsr()
        self.column_df = np.diff(self.column_persons.indptr)
        self.speakers = {
            code: np.asarray(inputs.has_skill[:, column].toarray()).ravel() > 0
            for code, column in inputs.language_skill.items()
        }
        w, lang, place = config.weights, config.language, config.location
        language_values = (lang.same, lang.unknown, lang.other)
        location_values = (place.same_city, place.same_country, place.unknown, place.other)
        self.fit_low = w.language * min(language_values) + w.location * min(location_values)
        self.fit_high = w.language * max(language_values) + w.location * max(location_values)
        # the best score anyone can have, coverage aside
        self.best_bonus = (float(inputs.person_base.max()) if len(inputs.person_base) else 0.0) + self.fit_high
        self.seen = np.zeros(len(inputs.person_ids), dtype=bool)  # met while searching the current offer

    def _offer(self, index: int) -> _Offer:
        lo, hi = self.offer_columns.indptr[index], self.offer_columns.indptr[index + 1]
        columns, column_weight = self.offer_columns.indices[lo:hi], self.offer_columns.data[lo:hi]
        order = np.lexsort((columns, self.column_df[columns]))
        columns, column_weight = columns[order], column_weight[order]
        weights = np.zeros(self.person_columns.shape[1])
        weights[columns] = column_weight
        required = np.zeros(self.person_columns.shape[1])
        req_lo, req_hi = self.inputs.required.indptr[index], self.inputs.required.indptr[index + 1]
        required[self.inputs.required.indices[req_lo:req_hi]] = 1.0
        return _Offer(index, columns, column_weight, weights, required, req_hi - req_lo)

    def _row_sums(self, persons: np.ndarray, *vectors: np.ndarray) -> list[np.ndarray]:
        """For each vector v: sum of v over the columns each person holds (people hold >= 1 column)."""
        indptr = self.person_columns.indptr
        starts = indptr[persons]
        lengths = indptr[persons + 1] - starts
        first = np.cumsum(lengths) - lengths
        flat = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
        columns = self.person_columns.indices[flat]
        return [np.add.reduceat(vector[columns], first) for vector in vectors]

    @staticmethod
    def _nth_best(values: np.ndarray, n: int) -> float:
        return float(np.partition(values, len(values) - n)[len(values) - n])

    def _exact(self, offer: _Offer, persons: np.ndarray, floor: float) -> tuple[np.ndarray, ...]:
        """Eligible ``persons`` scored exactly: persons, ranking keys, quantised scores, coverage.

        People whose best case stays under ``floor`` (a score N others are known to reach) are dropped.
        """
        config, inputs, w, top_n = self.config, self.inputs, self.config.weights, self.config.top_n
        best_case = w.skills + inputs.person_base[persons] + self.fit_high  # nobody beats full coverage
        persons = persons[best_case * SCORE_SCALE + 1.0 > floor * SCORE_SCALE]
        if len(persons) == 0:
            return persons, persons, persons, np.empty(0)
        if config.hard_gate.enabled:
            coverage, held = self._row_sums(persons, offer.weights, offer.required)
            eligible = (coverage >= config.skills.min_coverage - COVERAGE_EPSILON) & (
                offer.n_required - np.rint(held) <= config.hard_gate.max_missing_required
            )
        else:
            (coverage,) = self._row_sums(persons, offer.weights)
            eligible = coverage >= config.skills.min_coverage - COVERAGE_EPSILON
        persons, coverage = persons[eligible], coverage[eligible]
        partial = w.skills * coverage + inputs.person_base[persons]
        if len(persons) > top_n:
            # the language and location fits only move a score within [fit_low, fit_high]
            floor = max(floor, self._nth_best(partial, top_n) + self.fit_low)
        keep = (partial + self.fit_high) * SCORE_SCALE + 1.0 > floor * SCORE_SCALE
        persons, coverage, partial = persons[keep], coverage[keep], partial[keep]
        total = (
            partial
            + w.language * _language_fit(inputs, config, offer.index, persons, self.speakers)
            + w.location * _location_fit(inputs, config, offer.index, persons)
        )
        quantised = np.rint(total * SCORE_SCALE).astype(np.int64)
        keys = (quantised << PERSON_BITS) | (np.int64(2**PERSON_BITS - 1) - persons)
        return persons, keys, quantised, coverage

    def top(self, index: int) -> tuple[np.ndarray, ...]:
        """(persons, quantised scores, coverage) of offer ``index``'s top N, best first.

        The offer's columns are read rarest first. A column's holders come by decreasing stage + side +
        recency ("base"), in growing chunks: nobody beats full coverage, so once a chunk's first (best)
        person cannot reach the N-th best score found, neither can the rest. People met for the first
        time are scored exactly. After each column, people who hold none of the columns read so far can
        score at most ``w_skills * (unread weight) + best_bonus``; once that is under the N-th best score
        (or the unread weight is under the minimum coverage), the search ends.
        """
        config, inputs = self.config, self.inputs
        top_n, min_coverage, w_skills = config.top_n, config.skills.min_coverage, config.weights.skills
        offer = self._offer(index)
        unread = np.maximum(offer.column_weight.sum() - np.cumsum(offer.column_weight), 0.0)
        found: list[tuple[np.ndarray, ...]] = []
        touched: list[np.ndarray] = []
        floor = -np.inf  # a score N people are known to reach
        indptr, positions = self.column_persons.indptr, self.column_persons.indices
        for step, column in enumerate(offer.columns):
            start, end, size = indptr[column], indptr[column + 1], FIRST_CHUNK_FACTOR * top_n
            while start < end:
                chunk = self.by_base[positions[start : min(start + size, end)]]
                best_case = w_skills + inputs.person_base[chunk[0]] + self.fit_high
                if best_case * SCORE_SCALE + 1.0 <= floor * SCORE_SCALE:
                    break  # the rest of the column has a lower base: none can rank
                new = chunk[~self.seen[chunk]]
                self.seen[new] = True
                touched.append(new)
                found.append(self._exact(offer, new, floor))
                n_found = sum(len(f[0]) for f in found)
                if n_found >= top_n:
                    floor = max(floor, self._nth_best(np.concatenate([f[2] for f in found]), top_n) / SCORE_SCALE)
                start, size = start + size, size * CHUNK_GROWTH
            if unread[step] < min_coverage - COVERAGE_EPSILON:
                break  # nobody unmet can reach the minimum coverage
            if (w_skills * unread[step] + self.best_bonus) * SCORE_SCALE + 1.0 <= floor * SCORE_SCALE:
                break  # nobody unmet can reach the N-th best score
        for persons in touched:
            self.seen[persons] = False
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        persons, keys, quantised, coverage = (np.concatenate(column) for column in zip(*found, strict=True))
        best = _top_positions(keys, top_n)
        return persons[best], quantised[best], coverage[best]


def top_matches(inputs: MatchInputs, config: MatchingConfig) -> pd.DataFrame:
    """The best ``config.top_n`` people per offer: job_offer_id, person_id, score, rank, coverage."""
    scorer = _OfferScorer(inputs, config)
    offers, persons, quantised, coverage, ranks = [], [], [], [], []
    for offer in range(len(inputs.offer_ids)):
        best_persons, best_quantised, best_coverage = scorer.top(offer)
        offers.append(np.full(len(best_persons), offer, dtype=np.int64))
        persons.append(best_persons)
        quantised.append(best_quantised)
        coverage.append(best_coverage)
        ranks.append(np.arange(1, len(best_persons) + 1, dtype=np.int64))
    if not offers:
        offers = persons = quantised = ranks = [np.empty(0, np.int64)]
        coverage = [np.empty(0)]
    return pd.DataFrame(
        {
            "job_offer_id": inputs.offer_ids[np.concatenate(offers)],
            "person_id": inputs.person_ids[np.concatenate(persons).astype(np.int64)],
            "score": np.concatenate(quantised) / SCORE_SCALE,
            "rank": np.concatenate(ranks),
            "coverage": np.round(np.concatenate(coverage), 6),
        }
    )
