"""Schemathesis over the OpenAPI document: no generated request, valid or not, gets a 5xx or
an answer the document does not describe.

Bounded so that it runs in CI: a fixed seed (``derandomize``), a few examples per operation
and per mode (data that fits the document, and data that does not), no example database.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import schemathesis
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from bot import root
from tests.conftest import AUTH, TOKEN
from tests.support.factories import agent, put_type, task

pytestmark = pytest.mark.once

EXAMPLES = 12
PINNED = {"agent_id": "dana", "name": "mortgage_document_check", "queue": "q"}
"""Path parameters naming what exists, so that requests also reach past the lookups (a
generated id names nothing, and the answer is 404 before the body matters). Each operation
on a task gets a task of its own, so that one cancelling it does not stop the others."""
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass(frozen=True)
class Found:
    operation: str
    mode: str
    status: int
    problem: str


def _fuzz_one(
    operation: Any,
    mode: GenerationMode,
    pinned: dict[str, Any] | None,
    base_url: str,
    found: list[Found],
) -> int:
    """One operation in one mode; return how many requests ran."""
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = case.call(base_url=base_url, headers=AUTH, timeout=10)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            problem = "; ".join(f"{f.title}: {f.message}"[:300] for f in group.exceptions)
            found.append(Found(operation.label, mode.value, response.status_code, problem))
        except AssertionError as exc:
            problem = str(exc).strip()[:300]
            found.append(Found(operation.label, mode.value, response.status_code, problem))

    try:
        run()
    except Unsatisfiable:
        # Every part of the request is pinned or free-form (a vendor's delivery takes any
        # body): there is nothing to make invalid, and the positive mode covered it.
        if mode is not GenerationMode.NEGATIVE:
            raise
    return sent


def _fuzz(
    document: dict[str, Any], base_url: str, tasks: dict[str, int]
) -> tuple[list[Found], int]:
    """Every operation, in both modes; return what went wrong and how many requests ran."""
    schema = schemathesis.openapi.from_dict(document)
    found: list[Found] = []
    sent = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        names = re.findall(r"\{(\w+)\}", operation.path)
        pinned: dict[str, Any] = {name: PINNED[name] for name in names if name in PINNED}
        if "task_id" in names:
            pinned["task_id"] = tasks[operation.label]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _fuzz_one(operation, mode, None, base_url, found)
            if pinned:
                sent += _fuzz_one(operation, mode, pinned, base_url, found)
    return found, sent


async def test_generated_requests_get_no_server_error(pool: asyncpg.Pool) -> None:
    app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=64 * 1024)
    async with TestClient(TestServer(app.web)) as client:
        await put_type(client)
        assert (await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)).status == 201
        document = await (await client.get("/api/v1/openapi.json")).json()
        tasks: dict[str, int] = {}
        for path, methods in document["paths"].items():
            for method in methods if "{task_id}" in path else ():
                label = f"{method.upper()} {path}"
                created = await client.post("/api/v1/tasks", json=task(label), headers=AUTH)
                tasks[label] = (await created.json())["id"]
        base_url = str(client.make_url("")).rstrip("/")
        found, sent = await asyncio.to_thread(_fuzz, document, base_url, tasks)
    assert sent >= EXAMPLES * len(document["paths"])
    assert found == []
