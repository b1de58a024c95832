"""Salesforce Outbound Messages: the SOAP ``notifications`` a workflow rule or flow sends.

One message carries up to 100 ``Notification`` elements, each a record (``sObject``) with the
fields the Outbound Message was set to send, under a notification id that stays the same on
every retry: that id is the delivery id. Salesforce retries a message it has no ``Ack`` for
during 24 hours, so notifications come repeated and out of order: each carries the record's
``SystemModstamp`` (or ``LastModifiedDate``), and one older than what was applied to the
record changes nothing. Salesforce signs nothing; the message names the organization it comes
from, which must be the source's ``credentials.organization_id`` (else 401).

The answer is the ``notificationsResponse`` with ``<Ack>true</Ack>`` once every notification
was applied or kept as a reject (nothing is lost, so Salesforce need not send it again).

The write-back uses the REST API with an OAuth token from the client credentials flow
(``credentials.client_id`` and ``client_secret`` of a connected app, at ``api_url``, the org's
My Domain): ``PATCH /services/data/vXX.X/sobjects/{object}/{id}`` sets the status the
``write_back.statuses`` name for the event, and on a Case a private ``CaseComment`` says what
happened. The REST API takes no idempotency key: the outbox keeps which of the two calls went
through when the other fails (a retry does not send it again), and the comment ends with a
``blendbot ref: <key>`` line that a retry after a try that may have reached Salesforce looks for
(a SOQL query on ``CaseComment``) before posting it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

import aiohttp
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from clock import retry_after
from task_sources.connector import (
    Connector,
    Delivery,
    Reply,
    SourceConfig,
    WriteBack,
    check_response,
)
from task_sources.errors import InvalidSource, Retryable, SourceAuthFailed, Unreadable
from task_sources.models import DeliveryOutcome

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
).encode()
API_VERSION = "62.0"
COMMENT_LENGTH = 4000
"""The longest ``CommentBody`` Salesforce takes."""


@dataclass(frozen=True)
class Notification:
    id: str
    object: str
    """The sObject's type (``Case``), from its ``xsi:type``."""
    fields: dict[str, str | None]
    """The fields sent, by API name; ``None`` for a nil one."""


@dataclass(frozen=True)
class Message:
    organization_id: str
    action_id: str
    enterprise_url: str | None
    partner_url: str | None
    notifications: list[Notification]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element) -> str | None:
    if element.get(f"{{{XSI}}}nil") == "true":
        return None
    return (element.text or "").strip()


def _child(parent: Element, name: str) -> Element | None:
    return parent.find(f"{{{OUTBOUND}}}{name}")


def _notifications(body: bytes) -> tuple[Element, str]:
    """The ``notifications`` element and its organization id (:class:`Unreadable` saying why
    not). No DTD, entity or external reference is expanded."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise Unreadable(f"the body is not XML: {exc}") from None
    found = root.find(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise Unreadable("not a SOAP envelope with Salesforce outbound notifications")
    org = _child(found, "OrganizationId")
    if org is None or not _text(org):
        raise Unreadable("the notifications have no OrganizationId")
    return found, _text(org) or ""


def parse(body: bytes) -> Message:
    """Read an outbound message (:class:`Unreadable` saying why not)."""
    found, org = _notifications(body)
    action = _child(found, "ActionId")
    elements = found.findall(f"{{{OUTBOUND}}}Notification")
    if len(elements) > MAX_NOTIFICATIONS:
        raise Unreadable(f"{len(elements)} notifications: Salesforce sends at most 100")
    notifications = []
    for element in elements:
        nid = _child(element, "Id")
        record = _child(element, "sObject")
        if nid is None or not _text(nid) or record is None:
            raise Unreadable("a Notification without its Id or sObject")
        kind = (record.get(f"{{{XSI}}}type") or "sObject").rsplit(":", 1)[-1]
        fields = {_local(f.tag): _text(f) for f in record}
        notifications.append(Notification(_text(nid) or "", kind, fields))
    enterprise, partner = _child(found, "EnterpriseUrl"), _child(found, "PartnerUrl")
    return Message(
        organization_id=org,
        action_id=(_text(action) or "") if action is not None else "",
        enterprise_url=_text(enterprise) if enterprise is not None else None,
        partner_url=_text(partner) if partner is not None else None,
        notifications=notifications,
    )


def same_org(given: str, configured: str) -> bool:
    """Organization ids match: an 18-character id and its 15-character form are the same."""
    if len(given) == len(configured):
        return given == configured
    return len(given) >= 15 and len(configured) >= 15 and given[:15] == configured[:15]


def modified(fields: Mapping[str, str | None]) -> datetime | None:
    """The record's last change: ``SystemModstamp``, else ``LastModifiedDate``."""
    for name in ("SystemModstamp", "LastModifiedDate"):
        value = fields.get(name)
        if value:
            try:
                stamp = datetime.fromisoformat(value)
            except ValueError:
                continue
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return None


