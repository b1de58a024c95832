"""The blending package's exceptions: one base, subclasses that carry their data.

Every message is written for the person who gave the input (a supervisor at the CLI, an
integrator calling the API), so callers may show ``str(exc)`` as it is.
"""

from __future__ import annotations

from collections.abc import Sequence


class BlendingError(Exception):
    """Something in forecasting or staffing could not be done."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or type(self).__name__)

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(BlendingError):
    """An input value is out of range."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} = {value!r}: {reason}")


class TargetUnreachable(BlendingError):
    """No number of agents meets the service-level target."""

    def __init__(self, target_sl: float, target_seconds: float, reason: str) -> None:
        self.target_sl = target_sl
        self.target_seconds = target_seconds
        self.reason = reason
        super().__init__(
            f"cannot answer {target_sl:.1%} of calls within {target_seconds:g} s: {reason}"
        )


class UnstableQueue(BlendingError):
    """Too few agents: without abandonment the queue grows without bound."""

    def __init__(self, agents: int, load_erlangs: float) -> None:
        self.agents = agents
        self.load_erlangs = load_erlangs
        super().__init__(
            f"{agents} agents cannot carry {load_erlangs:.2f} Erlangs of work: the queue grows "
            f"without bound (Erlang C needs more than {load_erlangs:.2f} agents; give a caller "
            "patience to model abandonment instead)"
        )


class SeriesError(BlendingError):
    """The arrivals history cannot be used for forecasting."""


class EmptySeries(SeriesError):
    """The arrivals history has no rows."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(f"{source}: no rows of arrivals (is the file empty?)")


class BadColumns(SeriesError):
    """The arrivals file lacks a required column or has unreadable values."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


class NegativeCounts(SeriesError):
    """Call counts or handle times below zero."""

    def __init__(self, source: str, column: str, timestamps: Sequence[str]) -> None:
        self.source = source
        self.column = column
        self.timestamps = list(timestamps)
        shown = ", ".join(self.timestamps[:3])
        more = f" and {len(self.timestamps) - 3} more" if len(self.timestamps) > 3 else ""
        super().__init__(f"{source}: negative {column} at {shown}{more}")


class DuplicateTimestamps(SeriesError):
    """The same interval appears twice for one queue."""

    def __init__(self, source: str, queue: str, timestamps: Sequence[str]) -> None:
        self.source = source
        self.queue = queue
        self.timestamps = list(timestamps)
        shown = ", ".join(self.timestamps[:3])
        more = f" and {len(self.timestamps) - 3} more" if len(self.timestamps) > 3 else ""
        where = f" of queue {queue!r}" if queue else ""
        super().__init__(
            f"{source}: interval{where} given more than once: {shown}{more}; "
            "each interval must appear once (sum the rows first if they are partial counts)"
        )


class IrregularIntervals(SeriesError):
    """Timestamps that do not fall on one interval grid."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


class NotEnoughHistory(SeriesError):
    """Too little history to fit or to backtest."""

    def __init__(self, source: str, days: int, needed: int, purpose: str) -> None:
        self.source = source
        self.days = days
        self.needed = needed
        self.purpose = purpose
        super().__init__(
            f"{source}: {days} day(s) of history, but {purpose} needs at least {needed}"
        )


class UnknownAgent(BlendingError, LookupError):
    """No agent has this id."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"agent {agent_id} not found")


class LendRefused(BlendingError):
    """A supervisor's lend that the phones come before: blending is paused, the agent is
    recalled or their group's guard holds (all of which ``override`` sets aside), or the agent
    is on a call (which nothing does)."""

    def __init__(self, agent_id: str, reason: str, *, overridable: bool = True) -> None:
        self.agent_id = agent_id
        self.reason = reason
        self.overridable = overridable
        hint = " (or override)" if overridable else ""
        super().__init__(f"cannot lend {agent_id} now: {reason}{hint}")
