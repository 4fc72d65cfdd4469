"""The labelled evaluation set of matching, and how well matching does on it.

The set (``include/matching/evaluation/``) is synthetic but written the way people and recruiters
write: 14 offers (``offers.yaml``, half with explicit skill lists, half in prose, FR and EN) and 700
people (``people.csv``: former title, free-text skills with aliases, language, place, stage, side,
last contact) from 20 profiles, among them career changers whose former title differs but whose
skills fit ("Technicienne de laboratoire" with Python, SQL and statistics) and look-alikes whose title
fits but whose skills do not. Each offer lists the people a recruiter would shortlist: those who
truly hold at least three quarters of its required skills.

What the labels know and matching cannot see (so where matching fails):

* a skill written in words the taxonomy does not know ("relational querying" for SQL) is held but
  not found;
* a skill only mentioned as a beginner ("notions de Python", "learning Spark") is found but not held.

``python -m vivier.matching.evaluation`` prints the figures; ``--write`` regenerates the files
(seeded: the same files every time).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from vivier.matching.config import MatchingConfig
from vivier.paths import INCLUDE_DIR

EVALUATION_DIR = INCLUDE_DIR / "matching" / "evaluation"
AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")
SHORTLIST_SHARE = 0.75  # a recruiter shortlists people holding this share of the required skills

# (key, former titles, core skills (held with p=0.75), extra skills (p=0.3), people)
PROFILES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int], ...] = (
    ("data_analyst", ("Data Analyst", "Analyste de données", "Chargée d'études statistiques"),
     ("sql", "python", "power_bi", "statistics", "excel", "data_visualization"), ("tableau", "r_language"), 45),
    ("data_engineer", ("Data Engineer", "Ingénieur data", "Big Data Developer"),
     ("python", "sql", "spark", "etl", "airflow", "data_warehouse"), ("aws", "docker", "kafka", "scala"), 40),
    ("lab_to_data", ("Technicienne de laboratoire", "Lab Technician", "Biologiste", "Ingénieur agronome"),
     ("statistics", "python", "sql", "excel", "power_bi"), ("r_language", "data_visualization"), 25),
    ("java_backend", ("Développeur Java", "Backend Developer", "Ingénieur logiciel"),
     ("java", "spring", "sql", "git", "rest_api"), ("docker", "kubernetes", "microservices", "postgresql"), 40),
    ("frontend", ("Frontend Developer", "Développeur front-end", "Intégrateur web"),
     ("javascript", "typescript", "react", "css", "html"), ("figma", "git", "software_testing", "nodejs"), 40),
    ("devops", ("DevOps Engineer", "Administrateur systèmes", "Site Reliability Engineer"),
     ("linux", "docker", "kubernetes", "terraform", "ci_cd", "aws"), ("python", "ansible", "monitoring"), 40),
    ("designer", ("UX Designer", "Designer UX/UI", "Product Designer"),
     ("figma", "ux_design", "ui_design", "user_research", "prototyping"), ("photoshop", "illustrator"), 35),
    ("graphic_to_ux", ("Graphiste", "Graphic Designer", "Directrice artistique"),
     ("figma", "ux_design", "ui_design", "photoshop", "illustrator"), ("user_research", "prototyping"), 20),
    ("accountant", ("Comptable", "Accountant", "Comptable fournisseurs"),
     ("accounting", "excel", "erp_sap", "tax", "accounts_payable"), ("ifrs", "consolidation"), 40),
    ("controller", ("Contrôleur de gestion", "Financial Controller", "FP&A Analyst"),
     ("controlling", "financial_analysis", "excel", "erp_sap", "budget_management"), ("power_bi", "ifrs"), 35),
    ("sales", ("Commercial B2B", "Account Executive", "Business Developer"),
     ("negotiation", "prospecting", "crm", "customer_relationship", "b2b_sales"), ("key_account_management",), 40),
    ("retail_to_sales", ("Vendeuse en magasin", "Retail Store Manager", "Conseiller de vente"),
     ("customer_relationship", "negotiation", "retail", "crm", "prospecting"), ("english",), 25),
    ("marketer", ("Chargé de marketing digital", "Digital Marketing Manager", "Traffic manager"),
     ("seo", "sea", "social_media", "web_analytics", "email_marketing"), ("copywriting", "content_marketing"), 35),
    ("writer_to_marketing", ("Journaliste", "Rédactrice", "Copywriter"),
     ("copywriting", "content_marketing", "social_media", "seo", "web_analytics"), ("wordpress",), 20),
    ("recruiter", ("Chargée de recrutement", "Talent Acquisition Specialist", "Consultant en recrutement"),
     ("recruiting", "talent_sourcing", "employment_law", "hr_administration"), ("onboarding", "payroll"), 35),
    ("support", ("Conseiller clientèle", "Customer Support Agent", "Téléconseillère"),
     ("customer_service", "ticketing_tools", "complaint_handling", "communication", "call_center"), ("crm",), 40),
    ("nurse", ("Infirmière", "Nurse", "Infirmier de bloc"),
     ("nursing", "patient_care", "medication_administration", "first_aid", "hygiene_infection_control"),
     ("elderly_care", "pediatrics"), 35),
    ("logistics", ("Supply Chain Analyst", "Gestionnaire de stocks", "Logisticien"),
     ("supply_chain", "inventory_management", "erp_sap", "excel", "warehouse_operations"), ("purchasing",), 35),
    ("army_to_logistics", ("Sous-officier logistique", "Army Logistics Officer"),
     ("supply_chain", "inventory_management", "transport_management", "excel", "erp_sap"), ("forklift",), 20),
    ("title_only", ("Data Analyst junior", "Stagiaire développeur", "Assistant comptable", "Office Manager"),
     ("excel", "word", "powerpoint", "communication"), ("english",), 55),
)  # fmt: skip
# (key, title, language, country, city, required, nice, written as "lists" or "prose")
OFFERS: tuple[tuple[str, str, str, str, str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("O01", "Data Analyst (H/F)", "fr", "FR", "Paris", ("sql", "python", "power_bi", "statistics"),
     ("excel", "data_visualization"), "prose"),
    ("O02", "Data Engineer", "en", "GB", "London", ("python", "sql", "spark", "airflow", "etl"), ("aws", "docker"),
     "lists"),
    ("O03", "Développeur Java", "fr", "FR", "Lyon", ("java", "spring", "sql", "git"), ("docker", "kubernetes"),
     "lists"),
    ("O04", "Frontend Engineer", "en", "DE", "Berlin", ("javascript", "typescript", "react", "css"),
     ("figma", "software_testing"), "prose"),
    ("O05", "DevOps Engineer", "en", "FR", "Paris", ("docker", "kubernetes", "linux", "terraform", "aws"),
     ("python", "ci_cd"), "lists"),
    ("O06", "Designer UX/UI", "fr", "FR", "Nantes", ("figma", "ux_design", "ui_design", "user_research"),
     ("prototyping", "photoshop"), "prose"),
    ("O07", "Comptable", "fr", "FR", "Lyon", ("accounting", "excel", "erp_sap", "tax"), ("ifrs", "consolidation"),
     "lists"),
    ("O08", "Financial Controller", "en", "IT", "Milano", ("controlling", "financial_analysis", "excel", "erp_sap"),
     ("power_bi", "ifrs"), "prose"),
    ("O09", "Commercial B2B", "fr", "FR", "Paris", ("negotiation", "prospecting", "crm", "customer_relationship"),
     ("english", "key_account_management"), "lists"),
    ("O10", "Digital Marketing Manager", "en", "GB", "Manchester", ("seo", "sea", "web_analytics", "social_media"),
     ("email_marketing", "copywriting"), "prose"),
    ("O11", "Chargé de recrutement", "fr", "FR", "Bordeaux", ("recruiting", "talent_sourcing", "employment_law"),
     ("hr_administration", "onboarding"), "lists"),
    ("O12", "Customer Support Agent", "en", "IT", "Milano",
     ("customer_service", "ticketing_tools", "complaint_handling", "communication"), ("english", "crm"), "prose"),
    ("O13", "Infirmier (H/F)", "fr", "FR", "Lille",
     ("nursing", "medication_administration", "first_aid", "hygiene_infection_control"), ("elderly_care",), "lists"),
    ("O14", "Supply Chain Analyst", "en", "DE", "Hamburg", ("supply_chain", "inventory_management", "erp_sap", "excel"),
     ("purchasing", "transport_management"), "prose"),
)  # fmt: skip
# wordings the taxonomy does not know: the skill is held, matching cannot see it (checked when building)
PARAPHRASES = {
    "statistics": ("analyse quantitative", "quantitative analysis"),
    "spark": ("traitement distribué", "distributed processing"),
    "kubernetes": ("orchestration de conteneurs", "container orchestration"),
    "seo": ("visibilité sur les moteurs de recherche", "search ranking"),
    "negotiation": ("art de conclure des accords", "deal making"),
    "sql": ("requêtes sur bases relationnelles", "relational querying"),
    "accounting": ("tenue des livres", "keeping the books"),
    "supply_chain": ("flux amont aval", "end-to-end flows"),
    "react": ("interfaces à composants", "component-based interfaces"),
    "terraform": ("infrastructure déclarative", "declarative infrastructure"),
    "controlling": ("pilotage de la performance", "performance steering"),
    "ux_design": ("parcours utilisateurs", "user journeys"),
}
BEGINNER = {"fr": "notions de {}", "en": "learning {}", "de": "Grundkenntnisse in {}", "it": "basi di {}"}
PLACES = (
    ("FR", "fr", ("Paris", "Lyon", "Nantes", "Bordeaux", "Lille")),
    ("GB", "en", ("London", "Manchester")),
    ("DE", "de", ("Berlin", "Hamburg")),
    ("IT", "it", ("Milano", "Roma")),
)
PROSE = {
    "fr": ("Nous recrutons pour notre équipe de {city}.", "Vous maîtrisez {req}.",
           "La connaissance de {nice} serait un plus."),
    "en": ("Join our team in {city}.", "Must have: {req}.", "Nice to have: {nice}."),
}  # fmt: skip


@dataclass(frozen=True)
class EvaluationSet:
    offers: pd.DataFrame  # JOB_COLUMNS-like rows plus ``shortlist`` (person ids)
    people: pd.DataFrame

    @classmethod
    def load(cls, directory: Path = EVALUATION_DIR) -> EvaluationSet:
        document = yaml.safe_load((directory / "offers.yaml").read_text(encoding="utf-8"))
        people = pd.read_csv(directory / "people.csv", dtype={"skills_text": "string", "headline": "string"})
        return cls(pd.DataFrame(document["offers"]), people)


def _taxonomy():
    from vivier.tagging.taxonomy import SkillTaxonomy

    return SkillTaxonomy.load()


def _wordings(taxonomy, skill_id: str, language: str) -> list[str]:
    """How people write a skill: its label in their language, or one of its plain aliases."""
    skill = taxonomy[skill_id]
    aliases = [a.text for a in skill.aliases if not a.restricted and len(a.text) > 2]
    return [skill.label(language)] * 3 + aliases


def build_evaluation_set(seed: int = 2026) -> EvaluationSet:
    """The evaluation set, generated (seeded) from the profiles and offers above."""
    from vivier.tagging.skills import SkillMatcher

    rng = np.random.default_rng(seed)
    taxonomy, matcher = _taxonomy(), SkillMatcher()
    unseen = {k: tuple(p for p in v if not matcher.skills_of(p)) for k, v in PARAPHRASES.items()}
    people, truths = [], []
    person_id = 1000
    for key, titles, core, extra, count in PROFILES:
        for _ in range(count):
            person_id += 1
            country, language, cities = PLACES[int(rng.choice(4, p=[0.55, 0.15, 0.15, 0.15]))]
            held = [s for s in core if rng.random() < 0.75] + [s for s in extra if rng.random() < 0.3]
            written = []
            for skill in held:
                paraphrases = unseen.get(skill, ())
                if paraphrases and rng.random() < 0.25:
                    written.append(str(rng.choice(paraphrases)))
                else:
                    written.append(str(rng.choice(_wordings(taxonomy, skill, language))))
            if rng.random() < 0.2:  # a skill mentioned as a beginner: found, but not held
                missing = [s for s in core if s not in held] or list(extra)
                beginner = str(rng.choice(missing))
                written.append(BEGINNER[language].format(taxonomy.label(beginner, language)))
            rng.shuffle(written)
            people.append(
                {
                    "person_id": person_id,
                    "profile": key,
                    "headline": str(rng.choice(titles)),
                    "skills_text": str(rng.choice([" | ", ", ", "; "])).join(written),
                    "language": language,
                    "country": country,
                    "city": str(rng.choice(cities)),
                    "furthest_stage_rank": int(rng.integers(1, 6)),
                    "is_silver_medalist": bool(rng.random() < 0.15),
                    "rejection_side": str(rng.choice(["company", "candidate", "unknown"], p=[0.7, 0.2, 0.1])),
                    "days_since_contact": int(rng.integers(0, 900)),
                }
            )
            truths.append(set(held))
    offers = []
    for key, title, language, country, city, required, nice, style in OFFERS:

        def names(ids: tuple[str, ...], lang: str = language) -> list[str]:
            return [taxonomy.label(s, lang) for s in ids]

        need = math.ceil(SHORTLIST_SHARE * len(required))
        shortlist = [
            p["person_id"] for p, held in zip(people, truths, strict=True) if len(held & set(required)) >= need
        ]
        intro, req_line, nice_line = PROSE[language]
        joiner = " et " if language == "fr" else " and "
        description = " ".join(
            (
                intro.format(city=city),
                req_line.format(req=", ".join(names(required)[:-1]) + joiner + names(required)[-1]),
                nice_line.format(nice=", ".join(names(nice))),
            )
        )
        offers.append(
            {
                "source_job_id": key,
                "title": title,
                "language": language,
                "country": country,
                "location": city,
                "required_skills_text": "|".join(names(required)) if style == "lists" else None,
                "nice_skills_text": "|".join(names(nice)) if style == "lists" else None,
                "description": description,
                "true_required": list(required),
                "true_nice": list(nice),
                "shortlist": shortlist,
            }
        )
    return EvaluationSet(pd.DataFrame(offers), pd.DataFrame(people))


def write_evaluation_set(directory: Path = EVALUATION_DIR, seed: int = 2026) -> None:
    evaluation = build_evaluation_set(seed)
    directory.mkdir(parents=True, exist_ok=True)
    header = (
        "# The labelled evaluation set of matching (generated by `python -m vivier.matching.evaluation --write`).\n"
        "# shortlist: the people a recruiter would shortlist (they hold >= 3/4 of the required skills).\n"
        "# true_required / true_nice: the skills the offer asks for, as the recruiter reads them.\n"
    )
    offers = evaluation.offers.astype(object).where(evaluation.offers.notna(), None).to_dict("records")
    text = yaml.safe_dump({"offers": offers}, allow_unicode=True, sort_keys=False, width=110, default_flow_style=None)
    (directory / "offers.yaml").write_text(header + text, encoding="utf-8")
    evaluation.people.to_csv(directory / "people.csv", index=False)


def rank_people(evaluation: EvaluationSet, config: MatchingConfig) -> pd.DataFrame:
    """Matching run on the set as the pipelines do it: people's and offers' texts tagged, then scored."""
    from vivier.matching.run import compute_matches
    from vivier.offers.skills import offer_skills
    from vivier.tagging.skills import SkillMatcher

    people = evaluation.people
    found = SkillMatcher().extract(people["skills_text"].astype("string"))
    person_skills = pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy()[found["row"].to_numpy()],
            "skill_id": found["skill_id"].astype(str),
        }
    ).drop_duplicates()
    persons = people.assign(
        last_contact_at=AS_OF - pd.to_timedelta(people["days_since_contact"], unit="D"),
    )
    offers = evaluation.offers.assign(
        job_offer_id=np.arange(1, len(evaluation.offers) + 1), city=evaluation.offers["location"]
    )
    wanted = offer_skills(offers)
    offer_skill_rows = pd.DataFrame(
        {
            "job_offer_id": offers["job_offer_id"].to_numpy()[wanted["row"].to_numpy()],
            "skill_id": wanted["skill_id"].to_numpy(),
            "importance": wanted["importance"].to_numpy(),
        }
    )
    ranked = compute_matches(
        persons, person_skills, offers, offer_skill_rows, config=config, as_of=AS_OF, run_key="evaluation"
    )
    return ranked.merge(offers[["job_offer_id", "source_job_id"]], on="job_offer_id")


def evaluate(evaluation: EvaluationSet | None = None, config: MatchingConfig | None = None) -> pd.DataFrame:
    """Per offer: shortlisted people, precision@10 and recall@50 of matching against the shortlist."""
    evaluation = evaluation or EvaluationSet.load()
    config = (config or MatchingConfig.load()).with_changes(top_n=50)
    ranked = rank_people(evaluation, config)
    rows = []
    for offer in evaluation.offers.itertuples():
        relevant = set(offer.shortlist)
        mine = ranked[ranked["source_job_id"] == offer.source_job_id].sort_values("rank")["person_id"].tolist()
        top10, top50 = set(mine[:10]), set(mine[:50])
        rows.append(
            {
                "offer": offer.source_job_id,
                "title": offer.title,
                "shortlisted": len(relevant),
                "precision_at_10": len(top10 & relevant) / min(10, len(relevant)) if relevant else float("nan"),
                "recall_at_50": len(top50 & relevant) / len(relevant) if relevant else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vivier.matching.evaluation", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="regenerate include/matching/evaluation/")
    args = parser.parse_args(argv)
    if args.write:
        write_evaluation_set()
    report = evaluate()
    print(report.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(
        f"mean precision@10 {report['precision_at_10'].mean():.3f}, mean recall@50 {report['recall_at_50'].mean():.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
