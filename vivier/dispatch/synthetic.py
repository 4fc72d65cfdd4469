"""A seeded synthetic CRM population for dispatch tests, the benchmark and previews: people in four
languages and five age bands, consents and frequency choices through the consent ledger, open
offers with matches, recent rejections at every stage, and a few suppressed addresses.

Addresses use the reserved ``example.test`` domain; names carry accents on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vivier.db.bulk import load_frame

FIRST_NAMES = {
    "fr": ["Camille", "Léa", "Zoé", "Hugo", "Chloé", "Théo", "Inès", "Noé", "Anaïs", "Jérôme"],
    "en": ["Alex", "Olivia", "Jack", "Amelia", "Harry", "Isla", "Noah", "Grace", "Leo", "Ruby"],
    "de": ["Lena", "Jonas", "Jürgen", "Mia", "Lukas", "Sören", "Hannah", "Felix", "Jörg", "Maja"],
    "it": ["Giulia", "Marco", "Niccolò", "Sofia", "Luca", "Chiara", "Matteo", "Aurora", "Andrea", "Martina"],
}
LAST_NAMES = {
    "fr": ["Martin", "Bernard", "Lefèvre", "Dubois", "Moreau", "Girard", "Rousseau", "Faure"],
    "en": ["Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "O'Neil", "Hughes"],
    "de": ["Müller", "Schmidt", "Schäfer", "Weiß", "Becker", "Groß", "Koch", "Krüger"],
    "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
}
LANGUAGES = ("fr", "en", "de", "it")
LANGUAGE_SHARES = (0.55, 0.2, 0.15, 0.1)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_SHARES = (0.2, 0.35, 0.25, 0.12, 0.08)
FAMILIES = ("software_engineering", "data_analytics", "sales", "marketing_communication", "customer_support")
CONTENT_PURPOSES = ("events", "testimonials", "company_news", "job_market")
OFFER_TITLES = {
    "software_engineering": "Développeur·se Python",
    "data_analytics": "Data Analyst",
    "sales": "Business Developer",
    "marketing_communication": "Chargé·e de communication",
    "customer_support": "Conseiller·ère clientèle",
}
SKILLS = {
    "software_engineering": ["python", "sql", "docker"],
    "data_analytics": ["sql", "python", "power_bi"],
    "sales": ["negotiation", "crm"],
    "marketing_communication": ["seo", "copywriting"],
    "customer_support": ["customer_service", "crm"],
}


@dataclass(frozen=True)
class Population:
    people: int
    offers: int
    matches: int
    rejected_applications: int
    consent_events: int
    suppressed: int


def person_email(person_id: int) -> str:
    return f"person{person_id}@example.test"


def seed_population(
    engine: sa.Engine,
    people: int,
    *,
    as_of: Any,
    seed: int = 7,
    offers: int = 40,
    matches_per_person: int = 3,
    job_offers_share: float = 0.8,
    content_share: float = 0.6,
    rejected_share: float = 0.1,
    suppression_key: bytes | None = None,
    suppressed_share: float = 0.01,
    frequency_choices: bool = True,
    min_match_score: float = 0.2,
) -> Population:
    """Insert ``people`` synthetic persons (ids 1..people) and what dispatch reads about them."""
    from vivier.consent.ledger import record_events
    from vivier.ingest.people import email_hmacs

    rng = np.random.default_rng(seed)
    now = pd.Timestamp(as_of)
    now = now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")
    ids = np.arange(1, people + 1)
    language = rng.choice(LANGUAGES, size=people, p=LANGUAGE_SHARES)
    first = np.array([FIRST_NAMES[lang][i] for lang, i in zip(language, rng.integers(0, 10, people), strict=True)])
    last = np.array([LAST_NAMES[lang][i] for lang, i in zip(language, rng.integers(0, 8, people), strict=True)])
    family = rng.choice(FAMILIES, size=people)
    persons = pd.DataFrame(
        {
            "person_id": ids,
            "email": [person_email(i) for i in ids],
            "first_name": first,
            "last_name": last,
            "full_name": np.char.add(np.char.add(first, " "), last),
            "language": language,
            "age_band": rng.choice(AGE_BANDS, size=people, p=AGE_SHARES),
            "job_family": family,
            "is_silver_medalist": rng.random(people) < 0.3,
            "applications_count": 1,
            "created_at": now - pd.Timedelta(days=60),
            "updated_at": now - pd.Timedelta(days=60),
        }
    )
    granted_at = now - pd.Timedelta(days=30)
    wants_offers = rng.random(people) < job_offers_share
    events = [pd.DataFrame({"person_id": ids[wants_offers], "purpose": "job_offers"})]
    for purpose in CONTENT_PURPOSES:
        events.append(pd.DataFrame({"person_id": ids[rng.random(people) < content_share], "purpose": purpose}))
    consent = pd.concat(events, ignore_index=True).assign(
        action="granted", source="web_form", occurred_at=granted_at, text_version="2026-11.1"
    )
    # frequency choices: most keep the defaults, some choose monthly or quarterly job offers
    choice = rng.random(people) if frequency_choices else np.ones(people)
    preferences = pd.concat(
        [
            pd.DataFrame({"person_id": ids[choice < 0.15], "purpose": "job_offers", "frequency": "monthly"}),
            pd.DataFrame(
                {"person_id": ids[(choice >= 0.15) & (choice < 0.2)], "purpose": "job_offers", "frequency": "quarterly"}
            ),
            pd.DataFrame(
                {"person_id": ids[(choice >= 0.2) & (choice < 0.23)], "purpose": "events", "frequency": "never"}
            ),
        ],
        ignore_index=True,
    ).assign(source="web_form", updated_at=granted_at)
    offer_ids = np.arange(1, offers + 1)
    offer_family = np.array([FAMILIES[i % len(FAMILIES)] for i in range(offers)])
    job_offers = pd.DataFrame(
        {
            "job_offer_id": offer_ids,
            "source_system": "greenhouse",
            "source_job_id": [f"J{i:05d}" for i in offer_ids],
            "title": [f"{OFFER_TITLES[f]} ({i})" for f, i in zip(offer_family, offer_ids, strict=True)],
            "location": rng.choice(["Paris", "Lyon", "Berlin", "Milano", "London", "Remote"], size=offers),
            "department": "Talent",
            "job_family": offer_family,
            "status": np.where(offer_ids % 10 == 0, "closed", "open"),
            "created_at": now - pd.Timedelta(days=10),
            "updated_at": now - pd.Timedelta(days=10),
        }
    )
    by_family = {f: offer_ids[offer_family == f] for f in FAMILIES}
    match_rows = []
    for f in FAMILIES:
        members = ids[family == f]
        if not len(members):
            continue
        picks = rng.choice(by_family[f], size=(len(members), min(matches_per_person, len(by_family[f]))), replace=True)
        for column in range(picks.shape[1]):
            match_rows.append(pd.DataFrame({"person_id": members, "job_offer_id": picks[:, column], "family": f}))
    matches = pd.concat(match_rows, ignore_index=True).drop_duplicates(["job_offer_id", "person_id"])
    matches["score"] = np.round(rng.uniform(min_match_score, 0.98, len(matches)), 3)
    matches["rank"] = matches.groupby("job_offer_id")["score"].rank(ascending=False, method="first").astype(int)
    matches["matched_skills"] = [json.dumps(SKILLS[f][:2]) for f in matches["family"]]
    matches["missing_skills"] = "[]"
    matches["reason"] = "2 of the 3 required skills"
    matches["computed_at"] = now - pd.Timedelta(days=1)
    rejected = ids[rng.random(people) < rejected_share]
    stage_rank = rng.integers(1, 6, len(rejected))
    stage_names = {
        1: "Application review",
        2: "Phone screen",
        3: "Technical interview",
        4: "Final interview",
        5: "Offer",
    }
    applications = pd.DataFrame(
        {
            "person_id": rejected,
            "source_system": "greenhouse",
            "source_application_id": [f"A{i:07d}" for i in rejected],
            "job_title": [OFFER_TITLES[f] for f in family[rejected - 1]],
            "applied_at": now - pd.Timedelta(days=20),
            "rejected_at": now - pd.to_timedelta(rng.integers(1, 5 * 24, len(rejected)), unit="h"),
            "status": "rejected",
            "stage_name": [stage_names[r] for r in stage_rank],
            "stage_rank": stage_rank,
            "rejection_reason": np.where(
                stage_rank >= 3, "Another candidate had more experience; Salary expectations above the range", None
            ),
            "rejection_side": "company",
            "created_at": now - pd.Timedelta(days=20),
            "updated_at": now - pd.Timedelta(days=1),
        }
    )
    suppressed = ids[rng.random(people) < suppressed_share]
    with engine.begin() as connection:
        load_frame(connection, "persons", persons, _kinds(persons, {"is_silver_medalist": "bool"}))
        written = record_events(connection, consent, recorded_at=granted_at)
        if not preferences.empty:
            load_frame(connection, "contact_preferences", preferences, _kinds(preferences))
        load_frame(connection, "job_offers", job_offers, _kinds(job_offers))
        load_frame(
            connection,
            "matches",
            matches.drop(columns=["family"]),
            _kinds(
                matches.drop(columns=["family"]), {"score": "float", "matched_skills": "text", "missing_skills": "text"}
            ),
        )
        if not applications.empty:
            load_frame(connection, "applications", applications, _kinds(applications))
        if suppression_key is not None and len(suppressed):
            suppression = pd.DataFrame(
                {
                    "email_hmac": email_hmacs([person_email(i) for i in suppressed], suppression_key),
                    "reason": "erasure",
                    "created_at": now - pd.Timedelta(days=2),
                }
            )
            load_frame(connection, "suppression_list", suppression, _kinds(suppression))
        _bump_sequences(connection)
    return Population(
        people=people,
        offers=offers,
        matches=len(matches),
        rejected_applications=len(applications),
        consent_events=written,
        suppressed=len(suppressed) if suppression_key is not None else 0,
    )


def _kinds(frame: pd.DataFrame, overrides: dict[str, str] | None = None) -> dict[str, str]:
    kinds = {}
    for column in frame.columns:
        if column in (overrides or {}):
            kinds[column] = overrides[column]
        elif column.endswith("_at"):
            kinds[column] = "timestamp"
        elif (
            column.endswith("_id") and pd.api.types.is_integer_dtype(frame[column]) or column in ("rank", "stage_rank")
        ):
            kinds[column] = "int"
        elif column == "applications_count":
            kinds[column] = "int"
        else:
            kinds[column] = "text"
    return kinds


def _bump_sequences(connection: sa.Connection) -> None:
    """After loading explicit ids on PostgreSQL, move the id sequences past them."""
    if connection.dialect.name != "postgresql":
        return
    for table, column in (("persons", "person_id"), ("job_offers", "job_offer_id"), ("applications", "application_id")):
        highest = f"COALESCE((SELECT MAX({column}) FROM {table}), 1)"
        connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), {highest})")
