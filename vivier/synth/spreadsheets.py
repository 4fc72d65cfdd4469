"""Recruiters' own spreadsheets: CSV (French Excel style) and XLSX, each with its column mapping.

CSV: ``;`` delimiter, CRLF line ends, UTF-8 with BOM (or Windows-1252), dd/mm/yyyy dates, French
headers, first and last name in two columns, quoted multi-line comments.
XLSX: English headers, one "Full name" column, real Excel dates, written with openpyxl in
write-only mode with fixed document properties and zip timestamps, so the bytes are reproducible.

Next to each file, ``<stem>.mapping.yaml`` tells the project which header feeds which canonical field.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

from vivier.synth.catalogue import REMOTE, Job
from vivier.synth.population import (
    STATUS_REJECTED,
    Chunk,
    Population,
    huge_text,
)
from vivier.synth.timefmt import NA, day_first, to_dates
from vivier.synth.vendors import Written
from vivier.synth.vocab import (
    COUNTRIES,
    EMPLOYMENT_TYPES,
    LANGUAGES,
    REASONS,
    SOURCES,
    UNKNOWN_STAGES,
)

MAPPING_SUFFIX = ".mapping.yaml"
XLSX_MAX_ROWS = 1_048_575  # data rows below the header

# (column key, canonical field or None, French header, English header)
CANDIDATE_COLUMNS: tuple[tuple[str, str | None, str, str], ...] = (
    ("last_name", "last_name", "Nom", "Last name"),
    ("first_name", "first_name", "Prénom", "First name"),
    ("full_name", "full_name", "Nom complet", "Full name"),
    ("email", "email", "E-mail", "Email"),
    ("phone", "phone", "Téléphone", "Phone"),
    ("city", "city", "Ville", "City"),
    ("country", "country", "Pays", "Country"),
    ("job_title", "job_title", "Poste", "Position"),
    ("job_ref", "job_source_id", "Réf. offre", "Job reference"),
    ("department", "department", "Service", "Department"),
    ("applied", "applied_at", "Date de candidature", "Application date"),
    ("stage", "stage_name", "Étape", "Stage"),
    ("status", "status", "Statut", "Status"),
    ("rejected", "rejected_at", "Date de refus", "Rejection date"),
    ("reason", "rejection_reason", "Motif de refus", "Rejection reason"),
    ("side", "rejection_side_hint", "Refusé par", "Rejected by"),
    ("source", "source_channel", "Source", "Source"),
    ("skills", "skills_text", "Compétences", "Skills"),
    ("years", "years_experience", "Années d'expérience", "Years of experience"),
    ("birth", "birth_date", "Date de naissance", "Date of birth"),
    ("language", "language", "Langue", "Language"),
    ("consent", "consent_future_jobs", "Consentement", "Consent"),
    ("tags", "tags", "Tags", "Tags"),
    ("headline", "headline", "Titre", "Headline"),
    ("comment", None, "Commentaire", "Comments"),
)

# (column key, field of the project's jobs frame, French header, English header)
JOB_COLUMNS: tuple[tuple[str, str | None, str, str], ...] = (
    ("ref", "source_job_id", "Référence", "Reference"),
    ("title", "title", "Intitulé du poste", "Job title"),
    ("status", "status", "Statut", "Status"),
    ("department", "department", "Service", "Department"),
    ("city", "location", "Ville", "City"),
    ("country", "country", "Pays", "Country"),
    ("language", "language", "Langue", "Language"),
    ("contract", None, "Type de contrat", "Contract type"),
    ("remote", None, "Télétravail", "Remote"),
    ("years", None, "Expérience requise (années)", "Experience required (years)"),
    ("required", "required_skills_text", "Compétences requises", "Required skills"),
    ("nice", "nice_skills_text", "Compétences appréciées", "Nice-to-have skills"),
    ("description", "description", "Description", "Description"),
    ("published", "opened_at", "Date de publication", "Published on"),
)

_STATUS_TEXT = {"fr": ("Refusé", "En cours", "Embauché"), "en": ("Rejected", "In progress", "Hired")}
_SIDE_TEXT = {"fr": ("Entreprise", "Candidat"), "en": ("Company", "Candidate")}
_CONSENT_TEXT = {"fr": ("", "non", "oui"), "en": ("", "no", "yes")}  # index consent + 1
_JOB_STATUS_TEXT = {
    "fr": {"open": "Ouverte", "closed": "Pourvue", "draft": "Brouillon"},
    "en": {"open": "Open", "closed": "Closed", "draft": "Draft"},
}


def mapping_path(path: Path) -> Path:
    return path.with_name(path.stem + MAPPING_SUFFIX)


def _headers(table: tuple[tuple[str, str | None, str, str], ...], keys: list[str], lang: str) -> list[str]:
    index = {c[0]: c for c in table}
    return [index[k][2 if lang == "fr" else 3] for k in keys]


def candidate_keys(name_columns: str) -> list[str]:
    drop = {"full_name"} if name_columns == "split" else {"first_name", "last_name"}
    return [c[0] for c in CANDIDATE_COLUMNS if c[0] not in drop]


def write_mapping(
    path: Path,
    *,
    table,
    keys: list[str],
    lang: str,
    delimiter: str | None,
    encoding: str | None,
    date_format: str,
    sheet: str | None = None,
) -> Path:
    index = {c[0]: c for c in table}
    columns = {index[k][1]: index[k][2 if lang == "fr" else 3] for k in keys if index[k][1]}
    doc: dict = {"source": "spreadsheet", "delimiter": delimiter, "encoding": encoding, "date_format": date_format}
    if sheet is not None:
        doc["sheet"] = sheet
    doc["columns"] = columns
    target = mapping_path(path)
    target.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# candidate rows


def _candidate_columns(pop: Population, chunk: Chunk, lang: str, excel: bool) -> dict[str, list]:
    """Column key -> list of cell values for the chunk's applications."""
    people = chunk.people
    person = chunk.person
    cat = pop.catalogue
    n = chunk.size
    name_col = 1 if lang == "fr" else 2
    cols: dict[str, list] = {}
    first = chunk.a_first.tolist()
    last = chunk.a_last.tolist()
    cols["first_name"] = first
    cols["last_name"] = last
    cols["full_name"] = [f"{f} {la}".strip() for f, la in zip(first, last, strict=True)]
    cols["email"] = ["" if e is None else e for e in chunk.a_email.tolist()]
    cols["phone"] = ["" if p is None else p for p in people.phone[person].tolist()]
    cols["city"] = people.city[person].tolist()
    loc = people.loc[person]
    cols["country"] = np.array([c[name_col] for c in COUNTRIES], dtype=object)[loc].tolist()
    cols["language"] = np.array([c[name_col] for c in LANGUAGES], dtype=object)[loc].tolist()
    job = chunk.job
    cols["job_title"] = np.array([j.title for j in cat], dtype=object)[job].tolist()
    cols["job_ref"] = np.array([j.reference for j in cat], dtype=object)[job].tolist()
    cols["department"] = np.array([j.department for j in cat], dtype=object)[job].tolist()

    labels = np.array(pop.stages.labels, dtype=object)  # (rank, lang)
    stage = labels[chunk.rank, chunk.lang]
    unknown = chunk.unknown_stage >= 0
    stage[unknown] = np.array(UNKNOWN_STAGES, dtype=object)[chunk.unknown_stage[unknown]]
    cols["stage"] = stage.tolist()
    cols["status"] = np.array(_STATUS_TEXT[lang], dtype=object)[chunk.status].tolist()
    reasons = np.array([""] + [r[0] for r in REASONS] + [""] + [r[1] for r in REASONS], dtype=object)
    offset = np.where(chunk.lang == 0, 1, len(REASONS) + 2)
    reason = np.where(chunk.reason >= 0, chunk.reason + offset, 0)
    rejected = chunk.status == STATUS_REJECTED
    cols["reason"] = np.where(rejected, reasons[reason], "").tolist()
    side_text = np.array(("", *_SIDE_TEXT[lang]), dtype=object)
    cols["side"] = np.where(rejected, side_text[chunk.side + 1], "").tolist()
    cols["source"] = np.array([s[0] for s in SOURCES], dtype=object)[chunk.source].tolist()

    skills = np.array([", ".join(s) for s in people.skills.tolist()], dtype=object)
    cols["skills"] = skills[person].tolist()
    tags = np.array([", ".join(t) for t in people.tags.tolist()], dtype=object)
    cols["tags"] = tags[person].tolist()
    cols["headline"] = people.headline[person].tolist()
    cols["consent"] = np.array(_CONSENT_TEXT[lang], dtype=object)[people.consent[person] + 1].tolist()
    comment = people.comment[person].copy()
    cols["comment"] = ["" if c is None else c for c in comment.tolist()]

    decided = np.where(rejected, chunk.decided, NA)
    if excel:
        cols["applied"] = to_dates(chunk.applied)
        cols["rejected"] = to_dates(decided)
        cols["birth"] = to_dates(people.birth[person])
        years = people.years[person].tolist()
        cols["years"] = [int(y) if float(y).is_integer() else y for y in years]
    else:
        cols["applied"] = day_first(chunk.applied)
        cols["rejected"] = ["" if d is None else d for d in day_first(decided)]
        birth = day_first(people.birth)
        birth_col = np.array(["" if b is None else b for b in birth], dtype=object)
        cols["birth"] = birth_col[person].tolist()
        years = np.array(
            [str(int(y)) if float(y).is_integer() else str(y).replace(".", ",") for y in people.years.tolist()],
            dtype=object,
        )
        cols["years"] = years[person].tolist()
    for i in np.flatnonzero(chunk.bad_date != None).tolist():  # noqa: E711 - elementwise comparison
        cols["applied"][i] = chunk.bad_date[i]
    if chunk.huge_app >= 0:
        cols["comment"][chunk.huge_app] = huge_text()
    assert all(len(v) == n for v in cols.values())
    return cols


