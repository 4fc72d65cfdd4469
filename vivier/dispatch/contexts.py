"""What templates see: the variables of each kind of message, and a synthetic persona per template
(used by the preview command, the template check before planning, and the tests).

Every template gets ``person`` (first_name, full_name, language), ``company`` (name, website,
address), ``sender_name``, ``mail_kind`` (bulk, application or renewal), ``purposes`` (labels of
the consent purposes the message serves) and ``links`` (preferences; unsubscribe on bulk mail).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vivier.dispatch.config import DispatchConfig
from vivier.dispatch.periods import TIMEZONE

MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "en": "January February March April May June July August September October November December".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split(),
}


def format_date(value: Any, language: str, with_time: bool = False) -> str:
    """``10 décembre 2026`` / ``10 December 2026`` / ``10. Dezember 2026`` (Paris time), '' for no date."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).tz_convert(TIMEZONE)
    month = MONTHS.get(language, MONTHS["en"])[stamp.month - 1]
    day = f"{stamp.day}." if language == "de" else str(stamp.day)
    text = f"{day} {month} {stamp.year}"
    return f"{text}, {stamp:%H:%M}" if with_time else text


def first_name_of(first_name: Any, full_name: Any) -> str:
    """The name to greet with: the first name, else the first word of the full name, else ''."""
    for value in (first_name, full_name):
        if isinstance(value, str) and value.strip():
            return value.strip() if value is first_name else value.split()[0]
    return ""


def base_context(
    config: DispatchConfig,
    language: str,
    first_name: str,
    full_name: str | None,
    links: dict[str, str],
    mail_kind: str,
    purposes: list[str],
) -> dict[str, Any]:
    return {
        "person": {"first_name": first_name, "full_name": full_name or first_name, "language": language},
        "company": config.company,
        "sender_name": config.sender_name,
        "mail_kind": mail_kind,
        "bulk": mail_kind == "bulk",
        "purposes": purposes,
        "links": links,
    }


SAMPLE_PEOPLE = {
    "fr": ("Camille", "Camille Martin"),
    "en": ("Alex", "Alex Taylor"),
    "de": ("Lena", "Lena Schmidt"),
    "it": ("Giulia", "Giulia Rossi"),
}
SAMPLE_LINKS = {
    "preferences": "https://talent.example.com/preferences/manage/TOKEN",
    "unsubscribe": "https://talent.example.com/preferences/unsubscribe/TOKEN",
    "join": "https://talent.example.com/preferences/join/TOKEN",
    "renew": "https://talent.example.com/preferences/manage/TOKEN",
}


def sample_context(template: str, language: str, config: DispatchConfig) -> dict[str, Any]:
    """A synthetic persona's variables for ``template`` (every variable the shipped templates use)."""
    first, full = SAMPLE_PEOPLE.get(language, SAMPLE_PEOPLE["en"])
    labels = config.labels(language)
    when = pd.Timestamp("2026-12-10 08:30", tz=TIMEZONE)
    if template in ("rejection_personal", "rejection_short"):
        advice = config.advice.get(language) or config.advice.get("en") or {}
        context = base_context(config, language, first, full, dict(SAMPLE_LINKS), "application", [])
        context.update(
            application={
                "job_title": "Data Analyst",
                "stage": "Final interview",
                "rejected_on": format_date(when, language),
            },
            reasons=["Another candidate had more experience with Power BI"] if template == "rejection_personal" else [],
            advice=list(advice.get("general", [])) + list(advice.get("interview", [])),
            in_pool=False,
        )
        return context
    if template == "job_offers_digest":
        context = base_context(config, language, first, full, dict(SAMPLE_LINKS), "bulk", [labels["job_offers"]])
        context.update(
            cadence="weekly",
            offers=[
                {
                    "title": "Data Analyst",
                    "location": "Paris",
                    "department": "Data",
                    "score_percent": 87,
                    "skills": ["SQL", "Python", "Power BI"],
                    "reason": "3 of the 4 required skills",
                    "url": "https://careers.example.com/jobs/demo/1",
                },
                {
                    "title": "BI Developer",
                    "location": "Lyon",
                    "department": "Finance",
                    "score_percent": 64,
                    "skills": ["SQL"],
                    "reason": "1 of the 2 required skills",
                    "url": "https://careers.example.com/jobs/demo/2",
                },
            ],
        )
        return context
    if template == "content_digest":
        purposes = ["events", "testimonials"]
        context = base_context(config, language, first, full, dict(SAMPLE_LINKS), "bulk", [labels[p] for p in purposes])
        context.update(
            cadence="monthly",
            sections=[
                {
                    "purpose": "events",
                    "unsubscribe": SAMPLE_LINKS["unsubscribe"],
                    "entries": [
                        {
                            "title": "Breakfast with the tech teams",
                            "summary": "One hour with our developers and recruiters.",
                            "url": "https://careers.example.com/events/1",
                            "date_label": format_date(when, language, with_time=True),
                            "location": "Paris",
                        }
                    ],
                },
                {
                    "purpose": "testimonials",
                    "unsubscribe": SAMPLE_LINKS["unsubscribe"],
                    "entries": [
                        {
                            "title": "Amina, backend developer",
                            "summary": "Kind code reviews, pairing, and real room for juniors.",
                            "url": "https://careers.example.com/stories/amina",
                            "date_label": "",
                            "location": "",
                        }
                    ],
                },
            ],
        )
        return context
    if template == "consent_renewal":
        context = base_context(config, language, first, full, dict(SAMPLE_LINKS), "renewal", [labels["job_offers"]])
        context.update(deadline_label=format_date(when, language))
        return context
    raise KeyError(f"no sample persona for template {template!r}")
