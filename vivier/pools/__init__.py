"""Talent pools: definitions as data, refreshed set-based from tags and current consent."""
