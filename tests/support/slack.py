"""The Slack harness: requests signed exactly as Slack signs them, payloads as Slack sends
them, and :class:`Harness`, which drives the real app (the ``slack`` fixture in
``tests/scenario/conftest.py`` builds it with ``register_slack`` and the Web API stand-in)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import Slack
from queues.catalog import Catalog
from queues.models import AgentIn, TaskIn, TaskTypeIn
from queues.roster import Roster
from queues.tasks import Tasks
from standins.slack import StandIn
from tests.support.windows import lend

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-0000-blendbot"
CHANNEL = "CSUPERVISORS"
SUPERVISOR = "USUPER0001"
DANA, BEN = "U0DANA0001", "U0BEN00001"


def signed_headers(body: str, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def command_payload(user: str, text: str) -> dict[str, str]:
    """A ``/blend`` slash command as Slack sends it, from the user's DM with the app."""
    return {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": "T0001",
        "team_domain": "example",
        "channel_id": "D" + user[1:],
        "channel_name": "directmessage",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/blend",
        "text": text,
        "api_app_id": "A123456",
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


def action_payload(
    user: str,
    action_id: str,
    value: str | None,
    *,
    block_id: str,
    channel: str | None = None,
    ts: str = "1548261231.000200",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click on a button of a message (``block_actions``) as Slack sends it."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
        action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    action.update(extra or {})
    channel = channel or "D" + user[1:]
    return {
        "type": "block_actions",
        "team": {"id": "T9TK3CUKW", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": "T9TK3CUKW"},
        "api_app_id": "AABA1ABCD",
        "token": "9s8d9as89d8as9d8as989",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": "card"},
        "response_url": "https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09s",
        "actions": [action],
    }


@dataclass
class Harness:
    client: TestClient[Any, Any]
    standin: StandIn
    slack: Slack
    pool: asyncpg.Pool

    async def send(
        self, body: str, content_type: str, *, secret: str = SECRET, at: float | None = None
    ) -> ClientResponse:
        headers = {"Content-Type": content_type, **signed_headers(body, secret=secret, at=at)}
        return await self.client.post("/slack/events", data=body.encode(), headers=headers)

    async def command(self, user: str, text: str) -> dict[str, Any]:
        body = urlencode(command_payload(user, text))
        response = await self.send(body, "application/x-www-form-urlencoded")
        assert response.status == 200, await response.text()
        reply: dict[str, Any] = await response.json()
        return reply

    async def click(self, user: str, action_id: str, value: str | None, **kw: Any) -> int:
        payload = action_payload(user, action_id, value, **kw)
        body = urlencode({"payload": json.dumps(payload)})
        response = await self.send(body, "application/x-www-form-urlencoded")
        return response.status

    async def submit(
        self, user: str, callback_id: str, meta: dict[str, Any], values: dict[str, Any]
    ) -> ClientResponse:
        payload = {
            "type": "view_submission",
            "team": {"id": "T1234567", "domain": "example-domain"},
            "user": {"id": user, "username": user.lower()},
            "api_app_id": "A123ABC456",
            "token": "9s8d9as89d8as9d8as989",
            "trigger_id": "12466734323.1395872398.abcdef",
            "view": {
                "id": "VNHU13V36",
                "type": "modal",
                "title": {"type": "plain_text", "text": "Modal Title"},
                "blocks": [],
                "private_metadata": json.dumps(meta),
                "callback_id": callback_id,
                "state": {"values": values},
                "hash": "156663117.cd33ad1f",
            },
            "response_urls": [],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], event_id: str) -> ClientResponse:
        body = json.dumps(
            {
                "token": "XXYYZZ",
                "team_id": "T123ABC456",
                "api_app_id": "A123ABC456",
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "team_id": "T123ABC456",
                        "user_id": "U0BLENDBOT",
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
            }
        )
        return await self.send(body, "application/json")

    async def drain(self) -> None:
        await self.slack.outbox.drain()

    def card(self, user: str) -> list[dict[str, Any]]:
        """The messages in ``user``'s DM with the app, oldest first."""
        dm = self.standin.dm_of(user)
        return [
            {"ts": m.ts, "text": m.text, "blocks": m.blocks, "updates": m.updates}
            for (channel, _), m in self.standin.messages.items()
            if channel == dm
        ]


async def seed(pool: asyncpg.Pool, tasks: int = 1, window: float | None = 60) -> list[int]:
    """A billing task type, agents Dana and Ben (and a supervisor on the roster), tasks; Dana
    and Ben each granted a usable window of ``window`` minutes by the engine (None: none), so
    that `/blend next` has their time."""
    await Catalog(pool).put(
        "billing",
        TaskTypeIn(skills=["billing"], sla_minutes=600, handle_minutes=10),
    )
    roster = Roster(pool)
    await roster.put("dana", AgentIn(name="Dana Levi", slack_user_id=DANA, skills={"billing": 3}))
    await roster.put("ben", AgentIn(name="Ben Ito", slack_user_id=BEN, skills={"billing": 3}))
    await roster.put("sam", AgentIn(name="Sam Cho", slack_user_id=SUPERVISOR, skills={}))
    items = [
        TaskIn(
            source="crm",
            external_id=f"B-{n}",
            type="billing",
            title=f"Refund check {n}",
            customer_ref=f"CUST-{n}",
            customer_tier="gold",
            payload={"secret": "card 4111"},
        )
        for n in range(tasks)
    ]
    results = await Tasks(pool).create_many(items, "test")
    if window is not None:
        await lend(pool, "dana", "ben", minutes=window)
    return [r.task.id for r in results if r.task is not None]
