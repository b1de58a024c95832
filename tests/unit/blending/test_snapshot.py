"""The service's view of the center: staffing groups, shifts and breaks, live figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from blending.policy import policy_for
from blending.schedule import ScheduleRow
from blending.snapshot import POOLED, AgentRow, ForecastRow, QueueLiveRow, assemble

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
POLICY = policy_for("forecast_guard")


def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


def row(agent: str, state: str = "available", queue: str | None = None, **kw: object) -> AgentRow:
    return AgentRow(agent, queue, {"billing": 3}, 0.0, state, **kw)  # type: ignore[arg-type]


def forecast(queue: str, agents: int, n: int = 8) -> list[ForecastRow]:
    return [
        ForecastRow(queue, minutes(15 * i), 15, 20.0, 180.0, agents, agents + 1) for i in range(n)
    ]


def live(queue: str, waiting: int = 0, *, on: bool = True) -> QueueLiveRow:
    return QueueLiveRow(queue, waiting, 0.0, 40, 36, on)


def test_agents_with_a_queue_form_its_group_the_rest_pool_the_other_queues() -> None:
    agents = [row("a", queue="sales"), row("b"), row("c", "on_call")]
    snap = assemble(
        NOW,
        POLICY,
        agents,
        [],
        [*forecast("sales", 1), *forecast("care", 2), *forecast("claims", 3)],
        [live("sales"), live("care"), live("claims")],
    )
    groups = {g.group: g for g in snap.groups}
    assert set(groups) == {"sales", POOLED}
    assert groups["sales"].ahead[0].required == 1
    assert groups[POOLED].ahead[0].required == 5  # care and claims together
    assert groups[POOLED].ahead[0].required_high == 7
    assert groups[POOLED].ahead[0].calls == 40.0  # the forecast calls, for the record
    assert {a.agent_id: a.activity for a in snap.agents} == {
        "a": "idle",
        "b": "idle",
        "c": "on_call",
    }


def test_schedules_decide_who_takes_part_and_how_many_are_staffed_ahead() -> None:
    shift = [ScheduleRow("a", "shift", minutes(-60), minutes(30))]
    on_break = [
        ScheduleRow("b", "shift", minutes(-60), minutes(300)),
        ScheduleRow("b", "break", minutes(-5), minutes(10)),
    ]
    later_break = [
        ScheduleRow("c", "shift", minutes(-60), minutes(300)),
        ScheduleRow("c", "break", minutes(40), minutes(55)),
    ]
    snap = assemble(
        NOW,
        POLICY,
        [row("a"), row("b"), row("c"), row("d", "offline"), row("e", "break")],
        [*shift, *on_break, *later_break],
        forecast("care", 0),
        [live("care")],
    )
    by_id = {a.agent_id: a for a in snap.agents}
    assert set(by_id) == {"a", "c"}  # b is on a break, d is off, e's feed says away
    assert by_id["a"].slot.shift_end == minutes(30)
    assert by_id["c"].slot.next_break == minutes(40)
    staffed = [n.staffed for n in snap.groups[0].ahead]
    # At each interval's start: a until 10:30, b back at 10:10, c away 10:40-10:55; d and e
    # have no schedule and do not take part now.
    assert staffed[:5] == [2, 3, 2, 1, 2]


def test_offers_and_back_office_work_count_as_lent() -> None:
    end = minutes(12)
    snap = assemble(
        NOW,
        POLICY,
        [row("a", offered=True), row("b", "back_office", work_end=end, pausable=False)],
        [],
        forecast("care", 0),
        [live("care")],
    )
    by_id = {a.agent_id: a for a in snap.agents}
    assert by_id["a"].activity == "lent"
    assert (by_id["b"].activity, by_id["b"].work_end, by_id["b"].pausable) == ("lent", end, False)


def test_a_queue_nobody_reports_on_has_no_live_figures() -> None:
    snap = assemble(NOW, POLICY, [row("a")], [], forecast("care", 0), [live("care", on=False)])
    assert snap.groups[0].live is None


def test_missing_forecasts_and_unmeetable_targets_are_problems() -> None:
    snap = assemble(NOW, POLICY, [row("a")], [], [], [live("care")])
    assert "no forecast yet for care" in (snap.groups[0].problem or "")
    unmet = [ForecastRow("care", NOW, 15, 20.0, 180.0, None, None)]
    snap = assemble(NOW, POLICY, [row("a")], [], unmet, [live("care")])
    assert "service target" in (snap.groups[0].problem or "")


def test_the_mean_bound_staffs_the_forecast_mean() -> None:
    mean = policy_for("forecast", bound="mean")
    snap = assemble(NOW, mean, [row("a")], [], forecast("care", 9), [live("care")])
    assert 0 < (snap.groups[0].ahead[0].required or 0) < 9  # 20 calls in 15 min, 180 s each


def test_a_group_in_interruptible_mode_is_marked_so() -> None:
    agents = [row("a", queue="sales", interruptible=True), row("b")]
    snap = assemble(
        NOW,
        POLICY,
        agents,
        [],
        [*forecast("sales", 1), *forecast("care", 2)],
        [live("sales"), live("care")],
    )
    assert {g.group: g.interruptible for g in snap.groups} == {"sales": True, POOLED: False}
