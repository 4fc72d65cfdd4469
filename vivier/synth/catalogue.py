"""The job catalogue of a synthetic company.

The catalogue depends only on the seed and the number of jobs, so a candidate export and a job
export generated with the same seed and job count refer to the same jobs (same ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vivier.synth._rng import rng_for, uuids
from vivier.synth.pools import locale_pool
from vivier.synth.timefmt import DAY
from vivier.synth.vocab import (
    EMPLOYMENT_TYPES,
    EMPLOYMENT_WEIGHTS,
    JOB_FAMILIES,
    LOCALES,
    SKILLS,
)

JOB_COUNTRY_WEIGHTS = (0.60, 0.15, 0.15, 0.10)  # FR, GB, DE, IT
REMOTE = (
    ("Sur site", "On-site", "onsite"),
    ("Hybride", "Hybrid", "hybrid"),
    ("Télétravail complet", "Remote", "remote"),
)


@dataclass(frozen=True)
class Job:
    index: int
    family: int
    lang: str  # language of the offer: "fr" or "en"
    title: str
    department: str
    city: str
    country: int  # index into vocab.COUNTRIES
    status: str  # "open" | "closed" | "draft"
    created: int  # epoch seconds
    employment: int  # index into vocab.EMPLOYMENT_TYPES
    remote: int  # index into REMOTE
    years_min: int
    required: tuple[str, ...]  # skill wordings as written in the offer
    nice: tuple[str, ...]
    intro: str
    profile: str
    bonus: str
    greenhouse_id: int
    lever_id: str
    teamtailor_id: str
    recruitee_id: int
    workable_shortcode: str
    reference: str

    @property
    def description(self) -> str:
        """Plain-text description (intro, requirements, nice-to-have)."""
        return "\n\n".join((self.intro, self.profile, self.bonus))

    @property
    def html(self) -> str:
        return "".join(f"<p>{_escape(p)}</p>" for p in (self.intro, self.profile, self.bonus))

    def requirements_html(self) -> str:
        return "<ul>" + "".join(f"<li>{_escape(s)}</li>" for s in self.required) + "</ul>"

    def nice_html(self) -> str:
        return "<ul>" + "".join(f"<li>{_escape(s)}</li>" for s in self.nice) + "</ul>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_INTRO = {
    "fr": (
        "Dans le cadre de notre croissance, nous recherchons un(e) {title} pour renforcer notre équipe "
        "{dept} à {city}.",
        "Rejoignez notre équipe {dept} basée à {city} en tant que {title} !",
        "Nous recrutons un(e) {title} en {contract} pour notre site de {city}.",
    ),
    "en": (
        "We are growing and looking for {a_title} to join our {dept} team in {city}.",
        "Join our {dept} team in {city} as {a_title}!",
        "We are hiring {a_title} ({contract}) for our {city} office.",
    ),
}
_PROFILE = {
    "fr": (
        "Vous maîtrisez {req} et justifiez d'au moins {years} ans d'expérience sur un poste similaire.",
        "De formation supérieure, vous avez une expérience significative ({years} ans minimum) et une bonne "
        "maîtrise de {req}.",
        "Compétences indispensables : {req}. Expérience : {years} ans minimum.",
    ),
    "en": (
        "You have solid hands-on experience with {req} and at least {years} years in a similar role.",
        "Must have: {req}. {years}+ years of relevant experience.",
        "You are comfortable with {req} and bring {years} or more years of experience.",
    ),
}
_BONUS = {
    "fr": (
        "La connaissance de {nice} serait un plus.",
        "Une première expérience avec {nice} est appréciée.",
        "Idéalement, vous avez déjà utilisé {nice}.",
    ),
    "en": (
        "Experience with {nice} is a plus.",
        "Nice to have: {nice}.",
        "Bonus points if you have worked with {nice}.",
    ),
}


def join_words(words: tuple[str, ...] | list[str], lang: str, last: str | None = None) -> str:
    """ "a, b et c" / "a, b and c" (``last`` overrides the final conjunction)."""
    conj = last or ("et" if lang == "fr" else "and")
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conj} " + words[-1]


def pick_skill_words(rng: np.random.Generator, keys: list[str], lang: str) -> tuple[str, ...]:
    """One wording per skill: usually the plain wording of the language, sometimes an alias."""
    out = []
    for key in keys:
        variants = SKILLS[key].variants(lang)
        u = rng.random()
        out.append(variants[0] if u < 0.7 else variants[int((u - 0.7) / 0.3 * len(variants)) % len(variants)])
    return tuple(out)


@lru_cache(maxsize=16)
def build_catalogue(seed: int, n_jobs: int, as_of_secs: int) -> tuple[Job, ...]:
    rng = rng_for(seed, "catalogue")
    weights = np.array([f.weight for f in JOB_FAMILIES])
    families = rng.choice(len(JOB_FAMILIES), size=n_jobs, p=weights / weights.sum())
    # every family has at least one job when there is room for it
    head = min(n_jobs, len(JOB_FAMILIES))
    families[:head] = rng.permutation(len(JOB_FAMILIES))[:head]
    countries = rng.choice(4, size=n_jobs, p=JOB_COUNTRY_WEIGHTS)
    lever_ids = uuids(rng, n_jobs)
    shortcodes = [u.replace("-", "")[:10].upper() for u in uuids(rng, n_jobs)]
    gh_offset = 4_000_000 + (seed % 97) * 10_000
    jobs = []
    for i in range(n_jobs):
        fam = JOB_FAMILIES[int(families[i])]
        country = int(countries[i])
        lang = "fr" if (country == 0 and rng.random() < 0.9) else "en"
        titles = fam.titles_fr if lang == "fr" else fam.titles_en
        title = titles[int(rng.integers(len(titles)))]
        u = rng.random()
        if u < 0.15:
            title = ("Senior " if lang == "en" else "") + title + (" senior" if lang == "fr" else "")
        elif u < 0.25:
            title = ("Junior " if lang == "en" else "") + title + (" junior" if lang == "fr" else "")
        if lang == "fr":
            title += str(rng.choice(["", "", " (H/F)", " H/F", " (F/H)"]))
        pool = locale_pool(LOCALES[country])
        # the first cities of each pool are the big ones
        city = str(pool.cities[int(rng.integers(min(len(pool.cities), 20)))])
        status = str(rng.choice(["open", "closed", "draft"], p=[0.8, 0.15, 0.05]))
        created = as_of_secs - int(rng.integers(5, 700)) * DAY - int(rng.integers(0, DAY))
        employment = int(rng.choice(len(EMPLOYMENT_TYPES), p=EMPLOYMENT_WEIGHTS))
        remote = int(rng.choice(3, p=[0.45, 0.45, 0.10]))
        years = int(rng.choice([0, 1, 2, 3, 5, 7], p=[0.08, 0.15, 0.27, 0.25, 0.18, 0.07]))
        n_skills = len(fam.skills)
        w = np.linspace(1.0, 0.3, n_skills)
        order = np.argsort(-(rng.random(n_skills) ** (1.0 / w)), kind="stable")
        n_req = int(rng.integers(3, 6))
        n_nice = int(rng.integers(1, 4))
        req_keys = [fam.skills[j] for j in order[:n_req]]
        nice_keys = [fam.skills[j] for j in order[n_req : n_req + n_nice]]
        required = pick_skill_words(rng, req_keys, lang)
        nice = pick_skill_words(rng, nice_keys, lang)
        dept = fam.department_fr if lang == "fr" else fam.department_en
        contract = EMPLOYMENT_TYPES[employment][0 if lang == "fr" else 1]
        article = "an" if title[:1].lower() in "aeiou" else "a"
        fill = {
            "title": title,
            "a_title": f"{article} {title}",
            "dept": dept,
            "city": city,
            "contract": contract,
            "years": max(years, 1),
            "req": join_words(required, lang),
            "nice": join_words(nice, lang, "ou" if lang == "fr" else "or"),
        }
        intro = _INTRO[lang][int(rng.integers(3))].format(**fill)
        profile = _PROFILE[lang][int(rng.integers(3))].format(**fill)
        bonus = _BONUS[lang][int(rng.integers(3))].format(**fill)
        year = int(np.datetime64(created, "s").astype("datetime64[Y]").astype(int) + 1970)
        jobs.append(
            Job(
                index=i,
                family=int(families[i]),
                lang=lang,
                title=title,
                department=dept,
                city=city,
                country=country,
                status=status,
                created=created,
                employment=employment,
                remote=remote,
                years_min=years,
                required=required,
                nice=nice,
                intro=intro,
                profile=profile,
                bonus=bonus,
                greenhouse_id=gh_offset + i * 17 + 3,
                lever_id=lever_ids[i],
                teamtailor_id=str(310_000 + (seed % 89) * 1000 + i * 7),
                recruitee_id=1_900_000 + (seed % 83) * 1000 + i * 11,
                workable_shortcode=shortcodes[i],
                reference=f"REF-{year}-{i + 1:04d}",
            )
        )
    return tuple(jobs)


def default_job_count(applications: int) -> int:
    """Size of the catalogue behind a candidate export of ``applications`` applications."""
    return int(min(400, max(24, applications // 250)))
