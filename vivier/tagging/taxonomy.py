"""The skills taxonomy: skills with multilingual labels, aliases and a branch.

YAML schema (``include/taxonomy/skills.yaml``)::

    version: 1
    languages: [en, fr, de, it]
    alias_conflicts: error        # or "drop": an alias key shared by two skills then matches nothing
    skills:
      - id: javascript            # stable snake_case id
        branch: software.languages  # dotted taxonomy branch (related skills share a prefix)
        label: {en: JavaScript, fr: JavaScript, de: JavaScript, it: JavaScript}
        aliases:                  # any language; plain strings or mappings
          - JS
          - ECMAScript
          - {text: Go, standalone_only: true}   # counts only as a whole list item / phrase
          - {text: AI, case_sensitive: true}    # counts only with exactly this case
        ambiguous: true           # optional: the labels themselves count only as whole phrases
        esco_uri: http://data.europa.eu/esco/skill/...   # optional link (ESCO importer)

Every label is also an alias. An alias with both ``standalone_only`` and ``case_sensitive`` counts
when either condition holds (a whole list item in any case, or the exact case anywhere). An
explicit alias entry overrides the rule of a label with the same key in the same skill.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vivier.tagging.normalize import Tokenizer, has_separator, is_separator, strip_accents

# The C loader (libyaml) parses the shipped files ~10x faster than the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | os.PathLike[str] | None, env_var: str, default: Path) -> tuple[Path, Any]:
    """Parse a YAML file: ``path``, else the file named by ``env_var``, else ``default``."""
    p = Path(path if path is not None else os.environ.get(env_var) or default)
    with p.open(encoding="utf-8") as fh:
        return p, yaml.load(fh, Loader=_YAML_LOADER)


LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "it")
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "include" / "taxonomy" / "skills.yaml"
ENV_VAR = "VIVIER_TAXONOMY"

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PARENS_RE = re.compile(r"\s*\([^)]*\)")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed or ambiguous."""


@dataclass(frozen=True)
class Alias:
    """One way of writing a skill. ``text`` is kept as written (reported as ``matched_alias``)."""

    text: str
    standalone_only: bool = False
    case_sensitive: bool = False

    @property
    def restricted(self) -> bool:
        return self.standalone_only or self.case_sensitive

    def to_yaml(self) -> str | dict[str, Any]:
        if not self.restricted:
            return self.text
        out: dict[str, Any] = {"text": self.text}
        if self.standalone_only:
            out["standalone_only"] = True
        if self.case_sensitive:
            out["case_sensitive"] = True
        return out


@dataclass(frozen=True)
class AliasEntry:
    """A resolved alias: its lookup ``key`` (folded tokens), the skill it names and its rules."""

    key: str
    skill_id: str
    text: str
    standalone_only: bool = False
    case_sensitive: bool = False
    from_label: bool = False


@dataclass
class Skill:
    id: str
    branch: str
    labels: dict[str, str]
    aliases: tuple[Alias, ...] = ()
    ambiguous: bool = False
    esco_uri: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        """Label in ``lang``, falling back to English, then to any label, then to the id."""
        return self.labels.get(lang) or self.labels.get("en") or next(iter(self.labels.values()), self.id)

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "branch": self.branch, "label": dict(self.labels)}
        if self.aliases:
            out["aliases"] = [a.to_yaml() for a in self.aliases]
        if self.ambiguous:
            out["ambiguous"] = True
        if self.esco_uri:
            out["esco_uri"] = self.esco_uri
        out.update(self.extra)
        return out


def parse_alias(raw: Any, skill_id: str) -> Alias:
    if isinstance(raw, str):
        text = raw
        return Alias(text.strip())
    if isinstance(raw, Mapping):
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise TaxonomyError(f"skill {skill_id!r}: alias mapping without text: {raw!r}")
        unknown = set(raw) - {"text", "standalone_only", "case_sensitive", "ambiguous"}
        if unknown:
            raise TaxonomyError(f"skill {skill_id!r}: unknown alias keys {sorted(unknown)}")
        standalone = bool(raw.get("standalone_only", False) or raw.get("ambiguous", False))
        return Alias(text.strip(), standalone_only=standalone, case_sensitive=bool(raw.get("case_sensitive", False)))
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Alias(str(raw))
    raise TaxonomyError(f"skill {skill_id!r}: bad alias {raw!r}")


