"""The consent ledger (GDPR Art. 7): purposes, append-only events, current consent, preferences, contacts."""
