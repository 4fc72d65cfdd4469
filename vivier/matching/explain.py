"""Why a person matches an offer: matched and missing skills, and a one-line reason in their language.

Lists put required skills first, then nice-to-have ones, each by decreasing rarity (IDF) then id.
The reason names the required skills held, the nice-to-have ones, the skills covered by a related
one, how far the person went and when they were last in touch, in French, English, German or Italian.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from vivier.matching.engine import SkillSpace

LANGUAGES = ("en", "fr", "de", "it")
MAX_NAMED_SKILLS = 4
STAGE_NAMES = {
    "en": {1: "application", 2: "screening", 3: "interview", 4: "final interview", 5: "offer", 6: "hire"},
    "fr": {1: "candidature", 2: "présélection", 3: "entretien", 4: "entretien final", 5: "proposition", 6: "embauche"},
    "de": {
        1: "Bewerbung",
        2: "Vorauswahl",
        3: "Vorstellungsgespräch",
        4: "Finalgespräch",
        5: "Angebot",
        6: "Einstellung",
    },
    "it": {1: "candidatura", 2: "preselezione", 3: "colloquio", 4: "colloquio finale", 5: "offerta", 6: "assunzione"},
}
TEMPLATES = {
    "en": {
        "required": "{held}/{total} required skills",
        "nice": "{held}/{total} nice-to-have",
        "related": "related experience for {skills}",
        "silver": "finalist of a past recruitment ({stage})",
        "stage": "reached the {stage} stage",
        "contact": "last contact {months} months ago",
        "contact_recent": "in touch this month",
        "and_more": "…",
        "separator": "; ",
    },
    "fr": {
        "required": "{held}/{total} compétences requises",
        "nice": "{held}/{total} souhaitées",
        "related": "expérience proche pour {skills}",
        "silver": "finaliste d'un précédent recrutement ({stage})",
        "stage": "étape atteinte : {stage}",
        "contact": "dernier contact il y a {months} mois",
        "contact_recent": "en contact ce mois-ci",
        "and_more": "…",
        "separator": " ; ",
    },
    "de": {
        "required": "{held}/{total} geforderte Kenntnisse",
        "nice": "{held}/{total} wünschenswerte",
        "related": "verwandte Erfahrung für {skills}",
        "silver": "Finalist:in eines früheren Verfahrens ({stage})",
        "stage": "erreichte Stufe: {stage}",
        "contact": "letzter Kontakt vor {months} Monaten",
        "contact_recent": "diesen Monat in Kontakt",
        "and_more": "…",
        "separator": "; ",
    },
    "it": {
        "required": "{held}/{total} competenze richieste",
        "nice": "{held}/{total} gradite",
        "related": "esperienza affine per {skills}",
        "silver": "finalista di una selezione precedente ({stage})",
        "stage": "fase raggiunta: {stage}",
        "contact": "ultimo contatto {months} mesi fa",
        "contact_recent": "in contatto questo mese",
        "and_more": "…",
        "separator": "; ",
    },
}


def _names(skills: list[str], labels, language: str, more: str) -> str:
    named = ", ".join(labels(s, language) for s in skills[:MAX_NAMED_SKILLS])
    return named + (more if len(skills) > MAX_NAMED_SKILLS else "")


def reason_line(
    *,
    language: str | None,
    matched_required: list[str],
    n_required: int,
    matched_nice: list[str],
    n_nice: int,
    related: list[str],
    stage_rank: int | None,
    silver: bool,
    months_since_contact: int | None,
    labels,
) -> str:
    """One line saying why the person matches, in ``language`` (English when not one of ours)."""
    lang = language if language in LANGUAGES else "en"
    words = TEMPLATES[lang]
    first = words["required"].format(held=len(matched_required), total=n_required)
    if matched_required:
        first += f" ({_names(matched_required, labels, lang, words['and_more'])})"
    parts = [first]
    if n_nice:
        parts[0] += ", " + words["nice"].format(held=len(matched_nice), total=n_nice)
    if related:
        parts[0] += ", " + words["related"].format(skills=_names(related, labels, lang, words["and_more"]))
    if stage_rank:
        stage = STAGE_NAMES[lang].get(int(min(max(stage_rank, 1), 6)))
        parts.append(words["silver" if silver else "stage"].format(stage=stage))
    if months_since_contact is not None:
        parts.append(
            words["contact_recent"]
            if months_since_contact < 1
            else words["contact"].format(months=months_since_contact)
        )
    line = words["separator"].join(parts)
    return line[:1].upper() + line[1:] + "."


def explain(
    matches: pd.DataFrame,
    persons: pd.DataFrame,
    person_skills: pd.DataFrame,
    offer_skills: pd.DataFrame,
    *,
    space: SkillSpace,
    idf: dict[str, float],
    labels,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """``matches`` with ``matched_skills``, ``missing_skills`` (JSON lists of ids) and ``reason``.

    ``persons`` needs person_id, language, furthest_stage_rank, is_silver_medalist, last_contact_at;
    ``labels(skill_id, language)`` names a skill.
    """
    if matches.empty:
        return matches.assign(matched_skills=[], missing_skills=[], reason=[])
    pairs = matches[["job_offer_id", "person_id"]].drop_duplicates().reset_index(drop=True)
    pairs["pair"] = np.arange(len(pairs))
    person_skills = person_skills[person_skills["person_id"].isin(pairs["person_id"])]
    persons = persons[persons["person_id"].isin(pairs["person_id"])]
    wanted = pairs.merge(offer_skills[["job_offer_id", "skill_id", "importance"]], on="job_offer_id")
    held = person_skills[["person_id", "skill_id"]].drop_duplicates().assign(held=True)
    wanted = wanted.merge(held, on=["person_id", "skill_id"], how="left")
    wanted["held"] = wanted["held"].fillna(False).astype(bool)

    branch_of = dict(zip(space.ids, np.asarray(space.branches, dtype=object)[space.branch], strict=True))
    relatable = dict(zip(space.ids, space.relatable, strict=True))
    person_branches = person_skills.assign(branch=person_skills["skill_id"].map(branch_of))[["person_id", "branch"]]
    person_branches = person_branches.dropna().drop_duplicates().assign(branch_held=True)
    wanted["branch"] = wanted["skill_id"].map(branch_of)
    wanted = wanted.merge(person_branches, on=["person_id", "branch"], how="left")
    wanted["related"] = (
        ~wanted["held"]
        & wanted["branch_held"].fillna(False).astype(bool)
        & wanted["skill_id"].map(relatable).fillna(False).astype(bool)
    )
    wanted["required"] = wanted["importance"] == "required"
    wanted["rarity"] = wanted["skill_id"].map(idf).fillna(0.0)
    wanted = wanted.sort_values(["pair", "required", "rarity", "skill_id"], ascending=[True, False, False, True])
    pair, skill = wanted["pair"].to_numpy(), wanted["skill_id"].to_numpy(dtype=object)
    held, required, related = (wanted[c].to_numpy(dtype=bool) for c in ("held", "required", "related"))

    def lists(mask: np.ndarray) -> list[list[str]]:
        """The skill ids of the rows in ``mask``, one list per pair (rows are sorted by pair)."""
        counts = np.bincount(pair[mask], minlength=len(pairs))
        return [chunk.tolist() for chunk in np.split(skill[mask], np.cumsum(counts)[:-1])]

    n_required = np.bincount(pair, weights=required, minlength=len(pairs)).astype(int)
    n_all = np.bincount(pair, minlength=len(pairs))
    pairs = pairs.assign(
        matched=lists(held),
        missing=lists(~held),
        matched_required=lists(held & required),
        matched_nice=lists(held & ~required),
        related=lists(related),
        n_required=n_required,
        n_nice=n_all - n_required,
    )
    out = matches.merge(pairs.drop(columns=["pair"]), on=["job_offer_id", "person_id"], how="left")
    out = out.merge(
        persons[["person_id", "language", "furthest_stage_rank", "is_silver_medalist", "last_contact_at"]],
        on="person_id",
        how="left",
    )
    contact = pd.to_datetime(out["last_contact_at"], utc=True, format="ISO8601")
    months = ((pd.Timestamp(as_of) - contact).dt.days / 30.44).round()
    out["reason"] = [
        reason_line(
            language=None if pd.isna(lang) else str(lang),
            matched_required=mr,
            n_required=int(n_req),
            matched_nice=mn,
            n_nice=int(n_nice),
            related=rel,
            stage_rank=None if pd.isna(rank) else int(rank),
            silver=bool(silver) if not pd.isna(silver) else False,
            months_since_contact=None if pd.isna(m) else max(int(m), 0),
            labels=labels,
        )
        for lang, mr, n_req, mn, n_nice, rel, rank, silver, m in zip(
            out["language"],
            out["matched_required"],
            out["n_required"],
            out["matched_nice"],
            out["n_nice"],
            out["related"],
            out["furthest_stage_rank"],
            out["is_silver_medalist"],
            months,
            strict=True,
        )
    ]
    out["matched_skills"] = [json.dumps(v) for v in out["matched"]]
    out["missing_skills"] = [json.dumps(v) for v in out["missing"]]
    return out[[*matches.columns, "matched_skills", "missing_skills", "reason"]]
