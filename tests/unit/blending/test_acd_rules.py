"""Modes per staffing group, the drift rules, which client controls an agent, and the webhook's
signature and Retry-After."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from blending.acd import AcdModes, Correction, Watched, drift, parse_modes
from clock import retry_after
from telephony_adapters.control import Command
from telephony_adapters.control_outbox import Targets
from telephony_adapters.webhook_control import WebhookClient, body_of, sign

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "modes"),
    [
        ("", {}),
        ("retail:control", {"retail": "control"}),
        (" retail : control , loans:Advisory,", {"retail": "control", "loans": "advisory"}),
        ("all queues:interruptible", {"all queues": "interruptible"}),
        ("sip:queue:1:control", {"sip:queue:1": "control"}),
    ],
)
def test_modes_are_read_group_colon_mode(text: str, modes: dict[str, str]) -> None:
    assert parse_modes(text) == modes


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("retail", "is not group:mode"),
        (":control", "is not group:mode"),
        ("retail:on", "must be one of advisory, control, interruptible"),
        ("retail:control,retail:advisory", "named twice"),
    ],
)
def test_a_wrong_mode_list_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_modes(text)


def test_a_group_not_named_has_the_default_mode() -> None:
    modes = AcdModes("interruptible", {"retail": "control"})
    assert modes.mode_of("retail") == "control"
    assert modes.mode_of("loans") == "interruptible"
    assert modes.uses("control")
    assert modes.uses("interruptible")
    assert not modes.uses("advisory")
    assert modes.rows() == [("*", "interruptible"), ("retail", "control")]


def agent(**kw: object) -> Watched:
    base: dict[str, object] = {
        "agent_id": "dana",
        "mode": "control",
        "wanted": "available",
        "line_state": "back_office",
        "line_since": ago(130),
    }
    base.update(kw)
    return Watched(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "fix"),
    [
        (agent(), ("available", "ghost")),
        (agent(line_since=ago(100)), None),  # not two minutes yet
        (agent(wanted="backoffice"), None),  # she holds work: no ghost
        (agent(last_status="pending", last_state="available"), None),  # a command is open
        (agent(last_status="sent", last_state="available"), None),
        (agent(last_status="confirmed", last_state="backoffice", last_at=ago(30)), None),
        (
            agent(last_status="confirmed", last_state="backoffice", last_at=ago(300)),
            ("available", "ghost"),
        ),
        (agent(mode="advisory"), None),  # advisory: not ours to correct
        (
            agent(mode="advisory", last_state="backoffice", last_status="confirmed"),
            ("available", "ghost"),
        ),
        (agent(mode="interruptible"), ("available", "ghost")),
        (agent(last_status="failed", last_done_at=ago(60)), None),  # just failed: told already
        (agent(last_status="failed", last_done_at=ago(600)), ("available", "ghost")),
        (agent(line_state=None, line_since=None), None),  # no feed line to go by
        # Routable while lent, in control mode only, once it has lasted the grace.
        (
            agent(wanted="backoffice", line_state="available", line_since=ago(11)),
            ("backoffice", "drift"),
        ),
        (agent(wanted="backoffice", line_state="available", line_since=ago(5)), None),
        (
            agent(
                wanted="backoffice",
                line_state="available",
                line_since=ago(60),
                last_status="confirmed",
                last_done_at=ago(3),
            ),
            None,
        ),
        # interruptible: wanted in back office only while holding work no call can pause
        (
            agent(mode="interruptible", wanted="backoffice", line_state="available"),
            ("backoffice", "drift"),
        ),
        (agent(mode="interruptible", wanted="available", line_state="available"), None),
        (agent(mode="advisory", wanted="backoffice", line_state="available"), None),
        (agent(wanted="backoffice", line_state="on_call", line_since=ago(60)), None),
        (agent(wanted="available", line_state="break", line_since=ago(600)), None),
    ],
)
def test_drift_rules(who: Watched, fix: tuple[str, str] | None) -> None:
    found = drift([who], NOW)
    if fix is None:
        assert found == []
    else:
        (correction,) = found
        assert isinstance(correction, Correction)
        assert (correction.state, correction.cause) == fix


class FakeClient:
    def __init__(self, source: str) -> None:
        self.source = source

    async def send(self, command: Command) -> None:
        return None


def test_the_agents_platform_client_controls_them_else_the_webhook() -> None:
    targets = Targets([FakeClient("twilio"), FakeClient("webhook"), FakeClient("genesys")])
    found = targets.resolve("dana", {"twilio": "WK1", "genesys": "u-1"})
    assert found is not None
    assert (found.client.source, found.external_id, found.feed_source) == (
        "genesys",
        "u-1",
        "genesys",
    )
    found = targets.resolve("dana", {"amazon_connect": "arn:1", "generic": "ext-9"})
    assert found is not None
    assert (found.client.source, found.feed_source, found.feed_id) == (
        "webhook",
        "generic",
        "ext-9",
    )
    found = targets.resolve("ben", {})
    assert found is not None
    assert (found.client.source, found.feed_id) == ("webhook", "ben")
    assert Targets([FakeClient("twilio")]).resolve("ben", {"genesys": "u-2"}) is None
    assert not Targets()


def test_the_webhook_body_and_its_signature() -> None:
    command = Command("c-1", "dana", "ext-9", "available", "recalled", {"generic": "ext-9"})
    body = body_of(command)
    assert body == (
        b'{"agent_id":"dana","telephony_ids":{"generic":"ext-9"},"state":"available",'
        b'"reason":"recalled","command_id":"c-1"}'
    )
    digest = hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret-s3cret-s3cret", body) == f"sha256={digest}"
    assert WebhookClient("http://x", "s").source == "webhook"


@pytest.mark.parametrize(
    ("value", "date", "seconds"),
    [
        ("7", None, 7.0),
        ("0.5", None, 0.5),
        ("-3", None, 0.0),
        ("Wed, 21 Oct 2026 07:28:30 GMT", "Wed, 21 Oct 2026 07:28:00 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:28:30 GMT", None, None),
        ("soon", "Wed, 21 Oct 2026 07:28:00 GMT", None),
        (None, None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(
    value: str | None, date: str | None, seconds: float | None
) -> None:
    assert retry_after(value, date) == seconds
