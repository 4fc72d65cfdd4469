"""Candidate ingestion end to end on SQLite and PostgreSQL: accounting, idempotency, identity, suppression."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from tests.conftest import REPO_ROOT
from vivier.db.schema import (
    applications,
    audit_log,
    identity_suggestions,
    ingested_files,
    person_tags,
    persons,
    quarantine,
    suppression_list,
)
from vivier.ingest.people import email_hmacs
from vivier.ingest.pipeline import ingest_inbox

AS_OF = pd.Timestamp("2026-11-02T01:00:00Z")
KEY = b"test-suppression-key"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "ats"


def greenhouse_export(email: str, *, candidate_id: int = 1, phone: str = "+33 6 11 22 33 44") -> list[dict]:
    return [
        {
            "id": candidate_id,
            "first_name": "Léa",
            "last_name": "Rossi",
            "title": "Développeuse Python",
            "email_addresses": [{"value": email, "type": "personal"}],
            "phone_numbers": [{"value": phone, "type": "mobile"}],
            "addresses": [{"value": "Lyon, France", "type": "home"}],
            "tags": ["Python", "SQL", "JS"],
            "applications": [
                {
                    "id": 100 + candidate_id,
                    "candidate_id": candidate_id,
                    "applied_at": "2026-03-01T09:00:00Z",
                    "rejected_at": "2026-04-01T09:00:00Z",
                    "status": "rejected",
                    "current_stage": {"id": 5, "name": "Entretien final"},
                    "rejection_reason": {
                        "id": 1,
                        "name": "Autre candidat retenu",
                        "type": {"id": 1, "name": "We rejected them"},
                    },
                    "jobs": [{"id": 77, "name": "Data Engineer"}],
                    "source": {"id": 3, "public_name": "LinkedIn"},
                }
            ],
        }
    ]


def lever_export(email: str) -> list[dict]:
    return [
        {
            "id": "opp-1",
            "contact": "contact-9",
            "name": "Lea Rossi",
            "headline": "Data engineer",
            "emails": [email],
            "phones": [{"type": "mobile", "value": "06 11 22 33 44"}],
            "location": "Lyon",
            "stage": {"id": "s1", "text": "Phone screen"},
            "archived": {"archivedAt": 1767225600000, "reason": "Candidate withdrew"},
            "tags": ["Airflow"],
            "sources": ["Referral"],
            "origin": "referred",
            "createdAt": 1764547200000,
            "applications": [{"id": "app-1", "posting": "post-1", "type": "posting"}],
        }
    ]


def write_json(folder: Path, name: str, document) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def run(engine: sa.Engine, inbox: Path, tmp_path: Path, run_id: str = "run-1"):
    return ingest_inbox(engine, inbox, work_dir=tmp_path / "work", as_of=AS_OF, run_id=run_id, suppression_key=KEY)


def table_rows(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def snapshot(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as connection:
        return {
            t.name: sorted(map(tuple, connection.execute(sa.select(t)).all()), key=repr)
            for t in (persons, applications, person_tags, quarantine, ingested_files)
        }


def test_every_fixture_format_is_loaded_and_every_row_accounted_for(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for fixture in FIXTURES.iterdir():
        if not fixture.name.endswith(("_jobs.json", "_postings.json", "_offers.json")):
            shutil.copy(fixture, inbox / fixture.name)
    files, counts = run(crm_engine, inbox, tmp_path)

    assert (files["rows_loaded"] + files["rows_quarantined"] == files["rows_read"]).all()
    by_name = files.set_index("file_name")
    assert by_name.loc["empty.json", "status"] == "quarantined"
    assert by_name.loc["truncated_greenhouse.json", "status"] == "quarantined"
    assert by_name.loc["unknown_shape.json", "status"] == "quarantined"
    assert "missing" in by_name.loc["missing_email.csv", "error"].lower()
    good = by_name[by_name["error"].isna()]
    assert set(good["detected_format"]) >= {"greenhouse", "lever", "teamtailor", "recruitee", "workable", "csv"}
    assert (good["rows_loaded"] > 0).all()

    with crm_engine.connect() as connection:
        stored = pd.read_sql(sa.select(ingested_files), connection).set_index("file_name")
        whole_file = connection.execute(
            sa.select(sa.func.count()).select_from(quarantine).where(quarantine.c.source_row.is_(None))
        ).scalar_one()
        emails = connection.execute(sa.select(persons.c.email)).scalars().all()
    assert whole_file == 4
    assert (stored["rows_loaded"] + stored["rows_quarantined"] == stored["rows_read"]).all()
    assert counts.applications == int(good["rows_loaded"].sum())
    assert all(e == e.strip().lower() for e in emails)
    assert table_rows(crm_engine, quarantine) == int(files["rows_quarantined"].sum()) + whole_file

    reports = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "work" / "reports").glob("*.html")}
    assert len(reports) == len(files)
    assert all("Validation report" in html for html in reports.values())
    emails_in_fixtures = [e for e in emails if e]
    assert not any(email in html for html in reports.values() for email in emails_in_fixtures), "reports carry no PII"


def test_rerun_and_redrop_change_nothing(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_json(inbox, "gh.json", greenhouse_export("lea.rossi@example.org"))
    run(crm_engine, inbox, tmp_path)
    before = snapshot(crm_engine)

    files, counts = run(crm_engine, inbox, tmp_path, run_id="run-2")
    assert counts is None and files.empty
    shutil.copy(inbox / "gh.json", inbox / "gh-copy-dropped-again.json")
    files, counts = run(crm_engine, inbox, tmp_path, run_id="run-3")
    assert counts is None
    assert snapshot(crm_engine) == before


def test_one_person_per_email_across_vendors_with_the_merge_audited(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_json(inbox, "gh.json", greenhouse_export("Lea.Rossi@Example.org "))
    run(crm_engine, inbox, tmp_path)
    write_json(inbox, "lever.json", lever_export("lea.rossi@example.org"))
    run(crm_engine, inbox, tmp_path, run_id="run-2")

    with crm_engine.connect() as connection:
        people = pd.read_sql(sa.select(persons), connection)
        apps = pd.read_sql(sa.select(applications), connection)
        merges = pd.read_sql(sa.select(audit_log).where(audit_log.c.action == "person.merge"), connection)
        tags = pd.read_sql(sa.select(person_tags), connection)
    assert len(people) == 1
    person = people.iloc[0]
    assert person.email == "lea.rossi@example.org"
    assert person.applications_count == 2 and set(apps["source_system"]) == {"greenhouse", "lever"}
    assert person.furthest_stage_rank == 4 and bool(person.is_silver_medalist)
    assert person.phone_e164 == "+33611223344" and person.country == "FR" and person.language == "fr"
    assert person.rejection_side in ("company", "candidate")
    assert len(merges) == 1 and merges.iloc[0].entity_id == str(person.person_id)
    assert "@" not in json.dumps(merges.iloc[0].details) and "rossi" not in json.dumps(merges.iloc[0].details).lower()
    skills = set(tags.loc[tags["kind"] == "skill", "value"])
    assert {"python", "sql", "javascript"} <= skills


def test_same_phone_is_suggested_for_review_not_merged(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_json(inbox, "a.json", greenhouse_export("lea@example.org", candidate_id=1))
    write_json(inbox, "b.json", greenhouse_export("lea.rossi@work.example", candidate_id=2))
    run(crm_engine, inbox, tmp_path)
    assert table_rows(crm_engine, persons) == 2
    with crm_engine.connect() as connection:
        rules = set(connection.execute(sa.select(identity_suggestions.c.rule)).scalars())
    assert rules == {"same_phone", "similar_name"}


def test_a_suppressed_person_is_never_recreated(crm_engine, tmp_path: Path) -> None:
    with crm_engine.begin() as connection:
        connection.execute(
            sa.insert(suppression_list).values(
                email_hmac=email_hmacs(["lea.rossi@example.org"], KEY)[0], reason="erasure", created_at=AS_OF
            )
        )
    inbox = tmp_path / "inbox"
    write_json(inbox, "gh.json", greenhouse_export("LEA.ROSSI@example.org"))
    files, _ = run(crm_engine, inbox, tmp_path)
    assert table_rows(crm_engine, persons) == 0
    assert files.iloc[0]["rows_quarantined"] == files.iloc[0]["rows_read"] == 1
    with crm_engine.connect() as connection:
        row = connection.execute(sa.select(quarantine)).one()
    assert row.raw_record is None and row.record_key is None
    assert row.reasons[0]["check"] == "not_suppressed"


def test_a_bad_file_changes_nothing_already_loaded(crm_engine, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_json(inbox, "gh.json", greenhouse_export("lea.rossi@example.org"))
    run(crm_engine, inbox, tmp_path)
    before = snapshot(crm_engine)
    (inbox / "broken.json").write_text('[{"id": 1, "first_name": "Trunc', encoding="utf-8")
    (inbox / "zero.csv").write_bytes(b"")
    files, _ = run(crm_engine, inbox, tmp_path, run_id="run-2")
    assert set(files["status"]) == {"quarantined"}
    after = snapshot(crm_engine)
    assert after["persons"] == before["persons"] and after["applications"] == before["applications"]
    assert len(after["ingested_files"]) == 3


def test_generated_exports_of_every_format_with_defects(crm_engine, tmp_path: Path) -> None:
    from vivier.synth import generate_inbox

    inbox = tmp_path / "inbox"
    generate_inbox(inbox, applications_per_format=120, seed=11, defects=0.05)
    files, counts = run(crm_engine, inbox, tmp_path)
    assert len(files) == 7
    assert (files["rows_loaded"] + files["rows_quarantined"] == files["rows_read"]).all()
    assert (files["rows_quarantined"] > 0).all(), "every generated file carries defects"
    assert (files["rows_loaded"] > 0.8 * files["rows_read"]).all()
    with crm_engine.connect() as connection:
        reasons = connection.execute(sa.select(quarantine.c.reasons)).scalars().all()
        silver = connection.execute(
            sa.select(sa.func.count()).select_from(persons).where(persons.c.is_silver_medalist)
        ).scalar_one()
    checks = {reason["check"] for row in reasons for reason in row}
    assert {"email_syntax", "email_present", "stage_known", "no_formula", "not_duplicate"} <= checks
    assert silver > 0
    assert counts.persons_new == table_rows(crm_engine, persons)
