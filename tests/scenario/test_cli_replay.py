"""``blendbot replay`` from the command line, into the running service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import AUTH, TOKEN
from tests.support.cli import blendbot


async def test_replay_sends_a_recording_into_the_service(
    client: TestClient[Any, Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    events = [
        {
            "type": "call_arrived",
            "event_id": f"a{n}",
            "at": f"2026-11-23T09:0{n}:00Z",
            "queue": "billing",
            "call_id": f"c{n}",
        }
        for n in range(5)
    ]
    recording = tmp_path / "day.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in events))
    url = str(client.make_url("")).rstrip("/")
    env = {**cli_env, "BLENDBOT_API_TOKENS": TOKEN}
    result = await asyncio.to_thread(
        blendbot,
        env,
        "replay",
        str(recording),
        "--source",
        "generic",
        "--speed",
        "1e9",
        "--url",
        url,
    )
    assert result.returncode == 0, result.stderr
    assert "sent 5 payloads" in result.stdout
    response = await client.get(
        "/api/v1/queues/billing/intervals?from=2026-11-23T09:00:00Z&to=2026-11-23T10:00:00Z",
        headers=AUTH,
    )
    assert response.status == 200
    body = await response.json()
    assert sum(row["offered"] for row in body["items"]) == 5
