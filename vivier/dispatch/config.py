"""Dispatch settings from ``include/dispatch/dispatch.yaml`` and the advice of ``advice.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from vivier.paths import INCLUDE_DIR

DISPATCH_DIR = INCLUDE_DIR / "dispatch"
CADENCES = ("weekly", "monthly", "quarterly")


class ConfigProblem(ValueError):
    """The dispatch configuration is missing a setting or has a wrong one."""


@dataclass(frozen=True)
class Campaign:
    name: str
    kind: str  # "transactional" or "bulk"
    templates: dict[str, str]
    cadence: str | None = None
    purposes: tuple[str, ...] = ()

    @property
    def is_bulk(self) -> bool:
        return self.kind == "bulk"

    @property
    def template(self) -> str:
        return self.templates.get("default") or next(iter(self.templates.values()))


@dataclass(frozen=True)
class DeliverySettings:
    messages_per_second: float = 50.0
    chunk_size: int = 100
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 900.0
    max_wait_seconds: float = 300.0
    claim_lease_minutes: float = 30.0
    timeout_seconds: float = 30.0

    def backoff(self, attempts: int) -> float:
        """Delay before the next attempt after ``attempts`` failed ones (exponential, capped)."""
        return min(self.backoff_max_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class PlanningSettings:
    workers: int = 2
    parallel_from: int = 20000
    chunk_size: int = 2000


@dataclass(frozen=True)
class DispatchConfig:
    company: dict[str, str]
    sender_name: str
    sender_address: str
    message_id_domain: str
    offer_url: str
    fallback_languages: tuple[str, ...]
    cap_max_messages: int
    cap_window_days: int
    personal_from_stage_rank: int
    rejection_lookback_days: int
    include_candidate_side: bool
    max_offers: int
    min_score: float
    items_per_purpose: int
    max_items: int
    segment_weights: dict[str, dict[str, float]]
    delivery: DeliverySettings
    planning: PlanningSettings
    campaigns: dict[str, Campaign]
    purpose_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    advice: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def campaign(self, name: str) -> Campaign:
        if name not in self.campaigns:
            raise ConfigProblem(f"unknown campaign {name!r}; configured: {sorted(self.campaigns)}")
        return self.campaigns[name]

    def labels(self, language: str) -> dict[str, str]:
        """Purpose -> label in ``language`` (consent purposes file, then this file's extra languages)."""
        from vivier.consent.purposes import purpose_labels

        labels = purpose_labels(language)
        labels.update(self.purpose_labels.get(language, {}))
        return labels


def _campaigns(raw: dict[str, Any]) -> dict[str, Campaign]:
    campaigns = {}
    for name, spec in raw.items():
        kind = spec.get("kind")
        if kind not in ("transactional", "bulk"):
            raise ConfigProblem(f"campaign {name}: kind must be transactional or bulk, not {kind!r}")
        cadence = spec.get("cadence")
        if kind == "bulk" and cadence not in CADENCES:
            raise ConfigProblem(f"campaign {name}: a bulk campaign needs a cadence among {CADENCES}")
        if kind == "bulk" and not spec.get("purposes"):
            raise ConfigProblem(f"campaign {name}: a bulk campaign needs the consent purposes it serves")
        campaigns[name] = Campaign(
            name=name,
            kind=kind,
            templates=dict(spec["templates"]),
            cadence=cadence,
            purposes=tuple(spec.get("purposes") or ()),
        )
    return campaigns


def load_config(folder: Path = DISPATCH_DIR) -> DispatchConfig:
    """Read the dispatch settings (``dispatch.yaml``) and advice (``advice.yaml``) of ``folder``."""
    raw = yaml.safe_load((Path(folder) / "dispatch.yaml").read_text(encoding="utf-8"))
    advice_path = Path(folder) / "advice.yaml"
    advice = yaml.safe_load(advice_path.read_text(encoding="utf-8")) if advice_path.is_file() else {}
    for language, parts in (advice or {}).items():
        for part, tips in (parts or {}).items():
            if not isinstance(tips, list) or not all(isinstance(tip, str) for tip in tips):
                raise ConfigProblem(
                    f"advice.yaml: {language}.{part} must be a list of texts (quote tips that hold ': ')"
                )
    try:
        cap, rejection, digests = raw["frequency_cap"], raw["rejection_feedback"], raw["digests"]
        return DispatchConfig(
            company={key: str(value) for key, value in raw["company"].items()},
            sender_name=str(raw["sender"]["name"]),
            sender_address=str(raw["sender"]["address"]),
            message_id_domain=str(raw["message_id_domain"]),
            offer_url=str(raw["offer_url"]),
            fallback_languages=tuple(raw.get("fallback_languages") or ("en",)),
            cap_max_messages=int(cap["max_messages"]),
            cap_window_days=int(cap["window_days"]),
            personal_from_stage_rank=int(rejection["personal_from_stage_rank"]),
            rejection_lookback_days=int(rejection["lookback_days"]),
            include_candidate_side=bool(rejection.get("include_candidate_side", False)),
            max_offers=int(digests["max_offers"]),
            min_score=float(digests["min_score"]),
            items_per_purpose=int(digests["items_per_purpose"]),
            max_items=int(digests["max_items"]),
            segment_weights={
                band: {purpose: float(w) for purpose, w in weights.items()}
                for band, weights in (digests.get("segment_weights") or {}).items()
            },
            delivery=DeliverySettings(**(raw.get("delivery") or {})),
            planning=PlanningSettings(**(raw.get("planning") or {})),
            campaigns=_campaigns(raw["campaigns"]),
            purpose_labels=raw.get("purpose_labels") or {},
            advice=advice or {},
        )
    except KeyError as missing:
        raise ConfigProblem(f"dispatch.yaml lacks the setting {missing}") from None


@cache
def default_config() -> DispatchConfig:
    return load_config()
