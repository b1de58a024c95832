"""The OpenAPI document is valid, lists every route, and the real responses match it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_spec_validator import validate
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.conftest import AUTH
from tests.support.factories import agent, task, task_type

Client = TestClient[Any, Any]


@dataclass
class Req:
    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str = "application/json"
    parameters: RequestParameters = field(default_factory=RequestParameters)

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class Resp:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers


@pytest.fixture
async def spec(client: Client) -> OpenAPI:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)
    return OpenAPI.from_dict(document)


async def test_document_lists_exactly_the_api_routes(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    served = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        path = re.sub(r"\{(\w+):(?:[^{}]|\{[^{}]*\})+\}", r"{\1}", path)
        public = path == "/api/v1/openapi.json"
        documented_prefix = path.startswith(("/api/v1/", "/sources/"))
        if documented_prefix and not public and route.method != "HEAD":
            served.add((route.method, path))
    assert documented == served


async def _call(
    client: Client, spec: OpenAPI, method: str, url: str, body: Any = None, auth: bool = True
) -> Resp:
    headers = dict(AUTH) if auth else {}
    response = await client.request(method, url, json=body, headers=headers)
    raw = await response.read()
    split = urlsplit(url)
    request = Req(
        host_url="http://localhost",
        path=split.path,
        method=method.lower(),
        body=None if body is None else json.dumps(body).encode(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(parse_qsl(split.query)),
            header=Headers(headers),
        ),
    )
    result = Resp(response.status, raw, response.content_type, Headers(dict(response.headers)))
    spec.validate_response(request, result)
    return result


async def test_real_responses_match_the_document(client: Client, spec: OpenAPI) -> None:
    calls: list[tuple[str, str, Any, int]] = [
        ("PUT", "/api/v1/task-types/mortgage_document_check", task_type(), 201),
        ("PUT", "/api/v1/task-types/mortgage_document_check", task_type(), 200),
        ("PUT", "/api/v1/task-types/x", {"sla_minutes": 0}, 422),
        ("GET", "/api/v1/task-types", None, 200),
        ("PUT", "/api/v1/agents/dana", agent(), 201),
        ("PUT", "/api/v1/agents/omar", agent(), 409),
        ("GET", "/api/v1/agents/dana", None, 200),
        ("GET", "/api/v1/agents/nobody", None, 404),
        ("GET", "/api/v1/agents?limit=1", None, 200),
        ("POST", "/api/v1/tasks", task(), 201),
        ("POST", "/api/v1/tasks", task(), 200),
        ("POST", "/api/v1/tasks", task(type="nope"), 422),
        ("POST", "/api/v1/tasks/batch", {"tasks": [task("B1"), task("B2")]}, 200),
        ("GET", "/api/v1/tasks/1", None, 200),
        ("GET", "/api/v1/tasks/99", None, 404),
        ("GET", "/api/v1/tasks?customer_ref=CUST-88&limit=1", None, 200),
        ("POST", "/api/v1/tasks/1/cancel", {"reason": "dup"}, 200),
        ("POST", "/api/v1/tasks/1/cancel", None, 409),
    ]
    for method, url, body, status in calls:
        result = await _call(client, spec, method, url, body)
        assert result.status_code == status, (method, url, result.data)
    unauthorized = await _call(client, spec, "GET", "/api/v1/tasks", auth=False)
    assert unauthorized.status_code == 401