def _present(field: str) -> str:
    return f"has(event.sObject.{field}) && event.sObject.{field} != null"


class Salesforce(Connector):
    kind = "salesforce"
    default_mapping: ClassVar[Mapping[str, str]] = {
        "external_id": "event.sObject.Id",
        "type": (
            'event.sObjectType == "Case" ? "salesforce_case" : "salesforce_" + event.sObjectType'
        ),
        "title": (
            f"{_present('Subject')} ? event.sObject.Subject : "
            f"({_present('CaseNumber')} ? event.sObjectType + ' ' + event.sObject.CaseNumber "
            ": event.sObjectType + ' ' + event.sObject.Id)"
        ),
        "customer_ref": f"{_present('AccountId')} ? event.sObject.AccountId : null",
        "customer_tier": f"{_present('Priority')} ? event.sObject.Priority : null",
        "payload": "{'sobject': event.sObjectType, 'record': event.sObject}",
    }
    default_write_back: ClassVar[Mapping[str, Any]] = {
        "api_version": API_VERSION,
        "statuses": {"claimed": "Working", "completed": "Closed", "escalated": "Escalated"},
        "status_field": "Status",
        "comment": True,
    }
    needs_secret = False
    writes_back = True

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, str]] = {}

    def check(self, source: SourceConfig) -> None:
        super().check(source)
        if not source.credentials.get("organization_id"):
            raise InvalidSource(
                "credentials.organization_id", "the organization whose messages are taken"
            )
        settings = {**self.default_write_back, **source.write_back}
        if source.write_back.get("events", []):
            for name in ("client_id", "client_secret"):
                if not source.credentials.get(name):
                    raise InvalidSource(f"credentials.{name}", "the connected app's, to write back")
        version = settings["api_version"]
        if not isinstance(version, str) or not version.replace(".", "", 1).isdigit():
            raise InvalidSource("write_back.api_version", "a REST API version, e.g. 62.0")
        statuses = settings["statuses"]
        if not isinstance(statuses, dict) or not all(
            isinstance(v, str) and v for v in statuses.values()
        ):
            raise InvalidSource("write_back.statuses", "a status (text) per event")
        if not isinstance(settings["status_field"], str) or not settings["status_field"]:
            raise InvalidSource("write_back.status_field", "the record's status field's name")
        if not isinstance(settings["comment"], bool):
            raise InvalidSource("write_back.comment", "true or false")

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        try:
            _, org = _notifications(body)
        except Unreadable as exc:
            raise SourceAuthFailed(f"the organization cannot be checked: {exc}") from None
        if not same_org(org, source.credentials.get("organization_id", "")):
            raise SourceAuthFailed("the message comes from another organization")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        message = parse(body)
        out = []
        for n in message.notifications:
            event = {
                "organization_id": message.organization_id,
                "action_id": message.action_id,
                "notification_id": n.id,
                "enterprise_url": message.enterprise_url,
                "partner_url": message.partner_url,
                "sObjectType": n.object,
                "sObject": n.fields,
            }
            closed = n.fields.get("IsClosed") == "true"
            out.append(Delivery(n.id, event, "close" if closed else "upsert", modified(n.fields)))
        return out

    def reply(self, source: SourceConfig, outcomes: Sequence[DeliveryOutcome]) -> Reply:
        return Reply(200, ACK, "text/xml")

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        settings = {**self.default_write_back, **source.write_back}
        sobject = str(event.payload.get("sobject") or settings.get("sobject") or "Case")
        status = settings["statuses"].get(event.event)
        comment = bool(settings["comment"]) and sobject == "Case"
        if not status and not comment:
            return
        data = f"/services/data/v{settings['api_version']}"
        done = event.progress
        for attempt in (1, 2):
            token, instance = await self._token(http, source)
            api = _Api(http, instance, token)
            try:
                if status and "status" not in done:
                    await api.send(
                        "PATCH",
                        f"{data}/sobjects/{sobject}/{event.external_id}",
                        {settings["status_field"]: status},
                    )
                    done.mark("status")
                if comment and "comment" not in done:
                    found = None
                    if event.attempt > 1:
                        found = await api.comment_of(data, event)
                    if found is None:
                        body = {
                            "ParentId": event.external_id,
                            "CommentBody": event.note(COMMENT_LENGTH),
                            "IsPublished": False,
                        }
                        answer = await api.send("POST", f"{data}/sobjects/CaseComment", body)
                        found = str(answer.get("id") or "posted")
                    done.mark("comment", found)
                return
            except _Expired:
                self._tokens.pop(_key(source), None)
                if attempt == 2:
                    raise Retryable("the Salesforce session expired twice in a row") from None

    async def _token(self, http: aiohttp.ClientSession, source: SourceConfig) -> tuple[str, str]:
        """An access token from the client credentials flow, kept until it is refused."""
        key = _key(source)
        found = self._tokens.get(key)
        if found is not None:
            return found
        url = (source.api_url or "").rstrip("/") + "/services/oauth2/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": source.credentials.get("client_id", ""),
            "client_secret": source.credentials.get("client_secret", ""),
        }
        try:
            async with http.post(url, data=form) as response:
                await check_response(response, f"POST {url}")
                answer = await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise Retryable(f"POST {url}: {type(exc).__name__}: {exc}") from None
        except ValueError:
            raise Retryable(f"POST {url}: the answer is not JSON") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise Retryable(f"POST {url}: no access_token in the answer")
        instance = answer.get("instance_url") or source.api_url or ""
        self._tokens[key] = (token, str(instance).rstrip("/"))
        return self._tokens[key]


