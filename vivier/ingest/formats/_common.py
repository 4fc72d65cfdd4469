"""Helpers shared by the JSON adapters: column-wise frame building and lenient value access."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from vivier.ingest.canonical import CANONICAL_COLUMNS, RejectedRecord, UnreadableFileError, conform, empty_frame
from vivier.ingest.mapping import fold

RAW_LIMIT = 2000  # characters of a rejected record kept for the quarantine report


class ColumnBuilder:
    """Collect rows as column lists, then make one DataFrame (cheaper than a list of dicts)."""

    def __init__(self, columns: Sequence[str] = CANONICAL_COLUMNS) -> None:
        self._columns = list(columns)
        self._data: dict[str, list[Any]] = {c: [] for c in self._columns}
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        get = row.get
        for name, values in self._data.items():
            values.append(get(name))
        self.count += 1

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._data, columns=self._columns)
        if "source_row" in frame:
            frame["source_row"] = frame["source_row"].astype("int64")
        return frame

    def canonical(self) -> pd.DataFrame:
        if not self.count:
            return empty_frame()
        return conform(self.frame())


def raw_of(value: Any) -> str:
    """A compact JSON rendering of a record for RejectedRecord.raw."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + "..."


def not_an_object(index: int, value: Any, what: str) -> RejectedRecord:
    return RejectedRecord(
        source_row=index,
        reason=f"{what} #{index} is a JSON {type(value).__name__}, not an object",
        raw=raw_of(value),
    )


def text(value: Any) -> str | None:
    """A scalar as exported (strings untouched), numbers as their string, containers/None as None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dig(obj: Any, *path: str | int) -> Any:
    """``obj[path[0]][path[1]]...`` or None as soon as a step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        obj = obj[step] if isinstance(step, int) else obj.get(step)
        if obj is None:
            return None
    return obj


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def name_of(value: Any, *keys: str) -> str | None:
    """A string, or the first of ``keys`` present in a dict (for fields that are either an id or an object)."""
    if isinstance(value, dict):
        for key in keys:
            found = text(value.get(key))
            if found:
                return found
        return None
    return text(value)


def pick_typed(items: Any, preferred: Sequence[str], value_key: str = "value") -> str | None:
    """The value of the first item whose ``type`` is preferred (in order), else of the first item."""
    entries = [i for i in as_list(items) if i is not None]
    if not entries:
        return None
    for wanted in preferred:
        for item in entries:
            if isinstance(item, dict) and str(item.get("type") or "").lower() == wanted:
                found = text(item.get(value_key))
                if found is not None:
                    return found
    for item in entries:
        found = text(item.get(value_key)) if isinstance(item, dict) else text(item)
        if found is not None:
            return found
    return None


def join_pipe(parts: Iterable[Any] | Any) -> str | None:
    """'|'-join the non-empty string parts (lists are flattened, dicts give their name/value)."""
    out: list[str] = []
    if parts is None or isinstance(parts, (str, dict)):
        parts = [parts]
    for part in parts:
        for item in as_list(part):
            value = name_of(item, "name", "value", "text", "label") if isinstance(item, dict) else text(item)
            if value is not None:
                value = value.strip()
                if value and value not in out:
                    out.append(value)
    return "|".join(out) if out else None


def epoch_ms(value: Any) -> Any:
    """Lever times: epoch milliseconds -> tz-aware UTC Timestamp; anything else is kept as exported."""
    if value is None or isinstance(value, bool):
        return None if value is None else value
    if isinstance(value, (int, float)):
        try:
            return pd.Timestamp(int(value), unit="ms", tz="UTC")
        except (OverflowError, ValueError):
            return value
    if isinstance(value, str) and value.strip().isdigit():
        return epoch_ms(int(value.strip()))
    return value


_SKILLS = re.compile(r"skill|competen|kompetenz|fahigkeit|tech(no)?stack|savoirfaire")
_YEARS = re.compile(
    r"(year|yrs|annee|anni|jahre).*(exp|esp)|(exp|esp).*(year|yrs|annee|anni|jahre)|berufserfahrung|^experience$"
)
_BIRTH = re.compile(r"birth|naissance|geburt|nascita|dob")


def custom_values(fields: Any) -> list[tuple[str, Any]]:
    """(label, value) pairs of a vendor's custom fields, whatever their shape.

    Accepts Greenhouse ``keyed_custom_fields`` ({key: {name, value}}), plain ``custom_fields`` ({key: value})
    and Recruitee ``fields`` ([{name|kind, values: [{text|value}]}]).
    """
    pairs: list[tuple[str, Any]] = []
    if isinstance(fields, dict):
        for key, value in fields.items():
            if isinstance(value, dict) and "value" in value:
                pairs.append((f"{key} {value.get('name') or ''}", value.get("value")))
            else:
                pairs.append((str(key), value))
    elif isinstance(fields, list):
        for field in fields:
            if not isinstance(field, dict):
                continue
            label = f"{field.get('name') or ''} {field.get('kind') or ''} {field.get('key') or ''}"
            if "values" in field:
                values = [
                    name_of(v, "text", "value", "name") if isinstance(v, dict) else text(v)
                    for v in as_list(field["values"])
                ]
                pairs.append((label, [v for v in values if v is not None]))
            else:
                pairs.append((label, field.get("value")))
    return pairs


def custom_skills_years_birth(fields: Any) -> tuple[list[Any], Any, Any]:
    """Skills values, years of experience and birth date found in custom fields (by label)."""
    skills: list[Any] = []
    years: Any = None
    birth: Any = None
    for label, value in custom_values(fields):
        key = fold(label)
        if value is None or value == [] or value == "":
            continue
        if _SKILLS.search(key):
            skills.append(value)
        elif _BIRTH.search(key) and birth is None:
            birth = text(value) if not isinstance(value, list) else text(value[0] if value else None)
        elif _YEARS.search(key):
            if years is None:
                years = to_years(value[0] if isinstance(value, list) and value else value)
    return skills, years, birth


def to_years(value: Any) -> Any:
    """A number of years as float when it reads as one ("3", "3,5", "4 ans"), else as exported."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(?:\+|ans?|years?|yrs?|jahre?|anni)?\s*", str(value), re.I)
    return float(match.group(1).replace(",", ".")) if match else str(value)


def truthy(value: Any) -> bool | None:
    """A vendor boolean: True/False, strings like "true"/"false", else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
    return None


def candidate_items(document: Any, vendor: str) -> list[Any]:
    """The candidate list of a ``{"candidates": [...]}`` export (or a bare list of candidates)."""
    if isinstance(document, dict) and isinstance(document.get("candidates"), list):
        return document["candidates"]
    if isinstance(document, list):
        return document
    raise UnreadableFileError(f"not a {vendor} export (expected {{'candidates': [...]}})")
