"""The platform's own names of the states blendbot sets, so that the feeds read them back.

When blendbot lends an agent it puts them in a back-office status (an Amazon Connect agent
status, a Twilio activity, a Genesys presence, an Asterisk pause reason); when it recalls
them, in an available one. A change counts as done only when the feed shows it, so each
adapter reads those statuses as ``back_office`` and ``available``, by id or by name, whatever
the platform would otherwise make of them (a custom Connect status or an unknown Twilio
activity reads as a break). Names are compared without regard to case.

The marks of a source may grow while the service runs: Genesys presences are configured by
name and their ids are learned from the platform (:mod:`telephony_adapters.genesys_control`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Marked = Literal["back_office", "available"]


class StateMarks:
    def __init__(self, back_office: Iterable[str] = (), available: Iterable[str] = ()) -> None:
        self._back_office: set[str] = set()
        self._available: set[str] = set()
        self.add(back_office=back_office, available=available)

    def add(self, *, back_office: Iterable[str] = (), available: Iterable[str] = ()) -> None:
        self._back_office.update(name.casefold() for name in back_office if name)
        self._available.update(name.casefold() for name in available if name)

    @property
    def back_office(self) -> frozenset[str]:
        return frozenset(self._back_office)

    @property
    def available(self) -> frozenset[str]:
        return frozenset(self._available)

    def __bool__(self) -> bool:
        return bool(self._back_office or self._available)

    def state(self, *names: object) -> Marked | None:
        """``back_office`` or ``available`` if any of ``names`` is one of the marks."""
        keys = {name.casefold() for name in names if isinstance(name, str) and name}
        if keys & self._back_office:
            return "back_office"
        if keys & self._available:
            return "available"
        return None

    def __repr__(self) -> str:
        back, available = sorted(self._back_office), sorted(self._available)
        return f"StateMarks(back_office={back}, available={available})"