def _rows(cols: dict[str, list], keys: list[str], chunk: Chunk) -> list[tuple]:
    rows = list(zip(*(cols[k] for k in keys), strict=True))
    if chunk.duplicate.any():
        order = np.repeat(np.arange(chunk.size), 1 + chunk.duplicate.astype(np.int64))
        rows = [rows[i] for i in order.tolist()]
    return rows


def _csv_column(values: list[str]) -> list[str]:
    """Quote the cells that need it (delimiter, quote or line break), as Excel and the csv module do."""
    joined = "".join(values)
    if not any(ch in joined for ch in _SPECIAL):
        return values
    return ['"' + v.replace('"', '""') + '"' if any(ch in v for ch in _SPECIAL) else v for v in values]


_SPECIAL = (";", '"', "\r", "\n")


def _csv_lines(cols: dict[str, list], keys: list[str], chunk: Chunk) -> list[str]:
    """The chunk's CSV lines (without line ends); a duplicated application gives two identical lines."""
    lines = list(map(";".join, zip(*(_csv_column(cols[k]) for k in keys), strict=True)))
    if chunk.duplicate.any():
        order = np.repeat(np.arange(chunk.size), 1 + chunk.duplicate.astype(np.int64))
        lines = [lines[i] for i in order.tolist()]
    return lines


