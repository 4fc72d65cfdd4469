"""Links to the preference centre carried by the emails (built by ``vivier.preferences.links``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vivier.preferences import links

ALL_PURPOSES = links.ALL_PURPOSES


@dataclass(frozen=True)
class PreferenceLinks:
    """The preference centre at ``base_url``, its token keys newest first."""

    base_url: str
    keys: tuple[str, ...]

    @classmethod
    def of(cls, base_url: str, keys: Sequence[str]) -> PreferenceLinks:
        return cls(base_url, tuple(keys))

    def unsubscribe(self, person_id: int, purpose: str) -> str:
        """RFC 8058 one-click link withdrawing ``purpose`` (``all``: every purpose)."""
        return links.unsubscribe_url(self.base_url, self.keys, person_id, purpose)

    def preferences(self, person_id: int) -> str:
        return links.preferences_url(self.base_url, self.keys, person_id)

    def join(self, person_id: int) -> str:
        """The double opt-in invitation to the talent pool."""
        return links.join_url(self.base_url, self.keys, person_id)


def unsubscribe_purpose(purposes: Sequence[str]) -> str:
    """What the one-click header of a message withdraws: its purpose, or every purpose for a digest of
    several (a one-click unsubscribe must stop the mail the person receives; each section of a digest
    also has its own link for one purpose)."""
    return purposes[0] if len(purposes) == 1 else ALL_PURPOSES
