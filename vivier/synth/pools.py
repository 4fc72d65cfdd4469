"""Value pools drawn once per locale from a seeded Faker.

Faker takes microseconds per value, far too slow for a million rows, so each locale gets a pool
of a few hundred to a few thousand names, cities and companies built once (with a fixed seed, so
the pools are the same in every run and every file) and the generator then draws indices into
them with numpy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
from faker import Faker

from vivier.synth.vocab import DE_CITIES, FR_CITIES, GB_CITIES, IT_CITIES, LOCALES

POOL_SEED = 20261101


@dataclass(frozen=True)
class LocalePool:
    locale: str
    first_names: np.ndarray  # object arrays of str
    last_names: np.ndarray
    first_slugs: np.ndarray  # ascii lower-case forms used to build e-mail addresses
    last_slugs: np.ndarray
    cities: np.ndarray
    companies: np.ndarray


def slugify(text: str) -> str:
    """ASCII lower-case form of a name for an e-mail local part ("Zänker" -> "zaenker")."""
    text = text.lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("œ", "oe"), ("æ", "ae")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in text if ch.isalnum() or ch == "-")


def _unique(values: list[str]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v and slugify(v)]


@cache
def locale_pool(locale: str) -> LocalePool:
    fake = Faker(locale)
    fake.seed_instance(POOL_SEED + LOCALES.index(locale))
    firsts = _unique([fake.first_name() for _ in range(3000)])
    lasts = _unique([fake.last_name() for _ in range(3000)])
    if locale == "fr_FR":
        cities = list(FR_CITIES)
    elif locale == "en_GB":
        cities = list(GB_CITIES)
    elif locale == "de_DE":
        # big cities first (job offices are drawn from the head of the pool), then real smaller towns
        cities = list(DE_CITIES) + [fake.city() for _ in range(60)]
    else:
        cities = list(IT_CITIES)
    companies = _unique([fake.company() for _ in range(300)])
    return LocalePool(
        locale=locale,
        first_names=np.array(firsts, dtype=object),
        last_names=np.array(lasts, dtype=object),
        first_slugs=np.array([slugify(v) for v in firsts], dtype=object),
        last_slugs=np.array([slugify(v) for v in lasts], dtype=object),
        cities=np.array(cities, dtype=object),
        companies=np.array(companies, dtype=object),
    )


def all_pools() -> tuple[LocalePool, ...]:
    return tuple(locale_pool(loc) for loc in LOCALES)
