"""Column mappings for spreadsheets (CSV / XLSX): which header feeds which canonical field.

A mapping is a YAML file::

    source: spreadsheet          # required: the source_system of the rows (one of canonical.VENDORS)
    delimiter: ";"               # optional (CSV): one character, or "tab"
    encoding: cp1252             # optional (CSV): else UTF-8 (BOM or not), falling back to Windows-1252
    date_format: dayfirst        # optional: dayfirst | monthfirst | iso (default: inferred, dayfirst on doubt)
    sheet: Refusés               # optional (XLSX): sheet name, else the first sheet
    match: ["refus_*.csv"]       # optional: file-name globs this mapping applies to (mapping directory)
    default_status: rejected     # optional: status of rows whose status cell is empty (default rejected)
    columns:                     # required: canonical field -> header (or list of alternative headers)
      email: Courriel
      first_name: Prénom
      last_name: Nom
      skills_text: [Compétences, Notes]   # skills_text concatenates every listed column present

Headers are compared without case, accents, spaces or punctuation ("E-mail" == "email"). Every listed
column must exist in the file (one of the alternatives when a list is given), except that ``skills_text``
needs only one of its list. ``email`` and a name (``full_name`` or ``first_name``/``last_name``) are required.

Where the mapping is looked for (:func:`find_mapping`): ``<file stem>.mapping.yaml`` next to the file; then,
in the mapping directory (``mapping_dir`` argument, else ``$VIVIER_MAPPINGS_DIR``, else ``include/mappings``
of the project), ``<file stem>.mapping.yaml``, a mapping whose ``match`` globs match the file name, and a
mapping without ``match`` whose every header is present in the file; failing all that, the headers are
auto-mapped from known French / English / German / Italian synonyms (:func:`auto_mapping`).
"""

from __future__ import annotations

import codecs
import fnmatch
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vivier.ingest.canonical import CANONICAL_FIELDS, VENDORS, UnreadableFileError
from vivier.tagging.normalize import strip_accents

MAPPABLE_FIELDS: tuple[str, ...] = tuple(f for f in CANONICAL_FIELDS if f not in ("source_row", "source_system"))
DATE_FORMATS = ("dayfirst", "monthfirst", "iso", "auto")
STATUSES = ("rejected", "hired", "active")
NAME_FIELDS = ("full_name", "first_name", "last_name")
MAPPING_SUFFIX = ".mapping.yaml"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class MappingError(UnreadableFileError):
    """A column-mapping YAML is invalid (the spreadsheet it is for cannot be read with it)."""


@dataclass(frozen=True)
class ColumnMapping:
    columns: dict[str, tuple[str, ...]]
    source: str = "spreadsheet"
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str = "auto"
    sheet: str | None = None
    match: tuple[str, ...] = ()
    default_status: str = "rejected"
    origin: str = "auto-mapped headers"  # the YAML path, for messages
    auto: bool = field(default=False, compare=False)


# --------------------------------------------------------------------------------------------- synonyms

SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "E-mail",
        "Email",
        "Courriel",
        "Mail",
        "Adresse e-mail",
        "Adresse email",
        "Adresse mail",
        "Email address",
        "E-mail address",
        "E-Mail-Adresse",
        "Indirizzo email",
        "Posta elettronica",
    ),
    "first_name": ("Prénom", "First name", "Firstname", "Given name", "Forename", "Vorname"),
    "last_name": (
        "Nom de famille",
        "Last name",
        "Lastname",
        "Surname",
        "Family name",
        "Nachname",
        "Familienname",
        "Cognome",
    ),
    "full_name": (
        "Nom complet",
        "Full name",
        "Fullname",
        "Candidate name",
        "Candidate",
        "Candidat",
        "Candidat(e)",
        "Nom du candidat",
        "Nom et prénom",
        "Prénom et nom",
        "Prénom Nom",
        "Nom Prénom",
        "Nome completo",
        "Nome e cognome",
        "Vollständiger Name",
        "Bewerber",
        "Candidato",
    ),
    "phone": (
        "Téléphone",
        "Telephone",
        "Tél",
        "Tel",
        "Phone",
        "Phone number",
        "Mobile",
        "Portable",
        "Numéro de téléphone",
        "Telefon",
        "Telefonnummer",
        "Handy",
        "Telefono",
        "Cellulare",
    ),
    "city": ("Ville", "City", "Location", "Localisation", "Lieu", "Stadt", "Ort", "Wohnort", "Città"),
    "country": ("Pays", "Country", "Land", "Paese"),
    "language": ("Langue", "Language", "Sprache", "Lingua"),
    "headline": (
        "Titre",
        "Headline",
        "Current title",
        "Poste actuel",
        "Fonction actuelle",
        "Titre du profil",
        "Aktuelle Position",
        "Ruolo attuale",
    ),
    "job_source_id": (
        "Job ID",
        "ID poste",
        "ID offre",
        "Référence offre",
        "Réf offre",
        "Job reference",
        "Requisition ID",
        "Stellen-ID",
    ),
    "job_title": (
        "Poste",
        "Job",
        "Job title",
        "Position",
        "Offre",
        "Poste visé",
        "Intitulé du poste",
        "Annonce",
        "Role",
        "Rôle",
        "Stelle",
        "Stellenbezeichnung",
        "Posizione",
        "Offerta",
    ),
    "department": ("Département", "Department", "Service", "Équipe", "Team", "Abteilung", "Reparto"),
    "applied_at": (
        "Date de candidature",
        "Date candidature",
        "Applied at",
        "Applied on",
        "Application date",
        "Date applied",
        "Bewerbungsdatum",
        "Eingangsdatum",
        "Data candidatura",
        "Data di candidatura",
    ),
    "rejected_at": (
        "Date de refus",
        "Date refus",
        "Date de rejet",
        "Rejected at",
        "Rejected on",
        "Rejection date",
        "Disqualified at",
        "Absagedatum",
        "Data rifiuto",
        "Data di rifiuto",
    ),
    "status": ("Statut", "Status", "État", "Etat", "Stato"),
    "stage_name": (
        "Étape",
        "Etape",
        "Étape atteinte",
        "Stage",
        "Stage reached",
        "Pipeline stage",
        "Phase",
        "Stufe",
        "Fase",
    ),
    "rejection_reason": (
        "Motif de refus",
        "Motif du refus",
        "Raison du refus",
        "Motif",
        "Rejection reason",
        "Reason",
        "Disqualification reason",
        "Absagegrund",
        "Motivo rifiuto",
        "Motivo del rifiuto",
    ),
    "rejection_side_hint": ("Refusé par", "Refus par", "Rejected by", "Abgelehnt von", "Rifiutato da"),
    "source_channel": ("Source", "Canal", "Origine", "Provenance", "Channel", "Quelle", "Kanal", "Fonte"),
    "tags": ("Tags", "Étiquettes", "Etiquettes", "Labels", "Schlagwörter", "Etichette"),
    "skills_text": ("Compétences", "Competences", "Skills", "Kompetenzen", "Fähigkeiten", "Competenze"),
    "years_experience": (
        "Années d'expérience",
        "Années d'expérience professionnelle",
        "Ans d'expérience",
        "Expérience (années)",
        "Years of experience",
        "Years experience",
        "Experience (years)",
        "Berufserfahrung",
        "Jahre Berufserfahrung",
        "Anni di esperienza",
    ),
    "birth_date": ("Date de naissance", "Birth date", "Date of birth", "Birthdate", "Geburtsdatum", "Data di nascita"),
    "consent_future_jobs": (
        "Consentement",
        "Consentement RGPD",
        "Accord RGPD",
        "Consent",
        "Consent future jobs",
        "GDPR consent",
        "Einwilligung",
        "Consenso",
    ),
    "consent_expires_at": (
        "Expiration consentement",
        "Fin du consentement",
        "Consent expires at",
        "Consent expiry",
        "Einwilligung bis",
        "Scadenza consenso",
    ),
    "unsubscribed": ("Désabonné", "Désinscrit", "Unsubscribed", "Opt-out", "Abgemeldet", "Disiscritto"),
    "last_activity_at": (
        "Dernière activité",
        "Last activity",
        "Last activity at",
        "Letzte Aktivität",
        "Ultima attività",
    ),
    "source_person_id": ("ID candidat", "Candidate ID", "Person ID", "Bewerber-ID", "ID candidato"),
    "source_application_id": ("ID candidature", "Application ID", "Bewerbungs-ID", "ID candidatura"),
}
# headers whose meaning depends on the others: "Nom" is the family name next to "Prénom", else the full name
_AMBIGUOUS: dict[str, tuple[str, str]] = {
    "nom": ("last_name", "first_name"),  # FR: last name when a first-name column exists
    "name": ("last_name", "first_name"),  # EN/DE
    "nome": ("first_name", "last_name"),  # IT: first name when a last-name column (Cognome) exists
}


