"""A stand-in for ServiceNow's Table API, for the tests: ``PATCH /api/now/table/{table}/
{sys_id}`` with basic authentication or a bearer token, a JSON object of the record's fields
(only fields the table has), as ServiceNow documents it. Unknown records are 404."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.vendor_api import VendorApi

FIELDS = frozenset({"state", "work_notes", "close_code", "close_notes", "comments"})


@dataclass
class ServiceNow(VendorApi):
    user: str = "blendbot.integration"
    password: str = "sn-password"  # noqa: S105 (the stand-in's own test password)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_patch("/api/now/table/{table}/{sys_id}", self._patch)
        return app

    async def _patch(self, request: web.Request) -> web.Response:
        wanted = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {wanted}":
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
        self.records[key].update({k: v for k, v in body.items() if k != "work_notes"})
        return web.json_response({"result": {"sys_id": key[1], **self.records[key]}})
