"""The synthetic ATS export generator (vivier.synth): shapes, counts, reproducibility, defects, encodings."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from vivier.ingest.canonical import CANONICAL_FIELDS
from vivier.synth import (
    DEFECT_KINDS,
    FORMATS,
    INBOX_CANDIDATE_FILES,
    INBOX_JOB_FILES,
    ExportSummary,
    generate_export,
    generate_inbox,
    generate_jobs,
    write_broken_files,
)
from vivier.synth.__main__ import main as cli_main
from vivier.synth.vocab import JOB_FAMILIES, SKILLS, STAGES, UNKNOWN_STAGES

AS_OF = date(2026, 11, 1)
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx"}
EMAIL = re.compile(r"^[a-z0-9._-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
FORMULA_START = ("=", "@", "-", "+")


def _path(directory: Path, fmt: str, stem: str = "export") -> Path:
    return directory / f"{stem}_{fmt}.{EXTENSIONS.get(fmt, 'json')}"


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _norm_email(value: str | None) -> str | None:
    return value.strip().lower() if value else None


def _csv_rows(path: Path, mapping: dict) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=mapping["encoding"], newline="") as fh:
        rows = list(csv.reader(fh, delimiter=mapping["delimiter"]))
    return rows[0], rows[1:]


def _xlsx_rows(path: Path) -> tuple[list[str], list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    return list(rows[0]), rows[1:]


def _mapping(summary: ExportSummary) -> dict:
    assert summary.mapping_path is not None and summary.mapping_path.name == summary.path.stem + ".mapping.yaml"
    return yaml.safe_load(summary.mapping_path.read_text(encoding="utf-8"))


def _parse_day(text: str) -> date | None:
    m = DMY.match(text)
    if not m:
        return None
    try:
        return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict[str, ExportSummary]:
    """100 applications of every format, no defects."""
    directory = tmp_path_factory.mktemp("small")
    return {fmt: generate_export(fmt, _path(directory, fmt), applications=100, seed=3, as_of=AS_OF) for fmt in FORMATS}


@pytest.fixture(scope="module")
def defective_csv(tmp_path_factory) -> ExportSummary:
    directory = tmp_path_factory.mktemp("defects")
    return generate_export("csv", directory / "defects.csv", applications=3000, seed=9, defects=0.08)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> tuple[Path, list[ExportSummary]]:
    directory = tmp_path_factory.mktemp("inbox")
    return directory, generate_inbox(directory, applications_per_format=200, seed=7, defects=0.05)


# ------------------------------------------------------------------------------------------ shapes, counts


def test_greenhouse_shape_and_counts(small) -> None:
    summary = small["greenhouse"]
    doc = _load(summary.path)
    assert isinstance(doc, list) and len(doc) == summary.records == summary.persons
    apps = [a for c in doc for a in c["applications"]]
    assert len(apps) == summary.applications == 100
    assert len({a["id"] for a in apps}) == 100
    for c in doc:
        assert {
            "id",
            "first_name",
            "last_name",
            "email_addresses",
            "phone_numbers",
            "addresses",
            "tags",
            "applications",
            "application_ids",
            "can_email",
            "keyed_custom_fields",
        } <= set(c)
        assert c["application_ids"] == [a["id"] for a in c["applications"]]
        assert all(set(e) == {"value", "type"} for e in c["email_addresses"])
        assert isinstance(c["can_email"], bool)
        assert c["keyed_custom_fields"]["skills"]["value"]
    for a in apps:
        assert a["status"] in ("rejected", "active", "hired")
        assert set(a["current_stage"]) == {"id", "name"} and a["current_stage"]["name"]
        assert set(a["jobs"][0]) == {"id", "name"} and set(a["source"]) == {"id", "public_name"}
        assert a["applied_at"].endswith("Z") and datetime.fromisoformat(a["applied_at"])
        if a["status"] == "rejected":
            assert a["rejected_at"].endswith("Z")
            assert a["rejected_at"] > a["applied_at"]
            if a["rejection_reason"] is not None:
                assert a["rejection_reason"]["type"]["name"] in ("We rejected them", "They rejected us")
        else:
            assert a["rejected_at"] is None and a["rejection_reason"] is None
    assert Counter(a["status"] for a in apps)["rejected"] >= 70


def test_lever_shape_and_counts(small) -> None:
    summary = small["lever"]
    doc = _load(summary.path)
    assert isinstance(doc, list) and len(doc) == summary.records == summary.applications == 100
    assert len({o["contact"] for o in doc}) == summary.persons
    by_contact: dict[str, set] = {}
    for o in doc:
        assert {
            "id",
            "contact",
            "name",
            "emails",
            "phones",
            "stage",
            "stageChanges",
            "archived",
            "tags",
            "sources",
            "origin",
            "applications",
            "dataProtection",
            "createdAt",
        } <= set(o)
        assert isinstance(o["createdAt"], int) and o["createdAt"] > 1_700_000_000_000  # epoch milliseconds
        assert set(o["stage"]) == {"id", "text"}
        assert o["stageChanges"][-1]["toStageId"] == o["stage"]["id"]
        assert o["origin"] in ("agency", "applied", "internal", "referred", "sourced", "university")
        posting = o["applications"][0]["posting"]
        assert posting["id"] and posting["text"]
        if o["archived"] is not None:
            assert set(o["archived"]) == {"archivedAt", "reason"} and isinstance(o["archived"]["archivedAt"], int)
        if o["dataProtection"] is not None:
            assert set(o["dataProtection"]) == {"store", "contact"}
            assert set(o["dataProtection"]["contact"]) == {"allowed", "expiresAt"}
        # a person's opportunities share the contact and the person's details
        by_contact.setdefault(o["contact"], set()).add((o["name"], tuple(o["emails"])))
    assert all(len(v) == 1 for v in by_contact.values())
    assert any(o["archived"] and o["archived"]["reason"] == "Hired" for o in doc) or any(
        o["archived"] is None for o in doc
    )


def test_teamtailor_shape_and_counts(small) -> None:
    summary = small["teamtailor"]
    doc = _load(summary.path)
    assert set(doc) == {"data", "included"}
    assert len(doc["data"]) == summary.records == summary.persons
    included = {(r["type"], r["id"]): r for r in doc["included"]}
    apps = [r for r in doc["included"] if r["type"] == "job-applications"]
    assert len(apps) == summary.applications == 100
    assert {"stages", "reject-reasons", "jobs", "departments"} <= {r["type"] for r in doc["included"]}
    for c in doc["data"]:
        assert c["type"] == "candidates"
        assert {
            "first-name",
            "last-name",
            "email",
            "phone",
            "tags",
            "unsubscribed",
            "consent-future-jobs-at",
            "pitch",
            "resume-summary",
            "created-at",
        } <= set(c["attributes"])
        for link in c["relationships"]["job-applications"]["data"]:
            assert (link["type"], link["id"]) in included
    candidate_ids = {c["id"] for c in doc["data"]}
    for a in apps:
        ref = a["relationships"]["candidate"]["data"]
        assert ref["type"] == "candidates" and ref["id"] in candidate_ids
        for rel in ("job", "stage"):
            ref = a["relationships"][rel]["data"]
            assert (ref["type"], ref["id"]) in included
        reason = a["relationships"]["reject-reason"]["data"]
        if reason is not None:
            assert isinstance(included[(reason["type"], reason["id"])]["attributes"]["rejected-by-company"], bool)
        assert re.search(r"[+-]\d{2}:\d{2}$", a["attributes"]["created-at"])


def test_recruitee_shape_and_counts(small) -> None:
    summary = small["recruitee"]
    doc = _load(summary.path)
    assert set(doc) == {"candidates"}
    candidates = doc["candidates"]
    assert len(candidates) == summary.records == summary.persons
    placements = [p for c in candidates for p in c["placements"]]
    assert len(placements) == summary.applications == 100
    for c in candidates:
        assert {"id", "name", "emails", "phones", "tags", "placements", "gdpr_status", "gdpr_expires_at"} <= set(c)
        assert isinstance(c["name"], str) and isinstance(c["emails"], list)
    for p in placements:
        assert {
            "id",
            "offer",
            "stage",
            "disqualified",
            "disqualified_at",
            "disqualify_kind",
            "disqualify_reason",
            "language",
        } <= set(p)
        assert {"id", "title"} <= set(p["offer"]) and set(p["stage"]) >= {"id", "name"}
        assert p["disqualified"] == (p["disqualified_at"] is not None)
        if p["disqualified"]:
            assert p["disqualify_kind"] in ("company", "candidate")


def test_workable_shape_and_counts(small) -> None:
    summary = small["workable"]
    doc = _load(summary.path)
    assert set(doc) == {"candidates"}
    records = doc["candidates"]
    assert len(records) == summary.records == summary.applications == 100
    assert len({_norm_email(r["email"]) for r in records}) == summary.persons
    for r in records:
        assert {
            "id",
            "name",
            "firstname",
            "lastname",
            "headline",
            "email",
            "phone",
            "address",
            "job",
            "stage",
            "disqualified",
            "disqualification_reason",
            "disqualified_at",
            "skills",
            "sourced",
            "created_at",
        } <= set(r)
        assert set(r["job"]) == {"shortcode", "title"}
        assert isinstance(r["skills"], list) and r["skills"]
    # a person applying to two jobs appears twice, with the same e-mail
    emails = Counter(_norm_email(r["email"]) for r in records)
    assert max(emails.values()) >= 2


def test_csv_reads_back_with_its_mapping(small) -> None:
    summary = small["csv"]
    mapping = _mapping(summary)
    assert mapping["source"] == "spreadsheet"
    assert (mapping["delimiter"], mapping["encoding"], mapping["date_format"]) == (";", "utf-8-sig", "dayfirst")
    assert summary.path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel writes it
    header, rows = _csv_rows(summary.path, mapping)
    assert set(mapping["columns"].values()) <= set(header)
    assert set(mapping["columns"]) <= set(CANONICAL_FIELDS)
    assert {"first_name", "last_name", "email"} <= set(mapping["columns"])
    assert {"Prénom", "Nom", "E-mail", "Téléphone", "Étape", "Motif de refus", "Consentement"} <= set(header)
    assert len(rows) == summary.records == summary.applications == 100
    assert all(len(r) == len(header) for r in rows)
    col = {name: header.index(h) for name, h in mapping["columns"].items()}
    assert len({_norm_email(r[col["email"]]) for r in rows}) == summary.persons
    for r in rows:
        applied = _parse_day(r[col["applied_at"]])
        assert applied is not None and AS_OF.replace(year=AS_OF.year - 2) <= applied < AS_OF
        assert r[col["consent_future_jobs"]] in ("oui", "non", "")
        assert r[col["rejected_at"]] == "" or _parse_day(r[col["rejected_at"]]) >= applied


def test_xlsx_opens_with_real_dates_and_mapping(small) -> None:
    summary = small["xlsx"]
    mapping = _mapping(summary)
    assert mapping["date_format"] == "iso" and mapping["sheet"] == "Candidates"
    assert {"full_name", "email"} <= set(mapping["columns"])
    header, rows = _xlsx_rows(summary.path)
    assert set(mapping["columns"].values()) <= set(header)
    assert len(rows) == summary.records == summary.applications == 100
    col = {name: header.index(h) for name, h in mapping["columns"].items()}
    assert all(isinstance(r[col["applied_at"]], datetime) for r in rows)  # real Excel dates, not text
    assert all(isinstance(r[col["years_experience"]], (int, float)) for r in rows)
    assert len({_norm_email(r[col["email"]]) for r in rows}) == summary.persons


def test_applications_per_person_and_funnel(tmp_path: Path) -> None:
    summary = generate_export("greenhouse", tmp_path / "gh.json", applications=4000, seed=21)
    doc = _load(summary.path)
    per_person = [len(c["applications"]) for c in doc]
    assert 1.45 <= sum(per_person) / len(per_person) <= 1.85 and max(per_person) <= 4
    rank_of = {label: rank for rank, (fr, en) in enumerate(STAGES) for label in fr + en}
    apps = [a for c in doc for a in c["applications"]]
    ranks = Counter(rank_of[a["current_stage"]["name"]] for a in apps)
    late = (ranks[3] + ranks[4]) / len(apps)
    assert 0.08 <= late <= 0.2, late  # ~10-15% reach the final interview or the offer
    assert ranks[0] > ranks[1] > ranks[2] > ranks[3]
    status = Counter(a["status"] for a in apps)
    assert status["rejected"] / len(apps) > 0.8 and status["hired"] > 0 and status["active"] > 0
    sides = Counter(a["rejection_reason"]["type"]["name"] for a in apps if a["rejection_reason"])
    assert sides["We rejected them"] > sides["They rejected us"] > 0
    locales = Counter(c["addresses"][0]["value"].rsplit(", ", 1)[1] for c in doc)
    assert set(locales) == {"France", "United Kingdom", "Germany", "Italy"}
    phones = [c["phone_numbers"][0]["value"] for c in doc if c["phone_numbers"]]
    assert {p[:3] for p in phones} >= {"+33", "+44", "+49", "+39"}
    assert any(re.fullmatch(r"0[67]( \d\d){4}", p) for p in phones)


# ------------------------------------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path: Path, small, fmt: str) -> None:
    again = generate_export(fmt, _path(tmp_path, fmt, "again"), applications=100, seed=3, as_of=AS_OF)
    other = generate_export(fmt, _path(tmp_path, fmt, "other"), applications=100, seed=4, as_of=AS_OF)
    reference = small[fmt].path.read_bytes()
    assert again.path.read_bytes() == reference
    assert other.path.read_bytes() != reference
    if fmt == "xlsx":
        # openpyxl stamps the save time in docProps/core.xml and the zip entries: both are fixed
        with zipfile.ZipFile(again.path) as archive:
            core = archive.read("docProps/core.xml").decode()
            assert "2026-11-01T00:00:00Z" in core
            assert {info.date_time for info in archive.infolist()} == {(2020, 1, 1, 0, 0, 0)}


def test_bytes_do_not_depend_on_the_interpreter_hash_seed(tmp_path: Path, small) -> None:
    code = (
        "import sys; from pathlib import Path; from datetime import date; from vivier.synth import generate_export\n"
        "for fmt, name in (('lever', 'l.json'), ('xlsx', 'x.xlsx')):\n"
        "    generate_export(fmt, Path(sys.argv[1]) / name, applications=100, seed=3, as_of=date(2026, 11, 1))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env, timeout=120)
    assert (tmp_path / "l.json").read_bytes() == small["lever"].path.read_bytes()
    assert (tmp_path / "x.xlsx").read_bytes() == small["xlsx"].path.read_bytes()


# ------------------------------------------------------------------------------------------------ defects


def test_defects_rate_and_every_kind_in_csv(defective_csv: ExportSummary) -> None:
    summary = defective_csv
    assert set(summary.defects) == set(DEFECT_KINDS)
    assert all(summary.defects[kind] >= 1 for kind in DEFECT_KINDS)
    rate = summary.defective_records / summary.applications
    assert 0.06 <= rate <= 0.10, rate
    mapping = _mapping(summary)
    header, rows = _csv_rows(summary.path, mapping)
    col = {name: header.index(h) for name, h in mapping["columns"].items()}
    assert len(rows) == summary.records == summary.applications + summary.defects["duplicate"]
    assert all(len(r) == len(header) for r in rows)
    assert any("\n" in r[header.index("Commentaire")] for r in rows)  # quoted multi-line cells read back whole

    def count(predicate) -> int:
        return sum(1 for r in rows if predicate(r))

    emails = [r[col["email"]].strip().lower() for r in rows]
    assert count(lambda r: r[col["email"]] == "") == summary.defects["missing_email"]
    assert sum(1 for e in emails if e and not EMAIL.match(e)) == summary.defects["invalid_email"]
    assert count(lambda r: r[col["first_name"]] == "" and r[col["last_name"]] == "") == summary.defects["empty_name"]
    assert count(lambda r: r[col["last_name"]].startswith(FORMULA_START)) == summary.defects["formula"]
    assert any(r[col["last_name"]] == '=HYPERLINK("http://x","click")' for r in rows)
    assert count(lambda r: r[col["stage_name"]] in UNKNOWN_STAGES) == summary.defects["unknown_stage"]
    assert count(lambda r: _parse_day(r[col["applied_at"]]) is None) == summary.defects["unparseable_date"]

    def in_future(r) -> bool:
        days = [_parse_day(r[col[f]]) for f in ("applied_at", "rejected_at")]
        return any(d is not None and d > AS_OF for d in days)

    assert count(in_future) == summary.defects["future_date"]
    lines = Counter("\x1f".join(r) for r in rows)
    assert sum(n - 1 for n in lines.values()) == summary.defects["duplicate"]
    # "+33 ..." is an ordinary phone number, not a formula: phones start with + without being defects
    assert count(lambda r: r[col["phone"]].startswith("+33")) > 0


def test_defects_in_a_nested_format_land_on_records(tmp_path: Path) -> None:
    summary = generate_export("greenhouse", tmp_path / "gh.json", applications=1500, seed=2, defects=0.08)
    doc = _load(summary.path)
    assert all(summary.defects[kind] >= 1 for kind in DEFECT_KINDS)
    assert 0.05 <= summary.defective_records / summary.applications <= 0.11
    ids = Counter(c["id"] for c in doc)
    assert sum(n - 1 for n in ids.values()) == summary.defects["duplicate"]  # whole candidate records repeated
    assert len(doc) == summary.records == summary.persons + summary.defects["duplicate"]
    emails = [c["email_addresses"][0]["value"].strip().lower() for c in doc if c["email_addresses"]]
    assert any(not EMAIL.match(e) for e in emails)
    assert any(not c["email_addresses"] for c in doc)
    assert any(c["first_name"] == "" and c["last_name"] == "" for c in doc)
    assert any(c["last_name"].startswith(FORMULA_START) for c in doc)
    apps = [a for c in doc for a in c["applications"]]
    assert any(a["current_stage"]["name"] in UNKNOWN_STAGES for a in apps)
    as_of = AS_OF.isoformat()
    assert any((a["rejected_at"] or a["applied_at"]) > as_of for a in apps)
    unparseable = 0
    for a in apps:
        try:
            datetime.fromisoformat(a["applied_at"])
        except ValueError:
            unparseable += 1
    assert unparseable == summary.defects["unparseable_date"]


def test_no_defects_without_the_switch(small) -> None:
    assert small["csv"].defects == {} and small["csv"].defective_records == 0
    doc = _load(small["greenhouse"].path)
    emails = [c["email_addresses"][0]["value"].strip().lower() for c in doc if c["email_addresses"]]
    assert len(emails) == len(doc) and all(EMAIL.match(e) for e in emails)


def test_huge_field_only_with_its_flag(tmp_path: Path) -> None:
    summary = generate_export("csv", tmp_path / "huge.csv", applications=50, seed=1, defects=0.05, huge_field=True)
    assert summary.defects["huge_field"] == 1
    assert summary.path.stat().st_size > 10 * 1024 * 1024
    csv.field_size_limit(64 * 1024 * 1024)
    _, rows = _csv_rows(summary.path, _mapping(summary))
    assert max(len(cell) for r in rows for cell in r) == 10 * 1024 * 1024
    plain = generate_export("csv", tmp_path / "plain.csv", applications=50, seed=1, defects=0.05)
    assert "huge_field" not in plain.defects and plain.path.stat().st_size < 1024 * 1024


def test_broken_files(tmp_path: Path) -> None:
    empty_json, empty_csv, truncated, unknown = write_broken_files(tmp_path)
    assert empty_json.stat().st_size == 0 and empty_csv.stat().st_size == 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.read_text(encoding="utf-8"))
    assert truncated.read_text(encoding="utf-8").startswith('[\n{"id":')
    doc = _load(unknown)
    assert isinstance(doc, dict) and not {"candidates", "data", "offers", "jobs"} & set(doc)


# ---------------------------------------------------------------------------------------------- encodings


def test_cp1252_csv_round_trips_french_accents(tmp_path: Path) -> None:
    summary = generate_export("csv", tmp_path / "win.csv", applications=300, seed=5, encoding="cp1252")
    mapping = _mapping(summary)
    assert mapping["encoding"] == "cp1252" and summary.encoding == "cp1252"
    raw = summary.path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.startswith("Nom;Prénom;E-mail;Téléphone".encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header, rows = _csv_rows(summary.path, mapping)
    assert "Étape" in header and "Années d'expérience" in header
    text = "\n".join(";".join(r) for r in rows)
    assert "?" not in text  # every character was representable
    assert re.search(r"[éèàçÉ]", text)
    assert len(rows) == 300
    utf8 = generate_export("csv", tmp_path / "utf8.csv", applications=300, seed=5)
    assert _csv_rows(utf8.path, _mapping(utf8))[1] == rows  # same content, other encoding


def test_json_is_utf8_with_accents_unescaped(small) -> None:
    text = small["teamtailor"].path.read_text(encoding="utf-8")
    assert "\\u00e9" not in text and "é" in text


# ---------------------------------------------------------------------------------------------- job offers


@pytest.mark.parametrize("fmt", ["greenhouse", "lever", "teamtailor", "recruitee", "workable", "csv"])
def test_job_offers_shape(tmp_path: Path, fmt: str) -> None:
    summary = generate_jobs(fmt, _path(tmp_path, fmt, "jobs"), jobs=30, seed=7)
    assert summary.kind == "jobs" and summary.records == summary.jobs == 30
    if fmt == "csv":
        mapping = _mapping(summary)
        header, rows = _csv_rows(summary.path, mapping)
        assert len(rows) == 30 and set(mapping["columns"].values()) <= set(header)
        return
    doc = _load(summary.path)
    if fmt == "greenhouse":
        items = doc
        assert all({"id", "name", "status", "departments", "offices", "content", "notes"} <= set(j) for j in items)
        assert all(set(j["offices"][0]["location"]) == {"name"} for j in items)
    elif fmt == "lever":
        items = doc
        for j in items:
            assert {"id", "text", "state", "categories", "content", "tags"} <= set(j)
            assert {"team", "department", "location", "commitment"} <= set(j["categories"])
            assert all(set(block) == {"text", "content"} for block in j["content"]["lists"])
    elif fmt == "teamtailor":
        items = doc["data"]
        assert all(j["type"] == "jobs" and {"title", "status", "body", "tags"} <= set(j["attributes"]) for j in items)
    elif fmt == "recruitee":
        items = doc["offers"]
        assert all(
            {"id", "title", "status", "department", "city", "country_code", "description", "requirements", "tags"}
            <= set(j)
            for j in items
        )
    else:
        items = doc["jobs"]
        assert all(
            {"shortcode", "title", "state", "department", "location", "description", "requirements"} <= set(j)
            for j in items
        )
        assert all({"city", "country_code"} <= set(j["location"]) for j in items)
    assert len(items) == 30


def test_job_descriptions_mention_required_and_nice_skills(tmp_path: Path) -> None:
    doc = _load(generate_jobs("lever", tmp_path / "postings.json", jobs=40, seed=12).path)
    every_wording = {w for s in SKILLS.values() for w in s.fr + s.en + s.aliases}
    languages = Counter()
    for posting in doc:
        text = " ".join([posting["content"]["description"], posting["content"]["closing"]])
        blocks = {b["text"]: re.findall(r"<li>(.*?)</li>", b["content"]) for b in posting["content"]["lists"]}
        required = blocks.get("Profil recherché") or blocks.get("Requirements")
        assert required and all(skill in every_wording for skill in required)
        nice = blocks.get("Les plus") or blocks.get("Nice to have") or []
        assert all(skill in text for skill in nice)
        languages[posting["language"]] += 1
    assert languages["fr"] > 0 and languages["en"] > 0
    assert {p["categories"]["department"] for p in doc} >= {JOB_FAMILIES[0].department_fr}


# -------------------------------------------------------------------------------------------------- inbox


def test_inbox_files_and_consistency(inbox) -> None:
    directory, summaries = inbox
    names = {s.path.name for s in summaries}
    assert names == set(INBOX_CANDIDATE_FILES.values()) | set(INBOX_JOB_FILES.values())
    assert {"recruiter_export.mapping.yaml", "recruiter_workbook.mapping.yaml"} <= {p.name for p in directory.iterdir()}
    candidates = {s.format: s for s in summaries if s.kind == "candidates"}
    assert set(candidates) == set(FORMATS)
    assert all(s.applications == 200 and s.defective_records > 0 for s in candidates.values())
    # applications refer to the jobs of the job files
    gh_jobs = {j["id"] for j in _load(directory / INBOX_JOB_FILES["greenhouse"])}
    gh_apps = [a for c in _load(directory / INBOX_CANDIDATE_FILES["greenhouse"]) for a in c["applications"]]
    assert {a["jobs"][0]["id"] for a in gh_apps} <= gh_jobs
    postings = {p["id"] for p in _load(directory / INBOX_JOB_FILES["lever"])}
    opportunities = _load(directory / INBOX_CANDIDATE_FILES["lever"])
    assert {o["applications"][0]["posting"]["id"] for o in opportunities} <= postings
    # some people appear in two vendors' files with the same e-mail address
    gh_emails = {
        _norm_email(c["email_addresses"][0]["value"])
        for c in _load(directory / INBOX_CANDIDATE_FILES["greenhouse"])
        if c["email_addresses"]
    }
    lever_emails = {_norm_email(e) for o in opportunities for e in o["emails"]}
    assert gh_emails & lever_emails


def test_summary_has_no_personal_data(inbox) -> None:
    _, summaries = inbox
    text = json.dumps([s.to_dict() for s in summaries], ensure_ascii=False)
    assert "@" not in text
    assert set(summaries[0].to_dict()) == {
        "format",
        "kind",
        "paths",
        "records",
        "persons",
        "applications",
        "jobs",
        "defects",
        "seed",
        "as_of",
        "encoding",
    }


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_export_and_inbox(tmp_path: Path, capsys) -> None:
    out = tmp_path / "inbox" / "export.csv"
    assert (
        cli_main(
            [
                "--format",
                "csv",
                "--applications",
                "120",
                "--seed",
                "7",
                "--out",
                str(out),
                "--defects",
                "0.05",
                "--encoding",
                "cp1252",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["applications"] == 120 and printed["encoding"] == "cp1252"
    assert out.exists() and out.with_name("export.mapping.yaml").exists()
    jobs = tmp_path / "jobs.json"
    assert cli_main(["--format", "workable", "--kind", "jobs", "--jobs", "12", "--seed", "7", "--out", str(jobs)]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"] == 12 and len(_load(jobs)["jobs"]) == 12
    assert cli_main(["inbox", str(tmp_path / "box"), "--applications", "30", "--seed", "7"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(INBOX_CANDIDATE_FILES) + len(INBOX_JOB_FILES)
    with pytest.raises(SystemExit):
        cli_main(["--format", "greenhouse", "--out", str(tmp_path / "x.json"), "--encoding", "cp1252"])


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        generate_export("docx", Path("x"), applications=10, seed=1)
    with pytest.raises(ValueError):
        generate_export("csv", Path("x.csv"), applications=10, seed=1, defects=1.5)
    with pytest.raises(ValueError):
        generate_export("csv", Path("x.csv"), applications=10, seed=-1)


def test_zero_applications_gives_an_empty_but_valid_file(tmp_path: Path) -> None:
    summary = generate_export("greenhouse", tmp_path / "none.json", applications=0, seed=1)
    assert _load(summary.path) == [] and summary.records == 0
    csv_summary = generate_export("csv", tmp_path / "none.csv", applications=0, seed=1)
    header, rows = _csv_rows(csv_summary.path, _mapping(csv_summary))
    assert rows == [] and "E-mail" in header


def test_package_does_not_import_airflow() -> None:
    code = (
        "import sys, vivier.synth, vivier.synth.__main__; sys.exit(any(m.startswith('airflow') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
