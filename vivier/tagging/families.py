"""Job families: labels, title keywords (FR/EN/DE/IT) and characteristic skills.

YAML schema (``include/taxonomy/job_families.yaml``)::

    version: 1
    families:
      - id: software_engineering
        label: {en: Software engineering, fr: ..., de: ..., it: ...}
        title_keywords: [developer, développeur, Entwickler, sviluppatore, {text: IT, case_sensitive: true}]
        skills: [python, java, ...]          # ids of skills.yaml

Title keywords are matched like skill aliases (same normalisation and rules); the longest
keyword found in a title wins, then the family listed first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vivier.tagging.lookup import Entry, PhraseIndex
from vivier.tagging.normalize import Tokenizer, has_separator, is_separator, strip_accents
from vivier.tagging.taxonomy import Alias, TaxonomyError, parse_alias, read_yaml

# The C loader (libyaml) parses the shipped files ~10x faster than the pure-Python one.
DEFAULT_FAMILIES_PATH = Path(__file__).resolve().parents[2] / "include" / "taxonomy" / "job_families.yaml"
FAMILIES_ENV_VAR = "VIVIER_JOB_FAMILIES"
OTHER = "other"


@dataclass
class JobFamily:
    id: str
    labels: dict[str, str]
    title_keywords: tuple[Alias, ...] = ()
    skills: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.id


class JobFamilies:
    """The job families in file order (the order breaks ties)."""

    def __init__(self, families: list[JobFamily], source: Path | None = None):
        self.families: dict[str, JobFamily] = {}
        for f in families:
            if f.id in self.families or f.id == OTHER:
                raise TaxonomyError(f"duplicate or reserved job family id {f.id!r}")
            self.families[f.id] = f
        self.source = source
        self._index: PhraseIndex | None = None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> JobFamilies:
        """Load the YAML; default ``$VIVIER_JOB_FAMILIES`` or the shipped ``job_families.yaml``."""
        p, data = read_yaml(path, FAMILIES_ENV_VAR, DEFAULT_FAMILIES_PATH)
        return cls.from_dict(data, source=p)

    @classmethod
    def from_dict(cls, data: Any, source: Path | None = None) -> JobFamilies:
        if isinstance(data, Mapping):
            data = data.get("families")
        if not isinstance(data, list):
            raise TaxonomyError("job families: expected a 'families' list")
        out = []
        for i, raw in enumerate(data):
            if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
                raise TaxonomyError(f"families[{i}]: mapping with an id expected")
            fid = raw["id"]
            labels_raw = raw.get("label") or {}
            labels = {str(k): str(v) for k, v in labels_raw.items()} if isinstance(labels_raw, Mapping) else {}
            keywords = tuple(parse_alias(k, fid) for k in (raw.get("title_keywords") or []))
            skills = tuple(str(s) for s in (raw.get("skills") or []))
            extra = {k: v for k, v in raw.items() if k not in {"id", "label", "title_keywords", "skills"}}
            out.append(JobFamily(fid, labels, keywords, skills, extra))
        return cls(out, source=source)

    @property
    def ids(self) -> list[str]:
        return list(self.families)

    def __len__(self) -> int:
        return len(self.families)

    def __iter__(self):
        return iter(self.families.values())

    def __getitem__(self, family_id: str) -> JobFamily:
        return self.families[family_id]

    def label(self, family_id: str, lang: str = "en") -> str:
        if family_id == OTHER:
            return {"fr": "Autre", "de": "Sonstige", "it": "Altro"}.get(lang, "Other")
        return self.families[family_id].label(lang)

    @property
    def title_index(self) -> PhraseIndex:
        """Title keywords as a phrase index; a keyword listed under two families goes to the first."""
        if self._index is None:
            compounds: set[str] = set()
            for f in self.families.values():
                for k in f.title_keywords:
                    for chunk in k.text.split():
                        if has_separator(chunk) and not is_separator(chunk):
                            compounds.update({chunk, strip_accents(chunk)})
            tok = Tokenizer(compounds)
            entries: dict[str, Entry] = {}
            for f in self.families.values():
                for k in f.title_keywords:
                    key = tok.key(k.text)
                    if key and key not in entries:
                        entries[key] = Entry(key, f.id, k.text, k.standalone_only, k.case_sensitive)
            self._index = PhraseIndex(list(entries.values()), tok)
        return self._index

    def skill_families(self) -> dict[str, list[str]]:
        """skill id -> families it characterises, in family order."""
        out: dict[str, list[str]] = {}
        for f in self.families.values():
            for s in f.skills:
                out.setdefault(s, []).append(f.id)
        return out
