"""The feeds read the statuses blendbot sets back: the back-office status as ``back_office``
and the available one as ``available``, by id or name, whatever they would read as otherwise;
without marks nothing changes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from blending.events import AgentStateChanged, Parsed
from telephony_adapters import amazon_connect, asterisk, genesys, twilio
from telephony_adapters.marks import StateMarks
from tests.support import repairs
from tests.support.samples import ami, load, twilio_callback

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INSTANCE = "arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
BACK_OFFICE_STATUS = "5b1c0d9e-0000-4a4a-8b8b-000000000001"
AVAILABLE_STATUS = "5b1c0d9e-0000-4a4a-8b8b-000000000002"


def _state(parsed: Parsed) -> tuple[str, str | None]:
    (event,) = parsed.events
    assert isinstance(event, AgentStateChanged)
    return event.state, event.reason


def test_marks_match_ids_and_names_without_case() -> None:
    marks = StateMarks(["WA1", "Back Office"], ["WA2"])
    assert marks.state("wa1") == "back_office"
    assert marks.state(None, "back office") == "back_office"
    assert marks.state("WA2") == "available"
    assert marks.state("WA3", "", None) is None
    assert not StateMarks()
    marks.add(back_office=["id-9"])
    assert marks.state("ID-9") == "back_office"


def _connect_event(status_id: str, name: str, kind: str | None) -> dict[str, Any]:
    event = copy.deepcopy(load("amazon_connect_agent_event_state_change_acw_exit.json"))
    status = event["CurrentAgentSnapshot"]["AgentStatus"]
    status["ARN"] = f"{INSTANCE}/agent-state/{status_id}"
    status["Name"] = name
    if kind is not None:
        status["Type"] = kind
    return dict(event)


@pytest.mark.parametrize(
    ("status_id", "name", "kind", "state"),
    [
        (BACK_OFFICE_STATUS, "Back office", "CUSTOM", "back_office"),
        (BACK_OFFICE_STATUS, "Renamed since", None, "back_office"),
        (AVAILABLE_STATUS, "Ready", "ROUTABLE", "available"),
        ("lunch-id", "Lunch", "CUSTOM", "break"),
    ],
)
def test_connect_reads_the_configured_statuses_by_id(
    status_id: str, name: str, kind: str | None, state: str
) -> None:
    marks = StateMarks([BACK_OFFICE_STATUS], [AVAILABLE_STATUS])
    parsed = amazon_connect.parse(_connect_event(status_id, name, kind), marks)
    assert _state(parsed) == (state, name)


def test_connect_without_marks_reads_a_custom_status_as_a_break() -> None:
    event = _connect_event(BACK_OFFICE_STATUS, "Back office", "CUSTOM")
    assert _state(amazon_connect.parse(event)) == ("break", "Back office")


def test_connect_on_a_contact_stays_on_a_call_with_back_office_next() -> None:
    # PutUserStatus during a contact sets the *next* status: the agent is still on the call.
    event = _connect_event(BACK_OFFICE_STATUS, "Back office", "CUSTOM")
    event["CurrentAgentSnapshot"]["Contacts"] = [{"State": "CONNECTED", "Channel": "VOICE"}]
    marks = StateMarks([BACK_OFFICE_STATUS], [AVAILABLE_STATUS])
    assert _state(amazon_connect.parse(event, marks))[0] == "on_call"


def _twilio_activity(sid: str, name: str) -> dict[str, str]:
    event = load("twilio_taskrouter_events_list_response.json")["events"][0]
    return twilio_callback(event, WorkerActivitySid=sid, WorkerActivityName=name)


def test_twilio_reads_the_configured_activities_by_sid() -> None:
    marks = StateMarks(["WA" + "b" * 32], ["WA" + "a" * 32])
    lent = twilio.parse(_twilio_activity("WA" + "b" * 32, "Back office"), marks)
    assert _state(lent) == ("back_office", "Back office")
    back = twilio.parse(_twilio_activity("WA" + "a" * 32, "Phones"), marks)
    assert _state(back) == ("available", "Phones")
    assert _state(twilio.parse(_twilio_activity("WA" + "c" * 32, "Lunch"), marks))[0] == "break"
    assert _state(twilio.parse(_twilio_activity("WA" + "b" * 32, "Back office")))[0] == "break"


def _presence(definition: str, system: str) -> dict[str, Any]:
    return {
        "topicName": "v2.users.u1.presence",
        "eventBody": {
            "source": "PURECLOUD",
            "presenceDefinition": {"id": definition, "systemPresence": system},
            "modifiedDate": "2026-03-02T08:59:00Z",
        },
        "metadata": {"CorrelationId": "c-1"},
    }


def test_genesys_reads_the_looked_up_presences_by_id() -> None:
    marks = StateMarks(["Back office"], ["On Queue"])
    marks.add(back_office=["p-back-office"], available=["p-on-queue"])
    lent = genesys.parse(_presence("p-back-office", "BUSY"), NOW, marks)
    assert _state(lent) == ("back_office", "BUSY")
    back = genesys.parse(_presence("p-on-queue", "ON_QUEUE"), NOW, marks)
    assert _state(back) == ("available", "ON_QUEUE")
    busy = genesys.parse(_presence("p-meeting", "BUSY"), NOW, marks)
    assert _state(busy)[0] == "break"
    assert _state(genesys.parse(_presence("p-back-office", "BUSY"), NOW))[0] == "break"


def test_genesys_activity_off_queue_in_the_back_office_presence() -> None:
    message = repairs.genesys_activity()
    definition = message["eventBody"]["presence"]["presenceDefinition"]
    marks = StateMarks(["Back office"], ["On Queue"])
    marks.add(back_office=[definition["id"]])
    assert _state(genesys.parse(message, NOW, marks))[0] == "back_office"


def test_genesys_with_marks_leaves_off_queue_to_the_presence() -> None:
    off_queue = {
        "topicName": "v2.users.u1.routingStatus",
        "eventBody": {"routingStatus": {"status": "OFF_QUEUE", "startTime": "2026-03-02T08:59Z"}},
    }
    marks = StateMarks(["Back office"], ["On Queue"])
    ignored = genesys.parse(off_queue, NOW, marks)
    assert ignored.events == []
    assert ignored.ignored == {"v2.users.{id}.routingStatus:OFF_QUEUE": 1}
    assert _state(genesys.parse(off_queue, NOW)) == ("break", "OFF_QUEUE")
    idle = {
        "topicName": "v2.users.u1.routingStatus",
        "eventBody": {"routingStatus": {"status": "IDLE", "startTime": "2026-03-02T08:59Z"}},
    }
    assert _state(genesys.parse(idle, NOW, marks))[0] == "available"


def _pause(paused: str, reason: str, event: str = "QueueMemberPause") -> dict[str, str]:
    return ami(
        "asterisk_ami_queuememberpause_syntax.txt",
        Event=event,
        Queue="sales",
        Interface="PJSIP/dana",
        Paused=paused,
        PausedReason=reason,
        Status="1",
        InCall="0",
    )


def test_asterisk_reads_a_pause_with_blendbots_reason_as_back_office() -> None:
    marks = StateMarks(["back office"])
    assert _state(asterisk.parse(_pause("1", "back office"), NOW, marks)) == (
        "back_office",
        "back office",
    )
    assert _state(asterisk.parse(_pause("1", "lunch"), NOW, marks)) == ("break", "lunch")
    assert _state(asterisk.parse(_pause("0", "back office"), NOW, marks))[0] == "available"
    assert _state(asterisk.parse(_pause("1", "back office"), NOW))[0] == "break"
    listed = _pause("1", "Back Office", event="QueueMember")
    assert _state(asterisk.parse(listed, NOW, marks))[0] == "back_office"
