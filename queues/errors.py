"""The queues package's errors. Each carries the data a caller needs to explain it."""

from __future__ import annotations

from typing import ClassVar


class QueuesError(Exception):
    """A request about the task list cannot be carried out."""


class NotFound(QueuesError):
    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key} not found")


class UnknownTaskType(QueuesError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"unknown task type {name!r}: create it with PUT /api/v1/task-types/{name}"
        )


class IdempotencyConflict(QueuesError):
    """The same (source, external_id) was already used for a task with a different body."""

    def __init__(self, source: str, external_id: str, task_id: int) -> None:
        self.source = source
        self.external_id = external_id
        self.task_id = task_id
        super().__init__(
            f"task {task_id} already exists for source {source!r} and external_id "
            f"{external_id!r} with a different body"
        )


class InvalidTransition(QueuesError):
    def __init__(self, task_id: int, action: str, status: str) -> None:
        self.task_id = task_id
        self.action = action
        self.status = status
        super().__init__(f"cannot {action} task {task_id}: it is {status}")


class HeldByOther(QueuesError):
    """The task is held by, or offered to, someone else: the caller lost a race."""

    def __init__(self, task_id: int, action: str, holder: str | None, status: str) -> None:
        self.task_id = task_id
        self.action = action
        self.holder = holder
        self.status = status
        who = f"agent {holder}" if holder else "nobody"
        super().__init__(f"cannot {action} task {task_id}: it is {status}, held by {who}")


class OfferExpired(QueuesError):
    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        super().__init__(f"the offer of task {task_id} has expired")


class OfferWithdrawn(QueuesError):
    """The offer was taken back (the agent was recalled to the phones) before the claim."""

    def __init__(self, task_id: int, reason: str) -> None:
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"the offer of task {task_id} was {reason}")


class AgentNeeded(QueuesError):
    """The agent is needed elsewhere (on the phones): no task is given to them unless a
    supervisor overrides."""

    def __init__(
        self, task_id: int, agent_id: str, reason: str, *, action: str | None = None
    ) -> None:
        self.task_id = task_id
        self.agent_id = agent_id
        self.reason = reason
        self.overridable = action is None
        """Whether a supervisor may give it anyway (a reassignment, not the holder's own act)."""
        if action is None:
            text = f"cannot give task {task_id} to agent {agent_id} now: {reason} (or override)"
        else:
            text = f"agent {agent_id} cannot {action} task {task_id} now: {reason}"
        super().__init__(text)


class AgentConflict(QueuesError):
    """An agent's Slack or telephony id already belongs to another agent."""

    def __init__(self, what: str, value: str, other_agent: str) -> None:
        self.what = what
        self.value = value
        self.other_agent = other_agent
        super().__init__(f"{what} {value!r} already belongs to agent {other_agent!r}")


class AgentBusy(QueuesError):
    """The agent already holds as much work as one agent may: nothing more is given."""

    def __init__(
        self, task_id: int, action: str, agent_id: str, limit: int, holding: list[int]
    ) -> None:
        self.task_id = task_id
        self.action = action
        self.agent_id = agent_id
        self.limit = limit
        self.holding = holding
        held = ", ".join(f"#{t}" for t in holding) or "as much as allowed"
        super().__init__(
            f"cannot {action} task {task_id}: agent {agent_id} already holds {held}"
            f" (at most {limit} at a time)"
        )


class AgentInactive(QueuesError):
    """The agent was deactivated: nothing is offered or given to them, and their own actions
    are refused until a ``PUT`` of the agent reactivates them."""

    def __init__(self, agent_id: str, action: str | None = None) -> None:
        self.agent_id = agent_id
        self.action = action
        what = f" cannot {action}:" if action else ""
        super().__init__(f"agent {agent_id}{what} the agent is deactivated")


class HoldsWork(QueuesError):
    """An agent asked to take their next task while holding work that comes first: an open
    offer, paused work, or as much in progress as one agent may hold."""

    _FIRST: ClassVar[dict[str, str]] = {
        "offered": "claim or skip their open offer #{id} first",
        "paused": "resume or release their paused task #{id} first",
        "in_progress": "they already work on #{id}",
    }

    def __init__(self, agent_id: str, task_id: int, status: str, limit: int) -> None:
        self.agent_id = agent_id
        self.task_id = task_id
        self.status = status
        self.limit = limit
        first = self._FIRST.get(status, "they hold #{id}").format(id=task_id)
        super().__init__(
            f"agent {agent_id} cannot take a task: {first} (at most {limit} at a time)"
        )