def write_csv(
    path: Path, pop: Population, applications: int, *, encoding: str = "utf-8-sig", name_columns: str = "split"
) -> Written:
    keys = candidate_keys(name_columns)
    out = Written()
    path.parent.mkdir(parents=True, exist_ok=True)
    # CSV lines are assembled column-wise (much faster than a csv.writer per row); one write per chunk
    with open(path, "w", encoding=encoding, errors="replace", newline="", buffering=1 << 20) as fh:
        fh.write(";".join(_csv_column(_headers(CANDIDATE_COLUMNS, keys, "fr"))) + "\r\n")
        for chunk in pop.chunks(applications):
            lines = _csv_lines(_candidate_columns(pop, chunk, "fr", excel=False), keys, chunk)
            fh.write("\r\n".join(lines) + "\r\n")
            out.records += len(lines)
            out.persons += len(chunk.people)
            out.applications += chunk.size
    write_mapping(
        path, table=CANDIDATE_COLUMNS, keys=keys, lang="fr", delimiter=";", encoding=encoding, date_format="dayfirst"
    )
    return out


def write_xlsx(path: Path, pop: Population, applications: int, *, name_columns: str = "full") -> Written:
    from openpyxl import Workbook

    if applications > XLSX_MAX_ROWS:
        raise ValueError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS} data rows")
    keys = candidate_keys(name_columns)
    out = Written()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Candidates")
    ws.append(_headers(CANDIDATE_COLUMNS, keys, "en"))
    for chunk in pop.chunks(applications):
        rows = _rows(_candidate_columns(pop, chunk, "en", excel=True), keys, chunk)
        if out.records + len(rows) > XLSX_MAX_ROWS:
            raise ValueError(f"an XLSX sheet holds at most {XLSX_MAX_ROWS} data rows")
        for row in rows:
            ws.append(row)
        out.records += len(rows)
        out.persons += len(chunk.people)
        out.applications += chunk.size
    save_workbook(wb, path, pop.as_of)
    write_mapping(
        path,
        table=CANDIDATE_COLUMNS,
        keys=keys,
        lang="en",
        delimiter=None,
        encoding=None,
        date_format="iso",
        sheet="Candidates",
    )
    return out


