"""Asterisk AMI queue events, as the manager interface sends them (``Key: value`` lines).

QueueCallerJoin → arrived; AgentConnect → answered (wait from HoldTime); AgentComplete →
ended (TalkTime); QueueCallerAbandon → abandoned (wait from HoldTime); QueueMemberStatus and
QueueMemberPause (QueueMemberPaused before Asterisk 12) → agent state: paused is a break,
else from the device status. Calls are named by the caller channel's Uniqueid, agents by the
queue member interface (``Location`` before Asterisk 12). AMI events carry no time unless
``timestampevents`` is on; without ``Timestamp`` the time of receipt is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import ValidationError

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

SOURCE = "asterisk"
_MEMBER_EVENTS = frozenset(
    {"QueueMemberStatus", "QueueMemberPause", "QueueMemberPaused", "QueueMember"}
)
_QUIET = frozenset({"QueueCallerLeave"})
"""Used, but with nothing to add: a caller leaves the queue when answered or abandoning."""
# Device states (include/asterisk/devicestate.h): 0 unknown, 1 not in use, 2 in use, 3 busy,
# 4 invalid, 5 unavailable, 6 ringing, 7 ringing while in use, 8 on hold.
_DEVICE: dict[str, TelephonyState] = {
    "1": "available",
    "2": "on_call",
    "3": "on_call",
    "6": "on_call",
    "7": "on_call",
    "8": "on_call",
    "4": "offline",
    "5": "offline",
}


def _field(message: Mapping[str, str], name: str, event: str) -> str:
    value = message.get(name)
    if not value:
        raise MalformedPayload(SOURCE, f"{event} without {name}")
    return value


def _seconds(message: Mapping[str, str], name: str, event: str) -> float | None:
    value = message.get(name)
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise MalformedPayload(SOURCE, f"{event} {name} is not a number: {value!r}") from None
    if seconds < 0:
        raise MalformedPayload(SOURCE, f"{event} {name} is negative")
    return seconds


def member_state(message: Mapping[str, str]) -> tuple[TelephonyState, str | None]:
    if message.get("Paused") == "1":
        return "break", message.get("PausedReason") or message.get("Reason") or "paused"
    if message.get("InCall") == "1":
        return "on_call", None
    status = message.get("Status", "0")
    return _DEVICE.get(status, "offline"), None


def _parse(message: Mapping[str, str], received_at: datetime) -> Parsed:
    event = message.get("Event")
    if not event:
        raise MalformedPayload(SOURCE, "message has no Event")
    parsed = Parsed()
    stamp = message.get("Timestamp")
    try:
        at = datetime.fromtimestamp(float(stamp), tz=UTC) if stamp else received_at
    except (ValueError, OverflowError, OSError):
        raise MalformedPayload(SOURCE, f"Timestamp is not a Unix time: {stamp!r}") from None
    if event in _MEMBER_EVENTS:
        agent = message.get("Interface") or message.get("Location")
        if not agent:
            raise MalformedPayload(SOURCE, f"{event} without Interface")
        state, reason = member_state(message)
        queue = message.get("Queue", "")
        parsed.events.append(
            AgentStateChanged(
                event_id=f"{event}:{agent}:{queue}:{at.isoformat()}",
                at=at,
                agent_id=agent,
                state=state,
                reason=reason,
            )
        )
        return parsed
    if event in _QUIET:
        return parsed
    if event not in ("QueueCallerJoin", "QueueCallerAbandon", "AgentConnect", "AgentComplete"):
        parsed.ignored[event] += 1
        return parsed
    call = _field(message, "Uniqueid", event)
    queue = _field(message, "Queue", event)
    event_id = f"{event}:{call}:{queue}"
    if event == "QueueCallerJoin":
        parsed.events.append(CallArrived(event_id=event_id, at=at, queue=queue, call_id=call))
    elif event == "QueueCallerAbandon":
        parsed.events.append(
            CallAbandoned(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=call,
                wait_seconds=_seconds(message, "HoldTime", event),
            )
        )
    elif event == "AgentConnect":
        parsed.events.append(
            CallAnswered(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=call,
                agent_id=_field(message, "Interface", event),
                wait_seconds=_seconds(message, "HoldTime", event),
            )
        )
    else:
        parsed.events.append(
            CallEnded(
                event_id=event_id,
                at=at,
                queue=queue,
                call_id=call,
                agent_id=_field(message, "Interface", event),
                talk_seconds=_seconds(message, "TalkTime", event),
            )
        )
    return parsed


def parse(message: Mapping[str, str], received_at: datetime) -> Parsed:
    """One AMI event."""
    try:
        return _parse(message, received_at)
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, validation_reason(exc)) from None


def read_message(text: str) -> dict[str, str]:
    """``Key: value`` lines (CRLF or LF) into a dict; a line without a colon is refused."""
    out: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise MalformedPayload(SOURCE, f"line is not 'Key: value': {line!r}")
        out[key.strip()] = value.strip()
    return out
