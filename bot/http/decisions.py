"""``GET /api/v1/blending/decisions``: the engine's last decisions, with the figures behind them."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import Field

from blending import decision_log
from blending.decision_log import DecisionPage, EventName
from bot.http.errors import ErrorOut
from bot.http.keys import POOL
from bot.http.operations import Operation, json_response, read_query
from queues.models import AgentId, Strict

GroupName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]


class DecisionQuery(Strict):
    group: GroupName | None = Field(
        default=None,
        description="One staffing group: the queue its agents answer, or `all queues` (the "
        "pooled group).",
    )
    agent: AgentId | None = Field(default=None, description="One agent's decisions.")
    event: EventName | None = Field(default=None, description="One kind of event.")
    limit: int = Field(default=50, ge=1, le=500)
    before: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="Only events older than this id: the `next_before` of the previous page.",
    )


async def list_decisions(request: web.Request) -> web.Response:
    query = read_query(request, DecisionQuery)
    page = await decision_log.recent(
        request.app[POOL],
        group=query.group,
        agent_id=query.agent,
        events=None if query.event is None else [query.event],
        limit=query.limit,
        before=query.before,
    )
    return json_response(page)


DECISION_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/v1/blending/decisions",
        list_decisions,
        "The blending engine's last decisions, with the figures behind them",
        "blending",
        query=DecisionQuery,
        responses={200: DecisionPage, 401: ErrorOut, 422: ErrorOut},
        description="Newest first: each lend the engine made (`lend_offered`: a task offered "
        "to an agent in a window, with the window's end, minutes and confidence), each change "
        "of a staffing group's guard (`guard`: hold, recall, open) and each recall "
        "(`recalled`), with `figures`: the interval's forecast calls, the agents they need at "
        "the policy's bound (`need`), the agents `staffed`, the `surplus`, the `reserve` kept, "
        "those already `lent`, the live queue (`calls_waiting`, `longest_wait_seconds`, "
        "`service_level`, `idle`), the guard's mode and the thresholds that `tripped`. "
        "Supervisors' lends and recalls, recalls ending and drift corrections are listed too, "
        "without figures. Page with `before` (the `next_before` of the last page).",
    ),
)
