"""Recruiters' spreadsheets (CSV, XLSX) -> canonical applications, through a column mapping.

The mapping comes from :mod:`vivier.ingest.mapping` (a YAML found next to the file or in the mapping
directory, else headers auto-mapped from FR/EN/DE/IT synonyms). Extra columns are ignored, order does not
matter, one full-name column or first/last name columns are both fine.

CSV: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252 (a UTF-8 read failing anywhere in the
file is retried as Windows-1252); delimiter ``;`` ``,`` tab or ``|`` counted on the header line; quoted
newlines allowed. Everything is read as strings (no NA guessing) and normalised column-wise (no per-row
Python), working on the unique values of a column where a Python function is needed. pyarrow's CSV reader
reads the file when installed (about 3x faster, Arrow-backed strings); when a record is not exactly as wide
as the header, or without pyarrow, pandas' C tokenizer reads it instead: it gives exact record numbers for the
over-long records it rejects and pads short ones.

``source_row`` for CSV is the record number + 1, i.e. the header is row 1 and the first data record row 2;
that is the spreadsheet row the user sees as long as no value holds a newline (a quoted newline makes one
record span several physical lines, and the record count is what is reported). Blank lines are counted, as a
spreadsheet counts them. For XLSX it is the worksheet row number. A row without any value in the mapped
columns is a blank row, not a record, and is dropped; a CSV record with more fields than the header is a
RejectedRecord (its columns cannot be trusted).

Values stay as exported, with these normalisations: empty cell -> None; dd/mm/yyyy (or mm/dd with
``date_format: monthfirst``) dates -> ISO ``YYYY-MM-DD`` (``YYYY-MM-DDTHH:MM:SS`` with a time) when they are
real dates, else the raw string; XLSX dates -> ISO; status and rejection side and yes/no consent columns
read from FR/EN/DE/IT words (unknown status kept raw for validation); years of experience -> float when it
reads as a number; tags split on ``, ; |`` and joined with '|'. Formula cells (``=...``) are kept as text.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vivier.ingest.canonical import (
    CANONICAL_COLUMNS,
    ParsedFile,
    RejectedRecord,
    UnreadableFileError,
    conform,
    empty_frame,
)
from vivier.ingest.detect import HEAD_BYTES, Sniff, first_record_line, guess_delimiter, sniff
from vivier.ingest.mapping import (
    ColumnMapping,
    auto_mapping,
    find_mapping,
    fold,
    resolve_columns,
)

DATE_FIELDS = ("applied_at", "rejected_at", "consent_expires_at", "last_activity_at", "birth_date")
_HEADER_SEARCH_ROWS = 20  # XLSX: the header may sit below a title row or two

# ------------------------------------------------------------------------------------------- vocabulary

_STATUS_WORDS: dict[str, tuple[str, str | None]] = {}
for _words, _value in (
    (
        (
            "rejected",
            "rejet",
            "rejete",
            "rejetee",
            "refuse",
            "refusee",
            "refus",
            "nonretenu",
            "nonretenue",
            "disqualified",
            "declined",
            "notselected",
            "abgelehnt",
            "absage",
            "rifiutato",
            "rifiutata",
            "scartato",
            "scartata",
            "archived",
            "archive",
        ),
        ("rejected", None),
    ),
    (
        (
            "withdrawn",
            "withdrew",
            "desiste",
            "desistee",
            "desistement",
            "retire",
            "retiree",
            "zuruckgezogen",
            "ritirato",
            "ritirata",
        ),
        ("rejected", "candidate"),
    ),
    (("hired", "embauche", "embauchee", "recrute", "recrutee", "eingestellt", "assunto", "assunta"), ("hired", None)),
    (
        (
            "active",
            "actif",
            "active",
            "encours",
            "inprogress",
            "open",
            "ouvert",
            "new",
            "nouveau",
            "inbearbeitung",
            "aktiv",
            "incorso",
            "attivo",
        ),
        ("active", None),
    ),
):
    for _word in _words:
        _STATUS_WORDS[_word] = _value

_SIDE_WORDS: dict[str, str] = {}
for _words, _value in (
    (
        (
            "company",
            "entreprise",
            "societe",
            "employer",
            "employeur",
            "recruiter",
            "recruteur",
            "us",
            "nous",
            "werejectedthem",
            "unternehmen",
            "arbeitgeber",
            "azienda",
        ),
        "company",
    ),
    (
        (
            "candidate",
            "candidat",
            "candidate",
            "candidatewithdrew",
            "theyrejectedus",
            "bewerber",
            "kandidat",
            "candidato",
            "candidata",
        ),
        "candidate",
    ),
):
    for _word in _words:
        _SIDE_WORDS[_word] = _value

_TRUE = {"true", "yes", "y", "oui", "o", "ja", "j", "si", "1", "x", "vrai", "ok", "wahr", "vero"}
_FALSE = {"false", "no", "n", "non", "nein", "0", "faux", "falsch", "falso"}

_DMY = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T,]+(\d{1,2})[:hH](\d{2})(?::(\d{2}))?)?\s*")
_BAD_LINE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


# ----------------------------------------------------------------------------------------------- public


def parse_csv(path: str | Path, *, mapping_dir: str | Path | None = None, sniffed: Sniff | None = None) -> ParsedFile:
    path = Path(path)
    sniffed = sniffed or sniff(path)
    if sniffed.kind != "csv":
        raise UnreadableFileError(f"{path.name}: not a CSV file (detected {sniffed.kind})")
    head, encoding = sniffed.head or "", sniffed.encoding or "utf-8"

    named_mapping = find_mapping(path, None, mapping_dir)
    if named_mapping is not None and named_mapping.encoding and named_mapping.encoding != encoding:
        encoding = named_mapping.encoding
        head = _read_head(path, encoding)
    delimiter = (named_mapping.delimiter if named_mapping else None) or guess_delimiter(
        head, prefer_tab=path.suffix.lower() in {".tsv", ".tab"}
    )
    if delimiter is None:
        raise UnreadableFileError(f"{path.name}: no column delimiter (; , tab or |) in the header line")
    headers = _header_fields(head, delimiter)
    mapping = named_mapping or find_mapping(path, headers, mapping_dir) or auto_mapping(headers)
    if mapping.delimiter and mapping.delimiter != delimiter:
        delimiter = mapping.delimiter
        headers = _header_fields(head, delimiter)
    positions = resolve_columns(mapping, headers, file_name=path.name)

    used = sorted({p for ps in positions.values() for p in ps})
    explicit = mapping.encoding is not None
    columns = _read_csv_arrow(path, delimiter, encoding, used, len(headers), explicit=explicit)
    rejected: list[RejectedRecord] = []
    if columns is not None:
        numbers = np.arange(2, len(next(iter(columns.values()))) + 2, dtype=np.int64)
    else:
        columns, numbers, rejected = _read_csv_pandas(path, delimiter, encoding, used, explicit=explicit)
    applications = build_applications(columns, positions, numbers, mapping)
    return ParsedFile(mapping.source, applications, rejected)


def parse_xlsx(path: str | Path, *, mapping_dir: str | Path | None = None) -> ParsedFile:
    import openpyxl  # noqa: PLC0415 - only needed for XLSX
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    path = Path(path)
    named_mapping = find_mapping(path, None, mapping_dir)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnreadableFileError(f"{path.name}: unreadable XLSX workbook ({exc})") from exc
    try:
        if named_mapping is not None and named_mapping.sheet:
            if named_mapping.sheet not in workbook.sheetnames:
                raise UnreadableFileError(
                    f"{path.name}: sheet {named_mapping.sheet!r} of mapping {named_mapping.origin} not found; "
                    f"sheets: {workbook.sheetnames}"
                )
            sheet = workbook[named_mapping.sheet]
        else:
            sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row, headers, mapping, positions = _xlsx_header(path, rows, named_mapping, mapping_dir)
        used = sorted({p for ps in positions.values() for p in ps})
        lists: dict[int, list[str]] = {p: [] for p in used}
        numbers: list[int] = []
        for row_number, row in enumerate(rows, start=header_row + 1):
            width = len(row)
            for p in used:
                lists[p].append(_cell_text(row[p]) if p < width else "")
            numbers.append(row_number)
    finally:
        workbook.close()
    columns = {p: pd.Series(values, dtype=object) for p, values in lists.items()}
    applications = build_applications(columns, positions, np.array(numbers, dtype=np.int64), mapping)
    return ParsedFile(mapping.source, applications, [])


# ------------------------------------------------------------------------------------------------- CSV


def _read_head(path: Path, encoding: str) -> str:
    with path.open("rb") as fh:
        data = fh.read(HEAD_BYTES)
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(data, final=False)


def _header_fields(head: str, delimiter: str) -> list[str]:
    line = first_record_line(head)
    try:
        return next(csv.reader(io.StringIO(line), delimiter=delimiter))
    except (StopIteration, csv.Error):
        return []


class _NotUtf8(Exception):
    pass


def _read_csv_arrow(
    path: Path, delimiter: str, encoding: str, used: list[int], n_columns: int, *, explicit: bool
) -> dict[int, pd.Series] | None:
    """Fast path: pyarrow's CSV reader (multi-threaded) when installed.

    Returns None (-> exact pandas path) when pyarrow is missing or when any record is not exactly as wide as
    the header (blank line, short or long record): record numbers would then need the pandas tokenizer's
    accounting. Falls back to Windows-1252 when the file is not valid UTF-8 (unless the encoding is explicit).
    """
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional accelerator
        import pyarrow.csv as pcsv  # noqa: PLC0415
    except ImportError:
        return None
    names = [f"c{i}" for i in range(n_columns)]
    wanted = [f"c{i}" for i in used]
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "error"  # stop at once: the exact path takes over

    encodings = [encoding] if explicit or encoding not in ("utf-8", "utf-8-sig") else [encoding, "cp1252"]
    for enc in encodings:
        invalid.clear()
        try:
            table = pcsv.read_csv(
                path,
                read_options=pcsv.ReadOptions(
                    skip_rows=1,
                    column_names=names,
                    encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc,
                    block_size=4 << 20,
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter,
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={name: pa.string() for name in wanted},
                    include_columns=wanted,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if invalid:
                return None
            if "utf8" in str(exc).lower().replace("-", "") or isinstance(exc, UnicodeDecodeError):
                continue  # not valid in this encoding: next one, else the pandas path reports it
            return None
        if invalid:
            return None
        frame = table.to_pandas()
        return {i: frame[f"c{i}"] for i in used}
    return None


def _read_csv_pandas(
    path: Path, delimiter: str, encoding: str, used: list[int], *, explicit: bool
) -> tuple[dict[int, pd.Series], np.ndarray, list[RejectedRecord]]:
    """Exact path: pandas' C tokenizer, every record kept as strings; over-long records become RejectedRecords.

    Blank lines are kept as (empty) records so that record numbers match the tokenizer's line numbers.
    """
    attempts = [encoding] if explicit or encoding not in ("utf-8", "utf-8-sig") else [encoding, "cp1252"]
    for attempt, enc in enumerate(attempts):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = pd.read_csv(
                    path,
                    sep=delimiter,
                    dtype=object,  # all strings; pandas 3's dtype=str would add a costly Arrow conversion
                    keep_default_na=False,
                    na_filter=False,
                    encoding=enc,
                    encoding_errors="strict",
                    header=0,  # no usecols: with it the tokenizer stops flagging over-long records
                    skip_blank_lines=False,
                    on_bad_lines="warn",
                    quotechar='"',
                    doublequote=True,
                    engine="c",
                )
        except UnicodeDecodeError as exc:
            if attempt + 1 < len(attempts):
                continue
            raise UnreadableFileError(
                f"{path.name}: cannot decode as {enc} ({exc.reason} at byte {exc.start})"
            ) from exc
        except pd.errors.ParserError as exc:
            raise UnreadableFileError(f"{path.name}: malformed CSV ({str(exc).strip()})") from exc
        except ValueError as exc:
            raise UnreadableFileError(f"{path.name}: cannot read CSV ({exc})") from exc
        bad: list[tuple[int, int, int]] = []
        for warning in caught:
            for match in _BAD_LINE.finditer(str(warning.message)):
                bad.append((int(match.group(1)), int(match.group(2)), int(match.group(3))))
        n_records = len(frame) + len(bad)
        numbers = np.arange(2, n_records + 2, dtype=np.int64)
        if bad:
            numbers = np.setdiff1d(numbers, np.array([b[0] for b in bad], dtype=np.int64), assume_unique=True)
        rejected = [
            RejectedRecord(
                line,
                f"record has {saw} fields where the header has {expected} (an unquoted delimiter in a value?)",
            )
            for line, expected, saw in sorted(bad)
        ]
        width = frame.shape[1]
        columns = {p: frame.iloc[:, p] if p < width else pd.Series([""] * len(frame), dtype=object) for p in used}
        return columns, numbers, rejected
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------------------------------ XLSX


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_header(
    path: Path, rows: Any, named_mapping: ColumnMapping | None, mapping_dir: str | Path | None
) -> tuple[int, list[str], ColumnMapping, dict[str, list[int]]]:
    """Find the header row (the first of the top rows that the mapping resolves) and consume it."""
    first_error: UnreadableFileError | None = None
    for number, row in enumerate(rows, start=1):
        headers = [_cell_text(v).strip() for v in row]
        if sum(1 for h in headers if h) < 2:
            if number >= _HEADER_SEARCH_ROWS:
                break
            continue
        mapping = named_mapping or find_mapping(path, headers, mapping_dir) or auto_mapping(headers)
        try:
            return number, headers, mapping, resolve_columns(mapping, headers, file_name=path.name)
        except UnreadableFileError as exc:
            first_error = first_error or exc
        if number >= _HEADER_SEARCH_ROWS:
            break
    if first_error is not None:
        raise first_error
    raise UnreadableFileError(f"{path.name}: no header row (a row with two or more cells) in the first sheet")


# ------------------------------------------------------------------------------------- normalisation


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, [str(u) if isinstance(u, str) else "" for u in uniques]


def _map_unique(values: pd.Series, fn: Callable[[str], Any]) -> np.ndarray:
    """Apply ``fn`` to each distinct value once (object result); "" maps to None."""
    codes, uniques = _factorize(values)
    mapped = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        mapped[i] = fn(value) if value != "" else None
    return mapped[codes]


def _take_strings(values: list[str | None], codes: np.ndarray, like: pd.Series) -> pd.Series:
    """``values[codes]`` as a string column of the same storage as ``like`` (Arrow stays Arrow)."""
    if like.dtype == object:
        return pd.Series(np.array(values, dtype=object)[codes])
    return pd.Series(pd.array(values, dtype=like.dtype).take(codes))


def _map_unique_str(values: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """Like ``_map_unique`` for a string result, keeping the column's string dtype (Arrow stays Arrow)."""
    codes, uniques = _factorize(values)
    return _take_strings([fn(value) if value != "" else None for value in uniques], codes, values)


