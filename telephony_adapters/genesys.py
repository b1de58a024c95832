"""Genesys Cloud notifications (the websocket's JSON messages), by topic.

* ``v2.users.{id}.presence``: the system presence (OFFLINE → offline, AVAILABLE and ON_QUEUE
  → available, any other, e.g. BREAK, MEAL, MEETING, AWAY, → a break);
* ``v2.users.{id}.routingStatus`` and ``.activity``: the routing status (IDLE → available,
  INTERACTING and COMMUNICATING → on a call, NOT_RESPONDING and OFF_QUEUE → away), the
  presence when off queue;
* ``v2.analytics.queues.{id}.observations`` and an observation query's ``results``: a queue
  snapshot (oUserRoutingStatuses IDLE / INTERACTING → agents available / on calls, oWaiting
  → calls waiting and the longest wait);
* ``v2.routing.queues.{id}.conversations``: the conversation's participants give the call's
  arrival (the ACD participant connected), answer and end (the agent participant), or
  abandonment (the ACD participant ended without any agent connecting);
* a conversation details query's ``conversations`` (``AnalyticsConversationWithoutAttributes``):
  the same call events, with the same event ids, read from the participants' sessions'
  segments and metrics (:func:`parse_conversation_details`).

Heartbeats (``channel.metadata``) and ``v2.system.socket_closing`` are the transport's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    CallEvent,
    Parsed,
    QueueSnapshot,
    TelephonyState,
)
from queues.bounds import MalformedJson, loads
from telephony_adapters._fields import (
    get,
    optional_timestamp,
    seconds_between,
    validation_reason,
)
from telephony_adapters.errors import MalformedPayload

SOURCE = "genesys"
HEARTBEAT_TOPIC = "channel.metadata"
CLOSING_TOPIC = "v2.system.socket_closing"
MALFORMED_CONVERSATION = "analytics.conversations.details (malformed)"
_USER = re.compile(r"^v2\.users\.([^.]+)\.(presence|routingStatus|activity)$")
_QUEUE = re.compile(r"^v2\.(?:analytics|routing)\.queues\.([^.]+)\.(observations|conversations)$")
_ROUTING: dict[str, TelephonyState] = {
    "IDLE": "available",
    "INTERACTING": "on_call",
    "COMMUNICATING": "on_call",
    "NOT_RESPONDING": "break",
    "OFF_QUEUE": "break",
}


def presence_state(system_presence: str) -> TelephonyState:
    value = system_presence.upper()
    if value == "OFFLINE":
        return "offline"
    if value in ("AVAILABLE", "ON_QUEUE"):
        return "available"
    return "break"


def _event_id(message: Mapping[str, Any], topic: str, at: datetime) -> str:
    correlation = get(message.get("metadata"), "CorrelationId")
    base = correlation if isinstance(correlation, str) and correlation else at.isoformat()
    return f"{topic}:{base}"


def _user_state(body: Mapping[str, Any], kind: str) -> tuple[TelephonyState, str, Any] | None:
    routing = get(body, "routingStatus")
    status = get(routing, "status") if isinstance(routing, Mapping) else None
    if kind == "routingStatus" and status is None:
        status = get(body, "status")
    presence = get(body, "presenceDefinition") or get(get(body, "presence"), "presenceDefinition")
    system = get(presence, "systemPresence")
    started = get(routing, "startTime") or get(body, "startTime") or get(body, "modifiedDate")
    if isinstance(status, str) and status.upper() in _ROUTING and status.upper() != "OFF_QUEUE":
        return _ROUTING[status.upper()], status.upper(), started
    if isinstance(system, str) and system:
        modified = get(get(body, "presence"), "modifiedDate") or started
        return presence_state(system), system.upper(), modified
    if isinstance(status, str) and status.upper() == "OFF_QUEUE":
        return "break", "OFF_QUEUE", started
    return None


def _snapshot(queue: str, results: list[Any], at: datetime, event_id: str) -> QueueSnapshot:
    available = on_calls = waiting = None
    longest: float | None = None
    for result in results:
        group = get(result, "group") or {}
        media = get(group, "mediaType")
        for datum in get(result, "data") or []:
            metric, qualifier = get(datum, "metric"), get(datum, "qualifier")
            count = get(get(datum, "stats"), "count")
            if not isinstance(count, int):
                continue
            if metric == "oUserRoutingStatuses" and media is None:
                if qualifier == "IDLE":
                    available = count
                elif qualifier == "INTERACTING":
                    on_calls = count
            elif metric == "oWaiting" and media in (None, "voice"):
                waiting = count
                for seen in get(datum, "observations") or []:
                    since = optional_timestamp(
                        SOURCE, get(seen, "observationDate"), "observationDate"
                    )
                    wait = seconds_between(since, at)
                    if wait is not None and (longest is None or wait > longest):
                        longest = wait
    return QueueSnapshot(
        event_id=event_id,
        at=at,
        queue=queue,
        calls_waiting=waiting,
        longest_wait_seconds=longest if longest is not None else (0.0 if waiting == 0 else None),
        agents_available=available,
        agents_on_calls=on_calls,
    )


def parse_observations(response: Mapping[str, Any], at: datetime) -> Parsed:
    """An observation query's response (``{"results": [...]}``): one snapshot per queue."""
    results = response.get("results")
    if not isinstance(results, list):
        raise MalformedPayload(SOURCE, "observation response has no results list")
    by_queue: dict[str, list[Any]] = {}
    for result in results:
        queue = get(get(result, "group"), "queueId")
        if not isinstance(queue, str) or not queue:
            raise MalformedPayload(SOURCE, "an observation result has no group.queueId")
        by_queue.setdefault(queue, []).append(result)
    parsed = Parsed()
    for queue, mine in by_queue.items():
        event_id = f"observations:{queue}:{at.isoformat()}"
        parsed.events.append(_snapshot(queue, mine, at, event_id))
    return parsed


