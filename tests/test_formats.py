"""ATS export adapters: detection, canonical values, row accounting, spreadsheets, jobs, bad files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from vivier.ingest import detect as detect_module
from vivier.ingest.canonical import CANONICAL_COLUMNS, UnreadableFileError
from vivier.ingest.detect import detect_format, sniff
from vivier.ingest.formats import JOB_COLUMNS, parse_file, parse_jobs_file
from vivier.ingest.formats import spreadsheet as spreadsheet_module
from vivier.ingest.mapping import (
    MappingError,
    auto_mapping,
    find_mapping,
    load_mapping,
    mapping_from_dict,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ats"
PROJECT_MAPPINGS = Path(__file__).resolve().parents[1] / "include" / "mappings"

KINDS = {
    "greenhouse_candidates.json": "greenhouse",
    "greenhouse_side_by_side.json": "greenhouse",
    "lever_opportunities.json": "lever",
    "teamtailor_candidates.json": "teamtailor",
    "recruitee_candidates.json": "recruitee",
    "workable_candidates.json": "workable",
    "candidats_refuses_cp1252.csv": "csv",
    "rejected_candidates_utf8bom.csv": "csv",
    "export_ats_maison.csv": "csv",
    "greenhouse_jobs.json": "greenhouse_jobs",
    "lever_postings.json": "lever_jobs",
    "teamtailor_jobs.json": "teamtailor_jobs",
    "recruitee_offers.json": "recruitee_jobs",
    "workable_jobs.json": "workable_jobs",
}

# fixture -> (canonical rows, rejected records): every application record of the file, accounted for
ACCOUNTING = {
    "greenhouse_candidates.json": (4, 2),  # 3 candidates / 4 applications + 1 without application + 1 junk
    "greenhouse_side_by_side.json": (3, 1),  # 1 orphan application
    "lever_opportunities.json": (4, 0),
    "teamtailor_candidates.json": (4, 1),  # candidate 104 has no application
    "recruitee_candidates.json": (4, 2),  # 1 candidate without placement + 1 null element
    "workable_candidates.json": (4, 0),
    "candidats_refuses_cp1252.csv": (4, 0),  # + 1 blank row (not a record)
    "rejected_candidates_utf8bom.csv": (4, 0),
    "export_ats_maison.csv": (2, 0),
}


@pytest.fixture
def no_mappings(tmp_path: Path) -> Path:
    """An empty mapping directory, so project mappings never leak into a test."""
    directory = tmp_path / "mappings"
    directory.mkdir()
    return directory


def parse(name: str, mapping_dir: Path | None = None):
    return parse_file(FIXTURES / name, mapping_dir=mapping_dir or FIXTURES / "no-such-dir")


def rows_by(frame: pd.DataFrame, column: str) -> dict:
    return {row[column]: row for row in frame.to_dict("records")}


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT


def write_xlsx(path: Path, rows: list[list], *, title: str = "Refus", extra_sheet: bool = False) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("Notes").append(["nothing", "here"])
    workbook.save(path)
    return path


# ------------------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(("name", "kind"), sorted(KINDS.items()))
def test_detects_each_fixture_from_content(name: str, kind: str, tmp_path: Path) -> None:
    assert detect_format(FIXTURES / name) == kind
    # a misleading name changes nothing: content decides
    misleading = tmp_path / ("export.json" if kind == "csv" else "export.csv")
    shutil.copy(FIXTURES / name, misleading)
    assert detect_format(misleading) == kind


def test_detects_xlsx_by_zip_content_despite_extension(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "candidats.csv", [["Nom complet", "E-mail"], ["Ana Ruiz", "ana@example.org"]])
    assert detect_format(path) == "xlsx"


def test_extension_breaks_the_tie_for_a_csv_whose_header_looks_like_json(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("[ID];Nom complet;E-mail\n1;Ana Ruiz;ana@example.org\n", encoding="utf-8")
    assert detect_format(path) == "csv"
    with pytest.raises(UnreadableFileError, match="invalid JSON"):
        detect_format(path.rename(tmp_path / "export.json"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty file \(0 bytes\)"),
        (b"  \n\r\n\t ", r"empty file \(\d+ bytes of whitespace only\)"),
        (b'[{"id": 1, "first_name": "Ana", "email_addresses": [{"value": "a@b.c"', r"truncated JSON at byte 69"),
        (b'{"candidates": [{"id": 1,, "placements": []}]}', r"invalid JSON at byte 25 \(line 1, column 26\)"),
        (b'{"employees": [], "exportedAt": "2024"}', r"top-level keys \['employees', 'exportedAt'\] matches no"),
        (b"[]", r"empty JSON array"),
        (b"[1, 2, 3]", r"JSON array of int values"),
        (b'[{"foo": 1, "bar": 2}]', r"JSON array of objects with keys \['foo', 'bar'\] matches no known ATS"),
        (b'"just a string"', r"not a CSV or JSON export"),
        (b"\x00\x01\x02\x03binary\xff\xfe\x00junk" * 20, r"binary content"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, r"legacy Excel 97-2003"),
        (b"%PDF-1.7\n%\xe2\xe3", r"PDF document"),
        (b"<html><body>Export</body></html>", r"HTML/XML document"),
        (b"just a sentence without any delimiter\nand another", r"no column delimiter"),
    ],
)
def test_unreadable_files_say_why(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "inbox_file.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=message):
        detect_format(path)
    with pytest.raises(UnreadableFileError, match=message):
        parse_file(path)


def test_bad_fixture_files() -> None:
    with pytest.raises(UnreadableFileError, match=r"empty\.json: empty file \(0 bytes\)"):
        parse_file(FIXTURES / "empty.json")
    with pytest.raises(UnreadableFileError, match=r"truncated JSON at byte 700 .*interrupted"):
        parse_file(FIXTURES / "truncated_greenhouse.json")
    with pytest.raises(UnreadableFileError, match=r"JSON with top-level keys \['employees', 'exportedAt'\]"):
        parse_file(FIXTURES / "unknown_shape.json")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.csv", "a;b\n")
    with pytest.raises(UnreadableFileError, match=r"zip archive that is not an XLSX workbook"):
        detect_format(path)


def test_json_lines_are_read_as_a_list(tmp_path: Path) -> None:
    records = json.loads((FIXTURES / "workable_candidates.json").read_text(encoding="utf-8"))["candidates"]
    path = tmp_path / "workable.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    assert detect_format(path) == "workable"
    assert len(parse_file(path).applications) == len(records)


def test_big_json_is_classified_from_its_head_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    candidates = json.loads((FIXTURES / "greenhouse_candidates.json").read_text(encoding="utf-8"))[:3]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(candidates * 40), encoding="utf-8")
    monkeypatch.setattr(detect_module, "HEAD_BYTES", 4096)
    monkeypatch.setattr(detect_module, "FULL_JSON_LIMIT", 1024)
    sniffed = sniff(path)
    assert sniffed.kind == "greenhouse"
    assert sniffed.document is None  # not loaded at detection: the adapter reads it once
    assert len(parse_file(path).applications) == 4 * 40

    tt = tmp_path / "tt.json"
    document = json.loads((FIXTURES / "teamtailor_candidates.json").read_text(encoding="utf-8"))
    document["data"] = document["data"] * 30  # 'included' lies far beyond the head
    tt.write_text(json.dumps(document), encoding="utf-8")
    assert sniff(tt).kind == "teamtailor"

    # a big truncated file is recognised from its head; the adapter reports the truncation
    cut = tmp_path / "cut.json"
    cut.write_bytes(path.read_bytes()[:-300])
    assert detect_format(cut) == "greenhouse"
    with pytest.raises(UnreadableFileError, match=rf"truncated JSON at byte {cut.stat().st_size}"):
        parse_file(cut)

    # a first record bigger than the head: detection falls back to the whole document (and keeps it)
    huge = tmp_path / "huge.json"
    workable = json.loads((FIXTURES / "workable_candidates.json").read_text(encoding="utf-8"))
    workable["candidates"][0]["summary"] = "x" * 10_000
    huge.write_text(json.dumps(workable), encoding="utf-8")
    sniffed = sniff(huge)
    assert sniffed.kind == "workable" and sniffed.document is not None


# ------------------------------------------------------------------------------------------ accounting


@pytest.mark.parametrize(("name", "expected"), sorted(ACCOUNTING.items()))
def test_every_record_is_accounted_for(name: str, expected: tuple[int, int]) -> None:
    parsed = parse(name)
    assert list(parsed.applications.columns) == CANONICAL_COLUMNS
    assert (len(parsed.applications), len(parsed.rejected)) == expected
    assert parsed.rows_read == sum(expected)
    assert parsed.applications["source_row"].dtype == "int64"
    assert (parsed.applications["source_row"] >= 1).all()
    for record in parsed.rejected:
        assert record.source_row >= 1 and record.reason


# ------------------------------------------------------------------------------------------------ JSON


def test_greenhouse_nested() -> None:
    parsed = parse("greenhouse_candidates.json")
    assert parsed.source_system == "greenhouse"
    apps = rows_by(parsed.applications, "source_application_id")
    first, second = apps["71002001"], apps["71002002"]
    assert (first["first_name"], first["last_name"]) == ("Élodie", "Marchand")
    assert first["source_person_id"] == second["source_person_id"] == "48213001"
    assert first["email"] == "elodie.marchand@gmail.com"  # the personal address beats the first (work) one
    assert first["phone"] == "+33 6 12 34 56 78"
    assert first["city"] == "Lyon, France"
    assert first["stage_name"] == "Technical Interview"
    assert first["job_source_id"] == "550101" and first["job_title"] == "Senior Data Engineer"
    assert first["status"] == "rejected" and first["rejection_side_hint"] == "company"
    assert first["rejection_reason"] == "Lacking technical skills"
    assert first["rejected_at"] == "2024-02-01T10:03:00.000Z"  # as exported; validation parses it
    assert first["source_channel"] == "LinkedIn"
    assert first["tags"] == "Python|Spark|Référence interne"
    assert first["years_experience"] == 6.0
    assert "Airflow" in first["skills_text"] and "Data Engineer" in first["skills_text"]
    assert second["rejection_side_hint"] == "candidate" and second["stage_name"] == "Offer"

    hired = apps["71002003"]
    assert (hired["first_name"], hired["status"], hired["email"]) == ("Jürgen", "hired", "j.mueller@web.de")
    assert missing(hired["rejected_at"]) and missing(hired["rejection_side_hint"])

    giulia = apps["71002004"]
    assert giulia["unsubscribed"] is True  # can_email: false
    assert giulia["birth_date"] == "1991-07-04"
    assert giulia["skills_text"].startswith("Figma, user research")

    reasons = {r.source_row: r.reason for r in parsed.rejected}
    assert "has no applications" in reasons[4]
    assert "not an object" in reasons[5]


def test_greenhouse_side_by_side_joins_on_candidate_id() -> None:
    parsed = parse("greenhouse_side_by_side.json")
    frame = parsed.applications
    marco = frame[frame["first_name"] == "Marco"]
    assert sorted(marco["source_application_id"]) == ["91002", "91003"]
    assert set(marco["source_row"]) == {2}
    withdrew = rows_by(frame, "source_application_id")["91002"]
    assert withdrew["rejection_side_hint"] == "candidate" and withdrew["stage_name"] == "Phone Screen"
    assert rows_by(frame, "source_application_id")["91003"]["status"] == "active"
    (orphan,) = parsed.rejected
    assert orphan.source_row == 4 and "candidate_id 99999" in orphan.reason


def test_lever_opportunities() -> None:
    parsed = parse("lever_opportunities.json")
    apps = rows_by(parsed.applications, "source_application_id")
    first = apps["0f1a2b3c-1111-4aaa-8bbb-000000000001"]
    second = apps["0f1a2b3c-1111-4aaa-8bbb-000000000002"]
    assert first["full_name"] == "François Lefèvre" and missing(first["first_name"])
    assert first["source_person_id"] == second["source_person_id"] == "c7d8e9f0-aaaa-4bbb-8ccc-00000000c001"
    assert first["status"] == "rejected"
    assert first["rejected_at"] == pd.Timestamp("2024-02-20T10:00:00Z")
    assert first["rejected_at"].tzinfo is not None
    assert first["applied_at"] == pd.Timestamp("2024-01-15T08:12:00Z")
    assert first["stage_name"] == "Offer" and first["rejection_reason"] == "Underqualified"
    assert first["consent_future_jobs"] is True
    assert first["consent_expires_at"] == pd.Timestamp("2025-03-28T00:00:00Z")
    assert first["source_channel"] == "LinkedIn" and first["tags"] == "React|Node.js"
    assert missing(first["rejection_side_hint"])  # Lever does not say who rejected whom
    assert second["stage_name"] == "phone-screen-id"  # stage not expanded: its id
    assert second["consent_future_jobs"] is False
    assert second["job_title"] == "Tech Lead" and second["department"] == "Engineering"

    chiara = apps["0f1a2b3c-1111-4aaa-8bbb-000000000003"]
    assert chiara["status"] == "hired" and missing(chiara["rejected_at"])
    assert chiara["email"] == "chiara.bianchi@outlook.it"
    assert missing(chiara["consent_future_jobs"])  # dataProtection: null
    lukas = apps["0f1a2b3c-1111-4aaa-8bbb-000000000004"]
    assert lukas["status"] == "active" and lukas["full_name"] == "Lukas Schäfer"


def test_teamtailor_resolves_included() -> None:
    parsed = parse("teamtailor_candidates.json")
    apps = rows_by(parsed.applications, "source_application_id")
    company, candidate = apps["5001"], apps["5002"]
    assert (company["first_name"], company["last_name"]) == ("Amélie", "Dubois")
    assert company["stage_name"] == "Entretien RH" and company["job_title"] == "Growth Marketing Manager"
    assert company["department"] == "Marketing"
    assert company["rejection_reason"] == "Profil trop junior" and company["rejection_side_hint"] == "company"
    assert candidate["rejection_side_hint"] == "candidate"
    assert company["rejected_at"] == "2024-02-20T11:00:00.000+01:00"
    assert company["consent_future_jobs"] is True
    assert company["source_channel"] == "Welcome to the Jungle"
    assert "Growth marketer" in company["skills_text"]

    hired = apps["5003"]
    assert hired["status"] == "hired" and hired["stage_name"] == "Embauché" and hired["source_channel"] == "sourced"
    # relationship without linkage data: found through the application's 'candidate' relationship
    katharina = apps["5004"]
    assert katharina["last_name"] == "Groß" and katharina["unsubscribed"] is True
    assert missing(katharina["consent_future_jobs"])
    (no_app,) = parsed.rejected
    assert no_app.source_row == 4 and "no job application" in no_app.reason


def test_recruitee_one_row_per_placement() -> None:
    parsed = parse("recruitee_candidates.json")
    apps = rows_by(parsed.applications, "source_application_id")
    by_company, withdrawn = apps["77001"], apps["77002"]
    assert by_company["full_name"] == "Hélène Fabre" and missing(by_company["first_name"])
    assert by_company["source_row"] == withdrawn["source_row"] == 1
    assert by_company["rejection_side_hint"] == "company"
    assert by_company["rejection_reason"] == "Salaire attendu trop élevé"
    assert withdrawn["rejection_side_hint"] == "candidate"
    assert withdrawn["rejection_reason"] == "Candidat injoignable"  # reason given as an object
    assert by_company["consent_future_jobs"] is True
    assert by_company["consent_expires_at"] == "2026-01-05T10:00:00.000Z"
    assert by_company["years_experience"] == 8.0 and "SAP FI" in by_company["skills_text"]
    assert by_company["language"] == "fr" and by_company["job_title"] == "Comptable senior"
    assert apps["77003"]["status"] == "hired" and apps["77003"]["stage_name"] == "Eingestellt"
    francesca = apps["77004"]
    assert francesca["consent_future_jobs"] is False  # consent_expired
    assert missing(francesca["email"]) and francesca["phone"] == "+39 333 1234567"
    reasons = sorted(r.reason for r in parsed.rejected)
    assert any("no placement" in r for r in reasons) and any("not an object" in r for r in reasons)


def test_workable_one_record_per_job() -> None:
    parsed = parse("workable_candidates.json")
    apps = rows_by(parsed.applications, "source_application_id")
    a, b = apps["ce4a1"], apps["ce4a2"]
    assert a["source_person_id"] == b["source_person_id"] == "noemie.girard@proton.me"
    assert (a["first_name"], a["last_name"]) == ("Noémie", "Girard") and missing(a["full_name"])
    assert a["stage_name"] == "Interview" and b["stage_name"] == "Applied"  # stage / stage_name
    assert a["status"] == "rejected" and a["rejection_reason"] == "Not a culture fit"
    assert a["job_source_id"] == "A1B2C3D4E5" and a["city"] == "Nantes, France"
    assert a["skills_text"].startswith("Kubernetes|Ansible|devops")
    assert b["source_channel"] == "sourced"
    assert apps["ce4a3"]["status"] == "hired"
    conti = apps["ce4a4"]
    assert conti["full_name"] == "Alessandro Conti"
    assert conti["email"] == "alessandro.conti@"  # bad values are kept: validation flags them
    assert conti["applied_at"] == "31/04/2024"


# ---------------------------------------------------------------------------------------- spreadsheets


@pytest.fixture(params=["arrow", "pandas"])
def csv_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run spreadsheet tests through the Arrow fast path and through the exact pandas path."""
    if request.param == "pandas":
        monkeypatch.setattr(spreadsheet_module, "_read_csv_arrow", lambda *a, **k: None)
    else:
        pytest.importorskip("pyarrow")
    return request.param


