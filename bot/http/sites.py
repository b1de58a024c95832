"""Handlers of ``/api/v1/sites``: each site's clock, and which agents and queues follow it."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from blending.sites import DEFAULT_SITE, Membership, SiteChange, SiteId, SiteIn, SiteOut
from bot.http.errors import ApiError, ErrorOut
from bot.http.feeds import AGENT_ID, QUEUE
from bot.http.keys import STORES
from bot.http.operations import (
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
from queues.models import Strict

SITE_ID = PathParam("site_id", TypeAdapter(SiteId), "The site's id, e.g. `london`.")


class SiteList(BaseModel):
    items: list[SiteOut]
    default_time_zone: str = Field(
        description="The clock of the default site: agents and queues in no site (the "
        "`BLENDBOT_TIMEZONE` setting)."
    )


class MembershipOut(BaseModel):
    site_id: str | None
    time_zone: str = Field(description="The clock it now follows.")


class ChangeList(BaseModel):
    items: list[SiteChange]


class ChangesQuery(Strict):
    site_id: SiteId | None = None
    limit: int = Field(default=100, ge=1, le=1000)


async def put_site(request: web.Request) -> web.Response:
    site_id = path_param(request, SITE_ID)
    if site_id == DEFAULT_SITE:
        raise ApiError(422, "invalid", "the default site's clock is the BLENDBOT_TIMEZONE setting")
    body = await read_body(request, SiteIn)
    site, created = await request.app[STORES].sites.put(site_id, body)
    return json_response(site, 201 if created else 200)


async def get_site(request: web.Request) -> web.Response:
    return json_response(await request.app[STORES].sites.get(path_param(request, SITE_ID)))


async def list_sites(request: web.Request) -> web.Response:
    sites = request.app[STORES].sites
    return json_response(
        SiteList(items=await sites.all(), default_time_zone=sites.default_zone.key)
    )


async def put_agent_site(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, Membership)
    sites = request.app[STORES].sites
    await sites.assign_agent(agent_id, body)
    zone = await sites.agent_zone(agent_id)
    return json_response(MembershipOut(site_id=body.site_id, time_zone=zone.key))


async def put_queue_site(request: web.Request) -> web.Response:
    queue = path_param(request, QUEUE)
    body = await read_body(request, Membership)
    sites = request.app[STORES].sites
    await sites.assign_queue(queue, body)
    zone = await sites.zone(body.site_id)
    return json_response(MembershipOut(site_id=body.site_id, time_zone=zone.key))


async def list_changes(request: web.Request) -> web.Response:
    query = read_query(request, ChangesQuery)
    changes = await request.app[STORES].sites.changes(query.site_id, query.limit)
    return json_response(ChangeList(items=changes))


_ERRORS: dict[int, type[BaseModel] | None] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITES: dict[int, type[BaseModel] | None] = {400: ErrorOut, 413: ErrorOut, **_ERRORS}

SITE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "PUT",
        "/api/v1/sites/{site_id}",
        put_site,
        "Create or replace a site",
        "sites",
        body=SiteIn,
        params=(SITE_ID,),
        responses={200: SiteOut, 201: SiteOut, **_WRITES},
        description="A site has a time zone (an IANA name such as `Europe/London`; anything "
        "else is refused with 422 and changes nothing). The days, shifts, forecasts and plans "
        "of its agents and queues follow its clock. Kept in the audit log "
        "(`GET /api/v1/site-changes`). `default` is the implicit site of agents and queues in "
        "no site; its clock is the `BLENDBOT_TIMEZONE` setting.",
    ),
    Operation(
        "GET",
        "/api/v1/sites",
        list_sites,
        "List the sites",
        "sites",
        responses={200: SiteList, 401: ErrorOut},
    ),
    Operation(
        "GET",
        "/api/v1/sites/{site_id}",
        get_site,
        "Get a site, with its agents and queues",
        "sites",
        params=(SITE_ID,),
        responses={200: SiteOut, **_ERRORS},
    ),
    Operation(
        "PUT",
        "/api/v1/agents/{agent_id}/site",
        put_agent_site,
        "Put an agent in a site",
        "sites",
        body=Membership,
        params=(AGENT_ID,),
        responses={200: MembershipOut, **_WRITES},
        description="The agent's schedule times written without an offset, and their days in "
        "the reports, follow the site's clock from now on. `site_id: null` puts the agent "
        "back in the default site. An unknown agent or site is a 404 and changes nothing.",
    ),
    Operation(
        "PUT",
        "/api/v1/queues/{queue}/site",
        put_queue_site,
        "Put a queue in a site",
        "sites",
        body=Membership,
        params=(QUEUE,),
        responses={200: MembershipOut, **_WRITES},
        description="The queue's forecast reads its days, weekdays and times of day on the "
        "site's clock from its next refit. `site_id: null` puts it back in the default site.",
    ),
    Operation(
        "GET",
        "/api/v1/site-changes",
        list_changes,
        "The audit log of sites and their members, newest first",
        "sites",
        query=ChangesQuery,
        responses={200: ChangeList, 401: ErrorOut, 422: ErrorOut},
    ),
)
