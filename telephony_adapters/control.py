"""Setting an agent's state in the telephony platform: the one interface of the control clients.

blendbot lends an agent by making them not routable in the platform (a back-office status,
activity or pause) and recalls them by making them available again. Each platform has a client
that sends one :class:`Command` as the vendor documents it; what the platform then really did
is read back from its feed, never taken from the answer (a platform may answer success for a
change that never happens). A client raises :class:`Throttled` or :class:`Unreachable` for what
is worth retrying and :class:`Refused` for what is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

AgentState = Literal["backoffice", "available"]
"""``backoffice``: not routable, lent to back-office work; ``available``: back on the phones."""


@dataclass(frozen=True)
class Command:
    command_id: str
    """Unique per command; sent where the platform carries one, and in the agent's timeline."""
    agent_id: str
    external_id: str
    """The agent's id in this platform (their ``telephony_ids`` entry for the source)."""
    state: AgentState
    reason: str
    telephony_ids: dict[str, str] = field(default_factory=dict)
    """All the agent's telephony ids, by source (the webhook target sends them along)."""


class ControlError(Exception):
    """A command the platform did not take."""


class Throttled(ControlError):
    """429 or the vendor's throttling error: try again, not before ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(ControlError):
    """The platform did not answer, or answered 5xx: try again later."""


class Refused(ControlError):
    """The platform refused the command for good (bad id, missing permission): not retried;
    the supervisors are told."""


class ControlClient(Protocol):
    source: str
    """The telephony source it controls: ``amazon_connect``, ``genesys``, ``twilio``,
    ``asterisk``, or ``webhook`` for any other platform."""

    async def send(self, command: Command) -> None:
        """Ask the platform for the command's state; raise a :class:`ControlError` if it was
        not taken. Returning means only that the platform accepted the request."""
        ...
