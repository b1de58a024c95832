"""``GET /api/v1/queues/{queue}/forecast``: the stored forecast, with the agents it needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aiohttp import web
from pydantic import Field, TypeAdapter

from blending.forecast_store import NoForecast, QueueForecastOut, read
from bot.http.errors import ApiError, ErrorOut
from bot.http.keys import CLOCK, POOL
from bot.http.operations import Operation, PathParam, json_response, path_param, read_query
from queues.bounds import Instant
from queues.models import Strict

QueueName = Annotated[str, Field(min_length=1, max_length=200)]
QUEUE = PathParam(
    "queue", TypeAdapter(QueueName), "The queue's name as the telephony feed gives it."
)


class ForecastQuery(Strict):
    since: Instant | None = Field(
        default=None, alias="from", description="First interval (default: the current one)."
    )


async def get_forecast(request: web.Request) -> web.Response:
    queue = path_param(request, QUEUE)
    query = read_query(request, ForecastQuery)
    since = query.since or request.app[CLOCK].now() - timedelta(hours=1)
    try:
        forecast = await read(request.app[POOL], queue, since)
    except NoForecast as exc:
        raise ApiError(404, "no_forecast", str(exc)) from None
    return json_response(forecast)


FORECAST_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/v1/queues/{queue}/forecast",
        get_forecast,
        "A queue's forecast per interval, with its bounds and the agents needed",
        "queues",
        query=ForecastQuery,
        params=(QUEUE,),
        responses={200: QueueForecastOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
        description="Calls per interval (mean, 80% and 95% bounds), handle time, and the agents "
        "needed to meet the service-level target at the upper 80% bound, for the rest of today "
        "and tomorrow. Forecasts are refreshed in the background; 404 says why there is none.",
    ),
)
