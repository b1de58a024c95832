"""The timers' settings reach the tick from the environment, through the root."""

from __future__ import annotations

import pytest

from bot import root
from bot.settings import SettingsError, load_settings
from queues.timers import TimerSettings


def test_paused_return_minutes_and_the_fit_margin_reach_the_timers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert root.parts(load_settings()).timers.paused_return_minutes == 60
    monkeypatch.setenv("BLENDBOT_PAUSED_RETURN_MINUTES", "15")
    monkeypatch.setenv("BLENDBOT_FIT_MARGIN", "1.5")
    timers = root.parts(load_settings()).timers
    assert timers == TimerSettings(paused_return_minutes=15, fit_margin=1.5)
    monkeypatch.setenv("BLENDBOT_PAUSED_RETURN_MINUTES", "0")
    with pytest.raises(SettingsError, match="BLENDBOT_PAUSED_RETURN_MINUTES"):
        load_settings()