def _parse_skill(raw: Any, position: int) -> Skill:
    if not isinstance(raw, Mapping):
        raise TaxonomyError(f"skills[{position}] is not a mapping")
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        raise TaxonomyError(f"skills[{position}]: id must be snake_case, got {sid!r}")
    branch = raw.get("branch")
    if not isinstance(branch, str) or not branch.strip():
        raise TaxonomyError(f"skill {sid!r}: missing branch")
    labels_raw = raw.get("label", raw.get("labels"))
    if isinstance(labels_raw, str):
        labels = {"en": labels_raw}
    elif isinstance(labels_raw, Mapping):
        labels = {str(k): str(v).strip() for k, v in labels_raw.items() if v is not None and str(v).strip()}
    else:
        raise TaxonomyError(f"skill {sid!r}: label must be a mapping of language -> text")
    if not labels:
        raise TaxonomyError(f"skill {sid!r}: no label")
    aliases = tuple(parse_alias(a, sid) for a in (raw.get("aliases") or []))
    known = {"id", "branch", "label", "labels", "aliases", "ambiguous", "esco_uri"}
    extra = {k: v for k, v in raw.items() if k not in known}
    return Skill(
        id=sid,
        branch=branch.strip(),
        labels=labels,
        aliases=aliases,
        ambiguous=bool(raw.get("ambiguous", False)),
        esco_uri=raw.get("esco_uri") or None,
        extra=extra,
    )


