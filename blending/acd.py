"""How blendbot acts on the telephony platform (the ACD): the modes, and the drift rules.

Each staffing group has a mode:

- ``advisory``: blendbot only tells people, in Slack (the default);
- ``control``: blendbot sets a lent agent to a not-routable back-office status in the platform
  and puts them back to available when the lend ends (a recall, the work done or released, a
  supervisor's lend over);
- ``interruptible``: the agent stays routable; a call routed to them pauses their back-office
  task, which resumes when their wrap-up ends. Work that cannot be paused is lent only where
  blendbot can command the platform, to the windows the forecast spares without the
  interruptible extra, its holder set to the back-office status while they hold it.

The commands themselves are queued by the database in the transaction of the decision (see
``migrations/0016_acd_control.sql``) and sent by :mod:`telephony_adapters.control_outbox`; this
module holds the pure rules that watch for drift (:func:`drift`) and the models the API shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

from pydantic import BaseModel, Field

Mode = Literal["advisory", "control", "interruptible"]
MODES: tuple[Mode, ...] = get_args(Mode)
DEFAULT_GROUP = "*"
"""The ``acd_modes`` row that holds the mode of every group not named."""

GHOST_SECONDS = 120.0
"""An agent in the back-office status with no back-office work this long is a ghost."""
DRIFT_GRACE_SECONDS = 10.0
"""A state the platform shows against blendbot's wish counts as drift once it has lasted this
long and blendbot's last command is this old: feeds may lag a command by a few seconds."""
FAILED_PAUSE_SECONDS = 300.0
"""After a command failed (the supervisors were told), drift is not corrected again for this
long, so that a platform refusing every command is not asked again every few seconds."""


@dataclass(frozen=True)
class AcdModes:
    """The mode of each staffing group: ``default``, unless ``groups`` names the group."""

    default: Mode = "advisory"
    groups: Mapping[str, Mode] = field(default_factory=dict)

    def mode_of(self, group: str) -> Mode:
        return self.groups.get(group, self.default)

    def uses(self, mode: Mode) -> bool:
        """Whether any group is in ``mode``."""
        return self.default == mode or mode in self.groups.values()

    def rows(self) -> list[tuple[str, Mode]]:
        """As ``acd_modes`` stores them: the default under ``*``, then each group."""
        return [(DEFAULT_GROUP, self.default), *sorted(self.groups.items())]


def parse_modes(text: str) -> dict[str, Mode]:
    """Per-group modes written ``group:mode,group:mode`` (``retail:control,loans:advisory``).

    A group's name is what comes before its entry's last colon, so it may hold colons itself;
    commas separate entries. The pooled group of agents with no queue is ``all queues``.
    """
    modes: dict[str, Mode] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        group, colon, mode = entry.rpartition(":")
        group, mode = group.strip(), mode.strip().lower()
        if not colon or not group:
            raise ValueError(f"{entry!r} is not group:mode (e.g. retail:control)")
        if mode not in MODES:
            raise ValueError(f"{entry!r}: the mode must be one of {', '.join(MODES)}")
        if group in modes:
            raise ValueError(f"group {group!r} is named twice")
        modes[group] = mode
    return modes


CommandState = Literal["backoffice", "available"]


@dataclass(frozen=True)
class Watched:
    """One agent as the drift watch sees them."""

    agent_id: str
    mode: Mode
    wanted: CommandState
    """What the agent should be in the platform now (``acd_wanted``)."""
    line_state: str | None
    """What the controlled feed line shows (None: no line, or no client for the agent)."""
    line_since: datetime | None
    last_state: CommandState | None = None
    """blendbot's last command for the agent, and what became of it."""
    last_status: str | None = None
    last_at: datetime | None = None
    last_done_at: datetime | None = None


@dataclass(frozen=True)
class Correction:
    agent_id: str
    state: CommandState
    cause: Literal["ghost", "drift"]
    reason: str


