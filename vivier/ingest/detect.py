"""Recognise an inbox file's format from its content (the file name only breaks ties).

``detect_format(path)`` returns one of:

* application exports: ``greenhouse``, ``lever``, ``teamtailor``, ``recruitee``, ``workable``, ``csv``, ``xlsx``
* job exports: ``greenhouse_jobs``, ``lever_jobs``, ``teamtailor_jobs``, ``recruitee_jobs``, ``workable_jobs``

and raises :class:`~vivier.ingest.canonical.UnreadableFileError` (with a message naming the problem) for
empty files, truncated or invalid JSON, JSON shapes no adapter knows, binary junk and the like.

Only the head of a file is read (``HEAD_BYTES``, 1 MiB), or the zip directory of an XLSX. JSON that fits in
the head is parsed whole at detection (so truncation is reported there) and :func:`sniff` hands the document
to the adapter; a bigger JSON file is classified from a tolerant scan of its head (top-level keys and first
list items) and parsed whole only by the adapter, which then reports truncation. Only when the head cannot
tell (a first record bigger than the head) is the document parsed at detection, and kept.
"""

from __future__ import annotations

import codecs
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vivier.ingest.canonical import UnreadableFileError

HEAD_BYTES = 1 << 20  # what is read to sniff a file
FULL_JSON_LIMIT = HEAD_BYTES  # JSON up to this size is parsed whole at detection (and the document kept)
SAMPLE_ITEMS = 20  # list elements looked at to classify a JSON export

APPLICATION_FORMATS: tuple[str, ...] = ("greenhouse", "lever", "teamtailor", "recruitee", "workable", "csv", "xlsx")
JOB_FORMATS: tuple[str, ...] = (
    "greenhouse_jobs",
    "lever_jobs",
    "teamtailor_jobs",
    "recruitee_jobs",
    "workable_jobs",
)

CSV_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".tab"})
CSV_DELIMITERS: tuple[str, ...] = (";", "\t", ",", "|")  # order = preference on ties

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


@dataclass
class Sniff:
    """What detection learnt about a file; lets the adapter skip a second read."""

    kind: str
    document: Any = None  # the parsed JSON when detection loaded it whole
    encoding: str | None = None  # text encoding of the head (CSV): utf-8, utf-8-sig, utf-16 or cp1252
    head: str | None = None  # decoded head (CSV)


def detect_format(path: str | Path) -> str:
    """Return the export kind of ``path``, recognised from its content."""
    return sniff(path).kind


