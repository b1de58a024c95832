"""Replay a recorded feed into a running service, at N times real speed.

A recording is JSON lines, one payload per line in the source's own format: a normalized
event (generic), an agent or contact event record (amazon-connect), a callback's form
parameters (twilio), a notification message (genesys) or an AMI event as an object (ami). A
line may also be ``{"at": "<ISO 8601>", "payload": {...}}`` to give its time explicitly;
otherwise the time is read from the payload by the source's adapter. Lines due at the same
moment are sent together, each source through its own push endpoint and credentials.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from telephony_adapters import amazon_connect, asterisk, generic, genesys, twilio
from telephony_adapters.errors import AdapterError, MalformedPayload
from telephony_adapters.sources import SOURCES

BATCH = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Line:
    at: datetime | None
    payload: Any


@dataclass
class ReplayReport:
    sent: int = 0
    requests: int = 0
    failed: int = 0


def _time_of(source: str, payload: Any) -> datetime | None:
    try:
        if source == "generic":
            events = generic.parse([payload]).events
        elif source == "amazon-connect":
            events = amazon_connect.parse(payload).events
        elif source == "twilio":
            events = twilio.parse(payload).events
        elif source == "genesys":
            events = genesys.parse(payload, _EPOCH).events
        else:
            events = asterisk.parse(payload, _EPOCH).events
    except MalformedPayload:
        return None
    times = [e.at for e in events if e.at != _EPOCH]
    return min(times) if times else None


def read_recording(path: Path, source: str) -> list[Line]:
    if source not in SOURCES:
        raise AdapterError(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
    lines = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise AdapterError(f"{path}:{number}: not JSON: {exc}") from None
            if isinstance(value, dict) and set(value) == {"at", "payload"}:
                at = datetime.fromisoformat(str(value["at"]).replace("Z", "+00:00"))
                lines.append(Line(at, value["payload"]))
            else:
                lines.append(Line(_time_of(source, value), value))
    return lines


def moments(lines: Sequence[Line], speed: float) -> Iterable[tuple[float, list[Any]]]:
    """(seconds after the start, payloads) in order; a line without a time goes with the
    previous one."""
    start = next((line.at for line in lines if line.at is not None), None)
    due = 0.0
    group: list[Any] = []
    for line in lines:
        at = 0.0 if line.at is None or start is None else (line.at - start).total_seconds()
        offset = max(due, at / speed)
        if group and (offset > due or len(group) >= BATCH):
            yield due, group
            group = []
        due = offset
        group.append(line.payload)
    if group:
        yield due, group


@dataclass(frozen=True)
class Target:
    """Where and how to send: the service's base URL and each feed's credentials."""

    base_url: str
    token: str | None = None
    firehose_access_key: str | None = None
    twilio_auth_token: str | None = None
    public_url: str | None = None


async def _post(
    session: aiohttp.ClientSession, target: Target, source: str, payloads: list[Any]
) -> int:
    bearer = {"Authorization": f"Bearer {target.token}"} if target.token else {}
    base = target.base_url.rstrip("/")
    if source == "twilio":
        failed = 0
        validator = RequestValidator(target.twilio_auth_token or "")
        path = "/feeds/twilio/taskrouter"
        for form in payloads:
            signature = validator.compute_signature(f"{target.public_url or base}{path}", form)
            async with session.post(
                f"{base}{path}",
                data=urlencode(form),
                headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ) as response:
                failed += response.status >= 300
        return failed
    if source == "amazon-connect":
        request_id = str(uuid.uuid4())
        body = {
            "requestId": request_id,
            "timestamp": int(time.time() * 1000),
            "records": [
                {"data": base64.b64encode(json.dumps(p).encode()).decode()} for p in payloads
            ],
        }
        headers = {
            "X-Amz-Firehose-Request-Id": request_id,
            "X-Amz-Firehose-Access-Key": target.firehose_access_key or "",
            "X-Amz-Firehose-Protocol-Version": "1.0",
        }
        url = f"{base}/feeds/amazon-connect/firehose"
        async with session.post(url, json=body, headers=headers) as response:
            return len(payloads) if response.status != 200 else 0
    path = {"generic": "generic", "genesys": "genesys", "ami": "asterisk"}[source]
    async with session.post(
        f"{base}/feeds/{path}/events", json=payloads, headers=bearer
    ) as response:
        return len(payloads) if response.status != 200 else 0


async def replay(
    path: Path,
    *,
    source: str,
    target: Target,
    speed: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> ReplayReport:
    """Send the recording at ``path`` to ``target``; ``progress(sent, total)`` after each
    request."""
    if speed <= 0:
        raise AdapterError("speed must be positive")
    lines = await asyncio.to_thread(read_recording, path, source)
    report = ReplayReport()
    own = session is None
    http = session or aiohttp.ClientSession()
    started = time.monotonic()
    try:
        for due, payloads in moments(lines, speed):
            wait = due - (time.monotonic() - started)
            if wait > 0:
                await asyncio.sleep(wait)
            report.failed += await _post(http, target, source, payloads)
            report.sent += len(payloads)
            report.requests += 1
            if progress is not None:
                progress(report.sent, len(lines))
    finally:
        if own:
            await http.close()
    return report
