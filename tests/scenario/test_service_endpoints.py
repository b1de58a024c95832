"""Authentication, health and metrics."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer

from bot import root
from bot.database import open_pool
from bot.http.app import OPERATIONS
from tests.conftest import AUTH, TOKEN, create_database, drop_database, with_database

Client = TestClient[Any, Any]


API_OPERATIONS = [op for op in OPERATIONS if op.openapi_path.startswith("/api/")]
"""The routes behind the API token (a vendor's deliveries prove themselves by the source's
own signature instead)."""


HEADERS = [None, "Bearer wrong-token-000000000", f"Basic {TOKEN}", "Bearer"]
"""No token, a wrong one, the right one in the wrong scheme, and the scheme alone."""


async def test_every_api_route_needs_the_token(client: Client, pool: asyncpg.Pool) -> None:
    """Every route, with each header that is not the token, answers 401 and changes nothing.
    One app answers them all: a refused request must leave it as it was for the next."""
    wrong: list[str] = []
    for op in API_OPERATIONS:
        path = (
            op.openapi_path.replace("{task_id}", "1")
            .replace("{name}", "t")
            .replace("{agent_id}", "a")
        )
        for header in HEADERS:
            headers = {"Authorization": header} if header else {}
            response = await client.request(op.method, path, json={}, headers=headers)
            body = await response.json()
            if (
                response.status != 401
                or response.headers.get("WWW-Authenticate") != "Bearer"
                or body.get("error", {}).get("code") != "unauthorized"
            ):
                wrong.append(f"{op.method} {path} with {header!r}: {response.status} {body}")
    assert not wrong, "\n".join(wrong)
    assert len(API_OPERATIONS) * len(HEADERS) >= 200
    assert await pool.fetchval("SELECT count(*) FROM task_types") == 0


async def test_several_tokens_are_accepted(pool: asyncpg.Pool) -> None:
    tokens = ["first-token-0123456789", "second-token-0123456789"]
    app = root.http_app(pool, tokens=tokens)
    async with TestClient(TestServer(app.web)) as c:
        for token in tokens:
            response = await c.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
            assert response.status == 200


async def test_openapi_and_health_need_no_token(client: Client) -> None:
    assert (await client.get("/api/v1/openapi.json")).status == 200
    health = await client.get("/healthz")
    assert health.status == 200
    assert (await health.json())["status"] == "ok"


async def test_health_is_503_when_the_database_does_not_answer(
    server_url: str, template_db: str
) -> None:
    name = await create_database(server_url, template_db)
    # The smallest pool the service allows: two of its connections listen for changes.
    async with open_pool(with_database(server_url, name), min_size=1, max_size=4) as pool:
        app = root.http_app(pool, tokens=[TOKEN], max_body_bytes=1024)
        async with TestClient(TestServer(app.web)) as c:
            assert (await c.get("/healthz")).status == 200
            await drop_database(server_url, name)
            response = await c.get("/healthz")
            assert response.status == 503
            assert (await response.json())["status"] == "unavailable"


async def test_metrics_count_requests_and_created_tasks(client: Client) -> None:
    await client.put(
        "/api/v1/task-types/t",
        json={"skills": [], "sla_minutes": 60, "handle_minutes": 5},
        headers=AUTH,
    )
    body = {"source": "crm", "external_id": "1", "type": "t", "title": "T"}
    await client.post("/api/v1/tasks", json=body, headers=AUTH)
    await client.get("/api/v1/tasks/77", headers=AUTH)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert 'blendbot_tasks_created_total{source="crm"} 1.0' in text
    assert (
        'blendbot_http_requests_total{method="GET",route="/api/v1/tasks/{task_id}",status="404"}'
        in text
    )
    assert "blendbot_http_request_duration_seconds_bucket" in text
