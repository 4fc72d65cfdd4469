"""Job-offer ingestion: every vendor and spreadsheets, skills and their importance, validation, loading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from vivier.db.schema import audit_log, ingested_files, job_offer_skills, job_offers, quarantine
from vivier.offers.files import find_new_job_files, job_file_format, parse_job_file
from vivier.offers.normalise import guess_language, normalise_offers, offer_status
from vivier.offers.pipeline import ingest_job_inbox
from vivier.offers.skills import offer_skills
from vivier.offers.validate import validate
from vivier.synth import generate_inbox, generate_jobs

FIXTURES = Path(__file__).parent / "fixtures" / "ats"
AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")
JOB_FIXTURES = {
    "greenhouse_jobs.json": "greenhouse_jobs",
    "lever_postings.json": "lever_jobs",
    "teamtailor_jobs.json": "teamtailor_jobs",
    "recruitee_offers.json": "recruitee_jobs",
    "workable_jobs.json": "workable_jobs",
}


@pytest.fixture(scope="module")
def synthetic_inbox(tmp_path_factory) -> Path:
    """Candidate and job exports of every vendor, plus the job catalogue as CSV and XLSX with mappings."""
    inbox = tmp_path_factory.mktemp("inbox")
    generate_inbox(inbox, applications_per_format=30, seed=11)
    generate_jobs("csv", inbox / "offres.csv", jobs=12, seed=11)
    generate_jobs("xlsx", inbox / "offers.xlsx", jobs=12, seed=11)
    return inbox


def skill_sets(path: Path) -> dict[str, set[str]]:
    """Title -> set of 'importance:skill' for the offers of one file."""
    parsed = parse_job_file(path)
    skills = offer_skills(parsed.jobs)
    titles = parsed.jobs["title"]
    return {
        titles[row]: {f"{i}:{s}" for s, i in zip(group["skill_id"], group["importance"], strict=True)}
        for row, group in skills.groupby("row")
    }


@pytest.mark.parametrize("name", sorted(JOB_FIXTURES))
def test_every_vendor_fixture_is_recognised_and_gives_offers_with_skills(name: str) -> None:
    path = FIXTURES / name
    assert job_file_format(path) == JOB_FIXTURES[name]
    parsed = parse_job_file(path)
    assert len(parsed.jobs) >= 1 and parsed.jobs["title"].notna().all()
    assert not offer_skills(parsed.jobs).empty


def test_candidate_exports_are_not_job_files(synthetic_inbox: Path) -> None:
    for name in ("greenhouse_candidates.json", "recruiter_export.csv", "recruiter_workbook.xlsx"):
        assert job_file_format(synthetic_inbox / name) is None, name
    assert job_file_format(synthetic_inbox / "offres.csv") == "spreadsheet_jobs"
    assert job_file_format(synthetic_inbox / "offers.xlsx") == "spreadsheet_jobs"


def test_every_vendor_gives_the_same_skills_for_the_same_catalogue(synthetic_inbox: Path) -> None:
    by_vendor = {
        vendor: skill_sets(synthetic_inbox / f"{vendor}_jobs.json")
        for vendor in ("greenhouse", "lever", "teamtailor", "recruitee", "workable")
    }
    reference = by_vendor["lever"]  # explicit, headed lists: required and nice kept apart

    def jaccard(a: set, b: set) -> float:
        return len(a & b) / len(a | b)

    for vendor, offers in by_vendor.items():
        assert offers.keys() == reference.keys(), vendor
        ids = [jaccard({s.split(":")[1] for s in offers[t]}, {s.split(":")[1] for s in reference[t]}) for t in offers]
        with_importance = [jaccard(offers[t], reference[t]) for t in offers]
        # prose is read more cautiously than lists ("R" alone in a sentence is not the R language)
        assert sum(ids) / len(ids) >= 0.9, vendor
        assert sum(with_importance) / len(with_importance) >= 0.8, vendor


def test_spreadsheets_read_through_their_mapping_or_known_headers(synthetic_inbox: Path, tmp_path: Path) -> None:
    csv_offers = parse_job_file(synthetic_inbox / "offres.csv").jobs
    xlsx_offers = parse_job_file(synthetic_inbox / "offers.xlsx").jobs
    assert len(csv_offers) == len(xlsx_offers) == 12
    assert csv_offers["source_job_id"].tolist() == xlsx_offers["source_job_id"].tolist()
    assert csv_offers["opened_at"].str.match(r"^\d{4}-\d{2}-\d{2}").all()  # dd/mm/yyyy read as dates
    assert csv_offers["required_skills_text"].notna().all()
    # without the mapping, French headers are recognised from synonyms
    bare = tmp_path / "postes.csv"
    shutil.copy(synthetic_inbox / "offres.csv", bare)
    assert job_file_format(bare) == "spreadsheet_jobs"
    assert parse_job_file(bare).jobs["title"].tolist() == csv_offers["title"].tolist()


def test_the_description_decides_required_and_nice_when_there_is_no_list() -> None:
    offers = pd.DataFrame(
        {
            "title": ["Data Engineer", "Comptable", "Entwickler"],
            "required_skills_text": [None, None, None],
            "nice_skills_text": [None, None, None],
            "description": [
                "Must have: Python and SQL.\nNice to have\nDocker\nKubernetes",
                "Vous maîtrisez la comptabilité et Excel. La connaissance de SAP serait un plus.",
                "Sie haben Erfahrung mit Java. Kenntnisse in Docker sind von Vorteil.",
            ],
        }
    )
    found = offer_skills(offers)
    kinds = {(r, s): i for r, s, i in zip(found["row"], found["skill_id"], found["importance"], strict=True)}
    assert kinds[(0, "python")] == kinds[(0, "sql")] == "required"
    assert kinds[(0, "docker")] == kinds[(0, "kubernetes")] == "nice"  # under the "Nice to have" heading
    assert kinds[(1, "accounting")] == kinds[(1, "excel")] == "required"
    assert kinds[(1, "erp_sap")] == "nice"
    assert kinds[(2, "java")] == "required" and kinds[(2, "docker")] == "nice"
    assert found.loc[found["row"] == 0, "evidence"].str.startswith("description: ").all()


def test_explicit_lists_decide_and_a_list_mixing_both_kinds_is_split_by_the_description() -> None:
    offers = pd.DataFrame(
        {
            "title": ["Analyst"],
            "required_skills_text": ["Python|SQL|Docker"],  # Recruitee: both lists in one field
            "nice_skills_text": [None],
            "description": ["You know Python and SQL. Experience with Docker is a plus."],
        }
    )
    found = offer_skills(offers).set_index("skill_id")
    assert found.loc["python", "importance"] == found.loc["sql", "importance"] == "required"
    assert found.loc["docker", "importance"] == "nice"
    assert found.loc["python", "evidence"] == "ats list: Python"


def test_normalisation_of_status_place_and_language() -> None:
    assert offer_status(
        pd.Series(["published", "Ouverte", "Pourvue", "draft", "archived", None, "weird"])
    ).tolist() == [
        "open",
        "open",
        "closed",
        "closed",
        "closed",
        "open",
        pd.NA,
    ]
    assert guess_language(pd.Series(["Nous recherchons un développeur pour notre équipe de Lyon"])).tolist() == ["fr"]
    frame = pd.DataFrame(
        {
            "title": ["Data Analyst", "Buchhalter"],
            "status": ["open", "open"],
            "location": ["Bari, Italy", "Berlin"],
            "country": [None, "Allemagne"],
            "language": [None, None],
            "description": ["We are looking for an analyst to join our team in Bari and the data group", None],
            "department": [None, None],
            "opened_at": ["2026-01-05T10:00:00Z", "05/01/2026"],
        }
    )
    out = normalise_offers(frame)
    assert out["country"].tolist() == ["IT", "DE"]
    assert out["city"].tolist() == ["Bari", "Berlin"]
    assert out["language"].tolist() == ["en", "de"]  # from the text, else from the country
    assert out["opened_at"].notna().all()


def test_validation_quarantines_bad_offers_with_every_reason() -> None:
    jobs = pd.DataFrame(
        {
            "source_system": "workable",
            "source_job_id": ["A1", "A1", None, "A3", "A4", "A5"],
            "title": ["Analyst", "Other title", None, "=cmd|' /C calc'!A0", "Engineer", "Tester"],
            "department": None,
            "location": None,
            "country": None,
            "language": None,
            "description": ["ok", "ok", "ok", "ok", "ok", "x" * 100_001],
            "required_skills_text": None,
            "nice_skills_text": None,
            "status": ["published", "published", "published", "published", "sideways", "published"],
            "opened_at": ["2026-01-01", "2026-01-01", None, "2026-01-01", "2027-05-01", "2026-01-01"],
            "source_row": [1, 2, 3, 4, 5, 6],
        }
    )
    result = validate(jobs, as_of=AS_OF)
    assert result.valid.tolist() == [True, False, False, False, False, False]
    checks = {int(jobs["source_row"][i]): {r["check"] for r in reasons} for i, reasons in result.reasons.items()}
    assert checks[2] == {"job_id_unique"}
    assert checks[3] == {"job_id_present", "title_present"}
    assert checks[4] == {"no_formula"}
    assert checks[5] == {"status_known", "opened_at_not_future"}
    assert checks[6] == {"description_length"}


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (job_offers, job_offer_skills, ingested_files)
        )


def test_ingestion_loads_every_job_file_once_with_full_accounting(
    crm_engine: sa.Engine, synthetic_inbox: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(synthetic_inbox, inbox)
    broken = inbox / "lever_postings_broken.json"
    broken.write_text('[{"text": "Analyst", "categories": {}, "state": "sideways", "id": "x1"}]', encoding="utf-8")
    files, loaded = ingest_job_inbox(crm_engine, inbox, work_dir=tmp_path / "work", as_of=AS_OF, run_id="run-1")
    assert sorted(files["detected_format"]) == sorted(
        ["greenhouse_jobs", "lever_jobs", "lever_jobs", "teamtailor_jobs", "recruitee_jobs", "workable_jobs"]
        + ["spreadsheet_jobs", "spreadsheet_jobs"]
    )
    assert (files["rows_loaded"] + files["rows_quarantined"] == files["rows_read"]).all()
    broken_row = files.set_index("file_name").loc["lever_postings_broken.json"]
    assert broken_row["status"] == "partial" and broken_row["rows_loaded"] == 0
    offers, skills, ingested = counts(crm_engine)
    assert offers == loaded.offers > 0 and skills == loaded.skills > 0 and ingested == 8
    with crm_engine.connect() as connection:
        statuses = set(connection.execute(sa.select(job_offers.c.status)).scalars())
        reasons = connection.execute(sa.select(quarantine.c.reasons)).scalars().all()
        actions = connection.execute(sa.select(audit_log.c.action)).scalars().all()
    assert statuses == {"open", "closed"}
    assert any("status_known" in json.dumps(r) for r in reasons)
    assert actions.count("file.loaded") == 7 and actions.count("file.partial") == 1

    again, nothing = ingest_job_inbox(crm_engine, inbox, work_dir=tmp_path / "work2", as_of=AS_OF, run_id="run-2")
    assert again.empty and nothing is None
    assert counts(crm_engine) == (offers, skills, ingested)
    assert find_new_job_files(crm_engine, inbox) == []


def test_a_changed_offer_is_updated_and_its_skills_replaced(crm_engine: sa.Engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    posting = {
        "id": "p-1",
        "text": "Data Analyst",
        "state": "published",
        "categories": {"location": "Lyon", "department": "Data"},
        "country": "FR",
        "content": {"lists": [{"text": "Requirements", "content": "<li>Python</li><li>SQL</li>"}]},
    }
    (inbox / "postings_1.json").write_text(json.dumps([posting]), encoding="utf-8")
    ingest_job_inbox(crm_engine, inbox, work_dir=tmp_path / "w1", as_of=AS_OF, run_id="r1")
    posting["state"] = "closed"
    posting["content"]["lists"][0]["content"] = "<li>Python</li><li>Tableau</li>"
    (inbox / "postings_2.json").write_text(json.dumps([posting]), encoding="utf-8")
    later = AS_OF + pd.Timedelta(days=1)
    _, loaded = ingest_job_inbox(crm_engine, inbox, work_dir=tmp_path / "w2", as_of=later, run_id="r2")
    assert loaded.offers == 1 and loaded.offers_new == 0 and loaded.offers_changed == 1
    with crm_engine.connect() as connection:
        offer = connection.execute(sa.select(job_offers)).one()
        skills = connection.execute(sa.select(job_offer_skills.c.skill_id).order_by("skill_id")).scalars().all()
    assert offer.status == "closed" and offer.closed_at is not None and offer.country == "FR"
    assert "sql" not in skills and {"python", "tableau"} <= set(skills)
