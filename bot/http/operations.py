"""The API's route table: each operation with the models it reads and returns.

The HTTP router and the OpenAPI document are both built from this table, so the document
describes exactly the routes that exist, with the models the handlers really use.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.http.errors import ApiError, from_validation
from queues.bounds import MalformedJson, loads

_PATTERN = re.compile(r"\{(\w+):(?:[^{}]|\{[^{}]*\})+\}")
"""A path parameter with a regular expression, which may itself hold braces: ``{id:\\d{1,9}}``."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PathParam:
    name: str
    adapter: TypeAdapter[Any]
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    params: tuple[PathParam, ...] = ()
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    auth: bool = True
    description: str = ""
    csv: bool = False
    """The 200 answer is also ``text/csv`` (with ``format=csv``)."""

    @property
    def openapi_path(self) -> str:
        """The path with aiohttp's regular expressions removed: ``{task_id}``."""
        return _PATTERN.sub(r"{\1}", self.path)


async def read_json(request: web.Request) -> Any:
    """The body as JSON within :mod:`queues.bounds`' limits, or 400 saying why not."""
    raw = await request.read()
    try:
        return loads(raw)
    except MalformedJson as exc:
        raise ApiError(400, "malformed_json", f"body is not valid JSON: {exc.detail}") from None


async def read_body(request: web.Request, model: type[M]) -> M:
    """Parse the JSON body into ``model``: 400 if it is not JSON within the bounds of
    :mod:`queues.bounds`, 422 naming bad fields. Types are strict: no number is taken for a
    time, no ``true`` for a number, no number for text."""
    await read_json(request)
    raw = await request.read()
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        malformed = [e for e in exc.errors(include_url=False) if e["type"] == "json_invalid"]
        if malformed:
            detail = malformed[0].get("ctx", {}).get("error", "not valid JSON")
            raise ApiError(400, "malformed_json", f"body is not valid JSON: {detail}") from None
        raise from_validation(exc) from None


def read_query(request: web.Request, model: type[M], *, lists: tuple[str, ...] = ()) -> M:
    """Parse the query string into ``model``: 422 naming a bad or repeated parameter. The
    parameters in ``lists`` take several values separated by commas."""
    data: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        if len(values) > 1:
            raise ApiError(422, "invalid", f"query parameter {key} is given more than once")
        data[key] = values[0]
    for key in lists:
        if isinstance(data.get(key), str):
            data[key] = [v for v in data[key].split(",") if v]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, prefix="query.") from None


def path_param(request: web.Request, param: PathParam) -> Any:
    try:
        return param.adapter.validate_python(request.match_info[param.name])
    except ValidationError as exc:
        raise from_validation(exc, prefix=param.name) from None


def json_response(model: BaseModel, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        status=status,
        text=model.model_dump_json(),
        content_type="application/json",
        headers=headers or None,
    )
