"""Twilio TaskRouter event callbacks: form-encoded POSTs, signed with X-Twilio-Signature.

``task-queue.entered`` → call arrived; ``reservation.accepted`` → answered (by the WorkerSid);
``task.canceled`` → abandoned (it counts only if no worker had accepted it); ``task.wrapup``
and ``task.completed`` → ended (the later one marks the end of wrap-up, so the handle time
runs from acceptance to completion); ``worker.activity.update`` → agent state, from the
activity's name. Tasks of a channel other than voice, and every other event type, are
counted and ignored. Queues are named by TaskQueueSid, agents by WorkerSid.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import ValidationError
from twilio.request_validator import RequestValidator

from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    Parsed,
    TelephonyState,
)
from telephony_adapters._fields import validation_reason
from telephony_adapters.errors import MalformedPayload

SOURCE = "twilio"
_ACTIVITIES: dict[str, TelephonyState] = {
    "available": "available",
    "idle": "available",
    "ready": "available",
    "offline": "offline",
    "busy": "on_call",
    "reserved": "on_call",
    "on call": "on_call",
    "wrapup": "after_call_work",
    "wrap-up": "after_call_work",
    "wrap up": "after_call_work",
    "wrapping": "after_call_work",
    "after call work": "after_call_work",
}


def activity_state(name: str) -> TelephonyState:
    """A TaskRouter Activity's state: by its name; unknown names are away (a break)."""
    return _ACTIVITIES.get(name.strip().lower(), "break")


def _at(form: Mapping[str, str]) -> datetime:
    millis = form.get("TimestampMs")
    seconds = form.get("Timestamp")
    try:
        if millis:
            return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
        if seconds:
            return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedPayload(SOURCE, f"Timestamp is not a Unix time: {seconds!r}") from None
    raise MalformedPayload(SOURCE, "Timestamp is missing")


def _required(form: Mapping[str, str], name: str, kind: str) -> str:
    value = form.get(name)
    if not value:
        raise MalformedPayload(SOURCE, f"{kind} event without {name}")
    return value


def parse(form: Mapping[str, str]) -> Parsed:
    """One callback's parameters."""
    try:
        return _parse(form)
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, validation_reason(exc)) from None


def _parse(form: Mapping[str, str]) -> Parsed:
    kind = form.get("EventType")
    if not kind:
        raise MalformedPayload(SOURCE, "EventType is missing")
    parsed = Parsed()
    handled = {
        "task-queue.entered",
        "reservation.accepted",
        "task.canceled",
        "task.wrapup",
        "task.completed",
        "worker.activity.update",
    }
    if kind not in handled:
        parsed.ignored[kind] += 1
        return parsed
    at = _at(form)
    sid = form.get("Sid") or form.get("EventSid")
    resource = form.get("ResourceSid", "")
    event_id = sid or f"{kind}:{resource}:{form.get('ReservationSid', '')}:{at.isoformat()}"
    if kind == "worker.activity.update":
        name = _required(form, "WorkerActivityName", kind)
        parsed.events.append(
            AgentStateChanged(
                event_id=event_id,
                at=at,
                agent_id=_required(form, "WorkerSid", kind),
                state=activity_state(name),
                reason=name,
            )
        )
        return parsed
    channel = form.get("TaskChannelUniqueName")
    if channel and channel != "voice":
        parsed.ignored[f"{kind}:{channel}"] += 1
        return parsed
    task = _required(form, "TaskSid", kind)
    queue = form.get("TaskQueueSid") or None
    if kind == "task-queue.entered":
        if queue is None:
            raise MalformedPayload(SOURCE, f"{kind} event without TaskQueueSid")
        parsed.events.append(CallArrived(event_id=event_id, at=at, queue=queue, call_id=task))
    elif kind == "reservation.accepted":
        parsed.events.append(
            CallAnswered(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=task,
                agent_id=_required(form, "WorkerSid", kind),
            )
        )
    elif kind == "task.canceled":
        parsed.events.append(CallAbandoned(event_id=event_id, at=at, queue=queue, call_id=task))
    else:
        parsed.events.append(
            CallEnded(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=task,
                agent_id=form.get("WorkerSid") or None,
            )
        )
    return parsed


def valid_signature(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Whether ``signature`` is Twilio's signature of this request, by Twilio's own library."""
    return bool(RequestValidator(auth_token).validate(url, dict(form), signature))
