"""The one interface every kind of task source implements, and what passes through it.

A connector knows its vendor and nothing of ours beyond these values: it checks that a delivery
comes from the source (:meth:`Connector.authenticate`), reads it into :class:`Delivery` values
(:meth:`Connector.deliveries`), answers the vendor in its own terms (:meth:`Connector.reply`),
and sends one lifecycle event back to the vendor's API (:meth:`Connector.write_back`). Intake,
dedupe, rejects and retries are the framework's (:mod:`task_sources.intake`,
:mod:`task_sources.outbox`); a new kind is one module and one line in
:mod:`task_sources.registry`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

import aiohttp

from clock import retry_after
from task_sources.errors import InvalidSource, Permanent, Retryable, Unreadable
from task_sources.models import DeliveryOutcome, Receipt

Action = Literal["upsert", "close"]
"""``upsert``: the record is new or changed (a new task, or an update of the queued one);
``close``: the record was closed or deleted at the source."""

EventKind = Literal["claimed", "step_completed", "completed", "escalated", "cancelled"]
REFERENCE_PREFIX = "blendbot ref: "
"""What starts the line of a comment or work note naming its write-back's idempotency key."""
EVENT_KINDS: tuple[EventKind, ...] = (
    "claimed",
    "step_completed",
    "completed",
    "escalated",
    "cancelled",
)


@dataclass(frozen=True)
class SourceConfig:
    """One configured source, as its connector sees it (secrets included)."""

    name: str
    kind: str
    secret: str | None = None
    api_url: str | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    mapping: Mapping[str, str | None] = field(default_factory=dict)
    """The source's own expressions, over the kind's defaults (``None`` drops a default)."""
    write_back: Mapping[str, Any] = field(default_factory=dict)
    """The source's write-back settings, over the kind's defaults."""
    updated_at: datetime | None = None

    def setting(self, key: str, defaults: Mapping[str, Any]) -> Any:
        """A write-back setting: the source's, else the kind's default."""
        return self.write_back.get(key, defaults.get(key))


@dataclass(frozen=True)
class Delivery:
    """One record's change, as delivered by the vendor."""

    delivery_id: str
    """The vendor's id of this delivery (same on every retry of it): the dedupe key."""
    event: dict[str, Any]
    """What the mapping's expressions see as ``event``."""
    action: Action = "upsert"
    version: datetime | None = None
    """When the record was last changed at the source, for vendors that deliver out of order:
    a delivery older than one already applied to the record changes nothing."""


class Progress:
    """Which calls of a write-back the vendor has taken, by name (``"comment"``, a value such as
    the comment's id). A connector marks each call as it succeeds; the outbox keeps the marks
    when a later call fails, so the retry skips what was already done."""

    def __init__(self, done: Mapping[str, Any] | None = None) -> None:
        self.done: dict[str, Any] = dict(done or {})

    def __contains__(self, call: object) -> bool:
        return call in self.done

    def mark(self, call: str, value: Any = True) -> None:
        self.done[call] = value


@dataclass(frozen=True)
class WriteBack:
    """One lifecycle event of a source's task, owed to the source."""

    id: int
    idempotency_key: str
    """One per event, the same on every attempt: sent where the vendor takes one."""
    event: EventKind
    task_id: int
    external_id: str
    title: str
    type: str
    status: str | None
    actor: str
    """Who did it: the agent, a supervisor, ``system``."""
    at: str
    reason: str | None = None
    """The note of a completion, or the reason of an escalation or cancellation."""
    outcome: str | None = None
    step: int | None = None
    steps: int | None = None
    holder: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    """The task's payload (what the mapping kept of the record: ids the write-back needs)."""
    attempt: int = 1
    """1 on the first try; more when an earlier try may have reached the vendor (it failed
    without a clear refusal, or its sender stopped): then a connector looks for what that try
    may have left before making a change the vendor would repeat."""
    progress: Progress = field(default_factory=Progress)
    """The calls of this write-back already taken by the vendor (see :class:`Progress`)."""

    @property
    def reference(self) -> str:
        """The line that marks a comment as this event's, looked for on a retry."""
        return f"{REFERENCE_PREFIX}{self.idempotency_key}"

    def note(self, limit: int | None = None) -> str:
        """:meth:`summary` with the :attr:`reference` line, within ``limit`` characters (the
        summary is cut, never the reference)."""
        suffix = "\n" + self.reference
        text = self.summary()
        if limit is not None:
            text = text[: max(0, limit - len(suffix))]
        return text + suffix

    def summary(self) -> str:
        """The event in words, for a comment or work note on the record."""
        who = self.actor
        text = {
            "claimed": f"blendbot: task #{self.task_id} claimed by {who}.",
            "step_completed": (
                f"blendbot: step {self.step} of {self.steps} of task #{self.task_id} "
                f"completed by {who}"
                + (f" (outcome: {self.outcome})" if self.outcome else "")
                + "."
            ),
            "completed": (
                f"blendbot: task #{self.task_id} completed by {who}"
                + (f", outcome: {self.outcome}" if self.outcome else "")
                + "."
            ),
            "escalated": f"blendbot: task #{self.task_id} escalated to supervisors by {who}.",
            "cancelled": f"blendbot: task #{self.task_id} cancelled by {who}.",
        }[self.event]
        if self.reason:
            label = "Note" if self.event in ("completed", "step_completed") else "Reason"
            text += f"\n{label}: {self.reason}"
        return text