def _key(source: SourceConfig) -> tuple[str, str, str]:
    return (source.name, source.api_url or "", source.credentials.get("client_id", ""))


class _Expired(Exception):
    """The access token was refused (401): a new one is asked for."""


@dataclass(frozen=True)
class _Api:
    http: aiohttp.ClientSession
    instance: str
    token: str

    async def send(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The request's answer as a JSON object (empty when there is none)."""
        url = self.instance + path
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        what = f"{method} {path}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            async with self.http.request(method, url, data=data, headers=headers) as response:
                if response.status == 401:
                    raise _Expired
                if response.status == 403:
                    text = await response.text(errors="replace")
                    if "REQUEST_LIMIT_EXCEEDED" in text:
                        wait = retry_after(response.headers.get("Retry-After"))
                        raise Retryable(f"{what}: API request limit exceeded", wait, throttled=True)
                await check_response(response, what)
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    return {}
        except aiohttp.ClientError as exc:
            raise Retryable(f"{what}: {type(exc).__name__}: {exc}") from None
        return answer if isinstance(answer, dict) else {}

    async def comment_of(self, data: str, event: WriteBack) -> str | None:
        """The id of the Case's comment carrying ``event``'s reference (left by a try whose
        answer was lost), by a SOQL query; ``None`` when there is none."""
        soql = (
            "SELECT Id FROM CaseComment"
            f" WHERE ParentId = '{soql_quote(event.external_id)}'"
            f" AND CommentBody LIKE '%{soql_quote(event.reference, like=True)}%' LIMIT 1"
        )
        answer = await self.send("GET", f"{data}/query?{urlencode({'q': soql})}")
        records = answer.get("records")
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            return None
        return str(records[0].get("Id") or "") or "found"


def soql_quote(value: str, *, like: bool = False) -> str:
    """``value`` for a SOQL string literal (between single quotes): backslash and quotes
    escaped, and, in a ``LIKE`` pattern, its wildcards ``%`` and ``_`` taken literally."""
    out = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if like:
        out = out.replace("%", "\\%").replace("_", "\\_")
    return out
