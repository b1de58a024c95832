"""A stand-in for ServiceNow's Table API, for the tests, as ServiceNow documents it, with basic
authentication or a bearer token:

- ``PATCH /api/now/table/{table}/{sys_id}``: a JSON object of the record's fields (only fields
  the table has); ``work_notes`` adds an entry to the record's journal.
- ``GET /api/now/table/sys_journal_field``: the journal's entries (``name`` the table,
  ``element_id`` the record, ``element`` the journal field, ``value`` the text) that
  ``sysparm_query`` picks, an encoded query of ``field=value`` and ``fieldLIKEtext``
  conditions joined by ``^``; ``sysparm_fields`` and ``sysparm_limit`` as documented. A query
  naming another field or operator is refused (400), where ServiceNow would quietly ignore it.

Unknown records are 404."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.answers import lost_or
from standins.vendor_api import VendorApi

FIELDS = frozenset({"state", "work_notes", "close_code", "close_notes", "comments"})
JOURNAL_FIELDS = frozenset({"sys_id", "name", "element_id", "element", "value"})
_CONDITION = re.compile(r"^([a-z_]+)(=|LIKE)(.*)$", re.DOTALL)


@dataclass
class ServiceNow(VendorApi):
    user: str = "blendbot.integration"
    password: str = "sn-password"  # noqa: S105 (the stand-in's own test password)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Every work note added, oldest first."""
    journal: list[dict[str, str]] = field(default_factory=list)
    """The ``sys_journal_field`` rows of the work notes."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/now/table/sys_journal_field", self._journal)
        app.router.add_patch("/api/now/table/{table}/{sys_id}", self._patch)
        return app

    def _allowed(self, request: web.Request) -> bool:
        wanted = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {wanted}"

    async def _patch(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "User Not Authenticated")
        key = (request.match_info["table"], request.match_info["sys_id"])
        body = await self.body(request)
        if body is None or not set(body) <= FIELDS:
            return self.refuse(400, "Invalid fields")
        if key not in self.records:
            return self.refuse(404, "No Record found")
        scripted = self.answer(request, body)
        if scripted is not None:
            return scripted
        if "work_notes" in body:
            self.notes.append(str(body["work_notes"]))
            self.journal.append(
                {
                    "sys_id": secrets.token_hex(16),
                    "name": key[0],
                    "element_id": key[1],
                    "element": "work_notes",
                    "value": str(body["work_notes"]),
                }
            )
        self.records[key].update({k: v for k, v in body.items() if k != "work_notes"})
        answer = {"result": {"sys_id": key[1], **self.records[key]}}
        return await lost_or(request, web.json_response(answer))

    async def _journal(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return self.refuse(401, "User Not Authenticated")
        query = request.query
        conditions = []
        for part in query.get("sysparm_query", "").split("^"):
            found = _CONDITION.match(part) if part else None
            if found is None or found[1] not in JOURNAL_FIELDS:
                return self.refuse(400, f"Invalid query condition {part!r}")
            conditions.append((found[1], found[2], found[3]))
        fields = [f for f in query.get("sysparm_fields", "").split(",") if f] or sorted(
            JOURNAL_FIELDS
        )
        try:
            limit = int(query.get("sysparm_limit", "10000"))
        except ValueError:
            return self.refuse(400, "sysparm_limit is a number")
        if not set(fields) <= JOURNAL_FIELDS or limit < 1:
            return self.refuse(400, "Invalid sysparm_fields or sysparm_limit")
        scripted = self.answer(request, {}, read=True)
        if scripted is not None:
            return scripted
        rows = [
            {f: row[f] for f in fields}
            for row in self.journal
            if all(
                (row[name] == value if op == "=" else value.lower() in row[name].lower())
                for name, op, value in conditions
            )
        ]
        return web.json_response({"result": rows[:limit]})