def _date_order(values: Sequence[str], date_format: str) -> str | None:
    if date_format in ("dayfirst", "monthfirst"):
        return date_format
    if date_format == "iso":
        return None
    dayfirst = monthfirst = False
    for value in values:
        match = _DMY.fullmatch(value)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            dayfirst |= first > 12
            monthfirst |= second > 12
    return "monthfirst" if monthfirst and not dayfirst else "dayfirst"


def _iso_date(value: str, order: str) -> str:
    match = _DMY.fullmatch(value)
    if not match:
        return value
    a, b, year_text, hour, minute, second = match.groups()
    day, month = (int(a), int(b)) if order == "dayfirst" else (int(b), int(a))
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000 if year < 70 else 1900
    try:
        date = dt.date(year, month, day)
        if hour is None:
            return date.isoformat()
        moment = dt.datetime(year, month, day, int(hour), int(minute), int(second or 0))
        return moment.isoformat(timespec="seconds")
    except ValueError:
        return value


def normalise_dates(values: pd.Series, date_format: str) -> pd.Series:
    """dd/mm/yyyy (or mm/dd) strings -> ISO when they are real dates; anything else as exported."""
    if date_format == "iso":
        return _blank_to_na(values)
    codes, uniques = _factorize(values)
    order = _date_order(uniques, date_format)
    return _take_strings([None if value == "" else _iso_date(value, order) for value in uniques], codes, values)


