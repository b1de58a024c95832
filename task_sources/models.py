"""Pydantic models of the sources API: what clients send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from queues.models import Strict, TaskStatus

Expression = Annotated[str, Field(min_length=1, max_length=2000)]
Secret = Annotated[str, Field(min_length=8, max_length=500)]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]


class SourceIn(Strict):
    kind: str = Field(examples=["zendesk"], description="The kind of source; see `kinds`.")
    secret: Secret | None = Field(
        default=None,
        description="What the vendor signs its deliveries with (Zendesk's signing secret, "
        "Jira's webhook secret, the generic webhook's secret), or the credential we issued "
        "it (ServiceNow). Never returned; left out, the stored one is kept.",
    )
    api_url: Url | None = Field(
        default=None,
        description="The vendor's API, for the write-back: "
        "`https://example.zendesk.com`, `https://example.atlassian.net`, ...",
    )
    credentials: dict[str, Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None,
        max_length=20,
        description="What blendbot calls the vendor's API with (e.g. `email` and "
        "`api_token`). Never returned; left out, the stored ones are kept.",
    )
    mapping: dict[str, Expression | None] = Field(
        default_factory=dict,
        max_length=20,
        description="A CEL expression per task field over `event` (the delivery), `source` "
        "(this source's name) and `now`, taking the place of the kind's default for that "
        "field; `null` drops an optional default.",
        examples=[{"customer_tier": 'event.ticket.priority == "urgent" ? "gold" : null'}],
    )
    write_back: dict[str, Any] = Field(
        default_factory=dict,
        description="Write-back settings over the kind's defaults: `events` (which of "
        "claimed, step_completed, completed, escalated, cancelled go back; [] for none) and "
        "the kind's own (statuses, transitions, ...).",
    )


class SourceOut(BaseModel):
    name: str
    kind: str
    api_url: str | None
    secret_set: bool = Field(description="Whether a secret is stored (it is never shown).")
    credentials: list[str] = Field(description="The names of the stored credentials.")
    mapping: dict[str, str] = Field(description="The expressions in force, per task field.")
    write_back: dict[str, Any] = Field(description="The write-back settings in force.")
    events_url: str = Field(description="Where the vendor delivers: POST, signed.")
    created_at: datetime
    updated_at: datetime


class SourceList(BaseModel):
    items: list[SourceOut]
    kinds: list[str] = Field(description="The kinds of source this service knows.")
    fields: dict[str, str] = Field(description="The task fields a mapping sets.")


Outcome = Literal[
    "created",
    "updated",
    "unchanged",
    "closed",
    "holder_told",
    "unknown_record",
    "duplicate",
    "rejected",
]


class DeliveryOutcome(BaseModel):
    delivery_id: str
    outcome: Outcome = Field(
        description="created, updated (the queued task), unchanged (nothing new, or the task "
        "is held or finished), closed (cancelled), holder_told (closed at the source while "
        "someone holds it), unknown_record (a close of a record with no task), duplicate (a "
        "delivery already applied), rejected (kept with its reason)."
    )
    task_id: int | None = None
    reject_id: int | None = None
    reason: str | None = None


class Receipt(BaseModel):
    source: str
    deliveries: list[DeliveryOutcome]


class PreviewIn(Strict):
    event: dict[str, Any] = Field(description="A delivery as the mapping sees it.")
    action: Literal["upsert", "close"] = "upsert"
    mapping: dict[str, Expression | None] | None = Field(
        default=None, description="Expressions to try instead of the source's own."
    )


class TaskPreview(BaseModel):
    source: str
    external_id: str
    type: str
    title: str
    customer_ref: str | None
    customer_tier: str | None
    value: float | None
    due_at: datetime | None
    payload: dict[str, Any]


class PreviewOut(BaseModel):
    action: Literal["upsert", "close"]
    task: TaskPreview | None = Field(description="The task the delivery would make or update.")
    error: str | None = Field(default=None, description="Why it would be rejected.")
    field: str | None = Field(default=None, description="The task field whose mapping failed.")
    existing_task_id: int | None = None
    existing_status: TaskStatus | None = None


class RejectOut(BaseModel):
    id: int
    delivery_id: str
    action: str | None
    reason: str
    field: str | None
    event: dict[str, Any] | None = Field(description="What the mapping saw, if readable.")
    body: str = Field(description="The body as delivered (UTF-8, undecodable bytes replaced).")
    times: int = Field(description="How often the vendor delivered it.")
    created_at: datetime
    last_at: datetime
    retried_at: datetime | None
    task_id: int | None


class RejectList(BaseModel):
    items: list[RejectOut]
