"""Twilio TaskRouter, Genesys Cloud, Asterisk AMI and generic payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from blending.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallEnded,
    QueueSnapshot,
)
from telephony_adapters import asterisk, generic, genesys, twilio
from telephony_adapters.errors import MalformedPayload
from tests.support import repairs
from tests.support.samples import FIXTURES, ami, load, text, twilio_callback

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _twilio_events() -> list[dict[str, Any]]:
    return list(load("twilio_taskrouter_events_list_response.json")["events"])


def test_twilio_worker_activity_update() -> None:
    parsed = twilio.parse(twilio_callback(_twilio_events()[0]))
    (event,) = parsed.events
    assert isinstance(event, AgentStateChanged)
    assert event.agent_id == "WKa0f24176fee1938e495760b1122995b6"
    assert (event.state, event.reason) == ("available", "Ready")
    assert event.event_id == "EVfddc1f055300995f76cf65ef99df05cf"
    assert event.at == datetime(2015, 7, 31, 23, 36, 33, tzinfo=UTC)


def test_twilio_reserved_activity_is_on_a_call() -> None:
    (event,) = twilio.parse(twilio_callback(_twilio_events()[2])).events
    assert isinstance(event, AgentStateChanged)
    assert event.state == "on_call"


def test_twilio_reservation_created_is_counted_and_ignored() -> None:
    parsed = twilio.parse(twilio_callback(_twilio_events()[1]))
    assert parsed.events == []
    assert parsed.ignored == {"reservation.created": 1}


def test_twilio_task_lifecycle() -> None:
    created = _twilio_events()[1]
    kinds = ["task-queue.entered", "reservation.accepted", "task.wrapup", "task.canceled"]
    events = [
        twilio.parse(twilio_callback(created, EventType=k, Sid=f"EV{n}")).events[0]
        for n, k in enumerate(kinds)
    ]
    assert [type(e) for e in events] == [CallArrived, CallAnswered, CallEnded, CallAbandoned]
    assert {getattr(e, "call_id", None) for e in events} == {"WTd480a09f869b59812e7690af3e7cf23c"}
    assert isinstance(events[0], CallArrived)
    assert events[0].queue == "WQ3264f1ece8f6c9dcaba5b19ff6f6cf81"
    assert isinstance(events[1], CallAnswered)
    assert events[1].agent_id == "WKa0f24176fee1938e495760b1122995b6"


def test_twilio_other_channels_are_ignored() -> None:
    form = twilio_callback(
        _twilio_events()[1], EventType="task-queue.entered", TaskChannelUniqueName="chat"
    )
    parsed = twilio.parse(form)
    assert parsed.events == []
    assert parsed.ignored == {"task-queue.entered:chat": 1}


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({}, "EventType"),
        ({"EventType": "task-queue.entered", "TaskSid": "WT1", "TaskQueueSid": "WQ1"}, "Timestamp"),
        ({"EventType": "task-queue.entered", "Timestamp": "x"}, "Unix time"),
        ({"EventType": "task-queue.entered", "Timestamp": "1"}, "TaskSid"),
        ({"EventType": "worker.activity.update", "Timestamp": "1"}, "WorkerActivityName"),
    ],
)
def test_twilio_malformed(form: dict[str, str], reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        twilio.parse(form)


def test_genesys_presence_sample() -> None:
    (event,) = genesys.parse(load("genesys_notification_v2_users_presence.json"), NOW).events
    assert isinstance(event, AgentStateChanged)
    assert event.agent_id == "9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f"
    assert (event.state, event.reason) == ("available", "AVAILABLE")
    assert event.at == NOW
    assert event.event_id.endswith("290034f4-c3d7-46fd-8342-ee5bc859b7e9")


def test_genesys_activity_off_queue_falls_back_to_presence() -> None:
    (event,) = genesys.parse(repairs.genesys_activity(), NOW).events
    assert isinstance(event, AgentStateChanged)
    assert event.agent_id == "e40f28ea-fa86-493f-a5b8-d559c8533c96"
    assert event.state == "available"
    assert event.at == datetime(2021, 5, 14, 9, 3, 17, 47000, tzinfo=UTC)


def test_genesys_activity_as_published_is_refused() -> None:
    with pytest.raises(MalformedPayload, match="not JSON"):
        genesys.decode(text("genesys_notification_v2_users_activity.jsonc"))


@pytest.mark.parametrize(
    ("status", "state"),
    [("INTERACTING", "on_call"), ("IDLE", "available"), ("NOT_RESPONDING", "break")],
)
def test_genesys_routing_status(status: str, state: str) -> None:
    message = {
        "topicName": "v2.users.u1.routingStatus",
        "eventBody": {"routingStatus": {"status": status, "startTime": "2026-03-02T08:59:00Z"}},
    }
    (event,) = genesys.parse(message, NOW).events
    assert isinstance(event, AgentStateChanged)
    assert event.state == state


def test_genesys_observation_query_response_is_a_snapshot() -> None:
    response = load("genesys_analytics_queue_observation_query_response.json")
    (event,) = genesys.parse_observations(response, NOW).events
    assert isinstance(event, QueueSnapshot)
    assert event.queue == "1d1af111-b11c-11f1-b111-1cf1c11111fc"
    assert (event.agents_available, event.agents_on_calls) == (1, 2)
    assert event.calls_waiting is None


def test_genesys_observation_notification() -> None:
    result = load("genesys_analytics_queue_observation_query_response.json")["results"][0]
    del result["group"]["queueId"]
    message = {"topicName": "v2.analytics.queues.q1.observations", "eventBody": result}
    (event,) = genesys.parse(message, NOW).events
    assert isinstance(event, QueueSnapshot)
    assert event.queue == "q1"


def _conversation(**agent: str) -> dict[str, Any]:
    # Genesys documents no sample of this topic; the fields are the Conversation model's.
    participants: list[dict[str, Any]] = [
        {"purpose": "customer", "connectedTime": "2026-03-02T08:50:00Z"},
        {
            "purpose": "acd",
            "queueId": "q1",
            "connectedTime": "2026-03-02T08:50:10Z",
            "endTime": "2026-03-02T08:50:40Z",
        },
    ]
    if agent:
        participants.append({"purpose": "agent", "userId": "u1", **agent})
    return {
        "topicName": "v2.routing.queues.q1.conversations",
        "eventBody": {"id": "conv-1", "participants": participants},
    }


def test_genesys_conversation_answered_and_ended() -> None:
    events = genesys.parse(
        _conversation(connectedTime="2026-03-02T08:50:40Z", endTime="2026-03-02T08:55:40Z"), NOW
    ).events
    assert [type(e) for e in events] == [CallArrived, CallAnswered, CallEnded]
    assert isinstance(events[1], CallAnswered)
    assert events[1].wait_seconds == 30.0
    assert isinstance(events[2], CallEnded)
    assert events[2].talk_seconds == 300.0


def test_genesys_conversation_abandoned() -> None:
    events = genesys.parse(_conversation(), NOW).events
    assert [type(e) for e in events] == [CallArrived, CallAbandoned]


DETAILS = FIXTURES / "genesys_conversation_details_blueprint.json"


def _details_response(*conversations: dict[str, Any]) -> dict[str, Any]:
    return {"conversations": list(conversations), "totalHits": len(conversations)}


def test_genesys_conversation_details_documented_sample() -> None:
    # The conversation printed in Genesys' "Conversation model to SQL" blueprint, as the
    # conversation details query returns it:
    # https://developer.genesys.cloud/blueprints/conversation-model-to-sql-blueprint/
    conversation = json.loads(DETAILS.read_text(encoding="utf-8"))
    events = genesys.parse_conversation_details(_details_response(conversation), NOW).events
    assert [type(e) for e in events] == [CallArrived, CallAnswered, CallEnded]
    arrived, answered, ended = events
    call = "1bc96a39-6725-40c4-9345-db72aa67b8c6"
    queue = "a623d83c-96d7-4baa-af1f-d46ad6700d8b"
    assert isinstance(arrived, CallArrived)
    assert (arrived.call_id, arrived.queue) == (call, queue)
    assert arrived.at == datetime(2021, 4, 1, 12, 27, 53, 388000, tzinfo=UTC)
    assert arrived.event_id == f"{call}:{queue}:arrived"
    assert isinstance(answered, CallAnswered)
    assert answered.agent_id == "50fcd33c-f432-4726-abc9-979f3ca01555"
    assert answered.at == datetime(2021, 4, 1, 12, 28, 4, 569000, tzinfo=UTC)
    assert answered.wait_seconds == pytest.approx(11.179)
    assert isinstance(ended, CallEnded)
    # Ended on hold (disconnectType peer); no tTalk/tHeld metrics, so from the segments.
    assert ended.at == datetime(2021, 4, 1, 12, 43, 23, 306000, tzinfo=UTC)
    assert ended.talk_seconds == pytest.approx(374.561)
    assert ended.hold_seconds == pytest.approx(544.176)
    assert ended.wrap_seconds is None
    # Read as it stood before the agent answered: only the arrival.
    early = datetime(2021, 4, 1, 12, 28, tzinfo=UTC)
    (only,) = genesys.parse_conversation_details(_details_response(conversation), early).events
    assert isinstance(only, CallArrived)


def _detail(abandoned: bool = False) -> dict[str, Any]:
    """``conv-1`` in queue ``q1`` as the details query gives it: answered, or abandoned."""
    acd: dict[str, Any] = {
        "purpose": "acd",
        "sessions": [
            {
                "mediaType": "voice",
                "segments": [
                    {
                        "segmentType": "interact",
                        "queueId": "q1",
                        "segmentStart": "2026-03-02T08:50:10Z",
                        "segmentEnd": "2026-03-02T08:50:40Z",
                        "disconnectType": "peer" if abandoned else "transfer",
                    }
                ],
                "metrics": [{"name": "tAbandon", "value": 30000}] if abandoned else [],
            }
        ],
    }
    agent = {
        "purpose": "agent",
        "userId": "u1",
        "sessions": [
            {
                "mediaType": "voice",
                "segments": [
                    {
                        "segmentType": "interact",
                        "queueId": "q1",
                        "segmentStart": "2026-03-02T08:50:40Z",
                        "segmentEnd": "2026-03-02T08:55:40Z",
                        "disconnectType": "client",
                    },
                    {
                        "segmentType": "wrapup",
                        "queueId": "q1",
                        "segmentStart": "2026-03-02T08:55:40Z",
                        "segmentEnd": "2026-03-02T08:56:10Z",
                    },
                ],
                "metrics": [
                    {"name": "tAnswered", "value": 30000},
                    {"name": "tTalkComplete", "value": 300000},
                    {"name": "tAcw", "value": 30000},
                ],
            }
        ],
    }
    customer = {"purpose": "customer", "sessions": []}
    participants = [customer, acd] if abandoned else [customer, acd, agent]
    return {"conversationId": "conv-1", "participants": participants}


def test_genesys_conversation_details_match_the_live_topic() -> None:
    live = genesys.parse(
        _conversation(connectedTime="2026-03-02T08:50:40Z", endTime="2026-03-02T08:55:40Z"), NOW
    ).events
    backfilled = genesys.parse_conversation_details(_details_response(_detail()), NOW).events
    assert [e.event_id for e in backfilled] == [e.event_id for e in live]
    assert {getattr(e, "call_id", None) for e in backfilled} == {"conv-1"}
    ended = backfilled[-1]
    assert isinstance(ended, CallEnded)
    assert (ended.talk_seconds, ended.wrap_seconds, ended.agent_id) == (300.0, 30.0, "u1")


def test_genesys_conversation_details_abandoned() -> None:
    live = genesys.parse(_conversation(), NOW).events
    events = genesys.parse_conversation_details(_details_response(_detail(True)), NOW).events
    assert [type(e) for e in events] == [CallArrived, CallAbandoned]
    assert [e.event_id for e in events] == [e.event_id for e in live]
    assert isinstance(events[1], CallAbandoned)
    assert events[1].wait_seconds == 30.0


def test_genesys_conversation_details_bad_input() -> None:
    with pytest.raises(MalformedPayload, match="not an object"):
        genesys.parse_conversation_details([], NOW)
    with pytest.raises(MalformedPayload, match="not a list"):
        genesys.parse_conversation_details({"conversations": {}}, NOW)
    assert genesys.parse_conversation_details({"totalHits": 0}, NOW).events == []
    parsed = genesys.parse_conversation_details(
        _details_response({"participants": []}, _detail()), NOW
    )
    assert len(parsed.events) == 3
    assert parsed.ignored == {genesys.MALFORMED_CONVERSATION: 1}


def test_genesys_heartbeat_and_unknown_topics() -> None:
    beat = {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
    assert genesys.parse(beat, NOW).events == []
    other = {
        "topicName": "v2.users.9ed7d9f6-0c59-4360-ac54-40dd35eb9c2f.geolocation",
        "eventBody": {},
    }
    assert genesys.parse(other, NOW).ignored == {"v2.users.{id}.geolocation": 1}


def test_ami_queue_call_events_from_the_documented_syntax() -> None:
    join = ami(
        "asterisk_ami_queuecallerjoin_syntax.txt",
        Uniqueid="1.1",
        Queue="sales",
        Position="1",
        Count="1",
    )
    connect = ami(
        "asterisk_ami_agentconnect_syntax.txt",
        Uniqueid="1.1",
        Queue="sales",
        Interface="SIP/1001",
        HoldTime="12",
        RingTime="3",
    )
    complete = ami(
        "asterisk_ami_agentcomplete_syntax.txt",
        Uniqueid="1.1",
        Queue="sales",
        Interface="SIP/1001",
        HoldTime="12",
        TalkTime="240",
        Reason="caller",
    )
    abandon = ami(
        "asterisk_ami_queuecallerabandon_syntax.txt",
        Uniqueid="2.2",
        Queue="sales",
        HoldTime="40",
        Position="1",
        OriginalPosition="2",
    )
    leave = ami("asterisk_ami_queuecallerleave_syntax.txt", Uniqueid="1.1", Queue="sales")
    events = [e for m in (join, connect, complete, abandon) for e in asterisk.parse(m, NOW).events]
    assert [type(e) for e in events] == [CallArrived, CallAnswered, CallEnded, CallAbandoned]
    assert isinstance(events[1], CallAnswered)
    assert (events[1].agent_id, events[1].wait_seconds) == ("SIP/1001", 12.0)
    assert isinstance(events[2], CallEnded)
    assert events[2].talk_seconds == 240.0
    assert isinstance(events[3], CallAbandoned)
    assert events[3].wait_seconds == 40.0
    assert asterisk.parse(leave, NOW).events == []


@pytest.mark.parametrize(
    ("values", "state"),
    [
        ({"Status": "1", "Paused": "0"}, "available"),
        ({"Status": "2", "Paused": "0", "InCall": "1"}, "on_call"),
        ({"Status": "5", "Paused": "0"}, "offline"),
        ({"Status": "1", "Paused": "1", "PausedReason": "lunch"}, "break"),
    ],
)
def test_ami_member_status(values: dict[str, str], state: str) -> None:
    message = ami(
        "asterisk_ami_queuememberstatus_syntax.txt", Queue="sales", Interface="SIP/1001", **values
    )
    (event,) = asterisk.parse(message, NOW).events
    assert isinstance(event, AgentStateChanged)
    assert (event.agent_id, event.state) == ("SIP/1001", state)


def test_ami_member_pause_syntax() -> None:
    message = ami(
        "asterisk_ami_queuememberpause_syntax.txt",
        Queue="sales",
        Interface="SIP/1001",
        Paused="1",
        PausedReason="training",
        Status="1",
    )
    (event,) = asterisk.parse(message, NOW).events
    assert isinstance(event, AgentStateChanged)
    assert (event.state, event.reason) == ("break", "training")


def test_ami_captured_asterisk_11_stream() -> None:
    """A real capture: only the queue member events count, the rest is counted and ignored."""
    blocks = text("asterisk_ami_capture_panoramisk_agent_not_in_pause.txt").split("\n\n")
    messages = [asterisk.read_message(b) for b in blocks if b.strip()]
    states = []
    ignored: dict[str, int] = {}
    for message in messages:
        parsed = asterisk.parse(message, NOW)
        states += parsed.events
        for key, count in parsed.ignored.items():
            ignored[key] = ignored.get(key, 0) + count
    assert states
    assert all(isinstance(e, AgentStateChanged) for e in states)
    assert {e.agent_id for e in states if isinstance(e, AgentStateChanged)} == {
        "Local/id-12@agentcallback"
    }
    assert ignored["Newchannel"] >= 1
    assert "QueueMemberStatus" not in ignored


def test_ami_malformed() -> None:
    with pytest.raises(MalformedPayload, match="no Event"):
        asterisk.parse({"Queue": "x"}, NOW)
    with pytest.raises(MalformedPayload, match="Uniqueid"):
        asterisk.parse({"Event": "QueueCallerJoin", "Queue": "x"}, NOW)
    with pytest.raises(MalformedPayload, match="HoldTime"):
        asterisk.parse(
            {"Event": "QueueCallerAbandon", "Queue": "x", "Uniqueid": "1", "HoldTime": "-1"}, NOW
        )


def test_generic_events() -> None:
    body = [
        {
            "type": "call_arrived",
            "event_id": "e1",
            "at": "2026-03-02T09:00:00Z",
            "queue": "sales",
            "call_id": "c1",
        },
        {
            "type": "call_ended",
            "event_id": "e2",
            "at": "2026-03-02T09:05:00+01:00",
            "queue": "sales",
            "call_id": "c1",
            "agent_id": "dana",
            "talk_seconds": 200,
            "wrap_seconds": 30,
        },
        {
            "type": "agent_state",
            "event_id": "e3",
            "at": "2026-03-02T09:00:00Z",
            "agent_id": "dana",
            "state": "available",
        },
    ]
    events = generic.parse(body).events
    assert [e.type for e in events] == ["call_arrived", "call_ended", "agent_state"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[", "not JSON"),
        (b"{}", "JSON list"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper"),
        (b'[{"event_id": ' + b"9" * 5000 + b"}]", "digits"),
        (b'[{"event_id": NaN}]', "not JSON"),
    ],
)
def test_generic_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        generic.parse(body)


GOOD_EVENT = (
    b'{"type": "call_arrived", "event_id": "e", "at": "2026-03-02T09:00:00Z", "queue": "q",'
    b' "call_id": "c"}'
)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (b'{"type": "nope", "event_id": "e", "at": "2026-03-02T09:00:00Z"}', "does not match"),
        (
            b'{"type": "call_arrived", "event_id": "e-y1", "at": "0001-01-01T00:00:00Z",'
            b' "queue": "q", "call_id": "c-y1"}',
            "1970-01-01",
        ),
        (
            b'{"type": "call_arrived", "event_id": "e", "at": "2026-03-02T09:00:00",'
            b' "queue": "q", "call_id": "c"}',
            "timezone",
        ),
        (
            b'{"type": "call_arrived", "event_id": "e", "at": 1772442000, "queue": "q",'
            b' "call_id": "c"}',
            "ISO 8601",
        ),
        (
            b'{"type": "agent_state", "event_id": "e", "at": "2026-03-02T09:00:00Z",'
            b' "agent_id": "a", "state": "dancing"}',
            "state",
        ),
        (
            b'{"type": "call_arrived", "event_id": "e", "at": "2026-03-02T09:00:00Z",'
            b' "queue": "q\\u0000", "call_id": "c"}',
            "NUL",
        ),
    ],
)
def test_a_generic_event_that_cannot_be_read_is_rejected_alone(event: bytes, reason: str) -> None:
    parsed = generic.parse(b"[" + GOOD_EVENT + b"," + event + b"]")
    assert [e.event_id for e in parsed.events] == ["e"]
    (rejected,) = parsed.rejected
    assert rejected.where == "event 1"
    assert reason in rejected.reason


def test_intervals_csv() -> None:
    rows = generic.parse_intervals_csv(
        "queue,interval_start,offered,answered,abandoned,aht_seconds\n"
        "sales,2026-03-02T09:00:00Z,40,36,4,210.5\n"
        "sales,2026-03-02T09:15:00Z,0,0,0,\n",
        15,
    )
    assert [(r.offered, r.answered, r.abandoned, r.aht_seconds) for r in rows] == [
        (40, 36, 4, 210.5),
        (0, 0, 0, None),
    ]


@pytest.mark.parametrize(
    ("csv", "reason"),
    [
        ("queue,offered\n", "interval_start"),
        ("queue,interval_start,offered\nsales,2026-03-02T09:05:00Z,1\n", "grid"),
        ("queue,interval_start,offered,answered\nsales,2026-03-02T09:00:00Z,1,2\n", "exceed"),
        ("queue,interval_start,offered\nsales,2026-03-02T09:00:00Z,-1\n", "negative"),
        (
            "queue,interval_start,offered\ns,2026-03-02T09:00:00Z,1\ns,2026-03-02T09:00:00Z,1\n",
            "repeated",
        ),
    ],
)
def test_intervals_csv_malformed(csv: str, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        generic.parse_intervals_csv(csv, 15)


def test_schedule_csv() -> None:
    schedules = generic.parse_schedule_csv(
        "agent_id,kind,start,end\n"
        "dana,shift,2026-03-02T08:00:00Z,2026-03-02T16:00:00Z\n"
        "dana,break,2026-03-02T12:00:00Z,2026-03-02T12:30:00Z\n"
    )
    assert [e.kind for e in schedules["dana"].items] == ["shift", "break"]
    with pytest.raises(MalformedPayload, match="line 2"):
        generic.parse_schedule_csv("agent_id,kind,start,end\nd,nap,2026-03-02T08:00:00Z,x\n")
