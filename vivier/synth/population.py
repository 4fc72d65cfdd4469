"""People and their applications, generated in vectorised chunks.

A ``Population`` yields ``Chunk`` objects of about ``CHUNK_APPLICATIONS`` applications. Each
chunk holds person arrays (one entry per person) and application arrays (one entry per
application, sorted by person). Vendor writers only format what is here, so every format carries
the same information.

Determinism: all randomness comes from generators seeded by (seed, format, purpose); the
chunk size is a constant, so the same arguments always give the same chunks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

from vivier.synth._rng import rng_for
from vivier.synth.catalogue import Job
from vivier.synth.pools import all_pools
from vivier.synth.timefmt import DAY, NA
from vivier.synth.vocab import (
    CANDIDATE_REASON_WEIGHTS,
    CANDIDATE_REASONS,
    COMPANY_REASON_WEIGHTS,
    COMPANY_REASONS,
    EMAIL_DOMAINS,
    FUNNEL_ACTIVE,
    FUNNEL_REJECTED,
    JOB_FAMILIES,
    LOCALE_WEIGHTS,
    MAIN_DOMAIN_SHARE,
    OFFER_DECLINE_WEIGHTS,
    RECRUITER_COMMENTS,
    SKILLS,
    SOURCE_WEIGHTS,
    STAGES,
    TAGS,
    UNKNOWN_STAGES,
)

CHUNK_APPLICATIONS = 50_000
HISTORY_DAYS = 730
SHARED_POOL_SIZE = 2_000  # people who may show up in several files generated with the same seed
SHARED_SHARE = 0.06

STATUS_REJECTED, STATUS_ACTIVE, STATUS_HIRED = 0, 1, 2
SIDE_NONE, SIDE_COMPANY, SIDE_CANDIDATE = -1, 0, 1

DEFECT_KINDS: tuple[str, ...] = (
    "invalid_email",
    "missing_email",
    "future_date",
    "unparseable_date",
    "unknown_stage",
    "duplicate",
    "formula",
    "empty_name",
)
HUGE_FIELD = "huge_field"
HUGE_FIELD_CHARS = 10 * 1024 * 1024
FORMULAS: tuple[str, ...] = (
    '=HYPERLINK("http://x","click")',
    "@SUM(A1)",
    "=1+2",
    "-2+3+cmd|' /C calc'!A0",
)
BAD_DATES: tuple[str, ...] = (
    "31/02/2025",
    "N/A",
    "hier",
    "2025-13-45",
    "00/00/0000",
    "not a date",
    "2025-02-30T25:61:00Z",
)

_APPS_PER_PERSON = np.array([1, 2, 3, 4])
_APPS_PER_PERSON_P = np.array([0.55, 0.30, 0.10, 0.05])  # mean 1.65


@dataclass
class StageConfig:
    """How one company names its stages: labels[rank] = (French, English)."""

    labels: tuple[tuple[str, str], ...]

    @classmethod
    def draw(cls, rng: np.random.Generator) -> StageConfig:
        labels = []
        for fr, en in STAGES:
            labels.append((fr[int(rng.integers(len(fr)))], en[int(rng.integers(len(en)))]))
        return cls(tuple(labels))

    def label(self, rank: int, lang: int) -> str:
        return self.labels[rank][lang]


@dataclass
class People:
    """Person arrays (length n)."""

    loc: np.ndarray  # int8 index into vocab.LOCALES / COUNTRIES / LANGUAGES
    first: np.ndarray  # object
    last: np.ndarray
    first_slug: np.ndarray
    last_slug: np.ndarray
    email: np.ndarray  # object, None when missing
    phone: np.ndarray  # object, None when missing
    city: np.ndarray
    company: np.ndarray  # object, None when unemployed/unknown
    family: np.ndarray  # int8 index into vocab.JOB_FAMILIES
    skills: np.ndarray  # object: tuple of skill wordings
    years: np.ndarray  # float64 years of experience
    birth: np.ndarray  # int64 epoch seconds or NA
    headline: np.ndarray  # object
    consent: np.ndarray  # int8: 1 given, 0 refused, -1 not recorded
    unsubscribed: np.ndarray  # bool
    tags: np.ndarray  # object: tuple of tags
    comment: np.ndarray  # object, None mostly
    shared: np.ndarray  # bool: drawn from the shared pool

    def __len__(self) -> int:
        return len(self.loc)

    def take(self, idx: np.ndarray) -> People:
        return People(**{name: getattr(self, name)[idx] for name in self.__dataclass_fields__})

    def put(self, idx: np.ndarray, other: People) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name)[idx] = getattr(other, name)


@dataclass
class Chunk:
    """One chunk of persons and their applications (applications sorted by person)."""

    person_offset: int  # global index of the first person of the chunk
    app_offset: int  # global index of the first application of the chunk
    people: People
    n_apps: np.ndarray  # applications per person
    starts: np.ndarray  # index of each person's first application in the chunk
    # application arrays
    person: np.ndarray  # local person index
    job: np.ndarray  # index into the catalogue
    lang: np.ndarray  # 0 French, 1 English (language of the job / pipeline)
    applied: np.ndarray  # epoch seconds
    decided: np.ndarray  # rejected_at / hired_at, NA when active
    last_activity: np.ndarray
    status: np.ndarray  # STATUS_*
    rank: np.ndarray  # stage rank reached (0..4)
    side: np.ndarray  # SIDE_*
    reason: np.ndarray  # index into vocab.REASONS, -1 when none
    source: np.ndarray  # index into vocab.SOURCES
    millis: np.ndarray  # sub-second part for formats that carry milliseconds
    # person fields repeated on each application (flat formats read these; defects may alter them)
    a_first: np.ndarray
    a_last: np.ndarray
    a_email: np.ndarray
    # defects
    defect: np.ndarray  # index into DEFECT_KINDS, -1 when none
    bad_date: np.ndarray  # object: unparseable text replacing applied_at, None when fine
    unknown_stage: np.ndarray  # index into UNKNOWN_STAGES, -1 when fine
    duplicate: np.ndarray  # bool: write this application record twice
    person_duplicate: np.ndarray  # bool per person: write the person record twice (nested formats)
    huge_app: int = -1  # local index of the application carrying the huge field, -1 when none
    defect_counts: Counter = field(default_factory=Counter)

    @property
    def size(self) -> int:
        return len(self.person)

    def app_slice(self, p: int) -> range:
        start = int(self.starts[p])
        return range(start, start + int(self.n_apps[p]))


# ---------------------------------------------------------------------------------------------
# people


def _phone(loc: int, kind: int, num: int, style: int) -> str:
    """A phone number in the national style of ``loc``; style 1 is international (+33 ...)."""
    if loc == 0:  # France: 0X XX XX XX XX
        lead = (6, 7, 6, 1, 2, 3, 4, 5, 9)[kind % 9]
        d = f"{lead}{num % 10**8:08d}"
        if style == 1:
            return f"+33 {d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:9]}"
        if style == 2:
            return "0" + d
        if style == 3:
            return f"0{d[0]}.{d[1:3]}.{d[3:5]}.{d[5:7]}.{d[7:9]}"
        return f"0{d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:9]}"
    if loc == 1:  # United Kingdom
        if kind % 3 != 2:
            d = f"7{num % 10**9:09d}"
            return f"+44 {d[:4]} {d[4:]}" if style == 1 else f"0{d[:4]} {d[4:]}"
        d = f"20{num % 10**8:08d}"
        return f"+44 {d[:2]} {d[2:6]} {d[6:]}" if style == 1 else f"0{d[:2]} {d[2:6]} {d[6:]}"
    if loc == 2:  # Germany
        if kind % 3 != 2:
            d = f"1{(51, 52, 57, 60, 70, 76)[kind % 6]}{num % 10**8:08d}"
            return f"+49 {d[:3]} {d[3:]}" if style == 1 else f"0{d[:3]} {d[3:]}"
        d = f"{(30, 40, 89, 69)[kind % 4]}{num % 10**8:08d}"
        return f"+49 {d[:2]} {d[2:]}" if style == 1 else f"0{d[:2]} {d[2:]}"
    # Italy: mobiles start with 3, landlines keep their 0
    if kind % 3 != 2:
        d = f"3{(20, 28, 33, 35, 40, 47)[kind % 6]}{num % 10**7:07d}"
        text = f"{d[:3]} {d[3:6]} {d[6:]}"
    else:
        d = f"06{num % 10**8:08d}"
        text = f"{d[:2]} {d[2:6]} {d[6:]}"
    return "+39 " + text if style == 1 else text


@cache
def _family_words(family: int, lang: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All wordings of a family's skills in one flat array, with each skill's offset and count."""
    skills = [SKILLS[k] for k in JOB_FAMILIES[family].skills]
    words: list[str] = []
    offsets, counts = [], []
    for skill in skills:
        variants = skill.variants(lang)
        offsets.append(len(words))
        counts.append(len(variants))
        words.extend(variants)
    return np.array(words, dtype=object), np.array(offsets), np.array(counts)


