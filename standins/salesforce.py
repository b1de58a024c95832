"""A stand-in for Salesforce, for the tests and the benchmarks: the outbound messages it sends,
and the parts of its REST API that blendbot's write-back calls, checked as documented.

- ``POST /services/oauth2/token``: the client credentials flow (form-encoded ``grant_type=
  client_credentials``, ``client_id``, ``client_secret``); answers ``access_token``,
  ``instance_url`` and ``token_type: Bearer``; wrong credentials get 400 ``invalid_client``.
- ``PATCH /services/data/vNN.N/sobjects/Case/{id}``: bearer token (401 ``INVALID_SESSION_ID``
  when unknown or expired), a JSON object of writable Case fields (400 ``INVALID_FIELD``), a
  ``Status`` among the org's picklist values (400), an existing Case (404 ``NOT_FOUND``);
  answers 204.
- ``POST /services/data/vNN.N/sobjects/CaseComment``: ``ParentId`` of an existing Case,
  ``CommentBody`` (required, at most 4,000 characters), ``IsPublished`` (a boolean); answers
  201 with the new id.
- ``GET /services/data/vNN.N/query?q=``: the one SOQL query blendbot makes, ``SELECT Id FROM
  CaseComment WHERE ParentId = '...' AND CommentBody LIKE '...'`` (optionally ``LIMIT n``),
  its string literals read with SOQL's escape sequences (a stray quote or backslash is 400
  ``MALFORMED_QUERY``) and ``LIKE``'s wildcards (``%``, ``_``, escaped ``\\%``, ``\\_``, case
  insensitive); answers ``totalSize``, ``done`` and the ``records``.

``script`` answers the next well-formed API requests instead (a 503, a 429, a change applied
whose answer is lost, ...).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from standins.answers import LOST, Answer, lost_or

STATUSES = ("New", "Working", "Escalated", "Closed")
CASE_FIELDS = {"Status", "Priority", "Subject", "Description", "Origin", "Reason", "OwnerId"}
COMMENT_FIELDS = {"ParentId", "CommentBody", "IsPublished"}
_VERSION = re.compile(r"^v\d{2,3}\.\d$")
_LITERAL = r"'((?:[^'\\]|\\.)*)'"
_COMMENT_QUERY = re.compile(
    r"^SELECT Id FROM CaseComment WHERE ParentId = "
    + _LITERAL
    + r" AND CommentBody LIKE "
    + _LITERAL
    + r"(?: LIMIT (\d+))?$"
)
_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


def _unquote(literal: str, *, like: bool = False) -> str | None:
    """A SOQL string literal's value (``LIKE``: as a regular expression), or ``None`` when it
    has an escape SOQL does not define."""
    out = []
    chars = iter(literal)
    for char in chars:
        if char != "\\":
            if like and char == "%":
                out.append(".*")
            elif like and char == "_":
                out.append(".")
            else:
                out.append(re.escape(char) if like else char)
            continue
        escaped = next(chars, "")
        if like and escaped and escaped in "%_":
            out.append(re.escape(escaped))
        elif escaped in _ESCAPES:
            out.append(re.escape(_ESCAPES[escaped]) if like else _ESCAPES[escaped])
        else:
            return None
    return "".join(out)


def outbound_message(
    organization_id: str,
    notifications: Sequence[tuple[str, Mapping[str, str | None]]],
    *,
    sobject: str = "Case",
    action_id: str = "04k5e000000CaRkAAK",
    instance: str = "https://example.my.salesforce.com",
) -> bytes:
    """A SOAP outbound message as Salesforce sends it: ``(notification id, fields)`` each."""
    items = []
    for nid, fields in notifications:
        values = "".join(
            f'<sf:{name} xsi:nil="true"/>'
            if value is None
            else f"<sf:{name}>{escape(value)}</sf:{name}>"
            for name, value in fields.items()
        )
        items.append(
            f"<Notification><Id>{escape(nid)}</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f"{values}</sObject></Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{escape(organization_id)}</OrganizationId>"
        f"<ActionId>{escape(action_id)}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>{instance}/services/Soap/c/62.0/{organization_id}</EnterpriseUrl>"
        f"<PartnerUrl>{instance}/services/Soap/u/62.0/{organization_id}</PartnerUrl>"
        + "".join(items)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


@dataclass
class Comment:
    id: str
    parent_id: str
    body: str
    published: bool


@dataclass
class SalesforceApi:
    client_id: str
    client_secret: str
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The org's Cases by id, with their fields."""
    comments: list[Comment] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    """Every SOQL query answered."""
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    refused: list[str] = field(default_factory=list)
    """Why each refused request was refused."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_patch("/services/data/{version}/sobjects/Case/{id}", self._patch_case)
        app.router.add_post("/services/data/{version}/sobjects/CaseComment", self._comment)
        app.router.add_get("/services/data/{version}/query", self._query)
        return app

    def expire_tokens(self) -> None:
        """The sessions time out: every token issued so far is refused from now on."""
        self.tokens.clear()

    def _error(self, status: int, code: str, message: str) -> web.Response:
        self.refused.append(f"{status} {code}: {message}")
        return web.json_response([{"message": message, "errorCode": code}], status=status)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            self.refused.append("400 unsupported_grant_type")
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            self.refused.append("400 invalid_client")
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status=400,
            )
        token = "00D!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.token_requests += 1
        base = f"{request.scheme}://{request.host}"
        return web.json_response(
            {"access_token": token, "instance_url": base, "token_type": "Bearer", "scope": "api"}
        )

    def _refused(self, request: web.Request) -> web.Response | None:
        """The refusal of an unknown API version or session, if due."""
        if not _VERSION.match(request.match_info["version"]):
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def _scripted(self, request: web.Request) -> web.Response | None:
        """The next scripted answer, if it replaces the request's (an ``applied`` one is kept
        for :func:`~standins.answers.lost_or`)."""
        if not self.script:
            return None
        answer = self.script.pop(0)
        if answer.applied:
            request[LOST] = answer
            return None
        if answer.drop or not 200 <= answer.status < 300:
            return answer.response(request)
        return None

    async def _api_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, or the refusal Salesforce answers."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return self._error(415, "UNSUPPORTED_MEDIA_TYPE", "JSON bodies only")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self._error(400, "JSON_PARSER_ERROR", "The body is not JSON")
        if not isinstance(body, dict):
            return self._error(400, "JSON_PARSER_ERROR", "An object is expected")
        scripted = self._scripted(request)
        return scripted if scripted is not None else body

    async def _patch_case(self, request: web.Request) -> web.Response:
        body = await self._api_body(request)
        if isinstance(body, web.Response):
            return body
        unknown = sorted(set(body) - CASE_FIELDS)
        if unknown:
            return self._error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on Case")
        if "Status" in body and body["Status"] not in STATUSES:
            return self._error(
                400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", f"Status: {body['Status']!r}"
            )
        case = self.cases.get(request.match_info["id"])
        if case is None:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        case.update(body)
        return await lost_or(request, web.Response(status=204))

    async def _comment(self, request: web.Request) -> web.Response:
        body = await self._api_body(request)
        if isinstance(body, web.Response):
            return body
        unknown = sorted(set(body) - COMMENT_FIELDS)
        if unknown:
            return self._error(400, "INVALID_FIELD", f"No such column '{unknown[0]}'")
        text = body.get("CommentBody")
        if not isinstance(text, str) or not text.strip():
            return self._error(400, "REQUIRED_FIELD_MISSING", "CommentBody")
        if len(text) > 4000:
            return self._error(400, "STRING_TOO_LONG", "CommentBody: at most 4000 characters")
        if "IsPublished" in body and not isinstance(body["IsPublished"], bool):
            return self._error(400, "JSON_PARSER_ERROR", "IsPublished: a boolean")
        if body.get("ParentId") not in self.cases:
            return self._error(400, "FIELD_INTEGRITY_EXCEPTION", "ParentId: no such Case")
        comment = Comment(
            f"00a{len(self.comments):015d}",
            str(body["ParentId"]),
            text,
            bool(body.get("IsPublished", False)),
        )
        self.comments.append(comment)
        made = {"id": comment.id, "success": True, "errors": []}
        return await lost_or(request, web.json_response(made, status=201))

    async def _query(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        soql = request.query.get("q", "")
        found = _COMMENT_QUERY.match(soql)
        parent = _unquote(found[1]) if found else None
        pattern = _unquote(found[2], like=True) if found else None
        if found is None or parent is None or pattern is None:
            return self._error(400, "MALFORMED_QUERY", f"unexpected query: {soql[:200]}")
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        self.queries.append(soql)
        like = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        records = [
            {"attributes": {"type": "CaseComment"}, "Id": c.id}
            for c in self.comments
            if c.parent_id == parent and like.fullmatch(c.body)
        ]
        if found[3] is not None:
            records = records[: int(found[3])]
        return web.json_response({"totalSize": len(records), "done": True, "records": records})
