"""Handler of ``GET /api/v1/quarantine``: the rows set aside because no job could use them."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from bot.http.errors import ErrorOut
from bot.http.keys import STORES
from bot.http.operations import Operation, json_response, read_query
from bot.quarantine import QuarantinedRow
from queues.models import Strict

Table = Literal[
    "telephony_events",
    "telephony_calls",
    "interval_stats",
    "telephony_presence",
    "queue_snapshots",
    "agent_schedules",
]


class QuarantineQuery(Strict):
    table: Table | None = Field(default=None, description="Only rows from this table.")
    before: int | None = Field(
        default=None, ge=1, le=2**62, description="Only rows older than this id (paging)."
    )
    limit: int = Field(default=100, ge=1, le=1000)


class QuarantineList(BaseModel):
    items: list[QuarantinedRow]


async def list_quarantine(request: web.Request) -> web.Response:
    query = read_query(request, QuarantineQuery)
    rows = await request.app[STORES].quarantine.rows(
        query.table, before=query.before, limit=query.limit
    )
    return json_response(QuarantineList(items=rows))


QUARANTINE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/v1/quarantine",
        list_quarantine,
        "Rows set aside because no job could use them, newest first",
        "operations",
        query=QuarantineQuery,
        responses={200: QuarantineList, 401: ErrorOut, 422: ErrorOut},
        description="Each row keeps the table it came from, why it was set aside (e.g. a "
        "call time outside 1970-2100) and the row itself. The service never reads them "
        "again: fix them at their source.",
    ),
)
