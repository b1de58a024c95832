"""Zendesk Support: tickets delivered by a webhook that a trigger calls, written back through
the Tickets API.

Zendesk signs each request with the webhook's signing secret:
``X-Zendesk-Webhook-Signature`` is base64(HMAC-SHA256(``X-Zendesk-Webhook-Signature-Timestamp``
followed by the body)); a timestamp more than five minutes from our clock is refused. The body
is the JSON the trigger's template makes (the README gives it): ``{"ticket": {...}}``. A ticket
whose status is solved or closed closes its task. The delivery id is Zendesk's invocation id
when sent, else the body's digest (a retry repeats the body).

The write-back is ``PUT /api/v2/tickets/{id}`` with basic authentication
(``{email}/token:{api_token}``): an internal comment saying what happened, and the status that
``write_back.statuses`` names for the event (by default open when claimed, solved when
completed). Zendesk documents its ``Idempotency-Key`` header for creating tickets only, not for
updating one, so the comment ends with a ``blendbot ref: <key>`` line instead: a retry after a
try that may have reached Zendesk first lists the ticket's comments
(``GET /api/v2/tickets/{id}/comments``, newest first) and, finding it, knows the update (comment
and status, one request) was applied and sends nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import aiohttp

from task_sources.connector import (
    Action,
    Connector,
    Delivery,
    SourceConfig,
    WriteBack,
    basic_auth,
    check_response,
    digest,
    get_json,
    hmac_sha256,
    json_object,
    same,
)
from task_sources.errors import InvalidSource, Retryable, SourceAuthFailed, Unreadable
from task_sources.webhook import check_timestamp

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
INVOCATION_HEADER = "X-Zendesk-Webhook-Invocation-Id"
CLOSED = frozenset({"solved", "closed", "deleted"})
PAGE = 100
"""Comments read per page (Zendesk's most) when looking for one a lost answer left."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, timestamp.encode(), body)).decode()


def timestamp_header(at: datetime) -> str:
    """The timestamp as Zendesk sends it: ISO 8601 in UTC, to the second."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(value: str) -> str:
    """Zendesk's ISO 8601 timestamp as Unix seconds (text), or the value unchanged."""
    try:
        return str(int(datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return value


class Zendesk(Connector):
    kind = "zendesk"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "external_id": "string(event.ticket.id)",
        "type": '"zendesk_ticket"',
        "title": "event.ticket.title",
        "customer_ref": (
            'has(event.ticket.requester_id) && string(event.ticket.requester_id) != "" '
            "? string(event.ticket.requester_id) : null"
        ),
        "customer_tier": (
            'has(event.ticket.priority) && event.ticket.priority != "" '
            "? event.ticket.priority : null"
        ),
        "due_at": (
            'has(event.ticket.due_date) && event.ticket.due_date != "" '
            "? event.ticket.due_date : null"
        ),
        "payload": (
            '{"ticket_id": string(event.ticket.id), '
            '"url": has(event.ticket.url) ? event.ticket.url : ""}'
        ),
    }
    default_write_back: ClassVar[Mapping[str, Any]] = {
        "statuses": {"claimed": "open", "completed": "solved"},
    }
    remap_headers = ("content-type", INVOCATION_HEADER.lower())
    writes_back = True

    def check(self, source: SourceConfig) -> None:
        super().check(source)
        if source.write_back.get("events") and not {"email", "api_token"} <= set(
            source.credentials
        ):
            raise InvalidSource("credentials", "email and api_token are needed to write back")

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        check_timestamp(_seconds(stamp), now)
        expected = signature(source.secret or "", stamp, body)
        if not same(headers.get(SIGNATURE_HEADER.lower(), ""), expected):
            raise SourceAuthFailed("wrong signature")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        event = json_object(body)
        ticket = event.get("ticket")
        if not isinstance(ticket, dict):
            raise Unreadable('not a ticket: the body has no "ticket" object')
        delivery = headers.get(INVOCATION_HEADER.lower(), "").strip()[:200] or digest(body)
        status = str(ticket.get("status", "")).lower()
        action: Action = "close" if status in CLOSED else "upsert"
        return [Delivery(delivery, event, action)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        ticket: dict[str, Any] = {"comment": {"body": event.note(), "public": False}}
        status = (source.setting("statuses", self.default_write_back) or {}).get(event.event)
        if status:
            ticket["status"] = status
        ticket_id = event.payload.get("ticket_id") or event.external_id
        url = f"{(source.api_url or '').rstrip('/')}/api/v2/tickets/{ticket_id}"
        user = f"{source.credentials.get('email', '')}/token"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": basic_auth(user, source.credentials.get("api_token", "")),
        }
        if event.attempt > 1:
            found = await _comment_of(http, url, headers, event)
            if found is not None:  # an earlier try's update was applied: its answer was lost
                event.progress.mark("update", found)
                return
        body = json.dumps({"ticket": ticket})
        try:
            async with http.put(url, data=body, headers=headers) as response:
                await check_response(response, f"PUT {url}")
        except aiohttp.ClientError as exc:
            raise Retryable(f"PUT {url}: {type(exc).__name__}: {exc}") from None
        event.progress.mark("update")


async def _comment_of(
    http: aiohttp.ClientSession, ticket_url: str, headers: Mapping[str, str], event: WriteBack
) -> str | None:
    """The id of the ticket's comment carrying ``event``'s reference, newest first through
    every page (cursor pagination); ``None`` when there is none."""
    url: str | None = f"{ticket_url}/comments"
    params: dict[str, str] | None = {"sort_order": "desc", "page[size]": str(PAGE)}
    while url is not None:
        page = await get_json(http, url, headers, params)
        if not isinstance(page, dict):
            return None
        for comment in page.get("comments") or []:
            if not isinstance(comment, dict):
                continue
            text = comment.get("plain_body") or comment.get("body") or ""
            if isinstance(text, str) and event.reference in text:
                return str(comment.get("id") or "") or "found"
        more = (page.get("meta") or {}).get("has_more")
        following = (page.get("links") or {}).get("next")
        url = following if more and isinstance(following, str) and following else None
        params = None  # the next link carries them
    return None
