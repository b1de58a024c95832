"""The generic webhook: any system that can sign a JSON body.

A delivery is ``POST /sources/{name}/events`` with a JSON object, the record, and two headers:
``X-Blendbot-Timestamp`` (Unix seconds) and ``X-Blendbot-Signature: sha256=<hex>``, the
HMAC-SHA256 under the source's secret of the timestamp's digits followed by the body's bytes. A
timestamp more than five minutes from our clock is refused (a replayed old delivery). The
optional ``X-Blendbot-Delivery`` names the delivery (the same on every retry of it; unset: the
body's digest); ``"action": "close"`` in the body closes the record's task.

The write-back is a ``POST`` of the event to the source's ``api_url``, signed the same way, with
``Idempotency-Key`` (one per event: a receiver drops a repeat).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

import aiohttp

from task_sources.connector import (
    Action,
    Connector,
    Delivery,
    SourceConfig,
    WriteBack,
    check_response,
    digest,
    hmac_sha256,
    json_object,
    same,
)
from task_sources.errors import Retryable, SourceAuthFailed

TIMESTAMP_HEADER = "X-Blendbot-Timestamp"
SIGNATURE_HEADER = "X-Blendbot-Signature"
DELIVERY_HEADER = "X-Blendbot-Delivery"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp`` (Unix seconds, text)."""
    return "sha256=" + hmac_sha256(secret, timestamp.encode(), body).hex()


def signed_headers(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    """The headers that sign ``body`` (for senders, the stand-ins and the tests)."""
    timestamp = str(int(time.time() if at is None else at))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def check_timestamp(value: str, now: datetime, tolerance: float = TOLERANCE_SECONDS) -> None:
    """Refuse a missing, unreadable or stale signing timestamp (Unix seconds)."""
    if not value.isascii() or not value.strip().isdigit() or len(value.strip()) > 12:
        raise SourceAuthFailed("missing or unreadable signature timestamp")
    if abs(now.timestamp() - int(value)) > tolerance:
        raise SourceAuthFailed("stale signature timestamp: more than five minutes off")


class Webhook(Connector):
    kind = "webhook"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "external_id": "event.id",
        "type": "event.type",
        "title": "event.title",
        "customer_ref": "has(event.customer_ref) ? event.customer_ref : null",
        "customer_tier": "has(event.customer_tier) ? event.customer_tier : null",
        "value": "has(event.value) ? double(event.value) : null",
        "due_at": "has(event.due_at) ? event.due_at : null",
        "payload": "has(event.payload) ? event.payload : {}",
    }
    remap_headers = ("content-type", DELIVERY_HEADER.lower())
    writes_back = True

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        check_timestamp(timestamp, now)
        expected = signature(source.secret or "", timestamp.strip(), body)
        if not same(headers.get(SIGNATURE_HEADER.lower(), ""), expected):
            raise SourceAuthFailed("wrong signature")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        event = json_object(body)
        delivery = headers.get(DELIVERY_HEADER.lower(), "").strip()[:200] or digest(body)
        action: Action = "close" if event.get("action") == "close" else "upsert"
        return [Delivery(delivery, event, action)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        body = json.dumps(
            {
                "event": event.event,
                "task_id": event.task_id,
                "external_id": event.external_id,
                "status": event.status,
                "actor": event.actor,
                "at": event.at,
                "outcome": event.outcome,
                "reason": event.reason,
                "step": event.step,
                "steps": event.steps,
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": event.idempotency_key,
            **signed_headers(source.secret or "", body),
        }
        url = source.api_url or ""
        try:
            async with http.post(url, data=body, headers=headers) as response:
                await check_response(response, f"POST {url}")
        except aiohttp.ClientError as exc:
            raise Retryable(f"POST {url}: {type(exc).__name__}: {exc}") from None
