"""Pydantic models of the task list: what clients send and what they get back."""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from queues.bounds import Instant, check_storable

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", examples=["mortgage"])]
"""Skill and task-type names: lower case, digits, ``_ . -``; at most 64 characters."""

PayloadKey = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", examples=["branch"])]
"""A top-level payload key as a rule names it (``payload.branch``): a letter or ``_``, then
letters, digits or ``_``; at most 64 characters."""

AgentId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$", examples=["a.cohen"])
]
Proficiency = Annotated[int, Field(ge=1, le=5, description="1 (learning) to 5 (expert)")]
Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=254,
        pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$",
        examples=["ana.silva@example.com"],
    ),
]
TelephonySource = Literal["amazon_connect", "twilio", "genesys", "asterisk", "generic"]
TaskStatus = Literal["queued", "offered", "in_progress", "paused", "escalated", "done", "cancelled"]
OPEN_STATUSES: tuple[TaskStatus, ...] = ("queued", "offered", "in_progress", "paused", "escalated")
NOT_BLANK = r"\S"
"""Text is stripped of surrounding whitespace, so it must hold something else."""
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=NOT_BLANK)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]


class Strict(BaseModel):
    """Inputs refuse unknown fields, so that a misspelt field is an error, not a silent loss."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _only_storable_text(self) -> Self:
        for value in self.__dict__.values():
            if isinstance(value, (str, dict, list)):
                check_storable(value)
        return self


class StepIn(Strict):
    name: Name
    skills: list[Name] = Field(default_factory=list, max_length=20)
    handle_minutes: float = Field(gt=0, le=1440)
    sla_share: float | None = Field(
        default=None, gt=0, le=1, description="Share of the task's SLA this step may use."
    )


class TaskTypeIn(Strict):
    skills: list[Name] = Field(default_factory=list, max_length=20)
    sla_minutes: int = Field(gt=0, le=525_600, description="Default time to complete a task.")
    handle_minutes: float = Field(gt=0, le=1440, description="Expected working time.")
    pausable: bool = True
    base_priority: int = Field(default=0, ge=-1000, le=1000)
    steps: list[StepIn] = Field(
        default_factory=list,
        max_length=20,
        description="Ordered steps, each with its own skills and handle time; none: one step.",
    )
    shareable_fields: list[PayloadKey] = Field(
        default_factory=list,
        max_length=20,
        description=(
            "Payload keys that any agent may see in a task lookup, to answer the customer; "
            "every other payload field stays hidden. Shown in this order."
        ),
        examples=[["branch", "amount"]],
    )

    @field_validator("shareable_fields")
    @classmethod
    def _distinct_keys(cls, keys: list[str]) -> list[str]:
        if len(set(keys)) != len(keys):
            raise ValueError("shareable fields must be distinct")
        return keys

    @field_validator("steps")
    @classmethod
    def _distinct_names(cls, steps: list[StepIn]) -> list[StepIn]:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError("step names must be distinct")
        return steps

    @field_validator("skills")
    @classmethod
    def _unique(cls, skills: list[str]) -> list[str]:
        return sorted(set(skills))


class StepOut(BaseModel):
    name: str
    skills: list[str]
    handle_minutes: float
    sla_share: float | None = None


class TaskTypeOut(BaseModel):
    name: str
    skills: list[str]
    sla_minutes: int
    handle_minutes: float
    pausable: bool
    base_priority: int
    steps: list[StepOut]
    shareable_fields: list[str] = Field(
        description="Payload keys a task lookup may show; the rest of the payload stays hidden."
    )
    created_at: datetime
    updated_at: datetime


class AgentIn(Strict):
    name: ShortText
    slack_user_id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,31}$")
    skills: dict[Name, Proficiency] = Field(default_factory=dict, max_length=100)
    telephony_ids: dict[TelephonySource, Annotated[str, Field(min_length=1, max_length=512)]] = (
        Field(default_factory=dict)
    )
    team: ShortText | None = None
    cost_per_hour: float | None = Field(default=None, ge=0, le=100_000)
    queue: ShortText | None = Field(
        default=None,
        description="The inbound queue this agent answers; unset: one pool with the others.",
    )
    email: Email | None = Field(
        default=None,
        description="What the roster sync matches the agent by in the telephony platform and "
        "Slack (compared without case and surrounding spaces).",
    )


class AgentOut(BaseModel):
    agent_id: str
    name: str
    slack_user_id: str | None
    skills: dict[str, int]
    telephony_ids: dict[str, str]
    team: str | None
    cost_per_hour: float | None
    queue: str | None = None
    email: str | None = None
    active: bool = Field(
        default=True, description="False once deactivated (`DELETE`); a `PUT` reactivates."
    )
    deactivated_at: datetime | None = None
    deactivated_by: str | None = None
    created_at: datetime
    updated_at: datetime


class TaskIn(Strict):
    source: ShortText = Field(examples=["mortgage-system"])
    external_id: ShortText = Field(examples=["APP-1042"])
    type: Name
    title: Text
    customer_ref: ShortText | None = None
    customer_tier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    value: float | None = None
    due_at: Instant | None = Field(
        default=None,
        description="Defaults to now plus the task type's SLA. Between 1970-01-01 and "
        "2100-01-01 (UTC).",
    )
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("due_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def request_hash(self) -> str:
        """A digest of the request, to tell a repeated delivery from a different task."""
        digest = hashlib.sha256(self.model_dump_json(exclude={"payload"}).encode())
        if self.payload:
            # Key order in a JSON object carries no meaning, so the payload is hashed sorted.
            digest.update(json.dumps(self.payload, sort_keys=True, separators=(",", ":")).encode())
        return digest.hexdigest()


class TaskBatchIn(Strict):
    tasks: list[TaskIn] = Field(min_length=1, max_length=1000)


class AgentActionIn(Strict):
    agent_id: AgentId


class SkipIn(AgentActionIn):
    reason: Text


class CompleteIn(AgentActionIn):
    outcome: ShortText = Field(examples=["approved", "documents missing"])
    note: Annotated[str, Field(max_length=4000)] | None = None


class ReasonIn(AgentActionIn):
    reason: Text | None = None


class PauseIn(ReasonIn):
    note: Annotated[str, Field(max_length=4000)] | None = Field(
        default=None,
        description="How far the work got: shown to the next holder if the task goes back to "
        "the queue before it is resumed.",
    )


class EscalateIn(AgentActionIn):
    reason: Text


class ReassignIn(Strict):
    to_agent_id: AgentId
    by: ShortText
    override: bool = Field(
        default=False,
        description="Give the task even though the real-time guard of the agent's staffing "
        "group holds offers or recalls agents to the phones; the override is recorded on the "
        "task's event.",
    )


class CancelIn(Strict):
    reason: Text | None = None
    by: ShortText | None = Field(default=None, description="Who cancels; defaults to the caller.")


class TaskEventOut(BaseModel):
    at: datetime = Field(description="When it happened.")
    event: str = Field(description="What happened: created, offered, claimed, cancelled, ...")
    from_status: str | None
    to_status: str | None
    actor: str = Field(description="Who did it: an agent id, a caller, or 'system'.")
    reason: str | None = Field(description="Why, when given.")
    data: dict[str, Any]


class Handover(BaseModel):
    """What the last holder of paused work left for the next one when the task went back by
    itself (``BLENDBOT_PAUSED_RETURN_MINUTES``); kept until the step is completed."""

    by: str = Field(description="The agent who paused it.")
    step: int = Field(description="The step they were on.")
    worked_seconds: float = Field(description="Their active time on the step, pauses excluded.")
    reason: str | None = Field(description="Why it was paused, e.g. 'recalled to the phones'.")
    note: str | None = Field(description="Their note on the pause: how far they got.")
    paused_at: datetime
    returned_at: datetime = Field(description="When it went back to the queue or was escalated.")


class TaskOut(BaseModel):
    id: int
    source: str
    external_id: str
    type: str
    title: str
    customer_ref: str | None
    customer_tier: str | None
    value: float | None
    payload: dict[str, Any]
    status: TaskStatus
    holder: str | None = Field(description="Who holds the task, or whom it is offered to.")
    step: int = Field(description="The current step, from 1.")
    offer_expires_at: datetime | None
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    active_seconds: float = Field(
        default=0.0,
        description="The holder's active seconds on the current step before the current "
        "stretch of work: pauses are not counted. 0 once the task changes hands.",
    )
    active_since: datetime | None = Field(
        default=None,
        description="When the current stretch of work began; null unless in progress.",
    )
    handover: Handover | None = Field(
        default=None,
        description="Left by the previous holder when paused work went back by itself.",
    )


class TaskDetail(TaskOut):
    priority: float = Field(description="Higher is offered first.")
    priority_reasons: list[str] = Field(
        description="Why it ranks there, e.g. 'SLA in 1h40 +35', 'platinum +20'."
    )
    step_count: int
    step_name: str | None
    progress: str = Field(description="Where it is, e.g. 'step 2 of 3: underwriting'.")
    eta: datetime | None = Field(description="When it will likely be done; null if unknown.")
    eta_basis: str = Field(description="How the ETA was worked out, or why there is none.")
    worked_seconds: float = Field(
        default=0.0,
        description="The holder's active time on the current step so far, pauses excluded.",
    )
    timeline: list[TaskEventOut]


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class AgentPage(BaseModel):
    items: list[AgentOut]
    next_cursor: str | None


class TaskBatchItem(BaseModel):
    created: bool
    task: TaskOut


class TaskBatchOut(BaseModel):
    results: list[TaskBatchItem]


_SPACED_OFFSET = re.compile(r"T[0-9:.]+ [0-9]{2}(:?[0-9]{2})?$")


def _aware(value: Any) -> Any:
    """An ISO 8601 time with its zone, said clearly when it is not one. A ``+`` in a query
    string arrives as a space (``...T17:00:00 02:00``): it is read as the ``+`` it was."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _SPACED_OFFSET.search(text):
        head, _, offset = text.rpartition(" ")
        text = f"{head}+{offset}"
    example = "e.g. 2026-12-01T17:00:00Z or 2026-12-01T19:00:00%2B02:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"must be an ISO 8601 date and time with a time zone, {example}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"needs a time zone, {example}")
    return parsed.astimezone(UTC)


