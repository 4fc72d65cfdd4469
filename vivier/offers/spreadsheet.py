"""Job offers kept in a spreadsheet (CSV or XLSX), read through a column mapping.

The mapping is ``<file stem>.mapping.yaml`` next to the file, the same layout as the candidates'
mappings (:mod:`vivier.ingest.mapping`) with job fields as keys::

    source: spreadsheet
    delimiter: ";"            # CSV, optional
    encoding: utf-8-sig       # CSV, optional (else UTF-8, falling back to Windows-1252)
    date_format: dayfirst     # dayfirst | monthfirst | iso | auto
    sheet: Jobs               # XLSX, optional
    columns:                  # job field -> header (or list of alternative headers)
      source_job_id: Référence
      title: Intitulé du poste
      required_skills_text: Compétences requises
      ...

Without a mapping, headers are recognised from FR/EN/DE/IT synonyms. A spreadsheet is taken for a jobs
file when its mapping (or its headers) name a job title and no e-mail column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from vivier.ingest.canonical import VENDORS, RejectedRecord, UnreadableFileError
from vivier.ingest.detect import first_record_line, guess_delimiter, sniff
from vivier.ingest.formats.jobs import JOB_COLUMNS, JobsParsed
from vivier.ingest.formats.spreadsheet import normalise_dates
from vivier.ingest.mapping import DATE_FORMATS, MAPPING_SUFFIX, SYNONYMS, fold

JOB_FIELDS = tuple(c for c in JOB_COLUMNS if c not in ("source_system", "source_row"))
JOB_SYNONYMS: dict[str, tuple[str, ...]] = {
    "source_job_id": (
        "Référence",
        "Réf",
        "Référence offre",
        "ID offre",
        "Reference",
        "Ref",
        "Job ID",
        "Job reference",
        "Requisition ID",
        "Stellen-ID",
        "Kennziffer",
        "Riferimento",
        "Codice offerta",
    ),
    "title": (
        "Intitulé du poste",
        "Intitulé",
        "Titre du poste",
        "Poste",
        "Job title",
        "Title",
        "Position",
        "Stellenbezeichnung",
        "Stellentitel",
        "Titolo",
        "Posizione",
    ),
    "status": ("Statut", "État", "Etat", "Status", "Stato"),
    "department": ("Service", "Département", "Équipe", "Department", "Team", "Abteilung", "Reparto"),
    "location": ("Ville", "Lieu", "Localisation", "City", "Location", "Ort", "Standort", "Città", "Sede"),
    "country": ("Pays", "Country", "Land", "Paese"),
    "language": ("Langue", "Language", "Sprache", "Lingua"),
    "required_skills_text": (
        "Compétences requises",
        "Compétences",
        "Required skills",
        "Skills",
        "Must have",
        "Anforderungen",
        "Kompetenzen",
        "Competenze richieste",
        "Competenze",
    ),
    "nice_skills_text": (
        "Compétences appréciées",
        "Compétences souhaitées",
        "Nice-to-have skills",
        "Nice to have",
        "Preferred skills",
        "Wünschenswert",
        "Competenze gradite",
    ),
    "description": (
        "Description",
        "Description du poste",
        "Descriptif",
        "Job description",
        "Beschreibung",
        "Stellenbeschreibung",
        "Descrizione",
    ),
    "opened_at": (
        "Date de publication",
        "Publiée le",
        "Published on",
        "Published at",
        "Opened at",
        "Date opened",
        "Veröffentlicht am",
        "Data di pubblicazione",
    ),
}
_SYNONYM_INDEX = {fold(h): f for f, headers in JOB_SYNONYMS.items() for h in headers}
_EMAIL_HEADERS = {fold(h) for h in SYNONYMS["email"]}
MAPPING_KEYS = {"source", "kind", "delimiter", "encoding", "date_format", "sheet", "match", "default_status", "columns"}


@dataclass(frozen=True)
class JobMapping:
    columns: dict[str, tuple[str, ...]]
    source: str = "spreadsheet"
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str = "auto"
    sheet: str | None = None
    origin: str = "headers recognised from synonyms"


def _mapping_file(path: Path) -> Path:
    return path.with_name(path.stem + MAPPING_SUFFIX)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as exc:
        raise UnreadableFileError(f"mapping {path.name}: cannot be read ({exc})") from exc


def _looks_like_job_columns(columns: Any) -> bool:
    return isinstance(columns, dict) and "title" in columns and "email" not in columns


def mapping_from_dict(data: Any, origin: str) -> JobMapping:
    """A validated job mapping; raises UnreadableFileError naming the problem."""
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise UnreadableFileError(f"mapping {origin}: a YAML mapping with 'source' and 'columns' is expected")
    unknown = sorted(set(map(str, data)) - MAPPING_KEYS)
    if unknown:
        raise UnreadableFileError(f"mapping {origin}: unknown keys {unknown}")
    source = data.get("source", "spreadsheet")
    if source not in VENDORS:
        raise UnreadableFileError(f"mapping {origin}: 'source' must be one of {list(VENDORS)}, got {source!r}")
    date_format = data.get("date_format", "auto")
    if date_format not in DATE_FORMATS:
        raise UnreadableFileError(f"mapping {origin}: 'date_format' must be one of {list(DATE_FORMATS)}")
    columns: dict[str, tuple[str, ...]] = {}
    for field, headers in data["columns"].items():
        if field not in JOB_FIELDS:
            raise UnreadableFileError(f"mapping {origin}: '{field}' is not a job field (one of {list(JOB_FIELDS)})")
        alternatives = headers if isinstance(headers, list) else [headers]
        columns[field] = tuple(str(h) for h in alternatives if str(h).strip())
    if "title" not in columns:
        raise UnreadableFileError(f"mapping {origin}: 'columns' must map 'title'")
    delimiter = data.get("delimiter")
    delimiter = {"tab": "\t", "\\t": "\t"}.get(str(delimiter).lower(), delimiter) if delimiter else None
    sheet = data.get("sheet")
    return JobMapping(
        columns=columns,
        source=source,
        delimiter=delimiter,
        encoding=data.get("encoding"),
        date_format=date_format,
        sheet=None if sheet is None else str(sheet),
        origin=origin,
    )


def auto_mapping(headers: list[str]) -> JobMapping | None:
    """Headers recognised from synonyms; None unless a title (and no e-mail) column is found."""
    keys = [fold(str(h)) for h in headers]
    if _EMAIL_HEADERS & set(keys):
        return None
    columns: dict[str, tuple[str, ...]] = {}
    for header, key in zip(headers, keys, strict=True):
        field = _SYNONYM_INDEX.get(key)
        if field is not None and field not in columns:
            columns[field] = (str(header),)
    if "title" not in columns or not ({"source_job_id", "required_skills_text", "description"} & set(columns)):
        return None
    return JobMapping(columns=columns)


def _csv_headers(path: Path) -> tuple[list[str], str | None, str]:
    sniffed = sniff(path)
    head = sniffed.head or ""
    delimiter = guess_delimiter(head)
    if delimiter is None:
        return [], None, sniffed.encoding or "utf-8"
    line = first_record_line(head)
    return next(csv.reader([line], delimiter=delimiter)), delimiter, sniffed.encoding or "utf-8"


def _xlsx_rows(path: Path, sheet: str | None, limit: int | None = None) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any openpyxl failure means the workbook cannot be read
        raise UnreadableFileError(f"{path.name}: the workbook cannot be read ({exc})") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise UnreadableFileError(f"{path.name}: no sheet {sheet!r} (sheets: {workbook.sheetnames})")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        rows = []
        for row in worksheet.iter_rows(values_only=True):
            rows.append(list(row))
            if limit is not None and len(rows) >= limit:
                break
        return rows
    finally:
        workbook.close()


def find_job_mapping(path: str | Path) -> JobMapping | None:
    """The mapping of a jobs spreadsheet, or None when ``path`` is not one (candidates, or unknown)."""
    path = Path(path)
    beside = _mapping_file(path)
    if beside.is_file():
        data = _read_yaml(beside)
        if isinstance(data, dict) and (data.get("kind") == "jobs" or _looks_like_job_columns(data.get("columns"))):
            return mapping_from_dict(data, beside.name)
        return None
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            rows = _xlsx_rows(path, None, limit=1)
            headers = [str(h) for h in rows[0] if h is not None] if rows else []
        else:
            headers, _, _ = _csv_headers(path)
    except UnreadableFileError:
        return None
    return auto_mapping(headers)


def _resolve(mapping: JobMapping, headers: list[str], file_name: str) -> dict[str, int]:
    position = {fold(str(h)): i for i, h in reversed(list(enumerate(headers)))}
    resolved = {}
    for field, alternatives in mapping.columns.items():
        found = next((position[fold(a)] for a in alternatives if fold(a) in position), None)
        if found is None:
            raise UnreadableFileError(
                f"{file_name}: column {' / '.join(alternatives)!r} for '{field}' ({mapping.origin}) is not in the file"
            )
        resolved[field] = found
    return resolved


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame(mapping: JobMapping, records: list[list[str]], rows: list[int], headers: list[str], name: str):
    positions = _resolve(mapping, headers, name)
    data = {field: [r[i].strip() if i < len(r) else "" for r in records] for field, i in positions.items()}
    frame = pd.DataFrame(data, dtype="string").reindex(columns=JOB_COLUMNS)
    frame["source_system"] = mapping.source
    frame["source_row"] = pd.array(rows, dtype="Int64")
    mapped = list(positions)
    blank = (frame[mapped].fillna("") == "").all(axis=1)
    frame = frame.loc[~blank].reset_index(drop=True)
    for field in mapped:
        frame[field] = frame[field].mask(frame[field] == "")
    if "opened_at" in positions:
        frame["opened_at"] = normalise_dates(frame["opened_at"].fillna(""), mapping.date_format)
    return frame


def parse_jobs_spreadsheet(path: str | Path) -> JobsParsed:
    """Read a jobs CSV/XLSX through its mapping; a record wider than the header is rejected, not guessed."""
    path = Path(path)
    mapping = find_job_mapping(path)
    if mapping is None:
        raise UnreadableFileError(f"{path.name}: not a jobs spreadsheet (no mapping and no job-title column)")
    rejected: list[RejectedRecord] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path, mapping.sheet)
        if not rows:
            raise UnreadableFileError(f"{path.name}: empty worksheet")
        headers = [_cell(h) for h in rows[0]]
        records = [[_cell(v) for v in row] for row in rows[1:]]
        numbers = list(range(2, len(rows) + 1))
    else:
        _, guessed, encoding = _csv_headers(path)
        delimiter = mapping.delimiter or guessed
        if delimiter is None:
            raise UnreadableFileError(f"{path.name}: no column delimiter (; , tab or |) in the header line")
        raw = path.read_bytes()
        try:
            text = raw.decode(mapping.encoding or encoding)
        except (UnicodeDecodeError, LookupError):
            text = raw.decode("cp1252", errors="replace")
        reader = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))
        if not reader:
            raise UnreadableFileError(f"{path.name}: empty file")
        headers, records, numbers = reader[0], [], []
        for number, record in enumerate(reader[1:], start=2):
            if len(record) > len(headers) and any(v.strip() for v in record[len(headers) :]):
                rejected.append(
                    RejectedRecord(number, f"{len(record)} fields for {len(headers)} columns", delimiter.join(record))
                )
                continue
            records.append(record)
            numbers.append(number)
    return JobsParsed(mapping.source, _frame(mapping, records, numbers, headers, path.name), rejected)