@dataclass(frozen=True)
class Reply:
    """The HTTP answer to the vendor's delivery."""

    status: int
    body: bytes
    content_type: str = "application/json"


class Connector(ABC):
    """A kind of task source. Subclasses set the class attributes and the two abstract
    methods; the others have defaults that suit a JSON webhook without write-back."""

    kind: ClassVar[str]
    """The name in ``PUT /api/v1/sources/{name}``'s ``kind``."""
    default_mapping: ClassVar[Mapping[str, str]]
    """A CEL expression per task field over ``event`` (the delivery), ``source`` and ``now``,
    that works on the vendor's documented payload."""
    default_write_back: ClassVar[Mapping[str, Any]] = {}
    """The write-back settings a source of this kind starts from."""
    remap_headers: ClassVar[tuple[str, ...]] = ("content-type",)
    """The headers (lower case) :meth:`deliveries` reads: kept with a reject, for its retry."""
    needs_secret: ClassVar[bool] = True
    writes_back: ClassVar[bool] = False

    def check(self, source: SourceConfig) -> None:
        """Refuse a configuration that cannot work (:class:`InvalidSource` naming the field)."""
        if self.needs_secret and not source.secret:
            raise InvalidSource("secret", f"a {self.kind} source needs its secret")
        events = source.write_back.get("events", list(EVENT_KINDS))
        if self.writes_back and events and not source.api_url:
            raise InvalidSource("api_url", "needed to write back (or set write_back.events to [])")

    @abstractmethod
    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        """Raise :class:`~task_sources.errors.SourceAuthFailed` unless the delivery proves it
        comes from the source. ``headers`` have lower-case names."""

    @abstractmethod
    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        """The records' changes in an authenticated body; :class:`~task_sources.errors
        .Unreadable` when it is not the vendor's format (it is kept as a reject)."""

    def reply(self, source: SourceConfig, outcomes: Sequence[DeliveryOutcome]) -> Reply:
        """The answer the vendor expects; by default our JSON receipt, 200."""
        receipt = Receipt(source=source.name, deliveries=list(outcomes))
        return Reply(200, receipt.model_dump_json().encode())

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        """Tell the vendor of ``event``; raise :class:`~task_sources.errors.Retryable` or
        :class:`~task_sources.errors.Permanent` when it was not taken."""
        raise Permanent(f"a {self.kind} source does not write back")


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`Unreadable` saying why not."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unreadable(f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Unreadable(f"the body is JSON {type(value).__name__}, not an object")
    return value


def digest(body: bytes) -> str:
    """A delivery id for a vendor that sends none: the body's sha256."""
    return hashlib.sha256(body).hexdigest()


def same(given: str, expected: str) -> bool:
    """Whether a header value (any bytes) equals ``expected``, in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def hmac_sha256(secret: str, *parts: bytes) -> bytes:
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.digest()


def basic_auth(user: str, password: str) -> str:
    """An ``Authorization`` header value for HTTP basic authentication."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def check_response(response: aiohttp.ClientResponse, what: str) -> None:
    """Raise for a write-back's answer: 429 and 5xx (and 408, 409) are :class:`Retryable`,
    honouring ``Retry-After``; any other 4xx is :class:`Permanent`."""
    if response.status < 300:
        return
    text = (await response.text(errors="replace"))[:300]
    message = f"{what}: HTTP {response.status} {text}".strip()
    wait = retry_after(response.headers.get("Retry-After"), response.headers.get("Date"))
    if response.status == 429:
        raise Retryable(message, wait, throttled=True)
    if response.status >= 500 or response.status in (408, 409):
        raise Retryable(message, wait)
    raise Permanent(message)


async def get_json(
    http: aiohttp.ClientSession,
    url: str,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None = None,
) -> Any:
    """A read a write-back makes (a lookup): its JSON answer, or the errors of
    :func:`check_response` (an unreadable answer is :class:`Retryable`)."""
    try:
        async with http.get(url, headers=headers, params=params) as response:
            await check_response(response, f"GET {url}")
            return await response.json(content_type=None)
    except aiohttp.ClientError as exc:
        raise Retryable(f"GET {url}: {type(exc).__name__}: {exc}") from None
    except ValueError:
        raise Retryable(f"GET {url}: the answer is not JSON") from None
