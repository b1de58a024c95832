"""Task types and agents through the API."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import AUTH
from tests.support.factories import agent, task_type

Client = TestClient[Any, Any]


async def test_task_type_create_then_replace(client: Client) -> None:
    url = "/api/v1/task-types/mortgage_document_check"
    created = await client.put(
        url, json=task_type(skills=["mortgage", "kyc", "mortgage"]), headers=AUTH
    )
    assert created.status == 201
    assert (await created.json())["skills"] == ["kyc", "mortgage"]
    replaced = await client.put(url, json=task_type(sla_minutes=60, pausable=False), headers=AUTH)
    assert replaced.status == 200
    listed = await (await client.get("/api/v1/task-types", headers=AUTH)).json()
    assert [(t["name"], t["sla_minutes"], t["pausable"]) for t in listed["items"]] == [
        ("mortgage_document_check", 60, False)
    ]


async def test_task_type_names_its_shareable_payload_fields(client: Client) -> None:
    url = "/api/v1/task-types/billing_correction"
    body = task_type(shareable_fields=["currency", "amount", "_ref2"])
    created = await client.put(url, json=body, headers=AUTH)
    assert created.status == 201
    assert (await created.json())["shareable_fields"] == ["currency", "amount", "_ref2"]
    replaced = await client.put(url, json=task_type(), headers=AUTH)
    assert (await replaced.json())["shareable_fields"] == []
    listed = await (await client.get("/api/v1/task-types", headers=AUTH)).json()
    assert listed["items"][0]["shareable_fields"] == []
    document = await (await client.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert schemas["TaskTypeIn"]["properties"]["shareable_fields"]["items"]["pattern"]
    assert "shareable_fields" in schemas["TaskTypeOut"]["required"]


async def test_agent_create_read_replace(client: Client, pool: asyncpg.Pool) -> None:
    created = await client.put("/api/v1/agents/dana.levi", json=agent(), headers=AUTH)
    assert created.status == 201
    body = await created.json()
    assert body["skills"] == {"mortgage": 3}
    assert body["telephony_ids"] == {
        "amazon_connect": "arn:aws:connect:agent/1",
        "twilio": "WK0001",
    }
    assert body["cost_per_hour"] == 32.5
    assert body["queue"] is None
    replaced = await client.put(
        "/api/v1/agents/dana.levi",
        json=agent(
            skills={"billing": 2}, telephony_ids={"genesys": "g-1"}, team=None, queue="mortgages"
        ),
        headers=AUTH,
    )
    assert replaced.status == 200
    got = await (await client.get("/api/v1/agents/dana.levi", headers=AUTH)).json()
    assert got["skills"] == {"billing": 2}
    assert got["telephony_ids"] == {"genesys": "g-1"}
    assert got["team"] is None
    assert got["queue"] == "mortgages"
    owner = await pool.fetchval(
        "SELECT agent_id FROM agent_telephony_ids WHERE source = 'genesys' AND external_id = 'g-1'"
    )
    assert owner == "dana.levi"


async def test_putting_the_same_agent_again_keeps_their_skills(client: Client) -> None:
    """The report: the README's own example sent twice was 409, because the skills were
    deleted and inserted by one statement whose insert did not see the delete."""
    assert (await client.put("/api/v1/agents/dana.levi", json=agent(), headers=AUTH)).status == 201
    again = await client.put("/api/v1/agents/dana.levi", json=agent(), headers=AUTH)
    assert again.status == 200, await again.text()
    assert (await again.json())["skills"] == {"mortgage": 3}
    changed = await client.put(
        "/api/v1/agents/dana.levi",
        json=agent(skills={"mortgage": 5, "billing": 1}),
        headers=AUTH,
    )
    assert changed.status == 200
    assert (await changed.json())["skills"] == {"mortgage": 5, "billing": 1}
    fewer = await client.put(
        "/api/v1/agents/dana.levi", json=agent(skills={"billing": 2}), headers=AUTH
    )
    assert (await fewer.json())["skills"] == {"billing": 2}


async def test_agents_are_listed_in_pages(client: Client) -> None:
    for n in range(5):
        body = agent(slack_user_id=f"U0AGENT{n}", telephony_ids={"twilio": f"WK{n}"})
        assert (await client.put(f"/api/v1/agents/a{n}", json=body, headers=AUTH)).status == 201
    ids: list[str] = []
    url = "/api/v1/agents?limit=2"
    while url:
        page = await (await client.get(url, headers=AUTH)).json()
        ids += [a["agent_id"] for a in page["items"]]
        url = f"/api/v1/agents?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert ids == ["a0", "a1", "a2", "a3", "a4"]


async def test_an_agents_ids_cannot_be_taken_by_another(client: Client) -> None:
    await client.put("/api/v1/agents/dana", json=agent(), headers=AUTH)
    clash = await client.put(
        "/api/v1/agents/omar", json=agent(slack_user_id="U0OMAR"), headers=AUTH
    )
    assert clash.status == 409
    message = (await clash.json())["error"]["message"]
    assert "dana" in message
    assert (await client.get("/api/v1/agents/omar", headers=AUTH)).status == 404