def test_cp1252_semicolon_quoted_newline_dayfirst(csv_engine: str, no_mappings: Path) -> None:
    parsed = parse("candidats_refuses_cp1252.csv", no_mappings)
    assert parsed.source_system == "spreadsheet"
    frame = parsed.applications
    assert list(frame["source_row"]) == [2, 3, 4, 6]  # header = row 1; row 5 is blank
    rows = rows_by(frame, "first_name")
    anais = rows["Anaïs"]
    assert anais["last_name"] == "Lefèvre" and anais["email"] == "anais.lefevre@sfr.fr"
    assert anais["rejection_reason"] == "Profil intéressant mais\r\nmanque d'expérience en management"
    assert (anais["applied_at"], anais["rejected_at"]) == ("2024-02-03", "2024-02-15")
    assert anais["rejection_side_hint"] == "company" and anais["consent_future_jobs"] is True
    assert anais["status"] == "rejected" and anais["stage_name"] == "Entretien RH"
    assert rows["Zoë"]["rejection_side_hint"] == "candidate" and rows["Zoë"]["consent_future_jobs"] is False
    herve = rows["Hervé"]
    assert herve["email"] == " herve.cote@yahoo.fr "  # untrimmed, as exported
    assert herve["rejected_at"] == "31/02/2024"  # not a date: kept raw for the validator
    assert missing(herve["phone"]) and missing(herve["consent_future_jobs"])
    assert rows["Raffaella"]["phone"] == '=HYPERLINK("http://exemple.invalid")'  # formula kept as text
    assert rows["Raffaella"]["skills_text"] == "Agile; Scrum"


