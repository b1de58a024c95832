"""Handlers of the task lifecycle under ``/api/v1/tasks/{id}/...``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field, StrictBool

from bot import work
from bot.http.errors import ErrorOut
from bot.http.keys import CLOCK, POLICY, POOL, ZONE
from bot.http.operations import Handler, Operation, json_response, path_param, read_body
from bot.http.tasks import AGENT_ID, TASK_ID
from bot.work import ask_for_work, reassign
from queues.db import transaction
from queues.dispatch import NoOffer
from queues.lifecycle import Lifecycle
from queues.models import (
    AgentActionIn,
    CompleteIn,
    EscalateIn,
    PauseIn,
    ReasonIn,
    ReassignIn,
    SkipIn,
    TaskOut,
)

Action = Callable[[Lifecycle, int, BaseModel], Awaitable[TaskOut]]


def _handler(model: type[BaseModel], action: Action) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        task_id = path_param(request, TASK_ID)
        body = await read_body(request, model)
        policy = request.app[POLICY]
        pool = request.app[POOL]
        cooldown, limit = policy.skip_cooldown_seconds, policy.max_tasks_per_agent
        if isinstance(body, ReassignIn):
            async with transaction(pool) as conn:
                life = Lifecycle(conn, skip_cooldown_seconds=cooldown, max_tasks_per_agent=limit)
                return json_response(await action(life, task_id, body))
        life = Lifecycle(pool, skip_cooldown_seconds=cooldown, max_tasks_per_agent=limit)
        return json_response(await action(life, task_id, body))

    return handle


def _claim(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, AgentActionIn)
    return life.claim(task_id, body.agent_id)


def _skip(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, SkipIn)
    return life.skip(task_id, body.agent_id, body.reason)


def _complete(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, CompleteIn)
    return life.complete(task_id, body.agent_id, body.outcome, body.note)


def _pause(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, PauseIn)
    return life.pause(task_id, body.agent_id, body.reason, body.note)


def _resume(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, AgentActionIn)
    return work.resume(life, task_id, body.agent_id)


def _release(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, ReasonIn)
    return life.release(task_id, body.agent_id, body.reason)


def _escalate(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, EscalateIn)
    return life.escalate(task_id, body.agent_id, body.reason)


def _reassign(life: Lifecycle, task_id: int, body: BaseModel) -> Awaitable[TaskOut]:
    assert isinstance(body, ReassignIn)
    return reassign(life, task_id, body.to_agent_id, body.by, override=body.override)


_ACTIONS: tuple[tuple[str, type[BaseModel], Action, str], ...] = (
    (
        "claim",
        AgentActionIn,
        _claim,
        "Only the agent the task is offered to may claim it, while the offer stands; claiming "
        "again is harmless; losing a race is 409 naming the holder.",
    ),
    (
        "skip",
        SkipIn,
        _skip,
        "The task goes back to the queue and is not offered to this agent again for a while.",
    ),
    (
        "complete",
        CompleteIn,
        _complete,
        "Completes the current step: the next step is queued (possibly for other skills), the "
        "last one makes the task done.",
    ),
    (
        "pause",
        PauseIn,
        _pause,
        "The holder pauses the task, e.g. when recalled to the phones: the clock of their work "
        "stops. `note` says how far they got; unresumed for `BLENDBOT_PAUSED_RETURN_MINUTES`, "
        "the task goes back to the queue with it as its `handover`.",
    ),
    (
        "resume",
        AgentActionIn,
        _resume,
        "The holder resumes a paused task; refused (409 `agent_needed`) while they are recalled "
        "to the phones.",
    ),
    ("release", ReasonIn, _release, "The holder gives the task back to the queue."),
    ("escalate", EscalateIn, _escalate, "The holder hands the task to the supervisors."),
    (
        "reassign",
        ReassignIn,
        _reassign,
        "A supervisor gives the task to an agent, who then holds it in progress. While the "
        "real-time guard of the agent's staffing group holds offers or recalls agents to the "
        "phones, this is 409 `agent_needed` with the guard's reason, unless `override` is "
        "true; the override is recorded on the task's event.",
    ),
)

_TRANSITIONS: tuple[Operation, ...] = tuple(
    Operation(
        "POST",
        rf"/api/v1/tasks/{{task_id:\d{{1,18}}}}/{name}",
        _handler(model, action),
        f"{name.capitalize()} a task",
        "lifecycle",
        body=model,
        params=(TASK_ID,),
        responses={
            200: TaskOut,
            400: ErrorOut,
            401: ErrorOut,
            404: ErrorOut,
            409: ErrorOut,
            413: ErrorOut,
            422: ErrorOut,
        },
        description=text,
    )
    for name, model, action, text in _ACTIONS
)


class NextIn(BaseModel):
    model_config = {"extra": "forbid"}
    minutes: float | None = Field(
        default=None,
        gt=0,
        le=24 * 60,
        description="How long the agent has, capped by their window and their schedule; none: "
        "the rest of the usable window the blending engine granted them.",
    )
    take: StrictBool = Field(
        default=False,
        description="Claim the task for the agent at once, in the same transaction (a pull "
        "client that starts every task it gets): `status` is `in_progress`. Refused (409 "
        "`agent_busy`, nothing changed) while the agent holds an open offer, paused work, or "
        "as much work as allowed.",
    )


class OfferOut(BaseModel):
    task_id: int
    status: str = Field(
        description="`offered`; `in_progress` or `paused` when the agent already works on it; "
        "`in_progress` for a task taken (`take`)."
    )
    expires_at: datetime | None = Field(
        description="When the offer lapses; null for a task the agent already claimed or took."
    )
    why: list[str] = Field(
        description="Why this task: its priority reasons, the agent's expected minutes and the"
        " time it fits in (`fits your 23 min until your break at 14:30`); or `your open offer`,"
        " `your task in progress`, `your paused task` when it is what the agent already holds."
    )


class NextOut(BaseModel):
    offer: OfferOut | None
    reason: str | None = Field(
        default=None, description="Why nothing is offered, and when to ask again."
    )


async def next_task(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, NextIn) if request.body_exists else NextIn()
    policy, now = request.app[POLICY], request.app[CLOCK].now()
    pool, zone = request.app[POOL], request.app[ZONE]
    result = await ask_for_work(
        pool, agent_id, body.minutes, policy, now, zone=zone, take=body.take
    )
    if isinstance(result, NoOffer):
        return json_response(NextOut(offer=None, reason=result.reason))
    offer = OfferOut(
        task_id=result.task.id,
        status=result.task.status,
        expires_at=result.expires_at,
        why=result.why,
    )
    return json_response(NextOut(offer=offer))


NEXT_OPERATION = Operation(
    "POST",
    "/api/v1/agents/{agent_id}/next",
    next_task,
    "Offer the agent the best task now, or take it for them",
    "lifecycle",
    body=NextIn,
    body_required=False,
    params=(AGENT_ID,),
    responses={
        200: NextOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    description="The agent asks for work: an agent with an open offer, or holding as much work "
    "as allowed, gets that work back; otherwise the highest-priority queued task that their "
    "skills cover and whose expected handle time for them, times the fit margin, fits their "
    "time is offered, with the reasons for choosing it. Their time is the least of `minutes` "
    "(when given), the rest of the usable window the blending engine granted them (until the "
    "lull ends, their next break or their shift end), and the time until their next break or "
    "shift end by their schedule. Without `minutes` and without a window nothing is offered, "
    "and `reason` says why (e.g. the calls need every available agent) and when to ask again; "
    "with `minutes` and no window, the minutes are honoured within the schedule. Nothing new "
    "is offered while blending is paused, the guard of the agent's staffing group holds or "
    "recalls, the agent is recalled, on a call, or on a break by their schedule. With `take` "
    "the task picked is claimed for the agent at once in the same transaction (one `claimed` "
    "event, no offer), for pull clients that start every task they get; an agent holding an "
    "open offer, paused work or as much work as allowed is refused with 409 `agent_busy` "
    "naming it, and nothing changes.",
)

LIFECYCLE_OPERATIONS: tuple[Operation, ...] = (NEXT_OPERATION, *_TRANSITIONS)