def _conversation(queue: str, body: Mapping[str, Any]) -> Parsed:
    conversation = get(body, "id")
    participants = get(body, "participants")
    if not isinstance(conversation, str) or not isinstance(participants, list):
        raise MalformedPayload(SOURCE, "conversation without id or participants")
    parsed = Parsed()
    acd = [p for p in participants if get(p, "purpose") == "acd" and get(p, "queueId") == queue]
    agents = [p for p in participants if get(p, "purpose") == "agent" and get(p, "userId")]
    if not acd:
        return parsed
    entered = optional_timestamp(SOURCE, get(acd[0], "connectedTime"), "connectedTime")
    left = optional_timestamp(SOURCE, get(acd[0], "endTime"), "endTime")
    if entered is not None:
        parsed.events.append(
            CallArrived(
                event_id=f"{conversation}:{queue}:arrived",
                at=entered,
                queue=queue,
                call_id=conversation,
            )
        )
    connected = [p for p in agents if get(p, "connectedTime")]
    if connected:
        agent = connected[0]
        answered = optional_timestamp(SOURCE, get(agent, "connectedTime"), "connectedTime")
        assert answered is not None
        parsed.events.append(
            CallAnswered(
                event_id=f"{conversation}:{queue}:answered",
                at=answered,
                queue=queue,
                call_id=conversation,
                agent_id=str(get(agent, "userId")),
                wait_seconds=seconds_between(entered, answered),
            )
        )
        ended = optional_timestamp(SOURCE, get(agent, "endTime"), "endTime")
        if ended is not None:
            parsed.events.append(
                CallEnded(
                    event_id=f"{conversation}:{queue}:ended",
                    at=ended,
                    queue=queue,
                    call_id=conversation,
                    agent_id=str(get(agent, "userId")),
                    talk_seconds=seconds_between(answered, ended),
                )
            )
    elif left is not None and not agents:
        parsed.events.append(
            CallAbandoned(
                event_id=f"{conversation}:{queue}:abandoned",
                at=left,
                queue=queue,
                call_id=conversation,
                wait_seconds=seconds_between(entered, left),
            )
        )
    return parsed


_TRANSFER = ("transfer", "conferencetransfer", "consulttransfer", "forwardtransfer")


def _sessions(participant: Any) -> list[Mapping[str, Any]]:
    sessions = get(participant, "sessions") or []
    if not isinstance(sessions, list):
        raise MalformedPayload(SOURCE, "a participant's sessions is not a list")
    return [s for s in sessions if isinstance(s, Mapping)]