def test_utf8_bom_tab_full_name_reordered_extra_columns(csv_engine: str, no_mappings: Path) -> None:
    frame = parse("rejected_candidates_utf8bom.csv", no_mappings).applications
    rows = rows_by(frame, "full_name")
    kelly = rows["Siobhán Kelly"]
    assert kelly["applied_at"] == "2024-04-02"  # first header, right after the BOM
    assert kelly["email"] == "siobhan.kelly@gmail.com" and kelly["job_title"] == "Data Scientist"
    assert kelly["tags"] == "ml|nlp" and kelly["skills_text"] == "Python, PyTorch|ml|nlp"
    assert kelly["status"] == "rejected" and kelly["source_channel"] == "Referral"
    jose = rows["José María Fernández"]
    assert jose["status"] == "rejected" and jose["rejection_side_hint"] == "candidate"  # "Withdrawn"
    assert jose["source_row"] == 3
    assert rows["Ingrid Svensson"]["status"] == "hired"
    assert rows["Pierre-Étienne Roux"]["status"] == "rejected"  # empty status: the inbox's default
    assert rows["Ingrid Svensson"]["source_row"] == 4  # record number + 1 despite the quoted newline above
    assert frame["first_name"].isna().all()


def test_mapping_next_to_the_file(csv_engine: str, no_mappings: Path) -> None:
    frame = parse("export_ats_maison.csv", no_mappings).applications
    rows = rows_by(frame, "source_application_id")
    assert rows["R-17"]["full_name"] == "Margaux Perrin"
    assert rows["R-17"]["email"] == "margaux.perrin@gmail.com"
    assert (rows["R-17"]["applied_at"], rows["R-17"]["rejected_at"]) == ("2024-03-04", "2024-03-11")
    assert rows["R-18"]["rejection_side_hint"] == "company"  # "nous"
    assert set(frame["status"]) == {"rejected"}