def _skill_words(rng: np.random.Generator, family: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """3 to 8 skills per person from their family (typical ones more often), as the person words them:
    usually the plain wording of their language, sometimes an alias."""
    n = len(family)
    out = np.empty(n, dtype=object)
    counts = rng.integers(3, 9, size=n)
    for f, fam in enumerate(JOB_FAMILIES):
        idx = np.flatnonzero(family == f)
        if not len(idx):
            continue
        n_skills = len(fam.skills)
        weights = np.linspace(1.0, 0.35, n_skills)
        # weighted sampling without replacement: the k largest u ** (1 / w)
        order = np.argsort(-(rng.random((len(idx), n_skills)) ** (1.0 / weights)), axis=1, kind="stable")
        x = rng.random((len(idx), n_skills))
        chosen = np.empty((len(idx), n_skills), dtype=object)
        english = loc[idx] != 0
        for lang, rows in (("fr", ~english), ("en", english)):
            words, offsets, sizes = _family_words(f, lang)
            skill = order[rows]
            size = sizes[skill]
            u = x[rows]
            variant = np.where(u < 0.65, 0, ((u - 0.65) / 0.35 * size).astype(np.int64) % size)
            chosen[rows] = words[offsets[skill] + variant]
        for p, row, k in zip(idx.tolist(), chosen.tolist(), counts[idx].tolist(), strict=True):
            out[p] = tuple(row[:k])
    return out


def make_people(rng: np.random.Generator, n: int, as_of: int) -> People:
    """Person attributes except e-mail addresses (see ``EmailBook``)."""
    pools = all_pools()
    loc = rng.choice(len(pools), size=n, p=LOCALE_WEIGHTS).astype(np.int8)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    first_slug = np.empty(n, dtype=object)
    last_slug = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    company = np.empty(n, dtype=object)
    for li, pool in enumerate(pools):
        idx = np.flatnonzero(loc == li)
        fi = rng.integers(0, len(pool.first_names), size=len(idx))
        la = rng.integers(0, len(pool.last_names), size=len(idx))
        first[idx] = pool.first_names[fi]
        last[idx] = pool.last_names[la]
        first_slug[idx] = pool.first_slugs[fi]
        last_slug[idx] = pool.last_slugs[la]
        city[idx] = pool.cities[rng.integers(0, len(pool.cities), size=len(idx))]
        company[idx] = pool.companies[rng.integers(0, len(pool.companies), size=len(idx))]
    # how people type their own name: French exports often shout the family name
    style = rng.random(n)
    shout = (style < 0.06) & (loc == 0)
    last[shout] = [s.upper() for s in last[shout].tolist()]
    lower = style > 0.985
    first[lower] = [s.lower() for s in first[lower].tolist()]
    last[lower] = [s.lower() for s in last[lower].tolist()]
    company[rng.random(n) < 0.3] = None

    phone_kind = rng.integers(0, 60, size=n).tolist()
    phone_num = rng.integers(0, 10**9, size=n).tolist()
    phone_style = rng.choice(4, size=n, p=[0.62, 0.22, 0.10, 0.06]).tolist()
    phone = np.array(
        [
            _phone(int(lo), k, num, st)
            for lo, k, num, st in zip(loc.tolist(), phone_kind, phone_num, phone_style, strict=True)
        ],
        dtype=object,
    )
    phone[rng.random(n) < 0.08] = None

    weights = np.array([f.weight for f in JOB_FAMILIES])
    family = rng.choice(len(JOB_FAMILIES), size=n, p=weights / weights.sum()).astype(np.int8)
    skills = _skill_words(rng, family, loc)
    raw_years = np.clip(rng.gamma(1.6, 4.0, size=n), 0, 40)
    years = np.where(rng.random(n) < 0.8, np.round(raw_years), np.round(raw_years * 2) / 2)
    age_days = ((22 + years + rng.gamma(2.0, 2.0, size=n)) * 365.25).astype(np.int64) + rng.integers(0, 365, n)
    birth = as_of - age_days * DAY
    birth[rng.random(n) < 0.35] = NA

    # headline: "Senior Data Analyst at X" / "Développeur Python chez X"
    title_pick = rng.random(n).tolist()
    seniority = rng.random(n).tolist()
    with_company = (rng.random(n) < 0.35).tolist()
    headline = np.empty(n, dtype=object)
    for i, (lo, fa, y) in enumerate(zip(loc.tolist(), family.tolist(), years.tolist(), strict=True)):
        fam = JOB_FAMILIES[fa]
        fr = lo == 0
        titles = fam.titles_fr if fr else fam.titles_en
        text = titles[int(title_pick[i] * len(titles))]
        if y < 2 and seniority[i] < 0.5:
            text = f"{text} junior" if fr else f"Junior {text}"
        elif y >= 8 and seniority[i] < 0.6:
            text = f"{text} senior" if fr else f"Senior {text}"
        if with_company[i] and company[i] is not None:
            text += (" chez " if fr else " at ") + company[i]
        headline[i] = text

    consent = rng.choice(np.array([1, 0, -1], dtype=np.int8), size=n, p=[0.55, 0.25, 0.20])
    unsubscribed = rng.random(n) < 0.06
    n_tags = rng.choice(4, size=n, p=[0.45, 0.30, 0.17, 0.08])
    tag_draw = rng.integers(0, len(TAGS), size=(n, 3)).tolist()
    tags = np.empty(n, dtype=object)
    for i, k in enumerate(n_tags.tolist()):
        tags[i] = tuple(dict.fromkeys(TAGS[t] for t in tag_draw[i][:k]))
    comment = np.full(n, None, dtype=object)
    has_comment = np.flatnonzero(rng.random(n) < 0.08)
    comment[has_comment] = [
        RECRUITER_COMMENTS[c] for c in rng.integers(0, len(RECRUITER_COMMENTS), len(has_comment)).tolist()
    ]
    return People(
        loc=loc,
        first=first,
        last=last,
        first_slug=first_slug,
        last_slug=last_slug,
        email=np.full(n, None, dtype=object),
        phone=phone,
        city=city,
        company=company,
        family=family,
        skills=skills,
        years=years,
        birth=birth,
        headline=headline,
        consent=consent,
        unsubscribed=unsubscribed,
        tags=tags,
        comment=comment,
        shared=np.zeros(n, dtype=bool),
    )


class EmailBook:
    """Builds e-mail addresses from names, unique within one file (numeric suffix on clashes)."""

    def __init__(self, counts: dict[int, int] | None = None) -> None:
        # key: hash of the clean address; only equality within this process matters
        self.counts: dict[int, int] = dict(counts or {})

    def assign(self, rng: np.random.Generator, people: People, idx: np.ndarray) -> None:
        n = len(idx)
        if not n:
            return
        pattern = rng.choice(7, size=n, p=[0.42, 0.14, 0.14, 0.08, 0.08, 0.07, 0.07]).tolist()
        main = (rng.random(n) < MAIN_DOMAIN_SHARE).tolist()
        dom_pick = rng.random(n).tolist()
        noise = rng.random(n).tolist()
        counts = self.counts
        for j, p in enumerate(idx.tolist()):
            f = people.first_slug[p]
            la = people.last_slug[p]
            pat = pattern[j]
            if pat == 0:
                local = f"{f}.{la}"
            elif pat == 1:
                local = f + la
            elif pat == 2:
                local = f[0] + la
            elif pat == 3:
                local = f"{f}_{la}"
            elif pat == 4:
                local = f"{la}.{f}"
            elif pat == 5:
                local = f"{f[0]}.{la}"
            else:
                local = f"{f}-{la}"
            domains = EMAIL_DOMAINS[people.loc[p]]
            dom = domains[0] if main[j] else domains[1 + int(dom_pick[j] * (len(domains) - 1))]
            key = hash(local + "@" + dom)
            c = counts.get(key, 0) + 1
            counts[key] = c
            if c > 1:
                local = f"{local}{c}"
            address = local + "@" + dom
            x = noise[j]
            # as people type them: Capitalised, SHOUTED or with a stray space
            if x < 0.03:
                address = ".".join(part.capitalize() for part in local.split(".")) + "@" + dom.capitalize()
            elif x < 0.04:
                address = address.upper()
            elif x < 0.05:
                address = " " + address
            elif x < 0.06:
                address = address + " "
            people.email[p] = address


@dataclass(frozen=True)
class SharedPool:
    people: People
    counts: dict[int, int]


@lru_cache(maxsize=8)
def shared_pool(seed: int, as_of: int) -> SharedPool:
    """People who may appear (same e-mail) in every file generated with ``seed``."""
    rng = rng_for(seed, "shared-people")
    people = make_people(rng, SHARED_POOL_SIZE, as_of)
    book = EmailBook()
    book.assign(rng, people, np.arange(SHARED_POOL_SIZE))
    people.shared[:] = True
    return SharedPool(people, book.counts)


# ---------------------------------------------------------------------------------------------
# applications


class Population:
    """Streams chunks of people and applications for one file."""

    def __init__(
        self,
        fmt: str,
        seed: int,
        as_of: int,
        catalogue: tuple[Job, ...],
        *,
        defects: float = 0.0,
        nested_defects: frozenset[str] = frozenset(),
        huge_field: bool = False,
        chunk_applications: int = CHUNK_APPLICATIONS,
    ) -> None:
        if not 0.0 <= defects <= 1.0:
            raise ValueError("defects must be a rate between 0 and 1")
        self.rng = rng_for(seed, "people", fmt)
        self.as_of = as_of
        self.catalogue = catalogue
        self.rate = defects
        self.nested_defects = nested_defects
        self.huge_field = huge_field
        self.chunk_applications = chunk_applications
        shared = shared_pool(seed, as_of)
        self.shared = shared.people
        self.shared_unused = np.ones(len(self.shared), dtype=bool)
        self.book = EmailBook(shared.counts)
        self.stages = StageConfig.draw(rng_for(seed, "stages", fmt))
        family = np.array([j.family for j in catalogue], dtype=np.int16)
        self.family_jobs = [np.flatnonzero(family == f) for f in range(len(JOB_FAMILIES))]
        self.job_lang = np.array([0 if j.lang == "fr" else 1 for j in catalogue], dtype=np.int8)
        self.persons = 0
        self.applications = 0
        self.defect_counts: Counter = Counter()

    def chunks(self, applications: int) -> Iterator[Chunk]:
        if applications < 0:
            raise ValueError("applications must be >= 0")
        first = True
        while self.applications < applications:
            target = min(self.chunk_applications, applications - self.applications)
            chunk = self._chunk(target, first)
            first = False
            self.persons += len(chunk.people)
            self.applications += chunk.size
            self.defect_counts.update(chunk.defect_counts)
            yield chunk

    # -- one chunk ------------------------------------------------------------------------------
    def _chunk(self, target: int, first: bool) -> Chunk:
        rng = self.rng
        guess = int(target / 1.6) + 16
        counts = rng.choice(_APPS_PER_PERSON, size=guess, p=_APPS_PER_PERSON_P)
        while counts.sum() < target:
            counts = np.concatenate([counts, rng.choice(_APPS_PER_PERSON, size=guess, p=_APPS_PER_PERSON_P)])
        total = np.cumsum(counts)
        n_persons = int(np.searchsorted(total, target) + 1)
        counts = counts[:n_persons].copy()
        counts[-1] -= int(total[n_persons - 1] - target)
        people = make_people(rng, n_persons, self.as_of)
        self._mix_shared(people)
        self.book.assign(rng, people, np.flatnonzero(~people.shared))

        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        person = np.repeat(np.arange(n_persons), counts)
        n = target
        within = np.arange(n) - starts[person]  # 0 for the first application of a person

        # dates: first application within the history window, later ones after gaps
        first_day = self.as_of - rng.integers(1, HISTORY_DAYS, size=n_persons) * DAY
        gaps = np.where(within == 0, 0, (rng.exponential(55.0, size=n) * DAY).astype(np.int64))
        cum = np.cumsum(gaps)
        offsets = cum - np.repeat(cum[starts], counts)
        base = first_day[person]
        span = np.maximum(self.as_of - 3600 - base, DAY)
        applied = base + offsets % span + rng.integers(7 * 3600, 22 * 3600, size=n)
        applied = np.minimum(applied, self.as_of - rng.integers(600, 3600, size=n))

        # status and stage reached
        u = rng.random(n)
        recent = applied > self.as_of - 60 * DAY
        status = np.full(n, STATUS_REJECTED, dtype=np.int8)
        status[u < 0.03] = STATUS_HIRED
        active = (u >= 0.03) & ((recent & (u < 0.50)) | (u < 0.035))
        status[active] = STATUS_ACTIVE
        rank = rng.choice(5, size=n, p=FUNNEL_REJECTED).astype(np.int8)
        rank[active] = rng.choice(5, size=int(active.sum()), p=FUNNEL_ACTIVE)
        rank[status == STATUS_HIRED] = 4

        delay = ((1 + rank * 6 + rng.exponential(5.0, size=n)) * DAY).astype(np.int64)
        decided = applied + delay + rng.integers(0, 8 * 3600, size=n)
        decided = np.minimum(decided, self.as_of - rng.integers(3600, 2 * DAY, size=n))
        decided = np.maximum(decided, applied + 600)
        decided[status == STATUS_ACTIVE] = NA
        last_activity = np.where(
            status == STATUS_ACTIVE,
            np.minimum(applied + rank.astype(np.int64) * 4 * DAY + 3600, self.as_of - 600),
            decided,
        )

        # who rejected whom and why
        rejected = status == STATUS_REJECTED
        cand_p = np.where(rank == 4, 0.6, 0.18)
        side = np.full(n, SIDE_NONE, dtype=np.int8)
        side[rejected] = np.where(rng.random(int(rejected.sum())) < cand_p[rejected], SIDE_CANDIDATE, SIDE_COMPANY)
        reason = np.full(n, -1, dtype=np.int16)
        n_company = len(COMPANY_REASONS)
        n_candidate = len(CANDIDATE_REASONS)
        m = side == SIDE_COMPANY
        reason[m] = rng.choice(n_company, size=int(m.sum()), p=COMPANY_REASON_WEIGHTS)
        m = (side == SIDE_CANDIDATE) & (rank < 4)
        reason[m] = n_company + rng.choice(n_candidate, size=int(m.sum()), p=CANDIDATE_REASON_WEIGHTS)
        m = (side == SIDE_CANDIDATE) & (rank == 4)
        reason[m] = (
            n_company + n_candidate + rng.choice(len(OFFER_DECLINE_WEIGHTS), size=int(m.sum()), p=OFFER_DECLINE_WEIGHTS)
        )
        # a few rejections carry no reason at all
        reason[rejected & (rng.random(n) < 0.04)] = -1

        # job: mostly in the person's family
        job = rng.integers(0, len(self.catalogue), size=n)
        same = rng.random(n) < 0.85
        fam = people.family[person]
        for f, jobs in enumerate(self.family_jobs):
            m = same & (fam == f)
            if len(jobs) and m.any():
                job[m] = jobs[rng.integers(0, len(jobs), size=int(m.sum()))]
        # a second application to the very job of the previous one is rare: draw again once
        again = np.flatnonzero((within > 0) & (job == np.roll(job, 1)))
        job[again] = rng.integers(0, len(self.catalogue), size=len(again))
        lang = self.job_lang[job]
        source = rng.choice(len(SOURCE_WEIGHTS), size=n, p=SOURCE_WEIGHTS).astype(np.int16)
        millis = rng.integers(0, 1000, size=n)

        chunk = Chunk(
            person_offset=self.persons,
            app_offset=self.applications,
            people=people,
            n_apps=counts,
            starts=starts,
            person=person,
            job=job,
            lang=lang,
            applied=applied,
            decided=decided,
            last_activity=last_activity,
            status=status,
            rank=rank,
            side=side,
            reason=reason,
            source=source,
            millis=millis,
            a_first=people.first[person],
            a_last=people.last[person],
            a_email=people.email[person],
            defect=np.full(n, -1, dtype=np.int8),
            bad_date=np.full(n, None, dtype=object),
            unknown_stage=np.full(n, -1, dtype=np.int8),
            duplicate=np.zeros(n, dtype=bool),
            person_duplicate=np.zeros(n_persons, dtype=bool),
        )
        if self.rate > 0:
            self._defects(chunk, first)
        if first and self.huge_field and n:
            chunk.huge_app = 0
            chunk.defect_counts[HUGE_FIELD] += 1
        return chunk

    def _mix_shared(self, people: People) -> None:
        """Replace a few people by people of the shared pool (each used once per file).

        The pool is scanned from its start with some jitter, so files generated with the same seed
        pick largely the same shared people and overlap even when they are small.
        """
        picks = np.flatnonzero(self.rng.random(len(people)) < SHARED_SHARE)
        available = np.flatnonzero(self.shared_unused)
        k = min(len(picks), len(available))
        if not k:
            return
        keys = available + self.rng.exponential(30.0, size=len(available))
        chosen = available[np.argsort(keys, kind="stable")[:k]]
        self.shared_unused[chosen] = False
        people.put(picks[:k], self.shared.take(chosen))

    # -- defects --------------------------------------------------------------------------------
    def _defects(self, chunk: Chunk, first: bool) -> None:
        rng = self.rng
        n = chunk.size
        kinds = chunk.defect
        hit = rng.random(n) < self.rate
        kinds[hit] = rng.integers(0, len(DEFECT_KINDS), size=int(hit.sum()))
        if first:
            # every kind is represented at least once, on people's first applications
            present = set(kinds[kinds >= 0].tolist())
            missing = [k for k in range(len(DEFECT_KINDS)) if k not in present]
            free = chunk.starts[kinds[chunk.starts] < 0]
            take = min(len(missing), len(free))
            if take:
                kinds[rng.choice(free, size=take, replace=False)] = missing[:take]
        if self.nested_defects:
            # one person-level defect per person record: keep the first, drop the others
            codes = [DEFECT_KINDS.index(k) for k in self.nested_defects]
            level = np.isin(kinds, codes)
            idx = np.flatnonzero(level)
            if len(idx):
                _, keep = np.unique(chunk.person[idx], return_index=True)
                drop = np.ones(len(idx), dtype=bool)
                drop[keep] = False
                kinds[idx[drop]] = -1

        people = chunk.people
        nested = self.nested_defects
        for i in np.flatnonzero(kinds >= 0).tolist():
            kind = DEFECT_KINDS[kinds[i]]
            chunk.defect_counts[kind] += 1
            p = int(chunk.person[i])
            on_person = kind in nested
            if kind == "invalid_email":
                email = chunk.a_email[i] or f"{people.first_slug[p]}.{people.last_slug[p]}@gmail.com"
                local, _, domain = email.strip().partition("@")
                bad = (
                    local + "@",
                    local + domain,
                    local + "@" + domain.split(".")[0],
                    local[: len(local) // 2] + " " + local[len(local) // 2 :] + "@" + domain,
                    local + "@@" + domain,
                    "no-at-sign",
                )[int(rng.integers(6))]
                self._set_person(chunk, i, p, on_person, email=bad)
            elif kind == "missing_email":
                self._set_person(chunk, i, p, on_person, email=None)
            elif kind == "empty_name":
                self._set_person(chunk, i, p, on_person, first="", last="")
            elif kind == "formula":
                self._set_person(chunk, i, p, on_person, last=FORMULAS[int(rng.integers(len(FORMULAS)))])
            elif kind == "future_date":
                later = self.as_of + int(rng.integers(5, 400)) * DAY + int(rng.integers(0, DAY))
                if chunk.status[i] == STATUS_REJECTED:
                    chunk.decided[i] = later
                    chunk.last_activity[i] = later
                else:
                    chunk.applied[i] = later
            elif kind == "unparseable_date":
                chunk.bad_date[i] = BAD_DATES[int(rng.integers(len(BAD_DATES)))]
            elif kind == "unknown_stage":
                chunk.unknown_stage[i] = int(rng.integers(len(UNKNOWN_STAGES)))
            elif kind == "duplicate":
                if on_person:
                    chunk.person_duplicate[p] = True
                else:
                    chunk.duplicate[i] = True

    @staticmethod
    def _set_person(chunk: Chunk, i: int, p: int, on_person: bool, **values: object) -> None:
        people = chunk.people
        for name, value in values.items():
            if on_person:
                getattr(people, name)[p] = value
                # keep the per-application copies in step
                for j in chunk.app_slice(p):
                    getattr(chunk, "a_" + name)[j] = value
            else:
                getattr(chunk, "a_" + name)[i] = value

    # -- helpers for writers ----------------------------------------------------------------------
    def stage_label(self, chunk: Chunk, i: int) -> str:
        u = int(chunk.unknown_stage[i])
        if u >= 0:
            return UNKNOWN_STAGES[u]
        return self.stages.label(int(chunk.rank[i]), int(chunk.lang[i]))


def huge_text() -> str:
    """About ten megabytes of text for the huge-field defect."""
    unit = "Expérience significative en gestion de projet, Python, SQL et négociation. "
    return (unit * (HUGE_FIELD_CHARS // len(unit) + 1))[:HUGE_FIELD_CHARS]