def _segments(participant: Any) -> list[tuple[str, datetime, datetime | None, Any]]:
    """``(segmentType, segmentStart, segmentEnd, segment)`` of every session, by start."""
    out = []
    for session in _sessions(participant):
        segments = get(session, "segments") or []
        if not isinstance(segments, list):
            raise MalformedPayload(SOURCE, "a session's segments is not a list")
        for segment in segments:
            kind = get(segment, "segmentType")
            start = optional_timestamp(SOURCE, get(segment, "segmentStart"), "segmentStart")
            if not isinstance(kind, str) or start is None:
                raise MalformedPayload(SOURCE, "a segment without segmentType or segmentStart")
            end = optional_timestamp(SOURCE, get(segment, "segmentEnd"), "segmentEnd")
            out.append((kind, start, end, segment))
    return sorted(out, key=lambda found: found[1])


def _metrics(participant: Any) -> dict[str, tuple[float, datetime | None]]:
    """Each metric of the participant's sessions: seconds (from ms) summed, and when emitted."""
    out: dict[str, tuple[float, datetime | None]] = {}
    for session in _sessions(participant):
        for metric in get(session, "metrics") or []:
            name, value = get(metric, "name"), get(metric, "value")
            if not isinstance(name, str) or isinstance(value, bool):
                continue
            if not isinstance(value, int | float) or value < 0:
                continue
            emitted = optional_timestamp(SOURCE, get(metric, "emitDate"), "emitDate")
            seconds, _ = out.get(name, (0.0, None))
            out[name] = (seconds + value / 1000, emitted)
    return out


def _lasting(segments: list[tuple[str, datetime, datetime | None, Any]], kind: str) -> float | None:
    spans = [seconds_between(s, e) for k, s, e, _ in segments if k == kind and e is not None]
    known = [span for span in spans if span is not None]
    return sum(known) if known else None


def _seconds(metrics: Mapping[str, tuple[float, datetime | None]], *names: str) -> float | None:
    for name in names:
        if name in metrics:
            return metrics[name][0]
    return None


def _detail(conversation: Any, at: datetime) -> Parsed:
    call = get(conversation, "conversationId")
    participants = get(conversation, "participants")
    if not isinstance(call, str) or not call or not isinstance(participants, list):
        raise MalformedPayload(SOURCE, "a conversation without conversationId or participants")
    parsed = Parsed()
    agents = [p for p in participants if get(p, "purpose") == "agent" and get(p, "userId")]
    queues: dict[str, list[tuple[str, datetime, datetime | None, Any]]] = {}
    acd_metrics: dict[str, dict[str, tuple[float, datetime | None]]] = {}
    for participant in participants:
        if get(participant, "purpose") != "acd":
            continue
        for found in _segments(participant):
            queue = get(found[3], "queueId")
            if isinstance(queue, str) and queue:
                if queue not in queues:
                    acd_metrics[queue] = _metrics(participant)
                queues.setdefault(queue, []).append(found)
    for queue, segments in queues.items():
        events: list[CallEvent] = []
        arrived = segments[0][1]
        events.append(
            CallArrived(event_id=f"{call}:{queue}:arrived", at=arrived, queue=queue, call_id=call)
        )
        interact = [s for s in segments if s[0] == "interact"]
        left = interact[-1][2] if interact else None
        answered = None
        for agent in agents:
            mine = [
                s
                for s in _segments(agent)
                if get(s[3], "queueId") in (queue, None) and s[1] >= arrived
            ]
            talking = [s for s in mine if s[0] == "interact"]
            if not talking:
                continue
            metrics = _metrics(agent)
            start = talking[0][1]
            user = str(get(agent, "userId"))
            wait = metrics["tAnswered"][0] if "tAnswered" in metrics else None
            events.append(
                CallAnswered(
                    event_id=f"{call}:{queue}:answered",
                    at=start,
                    queue=queue,
                    call_id=call,
                    agent_id=user,
                    wait_seconds=wait if wait is not None else seconds_between(arrived, start),
                )
            )
            connected = [s for s in mine if s[0] != "wrapup"]
            ended = connected[-1][2]
            if ended is not None:
                talk = _seconds(metrics, "tTalkComplete", "tTalk")
                hold = _seconds(metrics, "tHeldComplete", "tHeld")
                wrap = _seconds(metrics, "tAcw")
                events.append(
                    CallEnded(
                        event_id=f"{call}:{queue}:ended",
                        at=ended,
                        queue=queue,
                        call_id=call,
                        agent_id=user,
                        talk_seconds=talk if talk is not None else _lasting(mine, "interact"),
                        hold_seconds=hold if hold is not None else _lasting(mine, "hold"),
                        wrap_seconds=wrap if wrap is not None else _lasting(mine, "wrapup"),
                    )
                )
            answered = start
            break
        abandon = acd_metrics[queue].get("tAbandon")
        how = str(get(interact[-1][3], "disconnectType") or "").lower() if interact else ""
        if answered is None and (
            abandon is not None or (left is not None and how not in _TRANSFER)
        ):
            when = left or (abandon[1] if abandon is not None else None)
            if when is not None:
                events.append(
                    CallAbandoned(
                        event_id=f"{call}:{queue}:abandoned",
                        at=when,
                        queue=queue,
                        call_id=call,
                        wait_seconds=abandon[0] if abandon else seconds_between(arrived, when),
                    )
                )
        parsed.events.extend(e for e in events if e.at <= at)
    return parsed


