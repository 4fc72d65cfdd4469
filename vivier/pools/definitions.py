"""Pool definitions (``include/pools/*.yaml``): parsed, checked, and compiled to SQL filters on persons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from vivier.consent.purposes import purposes
from vivier.db.schema import person_tags, persons
from vivier.paths import INCLUDE_DIR
from vivier.tagging.families import JobFamilies
from vivier.tagging.taxonomy import SkillTaxonomy, read_yaml

POOLS_DIR = INCLUDE_DIR / "pools"
SENIORITIES = ("intern", "junior", "mid", "senior", "lead", "unknown")
SIDES = ("company", "candidate", "unknown")
LIST_FILTERS = (
    "skills_any",
    "skills_all",
    "ats_tags_any",
    "job_families",
    "seniority",
    "stages",
    "rejection_side",
    "languages",
    "countries",
    "sources",
    "channels",
    "purposes",
)
SCALAR_FILTERS = ("min_stage_rank", "silver_medalist", "contacted_within_days")


class PoolDefinitionError(ValueError):
    """A pool definition that cannot be used, with the pool and the filter at fault."""


@dataclass(frozen=True)
class PoolDefinition:
    name: str
    description: str
    where: dict[str, Any] = field(default_factory=dict)
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where}


@cache
def _vocabularies() -> dict[str, frozenset[str]]:
    return {
        "skills_any": frozenset(skill.id for skill in SkillTaxonomy.load()),
        "skills_all": frozenset(skill.id for skill in SkillTaxonomy.load()),
        "job_families": frozenset([*JobFamilies.load().ids, "other"]),
        "seniority": frozenset(SENIORITIES),
        "rejection_side": frozenset(SIDES),
        "purposes": frozenset(purposes()),
    }


def _check(name: str, where: dict[str, Any]) -> dict[str, Any]:
    known = set(LIST_FILTERS) | set(SCALAR_FILTERS)
    unknown = sorted(set(where) - known)
    if unknown:
        raise PoolDefinitionError(f"pool {name!r}: unknown filter(s) {unknown}; known: {sorted(known)}")
    checked: dict[str, Any] = {}
    for key, value in where.items():
        if key in LIST_FILTERS:
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise PoolDefinitionError(f"pool {name!r}: {key} must be a non-empty list of strings")
            if key in ("languages",):
                values = [v.lower() for v in values]
            if key in ("countries",):
                values = [v.upper() for v in values]
            vocabulary = _vocabularies().get(key)
            if vocabulary is not None and (bad := sorted(set(values) - vocabulary)):
                raise PoolDefinitionError(f"pool {name!r}: {key} has unknown value(s) {bad}")
            checked[key] = sorted(set(values))
        elif key == "silver_medalist":
            if not isinstance(value, bool):
                raise PoolDefinitionError(f"pool {name!r}: silver_medalist must be true or false")
            checked[key] = value
        else:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PoolDefinitionError(f"pool {name!r}: {key} must be a non-negative integer")
            checked[key] = value
    return checked


def parse_definitions(data: Any, source: str = "pools") -> list[PoolDefinition]:
    """Definitions from the parsed YAML (``{"pools": [...]}``); names must be unique."""
    if not isinstance(data, dict) or not isinstance(data.get("pools"), list):
        raise PoolDefinitionError(f"{source}: expected a mapping with a list under 'pools'")
    found: dict[str, PoolDefinition] = {}
    for position, raw in enumerate(data["pools"], start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise PoolDefinitionError(f"{source}: pool #{position} has no name")
        name = raw["name"].strip()
        if name in found:
            raise PoolDefinitionError(f"{source}: pool {name!r} is defined twice")
        extra = sorted(set(raw) - {"name", "description", "where", "active"})
        if extra:
            raise PoolDefinitionError(f"pool {name!r}: unknown key(s) {extra}")
        where = raw.get("where") or {}
        if not isinstance(where, dict):
            raise PoolDefinitionError(f"pool {name!r}: 'where' must be a mapping of filters")
        found[name] = PoolDefinition(
            name=name,
            description=str(raw.get("description") or ""),
            where=_check(name, where),
            active=bool(raw.get("active", True)),
        )
    return list(found.values())


def load_definitions(folder: Path | None = None) -> list[PoolDefinition]:
    """Every pool of the YAML files in ``folder`` (default ``include/pools/``), in file then list order."""
    folder = Path(folder) if folder is not None else POOLS_DIR
    definitions: list[PoolDefinition] = []
    for path in sorted(folder.glob("*.yaml")):
        definitions += parse_definitions(read_yaml(path, "", path)[1], source=path.name)
    names = [d.name for d in definitions]
    if len(names) != len(set(names)):
        raise PoolDefinitionError(f"a pool name is used twice across {folder}")
    return definitions


# The columns of ``persons`` the filters read (a narrower table with these columns may stand in for it).
FILTER_COLUMNS = (
    "person_id",
    "job_family",
    "seniority",
    "furthest_stage",
    "furthest_stage_rank",
    "is_silver_medalist",
    "rejection_side",
    "language",
    "preferred_language",
    "country",
    "source_system",
    "source_channel",
    "last_applied_at",
    "last_contact_at",
)


def member_filter(
    where: dict[str, Any], consented: sa.Table, as_of: pd.Timestamp, candidates: sa.Table | None = None
) -> sa.ColumnElement[bool]:
    """The SQL condition that selects a pool's members (consent included) among ``persons``.

    ``candidates``, when given, stands in for ``persons``: a table with the ``FILTER_COLUMNS`` of only the
    people who have current consent for at least one purpose, so that check is left out of the condition.
    """
    p = (candidates if candidates is not None else persons).c
    conditions: list[sa.ColumnElement[bool]] = []
    columns = {
        "job_families": p.job_family,
        "seniority": p.seniority,
        "stages": p.furthest_stage,
        "rejection_side": p.rejection_side,
        "languages": sa.func.coalesce(p.preferred_language, p.language),
        "countries": p.country,
        "sources": p.source_system,
        "channels": p.source_channel,
    }
    for key, column in columns.items():
        if key in where:
            conditions.append(column.in_(where[key]))
    if "min_stage_rank" in where:
        conditions.append(p.furthest_stage_rank >= where["min_stage_rank"])
    if "silver_medalist" in where:
        conditions.append(
            p.is_silver_medalist.is_(sa.true()) if where["silver_medalist"] else p.is_silver_medalist.is_(sa.false())
        )
    if "contacted_within_days" in where:
        cutoff = (as_of - pd.Timedelta(days=where["contacted_within_days"])).to_pydatetime()
        conditions.append(sa.or_(p.last_contact_at >= cutoff, p.last_applied_at >= cutoff))
    conditions += _tag_conditions(where, p.person_id)
    if "purposes" in where:
        conditions.append(
            sa.exists(
                sa.select(consented.c.person_id).where(
                    consented.c.person_id == p.person_id, consented.c.purpose.in_(where["purposes"])
                )
            )
        )
    elif candidates is None:
        conditions.append(sa.exists(sa.select(consented.c.person_id).where(consented.c.person_id == p.person_id)))
    return sa.and_(*conditions)


def _tag_conditions(where: dict[str, Any], person_id: sa.ColumnElement[int]) -> Iterable[sa.ColumnElement[bool]]:
    # uncorrelated IN subqueries: both engines read the (kind, value) index once per filter, where a
    # correlated EXISTS had SQLite probe person_tags once per candidate
    t = person_tags.c
    for key, kind in (("skills_any", "skill"), ("ats_tags_any", "ats_tag")):
        if key in where:
            yield person_id.in_(sa.select(t.person_id).where(t.kind == kind, t.value.in_(where[key])))
    if "skills_all" in where:
        having_all = (
            sa.select(t.person_id)
            .where(t.kind == "skill", t.value.in_(where["skills_all"]))
            .group_by(t.person_id)
            .having(sa.func.count() == len(where["skills_all"]))
        )
        yield person_id.in_(having_all)
