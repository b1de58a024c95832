"""Jira Cloud: issues delivered by a webhook, written back through the REST API v3.

Jira signs each webhook with its secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the
body>``. The body is Jira's: ``webhookEvent`` (``jira:issue_created``, ``jira:issue_updated``,
``jira:issue_deleted``) and the ``issue``. A deleted issue, or one whose status is in the done
category, closes its task; other events are ignored. The delivery id is
``X-Atlassian-Webhook-Identifier`` (the same on Jira's retries), else the body's digest.

The write-back, with basic authentication (``email`` and ``api_token``): a comment
(``POST /rest/api/3/issue/{key}/comment``, in Atlassian Document Format) unless
``write_back.comment`` is false, then, when ``write_back.transitions`` names a transition id
for the event, ``POST /rest/api/3/issue/{key}/transitions``. Jira takes no idempotency key, so
each call is made once per event: the outbox keeps which one went through when the next fails
(the retry starts after it), and the comment ends with a ``blendbot ref: <key>`` line that a
retry looks for (``GET .../comment``, newest first, every page) before posting it again, in case
the comment was stored but its answer lost.
"""

from __future__ import annotations

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

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "jira:issue_deleted"})
PAGE = 100
"""Comments read per page when looking for one a lost answer left."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac_sha256(secret, body).hex()


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document, one paragraph per line."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in text.splitlines()
            if line
        ],
    }


class Jira(Connector):
    kind = "jira"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "external_id": "event.issue.key",
        "type": '"jira_issue"',
        "title": "event.issue.key + ': ' + event.issue.fields.summary",
        "customer_tier": (
            "has(event.issue.fields.priority) && event.issue.fields.priority != null "
            "? event.issue.fields.priority.name : null"
        ),
        "due_at": (
            "has(event.issue.fields.duedate) && event.issue.fields.duedate != null "
            '? timestamp(event.issue.fields.duedate + "T17:00:00Z") : null'
        ),
        "payload": (
            '{"key": event.issue.key, "id": event.issue.id, '
            '"project": event.issue.fields.project.key}'
        ),
    }
    default_write_back: ClassVar[Mapping[str, Any]] = {"comment": True, "transitions": {}}
    remap_headers = ("content-type", DELIVERY_HEADER.lower())
    writes_back = True

    def check(self, source: SourceConfig) -> None:
        super().check(source)
        if source.write_back.get("events") and not {"email", "api_token"} <= set(
            source.credentials
        ):
            raise InvalidSource("credentials", "email and api_token are needed to write back")
        transitions = source.write_back.get("transitions", {})
        if not isinstance(transitions, dict) or not all(
            isinstance(v, str) and v.isdigit() for v in transitions.values()
        ):
            raise InvalidSource(
                "write_back.transitions", 'a transition id per event, e.g. {"completed": "31"}'
            )

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        expected = signature(source.secret or "", body)
        if not same(headers.get(SIGNATURE_HEADER.lower(), ""), expected):
            raise SourceAuthFailed("wrong signature")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        event = json_object(body)
        kind = event.get("webhookEvent")
        if kind not in EVENTS:
            return []
        issue = event.get("issue")
        if not isinstance(issue, dict):
            raise Unreadable('not an issue event: the body has no "issue" object')
        delivery = headers.get(DELIVERY_HEADER.lower(), "").strip()[:200] or digest(body)
        status = (issue.get("fields") or {}).get("status") or {}
        done = (status.get("statusCategory") or {}).get("key") == "done"
        action: Action = "close" if kind == "jira:issue_deleted" or done else "upsert"
        return [Delivery(delivery, event, action)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        key = event.payload.get("key") or event.external_id
        base = f"{(source.api_url or '').rstrip('/')}/rest/api/3/issue/{key}"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": basic_auth(
                source.credentials.get("email", ""), source.credentials.get("api_token", "")
            ),
        }
        done = event.progress
        if source.setting("comment", self.default_write_back) and "comment" not in done:
            found = await _comment_of(http, base, headers, event) if event.attempt > 1 else None
            if found is None:
                answer = await _post(http, f"{base}/comment", {"body": adf(event.note())}, headers)
                found = str(answer.get("id") or "posted")
            done.mark("comment", found)
        transition = (source.setting("transitions", self.default_write_back) or {}).get(event.event)
        if transition and "transition" not in done:
            body = {"transition": {"id": str(transition)}}
            await _post(http, f"{base}/transitions", body, headers)
            done.mark("transition")


async def _post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    """POST ``body``; the answer's JSON object (empty when there is none)."""
    try:
        async with http.post(url, data=json.dumps(body), headers=headers) as response:
            await check_response(response, f"POST {url}")
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                return {}
    except aiohttp.ClientError as exc:
        raise Retryable(f"POST {url}: {type(exc).__name__}: {exc}") from None
    return answer if isinstance(answer, dict) else {}


async def _comment_of(
    http: aiohttp.ClientSession, base: str, headers: Mapping[str, str], event: WriteBack
) -> str | None:
    """The id of the issue's comment carrying ``event``'s reference (left by a try whose answer
    was lost), newest first, through every page; ``None`` when there is none."""
    start = 0
    while True:
        params = {"startAt": str(start), "maxResults": str(PAGE), "orderBy": "-created"}
        page = await get_json(http, f"{base}/comment", headers, params)
        comments = page.get("comments") if isinstance(page, dict) else None
        if not isinstance(comments, list) or not comments:
            return None
        for comment in comments:
            if isinstance(comment, dict) and event.reference in "\n".join(
                _texts(comment.get("body"))
            ):
                return str(comment.get("id") or "") or "found"
        start += len(comments)
        total = page.get("total")
        if isinstance(total, int) and start >= total:
            return None


def _texts(node: Any) -> list[str]:
    """The text of an Atlassian Document Format node, one string per text node."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        text = node.get("text")
        return ([text] if isinstance(text, str) else []) + _texts(node.get("content"))
    if isinstance(node, list):
        return [t for child in node for t in _texts(child)]
    return []