def _age(now: datetime, at: datetime | None) -> float:
    return float("inf") if at is None else (now - at).total_seconds()


def drift(
    agents: list[Watched],
    now: datetime,
    *,
    ghost_seconds: float = GHOST_SECONDS,
    grace_seconds: float = DRIFT_GRACE_SECONDS,
) -> list[Correction]:
    """The corrections the platform's states call for now.

    - A **ghost**: the feed shows the agent in the back-office status for ``ghost_seconds``
      with no back-office work (nothing held, no lend) and no command of blendbot's that
      recent: back to available. In ``advisory`` mode only for agents blendbot itself put
      there.
    - **Routable while lent** (``control``; ``interruptible`` while they hold work no call
      can pause): the feed shows the agent available while they should be in back office (the
      platform put them back after a call, or someone did by hand): back office again.

    Nothing is done while a command of the agent's is open (being sent, or waiting for the
    feed): the outbox sees to it; and for a while after one failed (the supervisors were told).
    """
    out: list[Correction] = []
    for a in agents:
        if a.line_state is None or a.line_since is None:
            continue
        if a.last_status in ("pending", "sent"):
            continue
        if a.last_status == "failed" and _age(now, a.last_done_at) < FAILED_PAUSE_SECONDS:
            continue
        held = _age(now, a.line_since)
        if a.line_state == "back_office" and a.wanted == "available":
            ours = a.mode != "advisory" or a.last_state == "backoffice"
            if ours and held >= ghost_seconds and _age(now, a.last_at) >= ghost_seconds:
                minutes = held / 60
                out.append(
                    Correction(
                        a.agent_id,
                        "available",
                        "ghost",
                        f"in the back-office status for {minutes:.0f} min with no back-office work",
                    )
                )
        elif a.mode != "advisory" and a.wanted == "backoffice" and a.line_state == "available":
            settled = min(held, _age(now, a.last_done_at), _age(now, a.last_at))
            if settled >= grace_seconds:
                out.append(
                    Correction(
                        a.agent_id,
                        "backoffice",
                        "drift",
                        "routable in the platform while holding back-office work",
                    )
                )
    return out


class CommandOut(BaseModel):
    """A state command blendbot queued for the platform, and what became of it."""

    command_id: UUID
    state: CommandState = Field(description="`backoffice` (not routable) or `available`.")
    status: Literal["pending", "sent", "confirmed", "failed", "superseded"] = Field(
        description="`pending` until the platform accepts it, `sent` until the feed shows the "
        "state, then `confirmed`; `failed` when refused or given up (the supervisors are told); "
        "`superseded` when a newer command for the agent took its place."
    )
    cause: str = Field(
        description="What caused it: `task` (the agent's work changed), `recall`, "
        "`recall_cleared`, `lend`, `lend_ended`, `ghost`, `drift`."
    )
    reason: str
    actor: str = Field(description="`blendbot`, or the supervisor who lent or recalled.")
    target: str | None = Field(description="The control client that took it, once sent.")
    created_at: datetime
    sent_at: datetime | None
    done_at: datetime | None
    last_error: str | None


class TimelineItem(BaseModel):
    at: datetime
    kind: Literal["blending", "command", "task", "roster", "feed"] = Field(
        description="`blending`: a lend, recall or drift; `command`: a state command's step; "
        "`task`: the agent's own action on a task; `roster`: an id filled by the roster sync, "
        "a deactivation or reactivation; `feed`: a state the platform reported."
    )
    event: str
    detail: str
    command_id: UUID | None = None
    task_id: int | None = None


class AgentTimeline(BaseModel):
    agent_id: str
    mode: Mode = Field(description="The mode of the agent's staffing group.")
    group: str = Field(description="The agent's staffing group.")
    wanted: CommandState = Field(description="Where the agent should be in the platform now.")
    last_command: CommandOut | None
    items: list[TimelineItem] = Field(description="Newest first.")
