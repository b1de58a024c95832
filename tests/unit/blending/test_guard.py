"""The real-time guard: thresholds, the number recalled, and hysteresis (a fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blending.guard import GuardSettings, GuardState, LiveQueue, guard_step

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = GuardSettings(hold_waiting=2, recall_waiting=4, recall_wait_seconds=20, calm_seconds=180)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("live", "mode", "offers", "recall"),
    [
        (LiveQueue(0), "open", True, 0),
        (LiveQueue(1, 5.0), "open", True, 0),
        (LiveQueue(2, 5.0), "hold", False, 0),
        (LiveQueue(4, 5.0, idle_agents=1), "recall", False, 3),
        (LiveQueue(1, 25.0), "recall", False, 1),
        (LiveQueue(0, 0.0, service_level=0.5), "recall", False, 1),
        (LiveQueue(0, 0.0, service_level=0.9), "open", True, 0),
    ],
)
def test_thresholds_from_an_open_guard(
    live: LiveQueue, mode: str, offers: bool, recall: int
) -> None:
    verdict = guard_step(GuardState(), live, T0, POLICY)
    assert verdict.state.mode == mode
    assert verdict.offers_allowed is offers
    assert verdict.recall == recall
    assert (verdict.reason is None) is offers


def test_recalls_as_many_as_the_waiting_calls_need_and_at_least_one() -> None:
    verdict = guard_step(GuardState(), LiveQueue(9, 40.0, idle_agents=2), T0, POLICY)
    assert verdict.recall == 7
    verdict = guard_step(GuardState(), LiveQueue(4, 40.0, idle_agents=6), T0, POLICY)
    assert verdict.recall == 1


def test_it_opens_again_only_after_a_calm_spell() -> None:
    state = guard_step(GuardState(), LiveQueue(5, 30.0), at(0), POLICY).state
    assert state.mode == "recall"
    calm = LiveQueue(0)
    first = guard_step(state, calm, at(30), POLICY)
    assert first.offers_allowed is False
    assert first.state.calm_since == at(30)
    still = guard_step(first.state, calm, at(150), POLICY)
    assert still.offers_allowed is False
    opened = guard_step(still.state, calm, at(210), POLICY)
    assert opened.offers_allowed is True
    assert opened.state.mode == "open"


def test_a_caller_waiting_again_restarts_the_calm_spell() -> None:
    state = guard_step(GuardState(), LiveQueue(2), at(0), POLICY).state
    assert state.mode == "hold"
    state = guard_step(state, LiveQueue(0), at(10), POLICY).state
    state = guard_step(state, LiveQueue(1, 3.0), at(100), POLICY).state
    assert state.calm_since is None
    state = guard_step(state, LiveQueue(0), at(120), POLICY).state
    assert guard_step(state, LiveQueue(0), at(290), POLICY).offers_allowed is False
    assert guard_step(state, LiveQueue(0), at(300), POLICY).offers_allowed is True


def test_a_flickering_queue_does_not_make_it_flap() -> None:
    """One caller coming and going every half minute: once held, it stays held."""
    state = guard_step(GuardState(), LiveQueue(2), at(0), POLICY).state
    modes = []
    for i in range(1, 40):
        live = LiveQueue(i % 2, 2.0 if i % 2 else 0.0)
        verdict = guard_step(state, live, at(30 * i), POLICY)
        state = verdict.state
        modes.append(verdict.offers_allowed)
    assert not any(modes)
    assert state.mode == "hold"


def test_a_bad_service_level_recovering_counts_as_calm_only_once_back_on_target() -> None:
    state = guard_step(GuardState(), LiveQueue(0, service_level=0.4), at(0), POLICY).state
    low = guard_step(state, LiveQueue(0, service_level=0.65), at(200), POLICY)
    assert low.state.calm_since == at(200)  # above the recall line: calm
    assert guard_step(low.state, LiveQueue(0, service_level=0.65), at(400), POLICY).offers_allowed
