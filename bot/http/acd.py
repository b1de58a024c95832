"""A supervisor's lend and recall, and the agent's timeline, under ``/api/v1/agents/{id}``."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from blending import acd_store
from blending.acd import AgentTimeline, CommandOut, Mode
from blending.errors import LendRefused
from bot.acd import STEERING, Steering
from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, POOL
from bot.http.lifecycle import OfferOut
from bot.http.operations import Operation, json_response, path_param, read_body, read_query
from bot.http.tasks import AGENT_ID
from queues.dispatch import NoOffer
from queues.models import ShortText, Text


class LendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(ge=1, le=24 * 60, description="How long the agent is lent for.")
    by: ShortText = Field(description="The supervisor who lends the agent (for the audit).")
    override: bool = Field(
        default=False,
        description="Lend even while blending is paused, the agent is recalled or their "
        "group's guard holds offers or recalls (never while they are on a call).",
    )


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: ShortText = Field(description="The supervisor who recalls the agent.")
    reason: Text | None = Field(default=None, description="Why, for the agent and the audit.")


class WindowOut(BaseModel):
    starts_at: datetime
    ends_at: datetime


class LendOut(BaseModel):
    agent_id: str
    group: str = Field(description="The agent's staffing group.")
    mode: Mode = Field(description="The mode of the agent's staffing group.")
    window: WindowOut = Field(description="The time the agent is lent: their pulls fit in it.")
    offer: OfferOut | None = Field(description="The task offered at once, or the agent's work.")
    reason: str | None = Field(default=None, description="Why nothing was offered.")
    command: CommandOut | None = Field(
        description="In `control` mode, the state command the lend queued (`backoffice`)."
    )


class RecallOut(BaseModel):
    agent_id: str
    group: str
    mode: Mode
    until: datetime = Field(description="Nothing new is offered to the agent before this.")
    withdrawn: list[int] = Field(description="Open offers taken back to the queue.")
    pause: list[int] = Field(
        description="The agent's work in progress, which they are asked to pause."
    )
    command: CommandOut | None = Field(
        description="In `control` mode, the state command the recall queued (`available`)."
    )


class TimelineQuery(BaseModel):
    since: AwareDatetime | None = Field(default=None, description="Default: 24 hours ago.")
    limit: int = Field(default=100, ge=1, le=1000)


def _steering(request: web.Request) -> Steering:
    return request.app[STEERING]


async def lend_agent(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, LendIn)
    try:
        lent = await _steering(request).lend(
            agent_id, body.minutes, body.by, override=body.override
        )
    except LendRefused as exc:
        raise ApiError(409, "lend_refused", str(exc)) from None
    offer, reason = None, None
    if isinstance(lent.offer, NoOffer):
        reason = lent.offer.reason
    else:
        offer = OfferOut(
            task_id=lent.offer.task.id,
            status=lent.offer.task.status,
            expires_at=lent.offer.expires_at,
            why=lent.offer.why,
        )
    return json_response(
        LendOut(
            agent_id=agent_id,
            group=lent.group,
            mode=lent.mode,
            window=WindowOut(starts_at=lent.starts_at, ends_at=lent.ends_at),
            offer=offer,
            reason=reason,
            command=lent.command,
        )
    )


async def recall_agent(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, RecallIn)
    reason = body.reason or f"recalled by {body.by}"
    done = await _steering(request).recall(agent_id, body.by, reason)
    return json_response(
        RecallOut(
            agent_id=agent_id,
            group=done.group,
            mode=done.mode,
            until=done.until,
            withdrawn=[w.task.id for w in done.withdrawn],
            pause=[t.id for t in done.working],
            command=done.command,
        )
    )


async def agent_timeline(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    query = read_query(request, TimelineQuery)
    since = query.since or request.app[CLOCK].now() - timedelta(hours=24)
    found = await acd_store.timeline(request.app[POOL], agent_id, since, query.limit)
    if found is None:
        raise ApiError(404, "not_found", f"agent {agent_id} not found")
    return json_response(found)


_ERRORS: dict[int, type[BaseModel] | None] = {
    400: ErrorOut,
    401: ErrorOut,
    404: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}

ACD_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/api/v1/agents/{agent_id}/lend",
        lend_agent,
        "Lend an agent to back-office work",
        "agents",
        body=LendIn,
        params=(AGENT_ID,),
        responses={200: LendOut, 409: ErrorOut, **_ERRORS},
        description="The supervisor's lend goes the way of the engine's: the agent is given a "
        "window of `minutes` (their pulls are fitted to it, within their schedule) and the best "
        "task that fits is offered at once. In `control` mode the agent is set to the "
        "back-office status in the phone system (`command`). Refused with 409 `lend_refused` "
        "while blending is paused, the agent is recalled or the guard of their staffing group "
        "holds offers or recalls agents, unless `override`; and while the agent is on a call. "
        "The lend is in the agent's timeline with who made it.",
    ),
    Operation(
        "POST",
        "/api/v1/agents/{agent_id}/recall",
        recall_agent,
        "Recall an agent to the phones",
        "agents",
        body=RecallIn,
        params=(AGENT_ID,),
        responses={200: RecallOut, **_ERRORS},
        description="As the guard recalls: the agent's open offers go back to the queue, their "
        "window ends, they are asked in Slack to pause their work, and nothing new is offered "
        "to them for the guard's calm time (`BLENDBOT_GUARD_CALM_SECONDS`) unless a supervisor "
        "lends them. In `control` mode they are set available in the phone system at once "
        "(`command`).",
    ),
    Operation(
        "GET",
        "/api/v1/agents/{agent_id}/timeline",
        agent_timeline,
        "An agent's timeline",
        "agents",
        query=TimelineQuery,
        params=(AGENT_ID,),
        responses={200: AgentTimeline, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description="Newest first: lends, recalls and drift corrections (`blending`); every "
        "state command blendbot queued for the phone system and each step of it — queued, "
        "sent, throttled, unreachable, confirmed, unconfirmed, failed, superseded "
        "(`command`); the agent's own actions on tasks (`task`); and the states the feeds "
        "reported (`feed`, changes only). `wanted` is where the agent should be in the platform "
        "now; `last_command` the latest command and its status.",
    ),
)
