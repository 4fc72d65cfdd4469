"""GDPR: retention rules, erasure with suppression, access exports, data-subject requests."""