def test_missing_required_columns_names_them_and_the_headers(no_mappings: Path) -> None:
    with pytest.raises(UnreadableFileError) as error:
        parse("missing_email.csv", no_mappings)
    message = str(error.value)
    assert "missing required columns: email" in message
    assert "headers found: ['Nom', 'Prénom', 'Téléphone', 'Poste']" in message


def test_missing_name_column(tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Courriel,Poste\na@b.fr,Juriste\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"missing required columns: name .*'Courriel', 'Poste'"):
        parse_file(path, mapping_dir=no_mappings)


def test_comma_delimiter_quotes_and_monthfirst_inference(csv_engine: str, tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "us_export.csv"
    path.write_text(
        "Name,Email,Applied on,Skills,Years of experience\n"
        '"Smith, John",john@example.com,12/31/2024,"SQL, Python",3.5\n'
        'Jane Doe,jane@example.com,01/15/2025,,"4 years"\n'
        "Bob Ray,bob@example.com,02/03/2025,,lots\n",
        encoding="utf-8",
    )
    frame = parse_file(path, mapping_dir=no_mappings).applications
    assert list(frame["full_name"]) == ["Smith, John", "Jane Doe", "Bob Ray"]
    assert list(frame["applied_at"]) == ["2024-12-31", "2025-01-15", "2025-02-03"]  # 12/31 => month first
    assert list(frame["years_experience"]) == [3.5, 4.0, "lots"]
    assert frame["skills_text"].iloc[0] == "SQL, Python"


def test_one_name_column_vs_two(csv_engine: str, tmp_path: Path, no_mappings: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("Nom;E-mail\nMarie Curie;marie@example.fr\n", encoding="utf-8")
    two = tmp_path / "two.csv"
    two.write_text("Prénom;Nom;E-mail\nMarie;Curie;marie@example.fr\n", encoding="utf-8")
    italian = tmp_path / "it.csv"
    italian.write_text("Nome;Cognome;Email\nGiulia;Ricci;g@example.it\n", encoding="utf-8")
    first = parse_file(one, mapping_dir=no_mappings).applications.iloc[0]
    assert first["full_name"] == "Marie Curie" and missing(first["last_name"])
    second = parse_file(two, mapping_dir=no_mappings).applications.iloc[0]
    assert (second["first_name"], second["last_name"]) == ("Marie", "Curie") and missing(second["full_name"])
    third = parse_file(italian, mapping_dir=no_mappings).applications.iloc[0]
    assert (third["first_name"], third["last_name"]) == ("Giulia", "Ricci")


def test_extra_and_reordered_columns(csv_engine: str, tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "reordered.csv"
    path.write_text(
        "Commentaire;Date de refus;Courriel;Salaire;Étape;Prénom;Nom;Poste\n"
        "RAS;02/05/2024;paul@example.fr;45k;Entretien;Paul;Durand;Comptable\n",
        encoding="utf-8",
    )
    row = parse_file(path, mapping_dir=no_mappings).applications.iloc[0]
    assert (row["first_name"], row["last_name"], row["email"]) == ("Paul", "Durand", "paul@example.fr")
    assert (row["job_title"], row["stage_name"], row["rejected_at"]) == ("Comptable", "Entretien", "2024-05-02")
    assert row["status"] == "rejected"


def test_bad_records_are_rejected_and_numbering_stays_right(csv_engine: str, tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Nom complet;E-mail;Poste\n"
        "Ana Ruiz;ana@example.org;Juriste\n"  # row 2
        "Ben;Extra;ben@example.org;Comptable\n"  # row 3: one field too many
        "\n"  # row 4: blank
        "Chloé Petit;chloe@example.org\n"  # row 5: short, padded
        ";;\n"  # row 6: empty
        '"Dan\nBrown";dan@example.org;Dev\n',  # row 7
        encoding="utf-8",
    )
    parsed = parse_file(path, mapping_dir=no_mappings)
    assert list(parsed.applications["full_name"]) == ["Ana Ruiz", "Chloé Petit", "Dan\nBrown"]
    assert list(parsed.applications["source_row"]) == [2, 5, 7]
    (bad,) = parsed.rejected
    assert bad.source_row == 3 and "4 fields where the header has 3" in bad.reason


def test_utf8_head_with_cp1252_later_is_retried(
    csv_engine: str, tmp_path: Path, no_mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect_module, "HEAD_BYTES", 64)
    path = tmp_path / "late.csv"
    lines = ["Nom complet;E-mail"] + [f"Person {i};p{i}@example.org" for i in range(10)] + ["Zoé Côté;zoe@example.fr"]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    frame = parse_file(path, mapping_dir=no_mappings).applications
    assert frame["full_name"].iloc[-1] == "Zoé Côté"


def test_empty_rows_only_gives_an_empty_frame(csv_engine: str, tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "empty_rows.csv"
    path.write_text("Nom complet;E-mail\n;\n;\n", encoding="utf-8")
    parsed = parse_file(path, mapping_dir=no_mappings)
    assert parsed.rows_read == 0 and list(parsed.applications.columns) == CANONICAL_COLUMNS


def test_xlsx(tmp_path: Path, no_mappings: Path) -> None:
    path = write_xlsx(
        tmp_path / "refus.xlsx",
        [
            ["Candidats refusés - export du 01/06/2024"],  # title row above the header
            [],
            [
                "Prénom",
                "Nom",
                "E-mail",
                "Téléphone",
                "Date de candidature",
                "Date de refus",
                "Années d'expérience",
                "Étape",
                "Motif de refus",
            ],
            [
                "Léa",
                "Rousseau",
                "lea@example.fr",
                612345678,
                dt.datetime(2024, 3, 5),
                dt.datetime(2024, 3, 20, 14, 30),
                4.0,
                "Entretien",
                "Poste pourvu",
            ],
            [None, None, None, None, None, None, None, None, None],
            ["Jürgen", "Groß", '=HYPERLINK("x")', "+49 30 1", "12/04/2024", "pas de date", 2.5, "Test", None],
        ],
        extra_sheet=True,
    )
    parsed = parse_file(path, mapping_dir=no_mappings)
    frame = parsed.applications
    assert list(frame["source_row"]) == [4, 6]  # worksheet row numbers
    lea, jurgen = frame.to_dict("records")
    assert (lea["first_name"], lea["last_name"], lea["phone"]) == ("Léa", "Rousseau", "612345678")
    assert (lea["applied_at"], lea["rejected_at"]) == ("2024-03-05", "2024-03-20T14:30:00")
    assert lea["years_experience"] == 4.0 and jurgen["years_experience"] == 2.5
    assert jurgen["email"] == '=HYPERLINK("x")'  # formula kept as text
    assert (jurgen["applied_at"], jurgen["rejected_at"]) == ("2024-04-12", "pas de date")


def test_xlsx_with_mapping_and_sheet(tmp_path: Path, no_mappings: Path) -> None:
    import openpyxl

    path = tmp_path / "pool.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["cover sheet"])
    data = workbook.create_sheet("Rejets")
    data.append(["Identité", "Mail perso"])
    data.append(["Ana Ruiz", "ana@example.org"])
    workbook.save(path)
    (tmp_path / "pool.mapping.yaml").write_text(
        "source: spreadsheet\nsheet: Rejets\ncolumns:\n  full_name: Identité\n  email: Mail perso\n", encoding="utf-8"
    )
    frame = parse_file(path, mapping_dir=no_mappings).applications
    assert (frame["full_name"].iloc[0], frame["email"].iloc[0], frame["source_row"].iloc[0]) == (
        "Ana Ruiz",
        "ana@example.org",
        2,
    )


# --------------------------------------------------------------------------------------------- mapping


def test_project_example_mapping_is_valid() -> None:
    examples = sorted(PROJECT_MAPPINGS.glob("*.mapping.yaml"))
    assert examples
    for example in examples:
        mapping = load_mapping(example)
        assert "email" in mapping.columns


def test_mapping_dir_lookup_by_glob_and_by_headers(tmp_path: Path) -> None:
    directory = tmp_path / "mappings"
    directory.mkdir()
    (directory / "by-glob.mapping.yaml").write_text(
        "source: spreadsheet\nmatch: 'refus_*.csv'\ncolumns: {email: Adresse, full_name: Qui}\n", encoding="utf-8"
    )
    (directory / "by-headers.mapping.yaml").write_text(
        "source: lever\ncolumns: {email: Contact mail, full_name: Person}\n", encoding="utf-8"
    )
    by_glob = tmp_path / "refus_juin.csv"
    by_glob.write_text("Qui;Adresse\nAna;ana@example.org\n", encoding="utf-8")
    by_headers = tmp_path / "other.csv"
    by_headers.write_text("Person,Contact mail,Extra\nBen,ben@example.org,x\n", encoding="utf-8")
    assert parse_file(by_glob, mapping_dir=directory).applications["full_name"].iloc[0] == "Ana"
    parsed = parse_file(by_headers, mapping_dir=directory)
    assert parsed.source_system == "lever" and parsed.applications["email"].iloc[0] == "ben@example.org"
    assert find_mapping(tmp_path / "nothing.csv", ["Nom", "E-mail"], directory) is None


def test_mapping_missing_header_is_reported(tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("Name;Mail\nAna;a@b.c\n", encoding="utf-8")
    (tmp_path / "f.mapping.yaml").write_text(
        "source: spreadsheet\ncolumns: {email: Mail, full_name: Name, job_title: Poste}\n", encoding="utf-8"
    )
    with pytest.raises(UnreadableFileError, match=r"missing columns required by mapping .*job_title \(Poste\)"):
        parse_file(path, mapping_dir=no_mappings)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"columns": {"email": "Mail", "full_name": "Nom"}}, r"'source' must be one of"),
        ({"source": "spreadsheet", "columns": {"mail": "Mail"}}, r"'mail' is not a canonical field"),
        ({"source": "spreadsheet", "columns": {"full_name": "Nom"}}, r"must map 'email'"),
        ({"source": "spreadsheet", "columns": {"email": "Mail"}}, r"must map a name"),
        ({"source": "spreadsheet", "date_format": "us", "columns": {"email": "M", "full_name": "N"}}, r"date_format"),
        ({"source": "spreadsheet", "delimiter": ";;", "columns": {"email": "M", "full_name": "N"}}, r"delimiter"),
        ({"source": "spreadsheet", "encoding": "klingon", "columns": {"email": "M", "full_name": "N"}}, r"encoding"),
        ({"source": "spreadsheet", "colums": {}}, r"unknown keys \['colums'\]"),
        (["not", "a", "mapping"], r"must be a YAML mapping"),
    ],
)
def test_mapping_validation(document, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        mapping_from_dict(document, origin="test.mapping.yaml")


def test_invalid_mapping_yaml_makes_the_file_unreadable(tmp_path: Path, no_mappings: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("Nom complet;E-mail\nAna;a@b.c\n", encoding="utf-8")
    (tmp_path / "g.mapping.yaml").write_text("source: [unclosed\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"g\.mapping\.yaml: invalid YAML"):
        parse_file(path, mapping_dir=no_mappings)


def test_auto_mapping_synonyms() -> None:
    mapping = auto_mapping(["Courriel", "Prénom", "Nom", "Motif de refus", "Date de candidature", "Compétences"])
    assert mapping.columns == {
        "email": ("Courriel",),
        "first_name": ("Prénom",),
        "last_name": ("Nom",),
        "rejection_reason": ("Motif de refus",),
        "applied_at": ("Date de candidature",),
        "skills_text": ("Compétences",),
    }
    assert auto_mapping(["E-Mail", "Vorname", "Nachname", "Stelle"]).columns["job_title"] == ("Stelle",)


# ------------------------------------------------------------------------------------------------ jobs


def test_jobs_files() -> None:
    expected = {
        "greenhouse_jobs.json": ("greenhouse", "550101", "Senior Data Engineer", "Data", None),
        "lever_postings.json": (
            "lever",
            "pst-fullstack",
            "Développeur·se Full-stack",
            "Engineering",
            "React|Node.js|PostgreSQL",
        ),
        "teamtailor_jobs.json": ("teamtailor", "801", "Growth Marketing Manager", "Marketing", None),
        "recruitee_offers.json": (
            "recruitee",
            "6001",
            "Comptable senior",
            "Finance",
            "Comptabilité générale|SAP FI|Excel avancé",
        ),
        "workable_jobs.json": (
            "workable",
            "A1B2C3D4E5",
            "Site Reliability Engineer",
            "Infrastructure",
            "Linux|Kubernetes|Prometheus",
        ),
    }
    for name, (source, job_id, title, department, required) in expected.items():
        parsed = parse_jobs_file(FIXTURES / name)
        jobs = parsed.jobs
        assert list(jobs.columns) == JOB_COLUMNS, name
        first = jobs.iloc[0]
        assert parsed.source_system == source == first["source_system"]
        assert (first["source_job_id"], first["title"], first["department"]) == (job_id, title, department)
        assert missing(first["required_skills_text"]) if required is None else first["required_skills_text"] == required
        assert first["source_row"] == 1
    lever = parse_jobs_file(FIXTURES / "lever_postings.json").jobs.iloc[0]
    assert lever["nice_skills_text"] == "Kubernetes" and lever["opened_at"] == pd.Timestamp("2024-01-15T08:12:00Z")
    assert lever["description"] == "Rejoignez l'équipe produit."
    teamtailor = parse_jobs_file(FIXTURES / "teamtailor_jobs.json").jobs.iloc[0]
    assert (teamtailor["location"], teamtailor["country"], teamtailor["language"]) == ("Bordeaux", "France", "fr")


def test_jobs_and_applications_are_not_mixed_up() -> None:
    with pytest.raises(UnreadableFileError, match=r"jobs export \(lever_jobs\)"):
        parse_file(FIXTURES / "lever_postings.json")
    with pytest.raises(UnreadableFileError, match=r"not a jobs export"):
        parse_jobs_file(FIXTURES / "lever_opportunities.json")


# ----------------------------------------------------------------------------------- generated exports


def _application_records(fmt: str, path: Path) -> int:
    """Number of application records in a generated file, counted independently of the adapters."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if fmt == "greenhouse":
        candidates = document if isinstance(document, list) else document["candidates"]
        return sum(max(1, len(c.get("applications") or [])) if isinstance(c, dict) else 1 for c in candidates)
    if fmt == "teamtailor":
        return sum(
            max(1, len(((c.get("relationships") or {}).get("job-applications") or {}).get("data") or []))
            if isinstance(c, dict)
            else 1
            for c in document["data"]
        )
    if fmt == "recruitee":
        return sum(max(1, len(c.get("placements") or [])) if isinstance(c, dict) else 1 for c in document["candidates"])
    items = document["data"] if fmt == "lever" and isinstance(document, dict) else document
    return len(items["candidates"] if isinstance(items, dict) else items)


def test_generated_inbox_is_fully_accounted_for(tmp_path: Path, no_mappings: Path) -> None:
    synth = pytest.importorskip("vivier.synth")
    summaries = synth.generate_inbox(tmp_path / "inbox", applications_per_format=80, seed=11, defects=0.1)
    seen = set()
    for summary in summaries:
        kind = detect_format(summary.path)
        if summary.kind == "jobs":
            assert kind == f"{summary.format}_jobs"
            parsed_jobs = parse_jobs_file(summary.path)
            assert parsed_jobs.rows_read == summary.records
            continue
        assert kind == summary.format
        parsed = parse_file(summary.path, mapping_dir=no_mappings)
        if summary.format in ("csv", "xlsx"):
            expected = summary.records
        else:
            expected = _application_records(summary.format, summary.path)
        assert parsed.rows_read == expected, summary.format
        assert len(parsed.applications) >= summary.applications * 0.9
        assert set(parsed.applications["status"].dropna()) <= {"rejected", "hired", "active"}
        assert set(parsed.applications["rejection_side_hint"].dropna()) <= {"company", "candidate"}
        seen.add(summary.format)
    assert seen == {"greenhouse", "lever", "teamtailor", "recruitee", "workable", "csv", "xlsx"}
