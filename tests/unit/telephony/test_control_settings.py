"""The composition root builds the control clients the settings configure, and the feeds'
marks of the statuses those clients set."""

from __future__ import annotations

from typing import Any

import pytest

from bot import root
from bot.settings import Settings, SettingsError, load_settings
from telephony_adapters.asterisk_control import AsteriskControl
from telephony_adapters.connect_control import ConnectControl
from telephony_adapters.genesys_control import GenesysControl
from telephony_adapters.twilio_control import TwilioControl

CONNECT = {
    "connect_region": "eu-west-2",
    "connect_instance_id": "instance-1",
    "connect_backoffice_status_id": "status-bo",
    "connect_available_status_id": "status-av",
}
GENESYS = {
    "genesys_api_url": "https://api.mypurecloud.de",
    "genesys_login_url": "https://login.mypurecloud.de",
    "genesys_client_id": "client",
    "genesys_client_secret": "secret",
}
TWILIO = {
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_auth_token": "token",
    "twilio_workspace_sid": "WS" + "0" * 32,
    "twilio_backoffice_activity_sid": "WA" + "b" * 32,
    "twilio_available_activity_sid": "WA" + "a" * 32,
}
AMI = {"ami_host": "pbx.example", "ami_username": "blendbot", "ami_secret": "s3cret"}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_nothing_configured_means_no_clients_and_no_marks() -> None:
    assert root.control_clients(settings()) == {}
    assert root.state_marks(settings()) == {}


def test_every_platform_configured() -> None:
    configured = settings(**CONNECT, **GENESYS, **TWILIO, **AMI, ami_pause_queue="sales")
    clients = root.control_clients(configured)
    assert set(clients) == {"amazon_connect", "genesys", "twilio", "asterisk"}
    assert {name: client.source for name, client in clients.items()} == {
        name: name for name in clients
    }
    connect = clients["amazon_connect"]
    assert isinstance(connect, ConnectControl)
    assert connect.api_url == "https://connect.eu-west-2.amazonaws.com"
    assert connect.status_ids == {"backoffice": "status-bo", "available": "status-av"}
    assert (connect.bucket.rate, connect.bucket.burst) == (2.0, 5)
    genesys = clients["genesys"]
    assert isinstance(genesys, GenesysControl)
    assert genesys.names == ("Back office", "On Queue")
    assert genesys.limiter.limit == 300
    twilio = clients["twilio"]
    assert isinstance(twilio, TwilioControl)
    assert twilio.api_url == "https://taskrouter.twilio.com"
    asterisk = clients["asterisk"]
    assert isinstance(asterisk, AsteriskControl)
    assert (asterisk.reason, asterisk.queue) == ("back office", "sales")
    marks = root.state_marks(configured)
    assert marks["amazon_connect"].state("STATUS-BO") == "back_office"
    assert marks["twilio"].state("WA" + "a" * 32) == "available"
    assert marks["asterisk"].state("back office") == "back_office"
    assert marks["genesys"].back_office == {"back office"}


def test_the_genesys_client_shares_the_feeds_marks() -> None:
    configured = settings(**GENESYS)
    wired = root.parts(configured)
    clients = root.control_clients(configured, marks=wired.feeds.marks)
    genesys = clients["genesys"]
    assert isinstance(genesys, GenesysControl)
    assert genesys.marks is wired.feeds.marks["genesys"]


def test_a_platform_half_configured_gets_no_client() -> None:
    partial = dict(TWILIO)
    del partial["twilio_available_activity_sid"]
    assert root.control_clients(settings(**partial, **{**CONNECT, "connect_region": None})) == {}


def test_overrides_reach_the_clients() -> None:
    configured = settings(
        **CONNECT,
        **TWILIO,
        connect_api_url="http://127.0.0.1:9000/",
        connect_requests_per_second=10,
        connect_burst=20,
        twilio_api_url="http://127.0.0.1:9001",
    )
    clients = root.control_clients(configured)
    connect, twilio = clients["amazon_connect"], clients["twilio"]
    assert isinstance(connect, ConnectControl)
    assert isinstance(twilio, TwilioControl)
    assert connect.api_url == "http://127.0.0.1:9000"
    assert (connect.bucket.rate, connect.bucket.burst) == (10.0, 20)
    assert twilio.api_url == "http://127.0.0.1:9001"


def test_an_api_url_must_be_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDBOT_CONNECT_API_URL", "connect.local")
    with pytest.raises(SettingsError, match="BLENDBOT_CONNECT_API_URL"):
        load_settings(_env_file=None)