class SkillTaxonomy:
    """Skills keyed by id, in file order, with their labels, branches and alias entries."""

    def __init__(
        self,
        skills: list[Skill],
        *,
        languages: tuple[str, ...] = LANGUAGES,
        alias_conflicts: str = "error",
        source: Path | None = None,
    ):
        if alias_conflicts not in ("error", "drop"):
            raise TaxonomyError(f"alias_conflicts must be 'error' or 'drop', got {alias_conflicts!r}")
        self.skills: dict[str, Skill] = {}
        for s in skills:
            if s.id in self.skills:
                raise TaxonomyError(f"duplicate skill id {s.id!r}")
            self.skills[s.id] = s
        self.languages = tuple(languages)
        self.alias_conflicts = alias_conflicts
        self.source = source
        self._raw: list[AliasEntry] | None = None
        self._entries: list[AliasEntry] | None = None
        self._tokenizer: Tokenizer | None = None
        if alias_conflicts == "error":
            conflicts = self.conflicts()
            if conflicts:
                shown = "; ".join(f"{k!r} -> {v}" for k, v in list(conflicts.items())[:20])
                raise TaxonomyError(f"{len(conflicts)} alias keys name several skills: {shown}")

    # ------------------------------------------------------------------ loading / saving
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> SkillTaxonomy:
        """Load a taxonomy YAML; default: ``$VIVIER_TAXONOMY`` or the shipped ``skills.yaml``."""
        p, data = read_yaml(path, ENV_VAR, DEFAULT_PATH)
        return cls.from_dict(data, source=p)

    @classmethod
    def from_dict(cls, data: Any, *, source: Path | None = None) -> SkillTaxonomy:
        if isinstance(data, list):
            data = {"skills": data}
        if not isinstance(data, Mapping) or not isinstance(data.get("skills"), list):
            raise TaxonomyError("a taxonomy is a mapping with a 'skills' list")
        skills = [_parse_skill(raw, i) for i, raw in enumerate(data["skills"])]
        languages = tuple(data.get("languages") or LANGUAGES)
        return cls(skills, languages=languages, alias_conflicts=data.get("alias_conflicts", "error"), source=source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "languages": list(self.languages),
            "alias_conflicts": self.alias_conflicts,
            "skills": [s.to_yaml() for s in self.skills.values()],
        }

    def dump(self, path: str | os.PathLike[str]) -> Path:
        """Write the taxonomy as YAML (UTF-8, unsorted keys, one skill per block)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", encoding="utf-8") as fh:
            yaml.safe_dump(self.to_dict(), fh, allow_unicode=True, sort_keys=False, width=120)
        return p

    # ------------------------------------------------------------------ accessors
    def __len__(self) -> int:
        return len(self.skills)

    def __iter__(self) -> Iterator[Skill]:
        return iter(self.skills.values())

    def __contains__(self, skill_id: object) -> bool:
        return skill_id in self.skills

    def __getitem__(self, skill_id: str) -> Skill:
        return self.skills[skill_id]

    @property
    def ids(self) -> list[str]:
        return list(self.skills)

    def label(self, skill_id: str, lang: str = "en") -> str:
        """Label of a skill in ``lang`` with English fallback."""
        return self.skills[skill_id].label(lang)

    def labels(self, lang: str = "en") -> dict[str, str]:
        """skill id -> label in ``lang`` (English fallback)."""
        return {sid: s.label(lang) for sid, s in self.skills.items()}

    def branch(self, skill_id: str) -> str:
        return self.skills[skill_id].branch

    @property
    def branches(self) -> dict[str, list[str]]:
        """branch -> skill ids, in file order."""
        out: dict[str, list[str]] = {}
        for s in self.skills.values():
            out.setdefault(s.branch, []).append(s.id)
        return out

    def skills_in_branch(self, prefix: str) -> list[str]:
        """Skills whose branch is ``prefix`` or below it ("software" covers "software.web")."""
        return [s.id for s in self.skills.values() if s.branch == prefix or s.branch.startswith(prefix + ".")]

    def frame(self, lang: str = "en") -> Any:
        """One row per skill: id, branch, top-level branch, label in ``lang``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "skill_id": list(self.skills),
                "branch": [s.branch for s in self.skills.values()],
                "branch_root": [s.branch.split(".")[0] for s in self.skills.values()],
                "label": [s.label(lang) for s in self.skills.values()],
            }
        )

    # ------------------------------------------------------------------ aliases
    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer shared by aliases and texts (knows the compound aliases such as "CI/CD")."""
        if self._tokenizer is None:
            compounds: set[str] = set()
            for s in self.skills.values():
                texts = [a.text for a in s.aliases] + [_PARENS_RE.sub("", v) for v in s.labels.values()]
                for t in texts:
                    # Only the space-free chunk holding the separator is a compound: "A/B" of
                    # "A/B testing", "S/4HANA" of "SAP S/4HANA".
                    for chunk in t.split():
                        if has_separator(chunk) and not is_separator(chunk):
                            compounds.update({chunk, strip_accents(chunk)})
            self._tokenizer = Tokenizer(compounds)
        return self._tokenizer

    def _raw_entries(self) -> list[AliasEntry]:
        """One entry per (key, skill): labels first (so a label is what gets reported), then
        aliases; an explicit alias with the key of a label sets that key's rules."""
        if self._raw is not None:
            return self._raw
        tok = self.tokenizer
        out: list[AliasEntry] = []
        for s in self.skills.values():
            by_key: dict[str, AliasEntry] = {}
            langs = (*self.languages, *[k for k in s.labels if k not in self.languages])
            for lang in langs:
                text = s.labels.get(lang)
                if not text:
                    continue
                text = _PARENS_RE.sub("", text).strip()
                key = tok.key(text)
                if key and key not in by_key:
                    by_key[key] = AliasEntry(key, s.id, text, s.ambiguous, False, True)
            for alias in s.aliases:
                key = tok.key(alias.text)
                if not key:
                    continue
                prev = by_key.get(key)
                if prev is None:
                    by_key[key] = AliasEntry(key, s.id, alias.text, alias.standalone_only, alias.case_sensitive)
                elif prev.from_label:
                    by_key[key] = AliasEntry(key, s.id, prev.text, alias.standalone_only, alias.case_sensitive, True)
            out.extend(by_key.values())
        self._raw = out
        return out

    def conflicts(self) -> dict[str, list[str]]:
        """Alias keys that name more than one skill: key -> skill ids."""
        owners: dict[str, list[str]] = {}
        for e in self._raw_entries():
            ids = owners.setdefault(e.key, [])
            if e.skill_id not in ids:
                ids.append(e.skill_id)
        return {k: v for k, v in owners.items() if len(v) > 1}

    def alias_entries(self) -> list[AliasEntry]:
        """All alias entries, one per (key, skill); keys shared by skills are dropped under ``drop``."""
        if self._entries is None:
            entries = self._raw_entries()
            conflicts = self.conflicts()
            self._entries = [e for e in entries if e.key not in conflicts]
        return self._entries

    def alias_frame(self) -> Any:
        """Alias entries as a DataFrame (key, skill_id, alias, standalone_only, case_sensitive)."""
        import pandas as pd

        entries = self.alias_entries()
        return pd.DataFrame(
            {
                "key": [e.key for e in entries],
                "skill_id": [e.skill_id for e in entries],
                "alias": [e.text for e in entries],
                "standalone_only": [e.standalone_only for e in entries],
                "case_sensitive": [e.case_sensitive for e in entries],
            }
        )

    def missing_labels(self) -> dict[str, list[str]]:
        """skill id -> languages of ``self.languages`` without a label."""
        out = {}
        for s in self.skills.values():
            missing = [lang for lang in self.languages if not s.labels.get(lang)]
            if missing:
                out[s.id] = missing
        return out