def parse_conversation_details(body: Any, at: datetime) -> Parsed:
    """A conversation details query's response (``{"conversations": [...], "totalHits"}``).

    Each conversation (``AnalyticsConversationWithoutAttributes``) gives, per queue its ACD
    participant waited in: the arrival (the first ACD segment's start), the answer (the first
    agent ``interact`` segment; the wait is ``tAnswered`` where present), the end (the end of
    the agent's last segment before wrap-up; talk, hold and wrap from ``tTalkComplete``,
    ``tHeldComplete`` and ``tAcw``, else from the ``interact``, ``hold`` and ``wrapup``
    segments) or the abandonment (``tAbandon``, or the ACD segment ended other than by a
    transfer with no agent answering). The call id is the conversation id and the event ids
    are those of ``v2.routing.queues.{id}.conversations``, so a call reported both ways counts
    once. The conversations are read as they stood at ``at``: nothing later is reported. A
    conversation that cannot be read is skipped and counted under ``MALFORMED_CONVERSATION``.
    """
    if not isinstance(body, Mapping):
        raise MalformedPayload(SOURCE, "conversation details response is not an object")
    conversations = body.get("conversations", [])
    if not isinstance(conversations, list):
        raise MalformedPayload(SOURCE, "conversation details response: conversations is not a list")
    parsed = Parsed()
    for conversation in conversations:
        try:
            parsed.extend(_detail(conversation, at))
        except (MalformedPayload, ValidationError):
            parsed.ignored[MALFORMED_CONVERSATION] += 1
    return parsed


def parse(message: Any, received_at: datetime) -> Parsed:
    """One notification message."""
    try:
        return _parse(message, received_at)
    except ValidationError as exc:
        raise MalformedPayload(SOURCE, validation_reason(exc)) from None


def _parse(message: Any, received_at: datetime) -> Parsed:
    if not isinstance(message, Mapping):
        raise MalformedPayload(SOURCE, "message is not a JSON object")
    topic = message.get("topicName")
    if not isinstance(topic, str) or not topic:
        raise MalformedPayload(SOURCE, "message has no topicName")
    if topic in (HEARTBEAT_TOPIC, CLOSING_TOPIC):
        return Parsed()
    body = message.get("eventBody")
    if not isinstance(body, Mapping):
        raise MalformedPayload(SOURCE, f"{topic}: eventBody is not an object")
    user = _USER.match(topic)
    if user:
        found = _user_state(body, user.group(2))
        if found is None:
            raise MalformedPayload(SOURCE, f"{topic}: neither a routing status nor a presence")
        state, reason, started = found
        at = optional_timestamp(SOURCE, started, "startTime") or received_at
        return Parsed(
            events=[
                AgentStateChanged(
                    event_id=_event_id(message, topic, at),
                    at=at,
                    agent_id=user.group(1),
                    state=state,
                    reason=reason,
                )
            ]
        )
    queue = _QUEUE.match(topic)
    if queue and queue.group(2) == "observations":
        results = body.get("results") if "results" in body else [body]
        if not isinstance(results, list):
            raise MalformedPayload(SOURCE, f"{topic}: results is not a list")
        named = [
            {**r, "group": {"queueId": queue.group(1), **(get(r, "group") or {})}}
            for r in results
            if isinstance(r, Mapping)
        ]
        return parse_observations({"results": named}, received_at)
    if queue:
        return _conversation(queue.group(1), body)
    parsed = Parsed()
    parsed.ignored[re.sub(r"\.[0-9a-f-]{36}\.", ".{id}.", topic)] += 1
    return parsed


def decode(text: str | bytes) -> Any:
    """A websocket text frame as JSON."""
    try:
        return loads(text)
    except MalformedJson as exc:
        raise MalformedPayload(SOURCE, f"message is not JSON: {exc.detail}") from None