# ---------------------------------------------------------------------------------------------
# reproducible XLSX

_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose members all carry the same timestamp (openpyxl would stamp the save time)."""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        info = self._info(arcname or Path(filename).name)
        with open(filename, "rb") as src, self.open(info, "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def save_workbook(wb, path: Path, as_of_secs: int) -> None:
    """Save ``wb`` with fixed created/modified properties and zip times: same content, same bytes."""
    from openpyxl.writer.excel import ExcelWriter

    stamp = datetime(1970, 1, 1) + timedelta(seconds=as_of_secs)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "Vivier synthetic data"
    wb.properties.lastModifiedBy = "Vivier synthetic data"
    path.parent.mkdir(parents=True, exist_ok=True)
    archive = _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()


# ---------------------------------------------------------------------------------------------
# job offers


def _job_cells(job: Job, lang: str, excel: bool) -> dict:
    li = 0 if lang == "fr" else 1
    published = to_dates(np.array([job.created]))[0] if excel else day_first(np.array([job.created]))[0]
    return {
        "ref": job.reference,
        "title": job.title,
        "status": _JOB_STATUS_TEXT[lang][job.status],
        "department": job.department,
        "city": job.city,
        "country": COUNTRIES[job.country][1 + li],
        "language": job.lang,
        "contract": EMPLOYMENT_TYPES[job.employment][li],
        "remote": REMOTE[job.remote][li],
        "years": job.years_min,
        "required": ", ".join(job.required),
        "nice": ", ".join(job.nice),
        "description": job.description,
        "published": published,
    }


def write_jobs_csv(path: Path, jobs: tuple[Job, ...], *, encoding: str = "utf-8-sig") -> int:
    keys = [c[0] for c in JOB_COLUMNS]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, errors="replace", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(_headers(JOB_COLUMNS, keys, "fr"))
        for job in jobs:
            cells = _job_cells(job, "fr", excel=False)
            writer.writerow([cells[k] for k in keys])
    write_mapping(
        path, table=JOB_COLUMNS, keys=keys, lang="fr", delimiter=";", encoding=encoding, date_format="dayfirst"
    )
    return len(jobs)


def write_jobs_xlsx(path: Path, jobs: tuple[Job, ...], as_of_secs: int) -> int:
    from openpyxl import Workbook

    keys = [c[0] for c in JOB_COLUMNS]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Jobs")
    ws.append(_headers(JOB_COLUMNS, keys, "en"))
    for job in jobs:
        cells = _job_cells(job, "en", excel=True)
        ws.append([cells[k] for k in keys])
    save_workbook(wb, path, as_of_secs)
    write_mapping(
        path, table=JOB_COLUMNS, keys=keys, lang="en", delimiter=None, encoding=None, date_format="iso", sheet="Jobs"
    )
    return len(jobs)
