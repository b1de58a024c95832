"""Replay knows its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from telephony_adapters.errors import AdapterError
from telephony_adapters.replay import Target, replay


async def test_replay_refuses_unknown_sources(tmp_path: Path) -> None:
    recording = tmp_path / "x.jsonl"
    recording.write_text("{}\n")
    with pytest.raises(AdapterError, match="unknown source"):
        await replay(recording, source="avaya", target=Target("http://127.0.0.1:1"))
