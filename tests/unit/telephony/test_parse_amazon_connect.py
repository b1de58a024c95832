"""Amazon Connect: agent events and contact events, on the samples from AWS's docs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from blending.events import AgentStateChanged, CallAbandoned, CallAnswered, CallArrived, CallEnded
from telephony_adapters import amazon_connect
from telephony_adapters.errors import MalformedPayload
from tests.support import repairs
from tests.support.samples import CONTACT, QUEUE, contact_record, jsonc, load, text

AGENT = (
    "arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
    "/agent/agent-ARN"
)


def test_contact_ended_puts_the_agent_in_after_call_work() -> None:
    # The published sample has one // comment; it is otherwise as documented.
    parsed = amazon_connect.parse(
        jsonc("amazon_connect_agent_event_state_change_contact_ended.jsonc")
    )
    (event,) = parsed.events
    assert isinstance(event, AgentStateChanged)
    assert event.state == "after_call_work"
    assert event.agent_id == AGENT
    assert event.event_id == "EventId-1"
    assert event.at == datetime(2019, 5, 25, 18, 55, 27, 17000, tzinfo=UTC)


def test_leaving_after_call_work_makes_the_agent_available() -> None:
    parsed = amazon_connect.parse(load("amazon_connect_agent_event_state_change_acw_exit.json"))
    (event,) = parsed.events
    assert isinstance(event, AgentStateChanged)
    assert (event.state, event.reason) == ("available", "Available")
    assert event.event_id == "477f2c4f-cd1a-4785-b1a8-97023dc1229d"


def test_heart_beat_repeats_the_current_state() -> None:
    (event,) = amazon_connect.parse(repairs.connect_heart_beat()).events
    assert isinstance(event, AgentStateChanged)
    assert event.state == "available"
    assert event.at == datetime(2019, 8, 13, 20, 58, 44, 31000, tzinfo=UTC)


def test_heart_beat_as_published_is_not_json() -> None:
    data = text("amazon_connect_agent_event_heart_beat.jsonc").encode()
    with pytest.raises(MalformedPayload, match="not JSON"):
        amazon_connect.decode_record(data)


def _agent_event(kind: str, status: str = "Available", **snapshot: Any) -> dict[str, Any]:
    event: dict[str, Any] = load("amazon_connect_agent_event_state_change_acw_exit.json")
    event["EventType"] = kind
    event["CurrentAgentSnapshot"]["AgentStatus"]["Name"] = status
    event["CurrentAgentSnapshot"].update(snapshot)
    return event


@pytest.mark.parametrize(
    ("kind", "status", "contacts", "state"),
    [
        ("LOGIN", "Available", [], "available"),
        ("LOGOUT", "Available", [], "offline"),
        ("STATE_CHANGE", "Lunch", [], "break"),
        ("STATE_CHANGE", "Offline", [], "offline"),
        ("STATE_CHANGE", "Available", [{"State": "CONNECTING"}], "on_call"),
        ("STATE_CHANGE", "Available", [{"State": "CONNECTED_ONHOLD"}], "on_call"),
    ],
)
def test_agent_states(kind: str, status: str, contacts: list[Any], state: str) -> None:
    (event,) = amazon_connect.parse(_agent_event(kind, status, Contacts=contacts)).events
    assert isinstance(event, AgentStateChanged)
    assert event.state == state


def test_unknown_agent_event_type_is_counted_and_ignored() -> None:
    parsed = amazon_connect.parse(_agent_event("ROUTING_PROFILE_CHANGED"))
    assert parsed.events == []
    assert parsed.ignored == {"agent:ROUTING_PROFILE_CHANGED": 1}


def test_connected_to_agent_detail_is_an_answer() -> None:
    detail = load("amazon_connect_contact_event_connected_to_agent_detail.json")
    (event,) = amazon_connect.parse(detail).events
    assert isinstance(event, CallAnswered)
    assert event.call_id == "11111111-1111-1111-1111-111111111111"
    assert event.queue == "12345678-1234-1234-1234-123456789012"
    assert event.agent_id == detail["agentInfo"]["agentArn"]
    assert event.wait_seconds == 5.0
    assert event.event_id == "11111111-1111-1111-1111-111111111111:CONNECTED_TO_AGENT"


def test_current_docs_connected_sample_with_envelope() -> None:
    (event,) = amazon_connect.parse(repairs.connect_connected_current()).events
    assert isinstance(event, CallAnswered)
    assert event.at == datetime(2021, 8, 4, 17, 29, 9, tzinfo=UTC)


def test_disconnected_after_an_agent_is_an_end() -> None:
    # Trailing comma in CustomerVoiceActivity, as published. The sample's timestamps put the
    # disconnect before the agent connected, so no talk time can be derived from it.
    (event,) = amazon_connect.parse(jsonc("amazon_connect_contact_event_disconnected.jsonc")).events
    assert isinstance(event, CallEnded)
    assert event.agent_id == "arn"
    assert event.queue == "arn"
    assert event.talk_seconds is None
    assert event.at == datetime(2021, 8, 4, 17, 18, 37, tzinfo=UTC)


def test_current_docs_disconnected_sample() -> None:
    sample = jsonc("amazon_connect_contact_event_disconnected_current_docs.txt")
    (event,) = amazon_connect.parse(sample).events
    assert isinstance(event, CallEnded)
    assert event.queue is None


def test_queued_and_abandoned_contacts() -> None:
    detail = load("amazon_connect_contact_event_connected_to_agent_detail.json")
    queued = {**detail, "eventType": "QUEUED"}
    del queued["agentInfo"]
    (arrived,) = amazon_connect.parse(queued).events
    assert isinstance(arrived, CallArrived)
    assert arrived.at == datetime(2021, 8, 4, 17, 29, 4, tzinfo=UTC)
    gone = {**queued, "eventType": "DISCONNECTED", "disconnectTimestamp": "2021-08-04T17:30:04Z"}
    (abandoned,) = amazon_connect.parse(gone).events
    assert isinstance(abandoned, CallAbandoned)
    assert abandoned.wait_seconds == 60.0


def test_contact_data_updated_is_counted_and_ignored() -> None:
    sample = json.loads(text("amazon_connect_contact_event_contact_data_updated_current_docs.json"))
    parsed = amazon_connect.parse(sample)
    assert parsed.events == []
    assert parsed.ignored == {"contact:CONTACT_DATA_UPDATED:CHAT": 1}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ([], "not a JSON object"),
        ({"hello": 1}, "neither"),
        ({"EventType": "STATE_CHANGE"}, "CurrentAgentSnapshot"),
        ({"eventType": "QUEUED", "contactId": "c"}, "queueArn"),
        (
            {**load("amazon_connect_agent_event_state_change_acw_exit.json"), "EventTimestamp": 5},
            "EventTimestamp",
        ),
    ],
)
def test_malformed_records(record: Any, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        amazon_connect.parse(record)


def _firehose(*records: Any) -> bytes:
    encoded = [{"data": base64.b64encode(json.dumps(r).encode()).decode()} for r in records]
    return json.dumps(
        {
            "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
            "timestamp": 1578090901599,
            "records": encoded,
        }
    ).encode()


def test_firehose_request_with_records_of_both_streams() -> None:
    body = _firehose(
        load("amazon_connect_agent_event_state_change_acw_exit.json"),
        load("amazon_connect_contact_event_connected_to_agent_detail.json"),
    )
    request, parsed = amazon_connect.parse_firehose(body)
    assert request.request_id == "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
    assert request.timestamp == 1578090901599
    assert [e.type for e in parsed.events] == ["agent_state", "call_answered"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "not JSON"),
        (b'{"timestamp": 1, "records": []}', "requestId"),
        (b'{"requestId": "r", "timestamp": "x", "records": []}', "milliseconds"),
        (b'{"requestId": "r", "timestamp": 1, "records": ' + b"[" * 300 + b"]" * 300, "nested"),
        (b'{"requestId": "r", "timestamp": ' + b"9" * 5000 + b', "records": []}', "digits"),
    ],
)
def test_malformed_firehose_requests(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        amazon_connect.parse_firehose(body)


def _raw_firehose(*data: str) -> bytes:
    records = [{"data": d} for d in data]
    return json.dumps({"requestId": "r", "timestamp": 1, "records": records}).encode()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


GOOD = load("amazon_connect_agent_event_state_change_acw_exit.json")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("%%%", "not base64"),
        (_b64("{}"), "neither an agent event"),
        (_b64("{"), "not JSON"),
        (_b64("[" * 5000 + "]" * 5000), "nested deeper than 200"),
        (_b64('{"a": ' + "9" * 5000 + "}"), "more than 4300 digits"),
        (_b64('{"a": NaN}'), "not JSON"),
        (_b64(json.dumps({**GOOD, "EventTimestamp": "0001-01-01T00:00:00Z"})), "1970-01-01"),
        (_b64(json.dumps({**GOOD, "EventId": "a\u0000b"})), "NUL"),
        (base64.b64encode(b"\xff\xfe").decode(), "UTF-8"),
        ("", "empty"),
    ],
)
def test_a_record_that_cannot_be_read_is_rejected_alone(data: str, reason: str) -> None:
    """One bad record is set aside with the reason; the records beside it are read."""
    body = _raw_firehose(_b64(json.dumps(GOOD)), data, _b64(json.dumps(GOOD)))
    _, parsed = amazon_connect.parse_firehose(body)
    assert [e.type for e in parsed.events] == ["agent_state", "agent_state"]
    (rejected,) = parsed.rejected
    assert rejected.where == "record 1"
    assert reason in rejected.reason


def test_records_written_one_after_another_are_each_read() -> None:
    two = json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "EventId": "other"})
    _, parsed = amazon_connect.parse_firehose(_raw_firehose(_b64(two)))
    assert [e.event_id for e in parsed.events] == [GOOD["EventId"], "other"]
    assert parsed.rejected == []


def test_contact_record_of_an_answered_call() -> None:
    record = contact_record()
    arrived, answered, ended, closing = amazon_connect.parse(record).events
    assert isinstance(arrived, CallArrived)
    assert (arrived.event_id, arrived.call_id, arrived.queue) == (
        f"{CONTACT}:QUEUED",
        CONTACT,
        QUEUE,
    )
    assert arrived.at == datetime(2021, 8, 4, 17, 29, 4, tzinfo=UTC)
    assert isinstance(answered, CallAnswered)
    assert answered.event_id == f"{CONTACT}:CONNECTED_TO_AGENT"
    assert answered.agent_id == record["Agent"]["ARN"]
    assert answered.wait_seconds == 5.0
    assert answered.at == datetime(2021, 8, 4, 17, 29, 9, tzinfo=UTC)
    for end in (ended, closing):
        assert isinstance(end, CallEnded)
        assert end.at == datetime(2021, 8, 4, 17, 33, 9, tzinfo=UTC)
        assert (end.talk_seconds, end.hold_seconds, end.wrap_seconds) == (180.0, 60.0, 40.0)
        assert (end.call_id, end.queue, end.agent_id) == (CONTACT, QUEUE, record["Agent"]["ARN"])
    assert (ended.event_id, closing.event_id) == (
        f"{CONTACT}:DISCONNECTED",
        f"{CONTACT}:CONTACT_RECORD",
    )


def test_contact_record_events_share_the_contact_events_ids() -> None:
    detail = load("amazon_connect_contact_event_connected_to_agent_detail.json")
    queued = {**detail, "eventType": "QUEUED"}
    gone = {**detail, "eventType": "DISCONNECTED", "disconnectTimestamp": "2021-08-04T17:33:09Z"}
    from_events = [amazon_connect.parse(e).events[0] for e in (queued, detail, gone)]
    from_record = amazon_connect.parse(contact_record()).events[:3]
    assert [e.event_id for e in from_record] == [e.event_id for e in from_events]
    assert [(e.type, e.at) for e in from_record] == [(e.type, e.at) for e in from_events]
    assert {getattr(e, "call_id", None) for e in from_record + from_events} == {CONTACT}


@pytest.mark.parametrize(
    ("dequeue", "at", "wait"),
    [
        ("2021-08-04T17:30:04Z", datetime(2021, 8, 4, 17, 30, 4, tzinfo=UTC), 60.0),
        (None, datetime(2021, 8, 4, 17, 33, 9, tzinfo=UTC), 245.0),
    ],
)
def test_contact_record_of_an_abandoned_call(
    dequeue: str | None, at: datetime, wait: float
) -> None:
    # "The CTR for an abandoned contact has a Queue, and an Enqueue Timestamp [...]. It won't
    # have a ConnectedToAgentTimestamp" (same page, "How to identify abandoned contacts").
    record = contact_record(Agent=None, DisconnectReason="CUSTOMER_DISCONNECT")
    record["Queue"] = {**record["Queue"], "DequeueTimestamp": dequeue}
    arrived, abandoned = amazon_connect.parse(record).events
    assert isinstance(arrived, CallArrived)
    assert isinstance(abandoned, CallAbandoned)
    assert abandoned.event_id == f"{CONTACT}:DISCONNECTED"
    assert (abandoned.at, abandoned.wait_seconds, abandoned.queue) == (at, wait, QUEUE)


def test_contact_records_not_of_queued_voice_calls_are_counted_and_ignored() -> None:
    chat = amazon_connect.parse(contact_record(Channel="CHAT"))
    assert (chat.events, chat.ignored) == ([], {"contact_record:CHAT": 1})
    unqueued = amazon_connect.parse(contact_record(Queue=None, InitiationMethod="OUTBOUND"))
    assert (unqueued.events, unqueued.ignored) == ([], {"contact_record:not_queued": 1})


def _with(part: str, **changes: Any) -> dict[str, Any]:
    record = contact_record()
    record[part] = {**record[part], **changes}
    return record


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (contact_record(ContactId=7), "ContactId is missing"),
        (contact_record(Queue="BasicQueue"), "Queue is not an object"),
        (contact_record(Agent=[]), "Agent is not an object"),
        (_with("Queue", ARN=None), "Queue without ARN"),
        (_with("Queue", EnqueueTimestamp=None), "Queue.EnqueueTimestamp"),
        (_with("Queue", DequeueTimestamp="yesterday"), "Queue.DequeueTimestamp"),
        (contact_record(DisconnectTimestamp="soon"), "DisconnectTimestamp"),
        (_with("Agent", ARN=5), "Agent.ARN"),
        (_with("Agent", CustomerHoldDuration=-1), "CustomerHoldDuration"),
        (_with("Agent", AfterContactWorkDuration="40"), "AfterContactWorkDuration"),
        (_with("Agent", AgentInteractionDuration=10**7), "less than or equal"),
    ],
)
def test_malformed_contact_records(record: Any, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        amazon_connect.parse(record)


def test_firehose_request_with_a_contact_record() -> None:
    body = _firehose(
        load("amazon_connect_agent_event_state_change_acw_exit.json"), contact_record()
    )
    _, parsed = amazon_connect.parse_firehose(body)
    assert [e.type for e in parsed.events] == [
        "agent_state",
        "call_arrived",
        "call_answered",
        "call_ended",
        "call_ended",
    ]
    _, parsed = amazon_connect.parse_firehose(_firehose(contact_record(), _with("Queue", ARN="")))
    (rejected,) = parsed.rejected
    assert (rejected.where, rejected.reason) == ("record 1", "contact record Queue without ARN")