def fold(value: str) -> str:
    """Lower-case, accent-free, alphanumeric-only form of a label (for tolerant comparisons)."""
    return re.sub(r"[^a-z0-9]+", "", strip_accents(value).lower())


def header_key(header: Any) -> str:
    return fold(str(header))


_SYNONYM_INDEX: dict[str, str] = {fold(h): f for f, headers in SYNONYMS.items() for h in headers}


# ---------------------------------------------------------------------------------------------- loading


def load_mapping(path: str | Path) -> ColumnMapping:
    """Load and validate a mapping YAML; raise MappingError naming the file and the problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingError(f"mapping {path}: cannot be read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping {path}: invalid YAML ({exc})") from exc
    return mapping_from_dict(data, origin=str(path))


def mapping_from_dict(data: Any, *, origin: str = "mapping") -> ColumnMapping:
    def fail(problem: str) -> MappingError:
        return MappingError(f"mapping {origin}: {problem}")

    if not isinstance(data, dict):
        raise fail("must be a YAML mapping with 'source' and 'columns'")
    known = {"source", "delimiter", "encoding", "date_format", "sheet", "match", "default_status", "columns"}
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        raise fail(f"unknown keys {unknown} (allowed: {sorted(known)})")
    source = data.get("source")
    if source not in VENDORS:
        raise fail(f"'source' must be one of {list(VENDORS)}, got {source!r}")

    delimiter = data.get("delimiter")
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(str(delimiter).lower(), delimiter)
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
            raise fail(f"'delimiter' must be one character or 'tab', got {data.get('delimiter')!r}")
    encoding = data.get("encoding")
    if encoding is not None:
        try:
            encoding = codecs.lookup(str(encoding)).name
        except LookupError:
            raise fail(f"unknown 'encoding' {data.get('encoding')!r}") from None
    date_format = data.get("date_format", "auto")
    if date_format not in DATE_FORMATS:
        raise fail(f"'date_format' must be one of {list(DATE_FORMATS)}, got {date_format!r}")
    default_status = data.get("default_status", "rejected")
    if default_status not in STATUSES:
        raise fail(f"'default_status' must be one of {list(STATUSES)}, got {default_status!r}")
    sheet = data.get("sheet")
    if sheet is not None and not isinstance(sheet, (str, int)):
        raise fail("'sheet' must be a sheet name")
    match = data.get("match") or ()
    match = (match,) if isinstance(match, str) else match
    if not isinstance(match, (list, tuple)) or not all(isinstance(m, str) and m for m in match):
        raise fail("'match' must be a glob or a list of globs")

    raw_columns = data.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise fail("'columns' must map canonical fields to headers")
    columns: dict[str, tuple[str, ...]] = {}
    for fld, headers in raw_columns.items():
        if fld not in MAPPABLE_FIELDS:
            raise fail(f"'{fld}' is not a canonical field (one of {list(MAPPABLE_FIELDS)})")
        alternatives = headers if isinstance(headers, list) else [headers]
        if not alternatives or not all(isinstance(h, (str, int)) and str(h).strip() for h in alternatives):
            raise fail(f"columns.{fld} must be a header name or a list of header names")
        columns[fld] = tuple(str(h) for h in alternatives)
    if "email" not in columns:
        raise fail("'columns' must map 'email'")
    if not any(f in columns for f in NAME_FIELDS):
        raise fail("'columns' must map a name: full_name, or first_name/last_name")
    return ColumnMapping(
        columns=columns,
        source=source,
        delimiter=delimiter,
        encoding=encoding,
        date_format=date_format,
        sheet=None if sheet is None else str(sheet),
        match=tuple(match),
        default_status=default_status,
        origin=origin,
    )


def default_mapping_dir() -> Path:
    env = os.environ.get("VIVIER_MAPPINGS_DIR")
    return Path(env) if env else _PROJECT_ROOT / "include" / "mappings"


def find_mapping(
    data_path: str | Path, headers: Sequence[Any] | None = None, mapping_dir: str | Path | None = None
) -> ColumnMapping | None:
    """The mapping for ``data_path`` (see the module doc for the search order), or None to auto-map."""
    data_path = Path(data_path)
    beside = data_path.with_name(data_path.stem + MAPPING_SUFFIX)
    if beside.is_file():
        return load_mapping(beside)
    directory = Path(mapping_dir) if mapping_dir is not None else default_mapping_dir()
    if not directory.is_dir():
        return None
    named = directory / (data_path.stem + MAPPING_SUFFIX)
    if named.is_file():
        return load_mapping(named)
    candidates = sorted(p for p in directory.iterdir() if p.name.endswith((MAPPING_SUFFIX, ".mapping.yml")))
    mappings = [load_mapping(p) for p in candidates]
    for mapping in mappings:
        if any(fnmatch.fnmatch(data_path.name.lower(), m.lower()) for m in mapping.match):
            return mapping
    if headers is None:
        return None
    present = {header_key(h) for h in headers}
    best: ColumnMapping | None = None
    for mapping in mappings:
        if mapping.match:
            continue
        if all(any(header_key(h) in present for h in alts) for alts in mapping.columns.values()):
            if best is None or len(mapping.columns) > len(best.columns):
                best = mapping
    return best


def auto_mapping(headers: Sequence[Any]) -> ColumnMapping:
    """Map headers by known synonyms (FR/EN/DE/IT); extra columns are ignored."""
    keys = [header_key(h) for h in headers]
    columns: dict[str, tuple[str, ...]] = {}
    for header, key in zip(headers, keys, strict=True):
        fld = _SYNONYM_INDEX.get(key)
        if fld is not None and fld not in columns:
            columns[fld] = (str(header),)
    for header, key in zip(headers, keys, strict=True):
        if key in _AMBIGUOUS:
            paired_field, partner = _AMBIGUOUS[key]
            fld = paired_field if partner in columns else "full_name"
            if fld not in columns:
                columns[fld] = (str(header),)
    return ColumnMapping(columns=columns, auto=True)


def describe_required() -> str:
    emails = ", ".join(SYNONYMS["email"][:4])
    return (
        f"an email column ({emails}, ...) and a name: a full-name column (Nom complet, Full name, Name, ...) "
        "or first/last name columns (Prénom/Nom, First name/Last name, ...)"
    )


def resolve_columns(mapping: ColumnMapping, headers: Sequence[Any], *, file_name: str) -> dict[str, list[int]]:
    """Positions of the headers feeding each mapped field; raise UnreadableFileError when some are missing."""
    positions: dict[str, list[int]] = {}
    key_positions: dict[str, int] = {}
    for i, header in enumerate(headers):
        key_positions.setdefault(header_key(header), i)
    missing: list[str] = []
    for fld, alternatives in mapping.columns.items():
        found = [key_positions[k] for k in (header_key(h) for h in alternatives) if k in key_positions]
        if not found:
            missing.append(f"{fld} ({' / '.join(alternatives)})")
            continue
        positions[fld] = found if fld == "skills_text" else found[:1]
    shown = [str(h) for h in headers][:40]
    if mapping.auto:
        lacks = []
        if "email" not in positions:
            lacks.append("email")
        if not any(f in positions for f in NAME_FIELDS):
            lacks.append("name (full name, or first and last name)")
        if lacks:
            raise UnreadableFileError(
                f"{file_name}: missing required columns: {', '.join(lacks)}; headers found: {shown}. "
                f"Expected {describe_required()}, or a column mapping '<file stem>{MAPPING_SUFFIX}'"
            )
    elif missing:
        raise UnreadableFileError(
            f"{file_name}: missing columns required by mapping {mapping.origin}: {', '.join(missing)}; "
            f"headers found: {shown}"
        )
    return positions
