"""Import the ESCO skills CSV download into a Vivier skills taxonomy.

ESCO ships one ``skills_<lang>.csv`` per language with the columns ``conceptType``,
``conceptUri``, ``skillType``, ``reuseLevel``, ``preferredLabel``, ``altLabels`` and
``hiddenLabels`` (newline-separated lists), ``status``, ``description`` (and a few more, ignored).

Two modes:

* build a taxonomy from ESCO alone: one skill per concept, id ``esco_<uuid>`` derived from the
  concept URI, branch ``esco.<skillType>.<reuseLevel>``, labels = preferred labels, aliases =
  alternative (and optionally hidden) labels; alias keys shared by several concepts are dropped
  (``alias_conflicts: drop``);
* ``--merge BASE``: link ESCO concepts to the skills of an existing taxonomy (an ESCO preferred
  label equal to an alias or label of exactly one skill) and add the concept's labels as aliases
  of that skill, skipping any alias that would name another skill.

CLI::

    python -m vivier.tagging.esco --csv skills_en.csv --csv skills_fr.csv \\
        --out include/taxonomy/esco_skills.yaml [--merge include/taxonomy/skills.yaml]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vivier.tagging.normalize import strip_accents
from vivier.tagging.taxonomy import LANGUAGES, Alias, Skill, SkillTaxonomy

ESCO_COLUMNS = (
    "conceptType",
    "conceptUri",
    "skillType",
    "reuseLevel",
    "preferredLabel",
    "altLabels",
    "hiddenLabels",
    "status",
    "description",
)
_LANG_RE = re.compile(r"(?:^|[_\-.])([a-z]{2})(?:[_\-.][A-Za-z]{2})?$")
_PARENS_RE = re.compile(r"\s*\([^)]*\)")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def lang_from_path(path: str | Path) -> str:
    """Language code of an ESCO file name: ``skills_fr.csv`` -> ``fr``."""
    stem = Path(path).name.split(".")[0]
    m = _LANG_RE.search(stem)
    if not m:
        raise ValueError(f"cannot tell the language of {path!s}; pass it as LANG=PATH")
    return m.group(1)


def esco_id(uri: str) -> str:
    """Stable snake_case id from a concept URI: ``.../skill/0005c151-5b5a-...`` -> ``esco_0005c151_5b5a_...``."""
    last = str(uri).rstrip("/").rsplit("/", 1)[-1]
    slug = _SLUG_RE.sub("_", last.lower()).strip("_")
    if not slug:
        raise ValueError(f"bad ESCO concept URI {uri!r}")
    return f"esco_{slug}"


def _alias(text: str) -> Alias:
    """ESCO label as an alias; very short ones ("AI", "R") only count as a whole list item."""
    return Alias(text, standalone_only=len(text) <= 3)


def _slug(text: object, default: str = "unknown") -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return default
    s = _SLUG_RE.sub("_", strip_accents(str(text)).lower()).strip("_")
    return s or default


def _split_labels(cell: object) -> list[str]:
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return []
    out = []
    for part in str(cell).splitlines():
        part = _PARENS_RE.sub("", part).strip()
        if part:
            out.append(part)
    return out


def read_esco_csv(
    path: str | Path, lang: str | None = None, *, statuses: Iterable[str] | None = ("released",)
) -> pd.DataFrame:
    """One ESCO skills CSV as rows (uri, lang, preferred, alt, hidden, skill_type, reuse_level, description).

    ``alt`` and ``hidden`` are lists; parenthesised qualifiers ("Java (computer programming)")
    are removed from alternative labels. Concepts whose ``status`` is not in ``statuses`` are
    skipped (``None`` keeps all).
    """
    lang = lang or lang_from_path(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in ESCO_COLUMNS)
    missing = {"conceptUri", "preferredLabel"} - set(df.columns)
    if missing:
        raise ValueError(f"{path!s}: not an ESCO skills file, missing {sorted(missing)}")
    for col in ESCO_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    if statuses is not None and (df["status"] != "").any():
        df = df[df["status"].isin(list(statuses)) | (df["status"] == "")]
    df = df[df["conceptUri"].str.strip() != ""]
    return pd.DataFrame(
        {
            "uri": df["conceptUri"].str.strip().to_numpy(),
            "lang": lang,
            "preferred": df["preferredLabel"].str.strip().to_numpy(),
            "alt": [_split_labels(c) for c in df["altLabels"]],
            "hidden": [_split_labels(c) for c in df["hiddenLabels"]],
            "skill_type": df["skillType"].to_numpy(),
            "reuse_level": df["reuseLevel"].to_numpy(),
            "description": df["description"].to_numpy(),
        }
    )


def read_esco(sources: Sequence[str | Path | tuple[str, str | Path]], **kwargs) -> pd.DataFrame:
    """Several ESCO CSVs (paths, ``"fr=path"`` strings or ``(lang, path)`` pairs) in long format."""
    frames = []
    for src in sources:
        if isinstance(src, tuple):
            lang, path = src
        elif isinstance(src, str) and re.match(r"^[a-z]{2}=", src):
            lang, path = src.split("=", 1)
        else:
            lang, path = None, src
        frames.append(read_esco_csv(path, lang, **kwargs))
    if not frames:
        raise ValueError("no ESCO file given")
    return pd.concat(frames, ignore_index=True)


def _languages(esco: pd.DataFrame) -> tuple[str, ...]:
    found = list(dict.fromkeys(esco["lang"]))
    return tuple([lang for lang in LANGUAGES] + [lang for lang in found if lang not in LANGUAGES])


def build_taxonomy(esco: pd.DataFrame, *, include_hidden: bool = True) -> SkillTaxonomy:
    """A taxonomy made of the ESCO concepts alone (alias keys shared by two concepts are dropped)."""
    skills = []
    for uri, group in esco.groupby("uri", sort=True):
        labels = {row.lang: row.preferred for row in group.itertuples() if row.preferred}
        if not labels:
            continue
        english = group[group["lang"] == "en"]
        first = (english if len(english) else group).iloc[0]  # branch from the English file when given
        seen = {v.casefold() for v in labels.values()}
        aliases = []
        for row in group.itertuples():
            for text in list(row.alt) + (list(row.hidden) if include_hidden else []):
                if text.casefold() not in seen:
                    seen.add(text.casefold())
                    aliases.append(_alias(text))
        skills.append(
            Skill(
                id=esco_id(uri),
                branch=f"esco.{_slug(first.skill_type)}.{_slug(first.reuse_level)}",
                labels=labels,
                aliases=tuple(aliases),
                esco_uri=str(uri),
            )
        )
    return SkillTaxonomy(skills, languages=_languages(esco), alias_conflicts="drop")


@dataclass
class MergeReport:
    linked: dict[str, list[str]] = field(default_factory=dict)  # skill id -> ESCO URIs
    aliases_added: int = 0
    aliases_skipped: int = 0  # would have named another skill
    unlinked: int = 0  # ESCO concepts not linked to any skill
    ambiguous: int = 0  # preferred labels pointing to several skills

    def summary(self) -> str:
        return (
            f"{len(self.linked)} skills linked to {sum(len(v) for v in self.linked.values())} ESCO concepts, "
            f"{self.aliases_added} aliases added, {self.aliases_skipped} skipped (other skill), "
            f"{self.unlinked} concepts unlinked, {self.ambiguous} ambiguous"
        )


def merge_into(
    taxonomy: SkillTaxonomy, esco: pd.DataFrame, *, include_hidden: bool = False
) -> tuple[SkillTaxonomy, MergeReport]:
    """Add ESCO labels as aliases of the taxonomy skills they match (see module doc)."""
    tok = taxonomy.tokenizer
    owner: dict[str, str] = {e.key: e.skill_id for e in taxonomy.alias_entries()}
    report = MergeReport()
    new_aliases: dict[str, list[Alias]] = {sid: [] for sid in taxonomy.ids}
    new_owner: dict[str, str | None] = {}  # key -> skill id, None when two skills want it
    esco_uri: dict[str, str] = {}
    for uri, group in esco.groupby("uri", sort=True):
        targets = {owner.get(tok.key(_PARENS_RE.sub("", p))) for p in group["preferred"] if p}
        targets.discard(None)
        if not targets:
            report.unlinked += 1
            continue
        if len(targets) > 1:
            report.ambiguous += 1
            continue
        sid = targets.pop()
        report.linked.setdefault(sid, []).append(str(uri))
        esco_uri.setdefault(sid, str(uri))
        texts = [_PARENS_RE.sub("", p).strip() for p in group["preferred"] if p]
        for row in group.itertuples():
            texts += list(row.alt) + (list(row.hidden) if include_hidden else [])
        for text in texts:
            key = tok.key(text)
            if not key:
                continue
            if key in owner:
                if owner[key] != sid:
                    report.aliases_skipped += 1
                continue
            prev = new_owner.get(key, "")
            if prev == "":
                new_owner[key] = sid
                new_aliases[sid].append(_alias(text))
            elif prev != sid:
                new_owner[key] = None
    skills = []
    for s in taxonomy:
        added = [a for a in new_aliases[s.id] if new_owner.get(tok.key(a.text)) == s.id]
        report.aliases_added += len(added)
        skills.append(
            Skill(
                id=s.id,
                branch=s.branch,
                labels=dict(s.labels),
                aliases=tuple(s.aliases) + tuple(added),
                ambiguous=s.ambiguous,
                esco_uri=s.esco_uri or esco_uri.get(s.id),
                extra=dict(s.extra),
            )
        )
    report.aliases_skipped += sum(1 for v in new_owner.values() if v is None)
    merged = SkillTaxonomy(
        skills,
        languages=taxonomy.languages,
        alias_conflicts=taxonomy.alias_conflicts,
        source=taxonomy.source,
    )
    return merged, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vivier.tagging.esco", description=__doc__.splitlines()[0])
    ap.add_argument("--csv", action="append", required=True, help="ESCO skills_<lang>.csv (or LANG=PATH); repeatable")
    ap.add_argument("--out", required=True, help="YAML file to write")
    ap.add_argument("--merge", metavar="BASE_YAML", help="merge ESCO labels into this taxonomy instead of building one")
    ap.add_argument("--hidden", action="store_true", help="also import hiddenLabels as aliases (merge mode)")
    ap.add_argument("--all-status", action="store_true", help="keep concepts whatever their status")
    args = ap.parse_args(argv)

    statuses = None if args.all_status else ("released",)
    esco = read_esco(args.csv, statuses=statuses)
    if args.merge:
        base = SkillTaxonomy.load(args.merge)
        taxonomy, report = merge_into(base, esco, include_hidden=args.hidden)
        message = report.summary()
    else:
        taxonomy = build_taxonomy(esco)
        message = f"{len(taxonomy)} ESCO skills, {len(taxonomy.conflicts())} shared alias keys dropped"
    path = taxonomy.dump(args.out)
    print(f"{path}: {message}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
