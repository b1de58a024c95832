"""Task sources over HTTP: their configuration under ``/api/v1/sources`` (bearer token), and
the vendors' deliveries at ``POST /sources/{name}/events`` (authenticated as each vendor
documents it, by the source's connector)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, METRICS, STORES
from bot.http.operations import (
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
from queues.models import Name, Strict
from task_sources.errors import SourceAuthFailed
from task_sources.mapping import FIELDS
from task_sources.models import (
    DeliveryOutcome,
    PreviewIn,
    PreviewOut,
    Receipt,
    RejectList,
    SourceIn,
    SourceList,
    SourceOut,
)

SOURCE_NAME = PathParam("name", TypeAdapter(Name), "The source's name, e.g. `zendesk-support`.")
REJECT_ID = PathParam("reject_id", TypeAdapter(int), "The reject's id, from `GET .../rejects`.")


class RejectsQuery(Strict):
    include_retried: bool = Field(default=False, description="Also those a retry made into tasks.")
    before: int | None = Field(default=None, ge=1, le=2**62, description="Older than this id.")
    limit: int = Field(default=100, ge=1, le=1000)


class RetryOut(BaseModel):
    deliveries: list[DeliveryOutcome]


async def put_source(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    body = await read_body(request, SourceIn)
    source, created = await request.app[STORES].sources.catalog.put(name, body)
    return json_response(source, 201 if created else 200)


async def get_source(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    return json_response(await request.app[STORES].sources.catalog.get(name))


async def list_sources(request: web.Request) -> web.Response:
    catalog = request.app[STORES].sources.catalog
    items = await catalog.all()
    return json_response(SourceList(items=items, kinds=sorted(catalog.kinds), fields=FIELDS))


async def delete_source(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    return json_response(await request.app[STORES].sources.catalog.delete(name))


async def preview(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    body = await read_body(request, PreviewIn)
    out = await request.app[STORES].sources.preview(name, body, request.app[CLOCK].now())
    return json_response(out)


async def list_rejects(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    query = read_query(request, RejectsQuery)
    items = await request.app[STORES].sources.rejects(
        name, include_retried=query.include_retried, before=query.before, limit=query.limit
    )
    return json_response(RejectList(items=items))


async def retry_reject(request: web.Request) -> web.Response:
    name = path_param(request, SOURCE_NAME)
    reject_id = path_param(request, REJECT_ID)
    now = request.app[CLOCK].now()
    outcomes = await request.app[STORES].sources.retry(name, reject_id, now)
    _count(request, name, outcomes)
    return json_response(RetryOut(deliveries=outcomes))


async def deliver(request: web.Request) -> web.Response:
    """A vendor's delivery: 401 (stored nowhere) unless it authenticates as the source."""
    name = path_param(request, SOURCE_NAME)
    body = await request.read()
    intake = request.app[STORES].sources
    try:
        received = await intake.receive(name, request.headers, body, request.app[CLOCK].now())
    except SourceAuthFailed as exc:
        request.app[METRICS].source_deliveries.labels(name, "unauthenticated").inc()
        raise ApiError(401, "unauthorized", f"delivery refused: {exc}") from None
    _count(request, name, received.outcomes)
    reply = received.reply
    return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)


def _count(request: web.Request, name: str, outcomes: list[DeliveryOutcome]) -> None:
    metrics = request.app[METRICS]
    for outcome in outcomes:
        metrics.source_deliveries.labels(name, outcome.outcome).inc()
        if outcome.outcome == "created":
            metrics.tasks_created.labels(name).inc()


_ERRORS: dict[int, type[BaseModel] | None] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_BODY_ERRORS: dict[int, type[BaseModel] | None] = {400: ErrorOut, 413: ErrorOut}
_PATH = "/api/v1/sources/{name}"

SOURCE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "PUT",
        _PATH,
        put_source,
        "Create or replace a task source",
        "task sources",
        body=SourceIn,
        params=(SOURCE_NAME,),
        responses={200: SourceOut, 201: SourceOut, **_ERRORS, **_BODY_ERRORS},
        description="`kind` is one of the kinds `GET /api/v1/sources` lists. `mapping` sets a "
        "CEL expression per task field (over `event`, `source` and `now`) in place of the "
        "kind's default; each is checked here, and an invalid one is refused with 422 naming "
        "the field (`mapping.title`) and the line and column. `secret` and `credentials` are "
        "stored, never returned; left out, the stored ones are kept. Without `api_url` "
        "nothing is written back. At most 20 mapping fields and 20 credentials; an "
        "expression at most 2,000 characters.",
    ),
    Operation(
        "GET",
        "/api/v1/sources",
        list_sources,
        "List task sources, the kinds, and the task fields a mapping sets",
        "task sources",
        responses={200: SourceList, 401: ErrorOut},
    ),
    Operation(
        "GET",
        _PATH,
        get_source,
        "Get a task source (without its secrets)",
        "task sources",
        params=(SOURCE_NAME,),
        responses={200: SourceOut, **_ERRORS},
    ),
    Operation(
        "DELETE",
        _PATH,
        delete_source,
        "Delete a task source",
        "task sources",
        params=(SOURCE_NAME,),
        responses={200: SourceOut, **_ERRORS},
        description="Its deliveries, rejects and pending write-backs go with it; its tasks stay.",
    ),
    Operation(
        "POST",
        _PATH + "/preview",
        preview,
        "The task a delivery would make, writing nothing",
        "task sources",
        body=PreviewIn,
        params=(SOURCE_NAME,),
        responses={200: PreviewOut, **_ERRORS, **_BODY_ERRORS},
        description="`event` is the delivery as the mapping sees it; `mapping` tries other "
        "expressions before they are put. A delivery that cannot be mapped is answered 200 "
        "with `error` and `field`.",
    ),
    Operation(
        "GET",
        _PATH + "/rejects",
        list_rejects,
        "Deliveries that authenticated but could not be made into tasks, newest first",
        "task sources",
        params=(SOURCE_NAME,),
        query=RejectsQuery,
        responses={200: RejectList, **_ERRORS},
    ),
    Operation(
        "POST",
        _PATH + r"/rejects/{reject_id:\d{1,18}}/retry",
        retry_reject,
        "Map a reject again, after the mapping or the task type was fixed",
        "task sources",
        params=(SOURCE_NAME, REJECT_ID),
        responses={200: RetryOut, **_ERRORS},
        description="422 with the reason when it still cannot be mapped (the reject keeps it).",
    ),
    Operation(
        "POST",
        "/sources/{name}/events",
        deliver,
        "A vendor's delivery of its records' changes",
        "task sources",
        params=(SOURCE_NAME,),
        responses={200: Receipt, 401: ErrorOut, 404: ErrorOut, 413: ErrorOut},
        auth=False,
        description="Authenticated as the source's kind documents it (a signature of the body, "
        "or the credential issued to the vendor); anything else is 401 and stored nowhere. "
        "A delivery repeated by the vendor changes nothing (`duplicate`); one that "
        "authenticates but cannot be made into a task is kept (`rejected`, see the rejects). "
        "Some kinds answer in their vendor's terms (Salesforce: a SOAP `Ack`).",
    ),
)
