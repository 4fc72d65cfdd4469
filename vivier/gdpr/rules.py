"""The retention rules of ``include/gdpr/retention.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from vivier.paths import INCLUDE_DIR
from vivier.tagging.taxonomy import read_yaml

RULES_FILE = INCLUDE_DIR / "gdpr" / "retention.yaml"


@dataclass(frozen=True)
class RetentionRules:
    explanation_days: int = 92
    quarantine_days: int = 92
    consent_days: int = 730
    renewal_notice_days: int = 60
    renewal_planning_days: int = 14
    grace_days: int = 30
    pending_request_days: int = 30
    request_deadline_days: int = 30
    request_warning_days: int = 7
    staging_days: int = 7

    @classmethod
    def load(cls, path: str | Path | None = None) -> RetentionRules:
        data = read_yaml(path, "VIVIER_RETENTION_RULES", RULES_FILE)[1] or {}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown retention rule(s) {unknown}; known: {sorted(known)}")
        bad = sorted(k for k, v in data.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0)
        if bad:
            raise ValueError(f"retention rule(s) {bad} must be non-negative whole numbers of days")
        if data.get("renewal_notice_days", cls.renewal_notice_days) >= data.get("consent_days", cls.consent_days):
            raise ValueError("renewal_notice_days must be shorter than consent_days")
        return cls(**data)

    def days(self, name: str) -> pd.Timedelta:
        return pd.Timedelta(days=getattr(self, name))
