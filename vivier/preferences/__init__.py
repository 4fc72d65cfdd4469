"""The preference centre: signed links, one-click unsubscribe, preferences, double opt-in, data requests."""
