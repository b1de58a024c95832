"""``GET /api/v1/plan``: the back-office plan for the next days."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, field_validator

from blending.planning.intraday import TypeIntervals
from blending.planning.model import Plan
from blending.planning.what_if import MoveIn, NoSuchGroup, WhatIf
from blending.sites import SiteId
from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, STORES
from bot.http.operations import Operation, json_response, read_body, read_query
from queues.models import Name, Strict


class SiteQuery(Strict):
    site: SiteId | None = Field(
        default=None,
        description="The site planned for: its own agents' hours against its share of each "
        "skill set's work (the share of the skilled hours its agents give), on its clock; "
        "`default`: the agents and queues in no site. Left out: the whole center, on the "
        "default site's clock (`BLENDBOT_TIMEZONE`). An unknown site is a 404.",
    )


class PlanQuery(SiteQuery):
    days: int | None = Field(
        default=None, ge=1, le=60, description="Days ahead (default BLENDBOT_PLAN_DAYS, 14)."
    )


async def get_plan(request: web.Request) -> web.Response:
    query = read_query(request, PlanQuery)
    planner = request.app[STORES].planner
    plan = await planner.plan(request.app[CLOCK].now(), query.days, query.site)
    return json_response(plan)


class IntervalsQuery(SiteQuery):
    days: int = Field(default=7, ge=1, le=31, description="Days ahead, today first.")
    minutes: int = Field(
        default=60,
        description="The intervals' length: 15, 30 or 60.",
        json_schema_extra={"enum": [15, 30, 60]},
    )
    type: Name | None = Field(default=None, description="One task type only.")

    @field_validator("minutes")
    @classmethod
    def _a_length_the_day_divides_into(cls, value: int) -> int:
        if value not in (15, 30, 60):
            raise ValueError("15, 30 or 60")
        return value


class IntervalsOut(BaseModel):
    days: int
    minutes: int
    types: list[TypeIntervals] = Field(
        description="Per task type with enough history, the intervals with arrivals expected."
    )


async def get_intervals(request: web.Request) -> web.Response:
    query = read_query(request, IntervalsQuery)
    planner = request.app[STORES].planner
    now = request.app[CLOCK].now()
    found = await planner.intervals(now, query.days, query.minutes, query.site)
    types = [t for t in found if query.type is None or t.type == query.type]
    return json_response(IntervalsOut(days=query.days, minutes=query.minutes, types=types))


async def post_what_if(request: web.Request) -> web.Response:
    query = read_query(request, SiteQuery)
    move = await read_body(request, MoveIn)
    try:
        planner = request.app[STORES].planner
        result = await planner.what_if(request.app[CLOCK].now(), move, query.site)
    except NoSuchGroup as exc:
        raise ApiError(422, "unknown_group", str(exc)) from None
    return json_response(result)


PLAN_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/v1/plan",
        get_plan,
        "The back-office plan: workload, backlog and the hours needed, per day",
        "planning",
        query=PlanQuery,
        responses={200: Plan, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description="Per task type, the arrivals and workload hours forecast for each day with "
        "their 80% and 95% bounds, the open backlog, its course (with the arrivals' 80% band) "
        "and the day it is expected cleared. Per skill set, the hours the lulls (as forecast, "
        "and when calls run at their 95% bound) and dedicated back-office staff give, the "
        "extra hours needed each day to meet every SLA, and the hours to spare. The open tasks "
        "expected to miss their SLA, worst first. With `site`, the site's own agents' hours "
        "and its `share` of each skill set's work and open tasks (the sites' shares add up to "
        "one). Days follow the clock of `site` (default: the default site's, "
        "`BLENDBOT_TIMEZONE`), from its local midnight to the next: a day a DST change "
        "shortens or lengthens is 23 or 25 hours long.",
    ),
    Operation(
        "GET",
        "/api/v1/plan/intervals",
        get_intervals,
        "The back-office arrivals forecast per interval, per task type",
        "planning",
        query=IntervalsQuery,
        responses={200: IntervalsOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description="The daily forecast of each type's arrivals (calibrated, as in the plan) "
        "spread over the day by the weekday's profile of the last weeks, with the 80% band "
        "of each interval, on the clock of `site`, and for a site its share of each type's "
        "arrivals (as in its plan). Types with too short a history (or none of the site's) "
        "are left out; intervals with no arrivals expected are left out.",
    ),
    Operation(
        "POST",
        "/api/v1/plan/what-if",
        post_what_if,
        "What moving agents from the phones to the back office would do",
        "planning",
        query=SiteQuery,
        body=MoveIn,
        responses={200: WhatIf, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description="Takes `agents` of a staffing `group` (a queue; none: the pooled group) "
        "off the phones from `start` to `end` to work on back-office steps needing `skills`. "
        "Answers, per call interval of the move, the agents left and the service level and "
        "abandonment before and after (Erlang A with the callers' mean patience), and the "
        "plan's extra and spare hours per skill set, each type's backlog at the end of the "
        "move's day (on the clock of `site`), and the tasks that will miss their SLA, without and "
        "with the move: with `site`, in the site's plan (the moved agents join its staff).",
    ),
)
