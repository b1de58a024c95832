"""ServiceNow: records posted by a business rule or an outbound REST message, written back
through the Table API.

ServiceNow authenticates with the credential we issue: ``Authorization: Bearer <secret>``, or
basic authentication with the source's name as the user and the secret as the password. The
body is the JSON the business rule builds (the README gives it): the record's ``sys_id``,
``number``, ``table``, ``short_description``, ``priority``, ``state``, ``active``, and the
``sys_mod_count`` that makes each change's delivery id (``table:sys_id:sys_mod_count``). An
inactive record (resolved, closed, canceled) or ``"operation": "delete"`` closes its task.

The write-back is ``PATCH /api/now/table/{table}/{sys_id}`` with ``work_notes`` saying what
happened and the ``state`` that ``write_back.states`` names for the event (by default 2, in
progress, when claimed; 6, resolved, when completed, with ``close_code`` and
``close_notes``), as basic authentication (``user``, ``password``) or a bearer ``token``.
ServiceNow takes no idempotency key, and each PATCH of ``work_notes`` adds a journal entry, so
the note ends with a ``blendbot ref: <key>`` line: a retry after a try that may have reached
ServiceNow first looks for it in the journal (``GET /api/now/table/sys_journal_field``) and,
finding it, knows the PATCH was applied and sends nothing.
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
    json_object,
    same,
)
from task_sources.errors import (
    InvalidSource,
    Permanent,
    Retryable,
    SourceAuthFailed,
    Unreadable,
)

INACTIVE = frozenset({"false", "0"})


class ServiceNow(Connector):
    kind = "servicenow"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "external_id": "event.number",
        "type": '"servicenow_" + event.table',
        "title": "event.number + ': ' + event.short_description",
        "customer_ref": ('has(event.caller_id) && event.caller_id != "" ? event.caller_id : null'),
        "customer_tier": ('has(event.priority) && event.priority in ["1", "2"] ? "urgent" : null'),
        "payload": '{"sys_id": event.sys_id, "table": event.table, "number": event.number}',
    }
    default_write_back: ClassVar[Mapping[str, Any]] = {
        "states": {"claimed": "2", "completed": "6"},
        "close_code": "Solution provided",
    }
    writes_back = True

    def check(self, source: SourceConfig) -> None:
        super().check(source)
        creds = set(source.credentials)
        if source.write_back.get("events") and not (
            {"user", "password"} <= creds or "token" in creds
        ):
            raise InvalidSource(
                "credentials", "user and password, or token, are needed to write back"
            )

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        given = headers.get("authorization", "")
        secret = source.secret or ""
        if not (same(given, f"Bearer {secret}") or same(given, basic_auth(source.name, secret))):
            raise SourceAuthFailed("wrong or missing credential")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        event = json_object(body)
        if not isinstance(event.get("sys_id"), str) or not isinstance(event.get("table"), str):
            raise Unreadable("not a record: the body needs sys_id and table")
        count = event.get("sys_mod_count")
        delivery = (
            f"{event['table']}:{event['sys_id']}:{count}"[:200]
            if count is not None
            else digest(body)
        )
        if event.get("operation") == "delete":
            delivery += ":delete"
        closed = str(event.get("active", "true")).lower() in INACTIVE
        action: Action = "close" if closed or event.get("operation") == "delete" else "upsert"
        return [Delivery(delivery, event, action)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        table = event.payload.get("table") or source.write_back.get("table", "incident")
        sys_id = event.payload.get("sys_id") or event.external_id
        api = (source.api_url or "").rstrip("/")
        url = f"{api}/api/now/table/{table}/{sys_id}"
        fields: dict[str, Any] = {"work_notes": event.note()}
        state = (source.setting("states", self.default_write_back) or {}).get(event.event)
        if state:
            fields["state"] = str(state)
        if event.event == "completed":
            fields["close_code"] = source.setting("close_code", self.default_write_back)
            fields["close_notes"] = event.summary()
        creds = source.credentials
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if "token" in creds:
            headers["Authorization"] = f"Bearer {creds['token']}"
        else:
            headers["Authorization"] = basic_auth(creds.get("user", ""), creds.get("password", ""))
        if event.attempt > 1:
            found = await _work_note_of(http, api, headers, str(table), str(sys_id), event)
            if found is not None:  # an earlier try's update was applied: its answer was lost
                event.progress.mark("update", found)
                return
        try:
            async with http.patch(url, data=json.dumps(fields), headers=headers) as response:
                await check_response(response, f"PATCH {url}")
        except aiohttp.ClientError as exc:
            raise Retryable(f"PATCH {url}: {type(exc).__name__}: {exc}") from None
        event.progress.mark("update")


async def _work_note_of(
    http: aiohttp.ClientSession,
    api: str,
    headers: Mapping[str, str],
    table: str,
    sys_id: str,
    event: WriteBack,
) -> str | None:
    """The ``sys_id`` of the record's work note carrying ``event``'s idempotency key, from the
    journal (``sys_journal_field``); ``None`` when there is none. The key holds only letters,
    digits and ``_.-`` (a source's name and a number), nothing an encoded query reads."""
    query = "^".join(
        (
            f"name={table}",
            f"element_id={sys_id}",
            "element=work_notes",
            f"valueLIKE{event.idempotency_key}",
        )
    )
    params = {"sysparm_query": query, "sysparm_fields": "sys_id", "sysparm_limit": "1"}
    try:
        found = await get_json(http, f"{api}/api/now/table/sys_journal_field", headers, params)
    except Permanent as exc:
        raise Permanent(
            f"{exc} (the integration user must be able to read sys_journal_field, where a retry "
            "looks for the work note an earlier try may have left)"
        ) from None
    rows = found.get("result") if isinstance(found, dict) else None
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return None
    return str(rows[0].get("sys_id") or "") or "found"
