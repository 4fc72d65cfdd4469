"""The matching settings (``include/matching/config.yaml``): weights, hard gate, top N."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from vivier.paths import INCLUDE_DIR

DEFAULT_PATH = INCLUDE_DIR / "matching" / "config.yaml"
ENV_VAR = "VIVIER_MATCHING_CONFIG"
WEIGHT_NAMES = ("skills", "stage", "rejection_side", "recency", "language", "location")


class ConfigError(ValueError):
    """The matching configuration is invalid."""


@dataclass(frozen=True)
class Weights:
    skills: float = 0.70
    stage: float = 0.10
    rejection_side: float = 0.05
    recency: float = 0.05
    language: float = 0.05
    location: float = 0.05


@dataclass(frozen=True)
class SkillSettings:
    required_weight: float = 2.0
    nice_weight: float = 1.0
    idf: bool = True
    related_credit: float = 0.5
    unrelated_branches: tuple[str, ...] = ("languages", "soft_skills")
    min_coverage: float = 0.35


@dataclass(frozen=True)
class HardGate:
    enabled: bool = False
    max_missing_required: int = 2


@dataclass(frozen=True)
class StageSettings:
    silver_medalist: float = 1.0
    others_max: float = 0.8


@dataclass(frozen=True)
class SideSettings:
    company: float = 1.0
    unknown: float = 0.6
    candidate: float = 0.3


@dataclass(frozen=True)
class LanguageSettings:
    same: float = 1.0
    unknown: float = 0.5
    other: float = 0.0
    skill_for_language: dict[str, str] = field(
        default_factory=lambda: {"en": "english", "fr": "french", "de": "german", "it": "italian", "es": "spanish"}
    )


@dataclass(frozen=True)
class LocationSettings:
    same_city: float = 1.0
    same_country: float = 0.6
    unknown: float = 0.3
    other: float = 0.0


@dataclass(frozen=True)
class MatchingConfig:
    """Everything that shapes a score; ``digest`` names a configuration in logs and run keys."""

    top_n: int = 50
    weights: Weights = field(default_factory=Weights)
    skills: SkillSettings = field(default_factory=SkillSettings)
    hard_gate: HardGate = field(default_factory=HardGate)
    stage: StageSettings = field(default_factory=StageSettings)
    rejection_side: SideSettings = field(default_factory=SideSettings)
    recency_half_life_days: float = 365.0
    language: LanguageSettings = field(default_factory=LanguageSettings)
    location: LocationSettings = field(default_factory=LocationSettings)

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise ConfigError(f"top_n must be >= 1, got {self.top_n}")
        total = sum(getattr(self.weights, name) for name in WEIGHT_NAMES)
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(f"weights must sum to 1, they sum to {total:g}")
        if any(getattr(self.weights, name) < 0 for name in WEIGHT_NAMES):
            raise ConfigError("weights must not be negative")
        if not 0.0 <= self.skills.related_credit < 1.0:
            raise ConfigError("skills.related_credit must be in [0, 1)")
        if self.skills.required_weight <= 0 or self.skills.nice_weight <= 0:
            raise ConfigError("skill weights must be positive")
        if self.hard_gate.max_missing_required < 0:
            raise ConfigError("hard_gate.max_missing_required must be >= 0")
        if self.recency_half_life_days <= 0:
            raise ConfigError("recency.half_life_days must be positive")

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> MatchingConfig:
        """The YAML at ``path``, else ``$VIVIER_MATCHING_CONFIG``, else the shipped file."""
        source = Path(path if path is not None else os.environ.get(ENV_VAR) or DEFAULT_PATH)
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"matching config {source}: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchingConfig:
        known = {
            "top_n",
            "weights",
            "skills",
            "hard_gate",
            "stage",
            "rejection_side",
            "recency",
            "language",
            "location",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown matching settings {unknown} (allowed: {sorted(known)})")

        def section(name: str, kind: type) -> Any:
            raw = data.get(name) or {}
            try:
                value = kind(**raw)
            except TypeError as exc:
                raise ConfigError(f"matching config section {name!r}: {exc}") from exc
            return value

        skills = section("skills", SkillSettings)
        skills = replace(skills, unrelated_branches=tuple(skills.unrelated_branches))
        recency = data.get("recency") or {}
        return cls(
            top_n=int(data.get("top_n", 50)),
            weights=section("weights", Weights),
            skills=skills,
            hard_gate=section("hard_gate", HardGate),
            stage=section("stage", StageSettings),
            rejection_side=section("rejection_side", SideSettings),
            recency_half_life_days=float(recency.get("half_life_days", 365.0)),
            language=section("language", LanguageSettings),
            location=section("location", LocationSettings),
        )

    def with_changes(self, **changes: Any) -> MatchingConfig:
        """A copy with top-level fields replaced (sections are replaced whole)."""
        return replace(self, **changes)

    @property
    def digest(self) -> str:
        """A short hash of every setting (two runs with the same digest score alike)."""
        text = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
