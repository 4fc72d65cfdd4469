"""Keys the pipelines need, read from Airflow Variables (so any secrets backend can serve them)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

SUPPRESSION_KEY_VARIABLE = "vivier_suppression_key"
# Only for the embedded demo: production must set the Variable (or AIRFLOW_VAR_VIVIER_SUPPRESSION_KEY).
DEMO_SUPPRESSION_KEY = "vivier-demo-suppression-key-change-me"


def suppression_key() -> bytes:
    """The HMAC key of the suppression list (erased, bounced and complaining people)."""
    from airflow.sdk import Variable

    value = Variable.get(SUPPRESSION_KEY_VARIABLE, default=None)
    if not value:
        log.warning(
            "Variable %s is not set: using the demo suppression key. Set it before real data comes in.",
            SUPPRESSION_KEY_VARIABLE,
        )
        value = DEMO_SUPPRESSION_KEY
    return value.encode("utf-8")
