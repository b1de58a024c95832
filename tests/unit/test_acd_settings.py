"""The phone system's settings: modes per group, the webhook target and its secret, and a group
in control mode with nothing to control it with."""

from __future__ import annotations

import pytest

from bot import root
from bot.settings import SettingsError, load_settings

SECRET = "whsec-0123456789abcdef"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BLENDBOT_ACD_MODE", "BLENDBOT_ACD_MODES", "BLENDBOT_ACD_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BLENDBOT_ACD_WEBHOOK_SECRET", raising=False)


def test_modes_per_group_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDBOT_ACD_MODE", "interruptible")
    monkeypatch.setenv("BLENDBOT_ACD_MODES", "retail:control,loans:advisory")
    monkeypatch.setenv("BLENDBOT_ACD_WEBHOOK_URL", "https://acd.example.com/blendbot")
    monkeypatch.setenv("BLENDBOT_ACD_WEBHOOK_SECRET", SECRET)
    settings = load_settings()
    modes = root.parts(settings).acd.modes
    assert modes.mode_of("retail") == "control"
    assert modes.mode_of("loans") == "advisory"
    assert modes.mode_of("sales") == "interruptible"
    assert root.control_targets(settings).sources == ["webhook"]


def test_a_wrong_mode_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDBOT_ACD_MODES", "retail:steer")
    with pytest.raises(SettingsError, match=r"BLENDBOT_ACD_MODES: .*must be one of"):
        load_settings()
    monkeypatch.setenv("BLENDBOT_ACD_MODES", "")
    monkeypatch.setenv("BLENDBOT_ACD_MODE", "steer")
    with pytest.raises(SettingsError, match="BLENDBOT_ACD_MODE"):
        load_settings()


def test_control_needs_a_client_and_the_webhook_needs_its_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLENDBOT_ACD_MODES", "retail:control")
    with pytest.raises(SettingsError, match="control needs a control client"):
        root.control_targets(load_settings())
    monkeypatch.setenv("BLENDBOT_ACD_WEBHOOK_URL", "https://acd.example.com/blendbot")
    with pytest.raises(SettingsError, match="BLENDBOT_ACD_WEBHOOK_SECRET: required"):
        root.control_targets(load_settings())
    monkeypatch.setenv("BLENDBOT_ACD_WEBHOOK_SECRET", "short")
    with pytest.raises(SettingsError, match="at least 16 characters"):
        load_settings()
    monkeypatch.setenv("BLENDBOT_ACD_WEBHOOK_URL", "acd.example.com")
    with pytest.raises(SettingsError, match=r"BLENDBOT_ACD_WEBHOOK_URL: .*absolute"):
        load_settings()


def test_advisory_needs_no_client() -> None:
    assert not root.control_targets(load_settings())