class TaskFilter(Strict):
    q: ShortText | None = Field(
        default=None,
        description="What a customer quotes: a task id (`1042` or `#1042`), a `customer_ref`, "
        "or a source's `external_id` (`APP-1042`); tasks matching any of them.",
        examples=["APP-1042"],
    )
    customer_ref: ShortText | None = None
    external_id: ShortText | None = Field(
        default=None, description="A source's id of the task, e.g. `APP-1042`."
    )
    source: ShortText | None = Field(default=None, description="The source system's name.")
    holder: AgentId | None = Field(
        default=None, description="Tasks held by this agent (or offered to them)."
    )
    status: list[TaskStatus] | None = None
    type: Name | None = None
    due_before: datetime | None = Field(
        default=None,
        description="Due before this time: ISO 8601 with a time zone, e.g. `2026-12-01T17:00:00Z`.",
    )
    due_after: datetime | None = Field(
        default=None, description="Due at or after this time (ISO 8601 with a time zone)."
    )
    limit: int = Field(default=50, ge=1, le=500)
    cursor: int | None = Field(default=None, ge=1, le=2**63 - 1)

    @field_validator("due_before", "due_after", mode="before")
    @classmethod
    def _zoned(cls, value: Any) -> Any:
        return _aware(value)

    @field_validator("due_after")
    @classmethod
    def _due_range(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        before = info.data.get("due_before")
        if value is not None and before is not None and value >= before:
            raise ValueError("must be earlier than due_before")
        return value
