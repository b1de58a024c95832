"""Amazon Connect: the agent event stream, contact events and contact records, by Firehose.

Agent events (LOGIN, LOGOUT, STATE_CHANGE, HEART_BEAT) become agent states: a contact that is
connected or connecting means on a call, an ended contact means after-call work, else the
agent status (``Available``, ``Offline``, or a custom status such as ``Lunch``, read as a
break). Contact events (with or without their EventBridge envelope) become call events for
voice contacts: QUEUED → arrived, CONNECTED_TO_AGENT → answered, DISCONNECTED → ended when an
agent had it, abandoned when it was queued and never reached one.

Contact records (CTRs), known by their shape (a ``ContactId`` with ``Channel``,
``InitiationMethod``, ``InitiationTimestamp`` or ``AWSContactTraceRecordFormatVersion``), become
the same call events for queued voice contacts: arrived at ``Queue.EnqueueTimestamp``, answered
at ``Agent.ConnectedToAgentTimestamp``, then ended (talk, hold and after-contact work from the
record's durations) or abandoned (no agent) at the dequeue or disconnect time.

A queue is named by its id, the last part of its ARN; an agent by its full ARN. A contact
event's id is ``<contactId>:<eventType>``, so that a redelivery, by Firehose or EventBridge,
is the same event. A contact record's events take the ids of the contact events for the same
transitions (``QUEUED``, ``CONNECTED_TO_AGENT``, ``DISCONNECTED``), so a contact seen both ways
is one call; its end is also given as ``<contactId>:CONTACT_RECORD``, which carries the hold
and after-contact work a contact event does not have, whichever of the two came first.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    Event,
    Parsed,
    Rejected,
    TelephonyState,
)
from queues.bounds import MalformedJson, loads, loads_many
from telephony_adapters._fields import (
    get,
    optional_timestamp,
    seconds_between,
    text,
    timestamp,
    validation_reason,
)
from telephony_adapters.errors import MalformedPayload

log = logging.getLogger(__name__)
SOURCE = "amazon_connect"
AGENT_EVENTS = frozenset({"LOGIN", "LOGOUT", "STATE_CHANGE", "HEART_BEAT"})
_ON_CALL = frozenset({"INCOMING", "PENDING", "CONNECTING", "CONNECTED", "CONNECTED_ONHOLD"})
_STATUS_TYPES: dict[str, TelephonyState] = {
    "ROUTABLE": "available",
    "OFFLINE": "offline",
    "CUSTOM": "break",
}


def queue_id(arn: str) -> str:
    """``arn:...:instance/<i>/queue/<id>`` → ``<id>``."""
    return arn.rstrip("/").rsplit("/", 1)[-1]


def _agent_state(snapshot: Any, event_type: str) -> tuple[TelephonyState, str | None]:
    if event_type == "LOGOUT":
        return "offline", "LOGOUT"
    if not isinstance(snapshot, Mapping):
        raise MalformedPayload(SOURCE, "CurrentAgentSnapshot is missing")
    status = get(snapshot, "AgentStatus")
    name = get(status, "Name")
    contacts = get(snapshot, "Contacts") or []
    if not isinstance(contacts, list):
        raise MalformedPayload(SOURCE, "CurrentAgentSnapshot.Contacts is not a list")
    states = {str(get(c, "State")).upper() for c in contacts if isinstance(c, Mapping)}
    if states & _ON_CALL:
        return "on_call", name
    if "ENDED" in states:
        return "after_call_work", name
    kind = get(status, "Type")
    if isinstance(kind, str) and kind.upper() in _STATUS_TYPES:
        return _STATUS_TYPES[kind.upper()], name
    if not isinstance(name, str) or not name:
        raise MalformedPayload(SOURCE, "CurrentAgentSnapshot.AgentStatus.Name is missing")
    lowered = name.lower()
    if lowered == "available":
        return "available", name
    if lowered == "offline":
        return "offline", name
    return "break", name


def parse_agent_event(event: Mapping[str, Any]) -> Parsed:
    kind = text(SOURCE, get(event, "EventType"), "EventType")
    if kind not in AGENT_EVENTS:
        return _ignored(f"agent:{kind}")
    state, reason = _agent_state(get(event, "CurrentAgentSnapshot"), kind)
    try:
        change = AgentStateChanged(
            event_id=text(SOURCE, get(event, "EventId"), "EventId"),
            at=timestamp(SOURCE, get(event, "EventTimestamp"), "EventTimestamp"),
            agent_id=text(SOURCE, get(event, "AgentARN"), "AgentARN"),
            state=state,
            reason=reason,
        )
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, str(exc.errors()[0]["msg"])) from None
    return Parsed(events=[change])


def parse_contact_event(detail: Mapping[str, Any], sent_at: datetime | None = None) -> Parsed:
    """One contact event's ``detail``; ``sent_at`` is the envelope's time, if any."""
    kind = text(SOURCE, get(detail, "eventType"), "eventType")
    contact = text(SOURCE, get(detail, "contactId"), "contactId")
    channel = str(get(detail, "channel") or "VOICE").upper()
    if channel != "VOICE":
        return _ignored(f"contact:{kind}:{channel}")
    event_id = f"{contact}:{kind}"
    queue_info = get(detail, "queueInfo")
    agent_info = get(detail, "agentInfo")
    queue_arn = get(queue_info, "queueArn")
    queue = queue_id(queue_arn) if isinstance(queue_arn, str) and queue_arn else None
    enqueued = optional_timestamp(SOURCE, get(queue_info, "enqueueTimestamp"), "enqueueTimestamp")
    agent = get(agent_info, "agentArn")
    agent = agent if isinstance(agent, str) and agent else None
    connected = optional_timestamp(
        SOURCE, get(agent_info, "connectedToAgentTimestamp"), "connectedToAgentTimestamp"
    )
    disconnected = optional_timestamp(
        SOURCE, get(detail, "disconnectTimestamp"), "disconnectTimestamp"
    )
    fallback = sent_at or optional_timestamp(
        SOURCE, get(detail, "initiationTimestamp"), "initiationTimestamp"
    )
    if kind == "QUEUED":
        if queue is None:
            raise MalformedPayload(SOURCE, "QUEUED contact event without queueInfo.queueArn")
        at = enqueued or fallback
        if at is None:
            raise MalformedPayload(SOURCE, "QUEUED contact event without a time")
        return Parsed(events=[CallArrived(event_id=event_id, at=at, queue=queue, call_id=contact)])
    if kind == "CONNECTED_TO_AGENT":
        at = connected or fallback
        if at is None:
            raise MalformedPayload(SOURCE, "CONNECTED_TO_AGENT without connectedToAgentTimestamp")
        answered = CallAnswered(
            event_id=event_id,
            at=at,
            queue=queue,
            call_id=contact,
            agent_id=agent,
            wait_seconds=seconds_between(enqueued, connected),
        )
        return Parsed(events=[answered])
    if kind == "DISCONNECTED":
        at = disconnected or fallback
        if at is None:
            raise MalformedPayload(SOURCE, "DISCONNECTED without disconnectTimestamp")
        if agent is not None or connected is not None:
            ended = CallEnded(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=contact,
                agent_id=agent,
                talk_seconds=seconds_between(connected, disconnected),
            )
            return Parsed(events=[ended])
        if queue is not None:
            abandoned = CallAbandoned(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=contact,
                wait_seconds=seconds_between(enqueued, disconnected),
            )
            return Parsed(events=[abandoned])
        return _ignored("contact:DISCONNECTED:not_queued")
    return _ignored(f"contact:{kind}")


_RECORD_KEYS = ("AWSContactTraceRecordFormatVersion", "InitiationMethod", "InitiationTimestamp")


def is_contact_record(record: Mapping[str, Any]) -> bool:
    """A contact record's shape: ``ContactId`` and one of the record's own top-level fields."""
    return "ContactId" in record and any(key in record for key in (*_RECORD_KEYS, "Channel"))


def _part(record: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MalformedPayload(SOURCE, f"contact record {name} is not an object")
    return value


def _duration(part: Mapping[str, Any] | None, name: str, what: str) -> float | None:
    value = get(part, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise MalformedPayload(SOURCE, f"{what}.{name} is not a number of seconds: {value!r}")
    return float(value)


def parse_contact_record(record: Mapping[str, Any]) -> Parsed:
    """One contact record (CTR): the call events of a queued voice contact."""
    contact = text(SOURCE, record.get("ContactId"), "ContactId")
    channel = str(get(record, "Channel") or "VOICE").upper()
    if channel != "VOICE":
        return _ignored(f"contact_record:{channel}")
    queue_info = _part(record, "Queue")
    agent_info = _part(record, "Agent")
    if not queue_info:
        return _ignored("contact_record:not_queued")
    queue_arn = get(queue_info, "ARN")
    if not isinstance(queue_arn, str) or not queue_arn:
        raise MalformedPayload(SOURCE, "contact record Queue without ARN")
    queue = queue_id(queue_arn)
    enqueued = timestamp(SOURCE, get(queue_info, "EnqueueTimestamp"), "Queue.EnqueueTimestamp")
    dequeued = optional_timestamp(
        SOURCE, get(queue_info, "DequeueTimestamp"), "Queue.DequeueTimestamp"
    )
    disconnected = optional_timestamp(
        SOURCE, get(record, "DisconnectTimestamp"), "DisconnectTimestamp"
    )
    agent = get(agent_info, "ARN")
    if agent is not None and (not isinstance(agent, str) or not agent):
        raise MalformedPayload(SOURCE, "contact record Agent.ARN is not an ARN")
    connected = optional_timestamp(
        SOURCE, get(agent_info, "ConnectedToAgentTimestamp"), "Agent.ConnectedToAgentTimestamp"
    )
    talk = _duration(agent_info, "AgentInteractionDuration", "Agent")
    hold = _duration(agent_info, "CustomerHoldDuration", "Agent")
    wrap = _duration(agent_info, "AfterContactWorkDuration", "Agent")
    try:
        events: list[Event] = [
            CallArrived(event_id=f"{contact}:QUEUED", at=enqueued, queue=queue, call_id=contact)
        ]
        if connected is not None:
            events.append(
                CallAnswered(
                    event_id=f"{contact}:CONNECTED_TO_AGENT",
                    at=connected,
                    queue=queue,
                    call_id=contact,
                    agent_id=agent,
                    wait_seconds=seconds_between(enqueued, connected),
                )
            )
        if agent is not None or connected is not None:
            if disconnected is not None:
                events.extend(
                    CallEnded(
                        event_id=f"{contact}:{kind}",
                        at=disconnected,
                        queue=queue,
                        call_id=contact,
                        agent_id=agent,
                        talk_seconds=talk,
                        hold_seconds=hold,
                        wrap_seconds=wrap,
                    )
                    for kind in ("DISCONNECTED", "CONTACT_RECORD")
                )
        else:
            gone = dequeued or disconnected
            if gone is not None:
                events.append(
                    CallAbandoned(
                        event_id=f"{contact}:DISCONNECTED",
                        at=gone,
                        queue=queue,
                        call_id=contact,
                        wait_seconds=seconds_between(enqueued, gone),
                    )
                )
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, str(exc.errors()[0]["msg"])) from None
    return Parsed(events=events)


def parse(record: Any) -> Parsed:
    """One decoded record: an agent event, a contact event with or without its envelope, or a
    contact record."""
    try:
        return _parse(record)
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, validation_reason(exc)) from None


def _parse(record: Any) -> Parsed:
    if not isinstance(record, Mapping):
        raise MalformedPayload(SOURCE, "a record is not a JSON object")
    if "AgentARN" in record or "EventType" in record:
        return parse_agent_event(record)
    detail_type = record.get("detail-type")
    if isinstance(detail_type, str):
        if detail_type != "Amazon Connect Contact Event":
            return _ignored(f"eventbridge:{detail_type}")
        detail = record.get("detail")
        if not isinstance(detail, Mapping):
            raise MalformedPayload(SOURCE, "contact event envelope without a detail object")
        sent = optional_timestamp(SOURCE, record.get("time"), "time")
        return parse_contact_event(detail, sent)
    if is_contact_record(record):
        return parse_contact_record(record)
    if "eventType" in record and "contactId" in record:
        return parse_contact_event(record)
    raise MalformedPayload(
        SOURCE, "a record is neither an agent event, a contact event nor a contact record"
    )


def _ignored(kind: str) -> Parsed:
    parsed = Parsed()
    parsed.ignored[kind] += 1
    return parsed


@dataclass(frozen=True)
class FirehoseRequest:
    """A Firehose HTTP endpoint delivery: its id, its time, and each record's data (``None``
    for a record whose data is missing or not base64, with the reason beside it)."""

    request_id: str
    timestamp: int
    records: list[bytes | None]
    unreadable: dict[int, tuple[str, bytes]] = field(default_factory=dict)


def read_firehose(body: bytes) -> FirehoseRequest:
    """The Firehose request envelope: ``{"requestId", "timestamp", "records": [{"data"}]}``."""
    try:
        envelope = loads(body)
    except MalformedJson as exc:
        raise MalformedPayload(SOURCE, f"Firehose body is not JSON: {exc.detail}") from None
    if not isinstance(envelope, Mapping):
        raise MalformedPayload(SOURCE, "Firehose body is not a JSON object")
    request_id = envelope.get("requestId")
    stamp = envelope.get("timestamp")
    records = envelope.get("records")
    if not isinstance(request_id, str) or not request_id:
        raise MalformedPayload(SOURCE, "Firehose body has no requestId")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise MalformedPayload(SOURCE, "Firehose timestamp is not milliseconds since the epoch")
    if not isinstance(records, list):
        raise MalformedPayload(SOURCE, "Firehose body has no records list")
    data: list[bytes | None] = []
    unreadable: dict[int, tuple[str, bytes]] = {}
    for index, record in enumerate(records):
        blob = record.get("data") if isinstance(record, Mapping) else None
        if not isinstance(blob, str):
            data.append(None)
            unreadable[index] = ("has no data", json.dumps(record).encode())
            continue
        try:
            data.append(base64.b64decode(blob, validate=True))
        except (binascii.Error, ValueError):
            data.append(None)
            unreadable[index] = ("data is not base64", blob.encode("utf-8", "backslashreplace"))
    return FirehoseRequest(request_id, stamp, data, unreadable)


def decode_record(data: bytes) -> list[Any]:
    """A record's JSON objects: one, or several written one after the other."""
    try:
        text_ = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload(SOURCE, "record data is not UTF-8") from None
    if not text_.strip():
        raise MalformedPayload(SOURCE, "record data is empty")
    try:
        return loads_many(text_)
    except MalformedJson as exc:
        raise MalformedPayload(SOURCE, f"record data is not JSON: {exc.detail}") from None


def parse_firehose(body: bytes) -> tuple[FirehoseRequest, Parsed]:
    """A whole Firehose delivery: the events of every record that can be read, and each
    record that cannot, rejected with the reason. An envelope that cannot be read is refused
    whole (:class:`MalformedPayload`)."""
    request = read_firehose(body)
    parsed = Parsed()
    for index, data in enumerate(request.records):
        if data is None:
            reason, raw = request.unreadable[index]
            parsed.rejected.append(Rejected(f"record {index}", reason, raw))
            continue
        try:
            one = Parsed()
            for value in decode_record(data):
                one.extend(parse(value))
        except MalformedPayload as exc:
            parsed.rejected.append(Rejected(f"record {index}", exc.reason, data))
        except ValidationError as exc:
            parsed.rejected.append(Rejected(f"record {index}", validation_reason(exc), data))
        except Exception:
            # A record no rule foresaw must not sink the others: it is set aside, and logged.
            log.exception(
                "Firehose request %s: record %d could not be read", request.request_id, index
            )
            parsed.rejected.append(Rejected(f"record {index}", "could not be read", data))
        else:
            parsed.extend(one)
    return request, parsed