def sniff(path: str | Path) -> Sniff:
    """Detect the kind of ``path``; keep what was read so the adapter need not read it again."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise UnreadableFileError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0 or not head:
        raise UnreadableFileError(f"{name}: empty file (0 bytes)")
    complete = len(head) >= size

    if head.startswith(_ZIP_MAGIC) or head.startswith(_EMPTY_ZIP_MAGIC):
        return Sniff(_zip_kind(path))
    if head.startswith(_OLE2_MAGIC):
        raise UnreadableFileError(
            f"{name}: legacy Excel 97-2003 workbook (.xls, OLE2) is not supported; save it as .xlsx or CSV"
        )
    if head.startswith(b"%PDF"):
        raise UnreadableFileError(f"{name}: PDF document, not an ATS export")
    if head.startswith(b"\x1f\x8b"):
        raise UnreadableFileError(f"{name}: gzip-compressed file; decompress it before dropping it in the inbox")

    encoding, text = decode_head(head, complete)
    if encoding is None or _looks_binary(text):
        raise UnreadableFileError(f"{name}: binary content ({_hexdump(head)}...), not a JSON, CSV or XLSX export")
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise UnreadableFileError(f"{name}: empty file ({size} bytes of whitespace only)")

    if body[0] in "[{":
        try:
            return _sniff_json(path, size, text, head if complete else None)
        except UnreadableFileError:
            # the extension breaks the tie for a CSV whose first header happens to start with [ or {
            if path.suffix.lower() in CSV_SUFFIXES and guess_delimiter(text) is not None:
                return Sniff("csv", encoding=encoding, head=text)
            raise
    if body[0] == "<":
        raise UnreadableFileError(f"{name}: HTML/XML document, not a JSON, CSV or XLSX export")
    if body.startswith("---") or _looks_like_mapping_yaml(name):
        raise UnreadableFileError(f"{name}: YAML file (a column mapping?), not an export")
    if guess_delimiter(text, prefer_tab=path.suffix.lower() in {".tsv", ".tab"}) is not None:
        return Sniff("csv", encoding=encoding, head=text)
    raise UnreadableFileError(
        f"{name}: text with no column delimiter (; , tab or |) in its first line, and not JSON: "
        "not a CSV or JSON export"
    )


# --------------------------------------------------------------------------------------------------- text


def decode_head(head: bytes, complete: bool) -> tuple[str | None, str]:
    """Decode the head of a text file: UTF-8 (with/without BOM), UTF-16 with BOM, else Windows-1252.

    Returns ``(encoding, text)``; ``encoding`` is None when no encoding fits (binary junk).
    """
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        return encoding, decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            return None, head.decode("latin-1")
    try:
        return "cp1252", head.decode("cp1252")
    except UnicodeDecodeError:
        return None, head.decode("latin-1")


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls > max(2, len(sample) // 100)


def _hexdump(head: bytes) -> str:
    return "starts with " + head[:8].hex(" ")


def _looks_like_mapping_yaml(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith((".yaml", ".yml"))


def first_record_line(text: str) -> str:
    """The first logical line of ``text`` (a quoted newline does not end it)."""
    text = text.lstrip("\ufeff")
    in_quotes = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch in "\r\n" and not in_quotes:
            return text[:i]
    return text


def _count_outside_quotes(line: str, char: str) -> int:
    count, in_quotes = 0, False
    for ch in line:
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == char and not in_quotes:
            count += 1
    return count


def guess_delimiter(text: str, *, prefer_tab: bool = False) -> str | None:
    """The delimiter of a CSV head: the candidate appearing most often (outside quotes) in the header line.

    Ties go to the first of ``; tab , |`` (tab first when ``prefer_tab``). None when the header line holds
    none of them.
    """
    header = first_record_line(text)
    order = ("\t", ";", ",", "|") if prefer_tab else CSV_DELIMITERS
    counts = {d: _count_outside_quotes(header, d) for d in order}
    best = max(order, key=lambda d: counts[d])  # max keeps the first on ties
    return best if counts[best] > 0 else None


# ---------------------------------------------------------------------------------------------------- zip


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFileError(f"{path.name}: damaged or truncated zip/XLSX archive ({exc})") from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        raise UnreadableFileError(f"{path.name}: Word document, not an ATS export")
    if "content.xml" in names:
        raise UnreadableFileError(f"{path.name}: OpenDocument file; save it as .xlsx or CSV")
    raise UnreadableFileError(f"{path.name}: zip archive that is not an XLSX workbook (no xl/workbook.xml)")


# --------------------------------------------------------------------------------------------------- JSON


def load_json(path: str | Path, data: bytes | None = None) -> Any:
    """Parse a JSON export whole; raise UnreadableFileError saying where it is truncated or invalid.

    A JSON Lines file (one document per line) is returned as the list of its documents.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise UnreadableFileError(f"{path.name}: empty file ({len(data)} bytes)")
    bom = 0
    if data.startswith(codecs.BOM_UTF8):
        encoding, bom = "utf-8", 3
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        encoding, bom = ("utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"), 2
    else:
        encoding = "utf-8"
    try:
        text = data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise UnreadableFileError(f"{path.name}: undecodable {encoding} at byte {exc.start + bom}") from exc
        encoding = "cp1252"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise UnreadableFileError(
                f"{path.name}: JSON is neither UTF-8 nor Windows-1252 (bad byte at {exc.start})"
            ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            lines = _json_lines(text)
            if lines is not None:
                return lines
        stripped_len = len(text.rstrip())
        if exc.pos >= stripped_len or exc.msg.startswith("Unterminated string"):
            raise UnreadableFileError(
                f"{path.name}: truncated JSON at byte {len(data)} (the document ends inside "
                f"{_open_context(text)}; was the export interrupted?)"
            ) from None
        byte = bom + len(text[: exc.pos].encode(encoding, errors="replace"))
        raise UnreadableFileError(
            f"{path.name}: invalid JSON at byte {byte} (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None


def _json_lines(text: str) -> list[Any] | None:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            return None
    return out if len(out) > 1 else None


def _open_context(text: str) -> str:
    tail = text.rstrip()[-200:]
    return f"...{tail[-40:]!r}" if tail else "the first value"


@dataclass
class _JsonShape:
    top: str  # "list" | "object"
    keys: list[str]  # top-level keys (objects)
    samples: dict[str | None, list[Any]]  # first items of each top-level list (None = the top list itself)
    lists: set[str]  # top-level keys whose value is a list


def _sniff_json(path: Path, size: int, head_text: str, whole: bytes | None) -> Sniff:
    """``whole`` is the file's bytes when the head already holds all of it (no second read)."""
    if whole is not None or size <= FULL_JSON_LIMIT:
        document = load_json(path, whole)
        return Sniff(classify_json(document, name=path.name), document=document)
    shape = _scan_head(head_text)
    if shape is not None:
        try:
            return Sniff(_classify_shape(shape, path.name))
        except UnreadableFileError:
            pass  # e.g. a first record bigger than the head: only the whole document can tell
    document = load_json(path)
    return Sniff(classify_json(document, name=path.name), document=document)


def classify_json(document: Any, *, name: str = "file") -> str:
    """Classify a parsed JSON document as one of the ATS export kinds (or raise)."""
    if isinstance(document, list):
        shape = _JsonShape("list", [], {None: document[:SAMPLE_ITEMS]}, set())
    elif isinstance(document, dict):
        samples = {k: v[:SAMPLE_ITEMS] for k, v in document.items() if isinstance(v, list)}
        shape = _JsonShape("object", list(document), samples, set(samples))
    else:
        raise UnreadableFileError(f"{name}: JSON {type(document).__name__} at top level, not an ATS export")
    return _classify_shape(shape, name)


def _classify_items(items: Iterable[Any]) -> str | None:
    votes: Counter[str] = Counter()
    for item in items:
        if not isinstance(item, dict):
            continue
        keys = set(item)
        if "contact" in keys and keys & {"emails", "stageChanges", "archived"}:
            votes["lever"] += 1
        elif "text" in keys and "categories" in keys:
            votes["lever_jobs"] += 1
        elif "placements" in keys:
            votes["recruitee"] += 1
        elif "email_addresses" in keys or ("first_name" in keys and keys & {"applications", "application_ids"}):
            votes["greenhouse"] += 1
        elif keys & {"departments", "offices"}:
            votes["greenhouse_jobs"] += 1
        elif (isinstance(item.get("job"), dict) and "shortcode" in item["job"]) or "disqualified" in keys:
            votes["workable"] += 1
        elif "shortcode" in keys and "title" in keys:
            votes["workable_jobs"] += 1
        elif item.get("type") == "candidates" and "attributes" in keys:
            votes["teamtailor"] += 1
        elif item.get("type") == "jobs" and "attributes" in keys:
            votes["teamtailor_jobs"] += 1
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def _item_keys(items: list[Any]) -> list[str]:
    keys: list[str] = []
    for item in items:
        if isinstance(item, dict):
            keys.extend(k for k in item if k not in keys)
    return keys[:15]


def _classify_shape(shape: _JsonShape, name: str) -> str:
    if shape.top == "list":
        items = shape.samples[None]
        if not items:
            raise UnreadableFileError(f"{name}: empty JSON array: no records to recognise an ATS export by")
        kind = _classify_items(items)
        if kind is not None:
            return kind
        if not any(isinstance(i, dict) for i in items):
            raise UnreadableFileError(f"{name}: JSON array of {type(items[0]).__name__} values, not of records")
        raise UnreadableFileError(
            f"{name}: JSON array of objects with keys {_item_keys(items)} matches no known ATS export"
        )

    keys, samples, lists = set(shape.keys), shape.samples, shape.lists
    if {"candidates", "applications"} <= lists:
        return "greenhouse"
    if "data" in lists:
        data = samples.get("data", [])
        types = {i.get("type") for i in data if isinstance(i, dict)}
        if "candidates" in types:
            return "teamtailor"
        if "jobs" in types:
            return "teamtailor_jobs"
        kind = _classify_items(data)  # e.g. Lever's {"data": [...], "hasNext": ...} page
        if kind in ("lever", "lever_jobs"):
            return kind
        if not data and "included" in keys:
            raise UnreadableFileError(f"{name}: JSON:API document with an empty 'data' list: no records")
    if "candidates" in lists:
        items = samples.get("candidates", [])
        kind = _classify_items(items)
        if kind in ("recruitee", "workable", "greenhouse"):
            return kind
        if not items:
            if "paging" in keys:
                return "workable"
            raise UnreadableFileError(f"{name}: empty 'candidates' list: no records to recognise an ATS export by")
    if "offers" in lists:
        return "recruitee_jobs"
    if "jobs" in lists:
        items = samples.get("jobs", [])
        kind = _classify_items(items)
        if kind == "greenhouse_jobs":
            return kind
        if kind == "workable_jobs" or not items or "paging" in keys:
            return "workable_jobs"
    if "postings" in lists and _classify_items(samples.get("postings", [])) == "lever_jobs":
        return "lever_jobs"
    raise UnreadableFileError(f"{name}: JSON with top-level keys {sorted(keys)} matches no known ATS export")


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _scan_list(text: str, i: int) -> tuple[list[Any], int | None]:
    """Decode the first elements of the list opening at ``text[i]``; return them and the end (None if cut)."""
    items: list[Any] = []
    j = _WS.match(text, i + 1).end()
    if j < len(text) and text[j] == "]":
        return items, j + 1
    while True:
        try:
            value, j = _DECODER.raw_decode(text, j)
        except ValueError:
            return items, None
        if len(items) < SAMPLE_ITEMS:
            items.append(value)
        j = _WS.match(text, j).end()
        if j >= len(text):
            return items, None
        if text[j] == ",":
            j = _WS.match(text, j + 1).end()
            continue
        return items, (j + 1 if text[j] == "]" else None)


def _scan_head(text: str) -> _JsonShape | None:
    """Tolerant structural scan of the head of a big JSON document (top-level keys + first list items)."""
    text = text.lstrip("\ufeff")
    i = _WS.match(text, 0).end()
    if i >= len(text):
        return None
    if text[i] == "[":
        items, _ = _scan_list(text, i)
        return _JsonShape("list", [], {None: items}, set())
    if text[i] != "{":
        return None
    keys: list[str] = []
    samples: dict[str | None, list[Any]] = {}
    lists: set[str] = set()
    i += 1
    try:
        while True:
            i = _WS.match(text, i).end()
            if text[i] == "}":
                break
            key, i = _DECODER.raw_decode(text, i)
            i = _WS.match(text, i).end()
            if text[i] != ":":
                break
            i = _WS.match(text, i + 1).end()
            keys.append(str(key))
            if text[i] == "[":
                items, end = _scan_list(text, i)
                samples[str(key)] = items
                lists.add(str(key))
                if end is None:
                    break
                i = end
            else:
                _, i = _DECODER.raw_decode(text, i)
            i = _WS.match(text, i).end()
            if text[i] != ",":
                break
            i += 1
    except (ValueError, IndexError):
        pass
    return _JsonShape("object", keys, samples, lists)