def _blank_to_na(values: pd.Series) -> pd.Series:
    return values.where(values != "")


def _status(value: str) -> tuple[str, str | None] | None:
    key = fold(value)
    return _STATUS_WORDS.get(key)


def _bool_or_raw(value: str) -> Any:
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return value


def _unsubscribed(value: str) -> Any:
    result = _bool_or_raw(value)
    return None if result is False else result


def _years(value: str) -> Any:
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(?:\+|ans?|years?|yrs?|jahre?|anni)?\s*", value, re.I)
    return float(match.group(1).replace(",", ".")) if match else value


def _tags(value: str) -> str | None:
    parts = [p.strip() for p in re.split(r"[,;|]", value)]
    parts = [p for p in parts if p]
    return "|".join(dict.fromkeys(parts)) if parts else None


def _join_pipe(parts: list[pd.Series]) -> pd.Series:
    """Row-wise '|'-join of string columns ("" or missing = nothing), vectorised."""
    out: pd.Series | None = None
    for part in parts:
        part = part.fillna("") if part.hasnans else part
        if out is None:
            out = part
            continue
        joined = out + "|" + part
        out = out.where(part == "", joined.where(out != "", part))
    assert out is not None
    return out.where(out != "")


def build_applications(
    columns: dict[int, pd.Series],
    positions: dict[str, list[int]],
    source_rows: np.ndarray,
    mapping: ColumnMapping,
) -> pd.DataFrame:
    """Canonical frame from string columns (keyed by header position), column-wise."""
    if not columns:
        return empty_frame()
    columns = {p: s.reset_index(drop=True) for p, s in columns.items()}
    n = len(next(iter(columns.values())))
    nonblank = {p: (v != "").to_numpy(dtype=bool, na_value=False) for p, v in columns.items()}
    filled = np.logical_or.reduce(list(nonblank.values()))
    if not filled.all():
        columns = {p: v[filled].reset_index(drop=True) for p, v in columns.items()}
        nonblank = {p: m[filled] for p, m in nonblank.items()}
        source_rows = source_rows[filled]
        n = int(filled.sum())
    if n == 0:
        return empty_frame()

    def raw(field: str) -> pd.Series:
        return columns[positions[field][0]]

    def present(field: str) -> np.ndarray:
        return nonblank[positions[field][0]]

    out: dict[str, Any] = {"source_row": source_rows.astype(np.int64), "source_system": mapping.source}
    for field in positions:
        if field in ("skills_text", "status", "rejection_side_hint", "tags"):
            continue
        values = raw(field)
        if field in DATE_FIELDS:
            out[field] = normalise_dates(values, mapping.date_format)
        elif field == "consent_future_jobs":
            out[field] = _map_unique(values, _bool_or_raw)
        elif field == "unsubscribed":
            out[field] = _map_unique(values, _unsubscribed)
        elif field == "years_experience":
            out[field] = _map_unique(values, _years)
        else:
            out[field] = values.where(present(field))

    tags = _map_unique_str(raw("tags"), _tags) if "tags" in positions else None
    if tags is not None:
        out["tags"] = tags

    # status (+ the side a withdrawal implies); an empty status defaults on the rejection evidence.
    # Worked out on factorized codes so that the per-row work stays in numpy / Arrow.
    like = next(iter(columns.values()))
    evidence = np.zeros(n, dtype=bool)
    for field in ("rejected_at", "rejection_reason"):
        if field in positions:
            evidence |= present(field)
    status_values: list[str | None] = ["rejected", mapping.default_status]
    status_codes = np.where(evidence, 0, 1)
    implied_codes: np.ndarray | None = None
    implied_values: list[str | None] = []
    if "status" in positions:
        codes, uniques = _factorize(raw("status"))
        found = [_status(u) if u else None for u in uniques]
        values = [f[0] if f else (u or None) for f, u in zip(found, uniques, strict=True)]
        known = np.array([v is not None for v in values], dtype=bool)
        status_codes = np.where(known[codes], codes + 2, status_codes)
        status_values += values
        implied_values = [f[1] if f else None for f in found]
        implied_codes = codes
    out["status"] = _take_strings(status_values, status_codes, like)

    side_values: list[str | None] = [None]
    side_codes = np.zeros(n, dtype=np.int64)
    if "rejection_side_hint" in positions:
        codes, uniques = _factorize(raw("rejection_side_hint"))
        side_values += [_SIDE_WORDS.get(fold(u)) if u else None for u in uniques]
        side_codes = codes + 1
    if implied_codes is not None and any(implied_values):
        offset = len(side_values)
        side_values += implied_values
        unknown = np.array([v is None for v in side_values[:offset]], dtype=bool)[side_codes]
        side_codes = np.where(unknown, implied_codes + offset, side_codes)
    out["rejection_side_hint"] = _take_strings(side_values, side_codes, like)

    parts = [columns[p] for p in positions.get("skills_text", [])]
    if tags is not None:
        parts.append(tags)
    if "headline" in positions:
        parts.append(raw("headline"))
    if parts:
        out["skills_text"] = _join_pipe(parts)
    for column in CANONICAL_COLUMNS:  # cheaper than letting conform() fill object NaN columns
        if column not in out:
            out[column] = np.full(n, np.nan)
    return conform(pd.DataFrame(out, index=pd.RangeIndex(n)))
