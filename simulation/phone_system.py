"""The simulated telephony platform's side of agent states (``control`` mode).

blendbot's own outbox (:class:`telephony_adapters.control_outbox.ControlOutbox`) sends the
state commands the database queued with each decision; this platform takes them as the
signed webhook's platform would, applies each after the platform's command latency (one
agent's commands in the order sent), and its feed then shows the new state, which confirms
the command as a real feed does.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from telephony_adapters.control import AgentState, Command
from telephony_adapters.control_outbox import WEBHOOK


@dataclass(frozen=True)
class CommandLatency:
    """Seconds from a command's send to the agent's new state in the platform: a fixed part
    (the API's round trip, the platform's own update) and an exponential tail."""

    fixed: float = 0.5
    mean_tail: float = 0.5

    def __post_init__(self) -> None:
        if self.fixed < 0 or self.mean_tail < 0:
            raise ValueError("a command latency is zero or more seconds")

    def draw(self, rng: np.random.Generator) -> float:
        tail = float(rng.exponential(self.mean_tail)) if self.mean_tail > 0 else 0.0
        return self.fixed + tail


Schedule = Callable[[float, Callable[[], None]], None]
"""Run the action that many seconds from now (the center's :meth:`~Center.at`)."""
Apply = Callable[[str, AgentState], None]
"""The platform puts the agent (blendbot's id) in the state."""


class PhoneSystem:
    """A control client of the simulated platform: what it is sent, it applies later."""

    source = WEBHOOK

    def __init__(
        self,
        latency: CommandLatency,
        seed: int,
        now: Callable[[], float],
        schedule: Schedule,
        apply: Apply,
    ) -> None:
        self.latency = latency
        self._seed = seed
        self._streams: dict[str, np.random.Generator] = {}
        self._now = now
        self._schedule = schedule
        self._apply = apply
        self._last: dict[str, float] = {}
        self.sent = 0

    async def send(self, command: Command) -> None:
        now = self._now()
        at = max(
            now + self.latency.draw(self._rng(command.agent_id)),
            self._last.get(command.agent_id, now),
        )
        self._last[command.agent_id] = at
        self.sent += 1
        agent, state = command.agent_id, command.state
        self._schedule(at - now, lambda: self._apply(agent, state))

    def _rng(self, agent_id: str) -> np.random.Generator:
        """One stream per agent: the outbox sends several agents' commands at once, in no
        fixed order, and one agent's in order."""
        rng = self._streams.get(agent_id)
        if rng is None:
            key = zlib.crc32(agent_id.encode())
            rng = self._streams[agent_id] = np.random.default_rng([self._seed, key])
        return rng
