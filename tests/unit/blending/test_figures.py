"""The figures recorded with each decision, on plain tables of cases (fixed clock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blending.guard import GuardState, LiveQueue
from blending.policy import Activity, AgentNow, BlendPolicy, GroupNow, decide, policy_for
from blending.windows import AgentSlot, IntervalNeed, WorkNeed

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BILLING = WorkNeed(frozenset({"billing"}), 8)
CALM = LiveQueue(0, 0.0, 0.95, 3)


def people(idle: int, on_call: int = 0, lent: int = 0) -> list[AgentNow]:
    out = []
    counts: list[tuple[Activity, int]] = [("idle", idle), ("on_call", on_call), ("lent", lent)]
    for kind, n in counts:
        for i in range(n):
            slot = AgentSlot(f"{kind}{i}", {"billing": 2}, NOW + timedelta(hours=8))
            out.append(AgentNow(slot, "calls", kind, NOW + timedelta(minutes=20)))
    return out


def ahead(*required: int | None, calls: float = 30.0, staffed: int | None = None) -> list[Any]:
    return [
        IntervalNeed(NOW + timedelta(minutes=15 * i), 15, r, r, staffed, calls)
        for i, r in enumerate(required)
    ]


@dataclass(frozen=True)
class Case:
    name: str
    policy: BlendPolicy
    ahead: list[IntervalNeed]
    people: list[AgentNow]
    live: LiveQueue | None
    expected: dict[str, Any]
    guard: GuardState = field(default_factory=GuardState)


CASES = [
    Case(
        "a calm lull: the surplus is lent",
        policy_for("forecast_guard"),
        ahead(2, 2, 2, 2),
        people(idle=3, on_call=1),
        CALM,
        {
            "policy": "forecast_guard",
            "bound": "hi_80",
            "interval_start": NOW,
            "forecast_calls": 30.0,
            "need": 2,
            "staffed": 4,
            "surplus": 2,
            "reserve": 0,
            "lent": 0,
            "idle": 3,
            "calls_waiting": 0,
            "service_level": 0.95,
            "guard": "open",
            "tripped": (),
        },
    ),
    Case(
        "calls queueing: the guard holds, the forecast's surplus is still shown",
        policy_for("forecast_guard"),
        ahead(2, 2),
        people(idle=2, on_call=2, lent=1),
        LiveQueue(3, 12.0, 0.9, 2),
        {
            "need": 2,
            "staffed": 5,
            "surplus": 3,
            "lent": 1,
            "calls_waiting": 3,
            "longest_wait_seconds": 12.0,
            "guard": "hold",
            "tripped": ("hold_waiting",),
        },
    ),
    Case(
        "calls rising: the guard recalls, naming every threshold crossed",
        policy_for("forecast_guard"),
        ahead(2),
        people(idle=0, on_call=3, lent=2),
        LiveQueue(5, 30.0, 0.5, 0),
        {
            "guard": "recall",
            "tripped": (
                "hold_waiting",
                "recall_waiting",
                "recall_wait_seconds",
                "recall_service_level",
            ),
            "surplus": 3,
        },
    ),
    Case(
        "the forecast alone keeps its safety margin and has no guard",
        policy_for("forecast"),
        ahead(2, 2),
        people(idle=4),
        CALM,
        {"reserve": 1, "surplus": 1, "guard": None, "tripped": ()},
    ),
    Case(
        "the scheduled agents of the interval, not those here now, are staffed",
        policy_for("forecast_guard"),
        ahead(1, staffed=6),
        people(idle=2),
        CALM,
        {"staffed": 6, "surplus": 5},
    ),
    Case(
        "reserve_k: the idle beyond k",
        policy_for("reserve_k", k=1),
        ahead(5),
        people(idle=3, on_call=1),
        None,
        {"reserve": 1, "surplus": 2, "need": 5, "calls_waiting": None, "guard": None},
    ),
    Case(
        "no forecast yet: need and calls unknown, nothing spare",
        policy_for("forecast_guard"),
        [],
        people(idle=3),
        CALM,
        {"interval_start": None, "forecast_calls": None, "need": None, "surplus": 0},
    ),
    Case(
        "no staffing meets the target: need unknown, nothing spare",
        policy_for("forecast_guard"),
        ahead(None),
        people(idle=3),
        CALM,
        {"need": None, "surplus": 0, "staffed": 3},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_figures_behind_each_decision(case: Case) -> None:
    problem = "no staffing" if case.ahead and case.ahead[0].required is None else None
    group = GroupNow("calls", case.ahead, case.live, problem)
    decided = decide(case.policy, NOW, [group], case.people, [BILLING], {"calls": case.guard})
    figures = decided.groups["calls"].figures
    assert figures is not None
    shown = {key: getattr(figures, key) for key in case.expected}
    assert shown == case.expected
    assert figures.window is None


def test_each_lend_carries_its_window_and_the_plans_surplus() -> None:
    # Three agents, one needed for the hour; at the higher bound, three in its second half.
    quarters = [
        IntervalNeed(NOW + timedelta(minutes=15 * i), 15, 1, high, None, 12.0)
        for i, high in enumerate((1, 1, 3, 3))
    ]
    decided = decide(
        policy_for("forecast_guard"), NOW, [GroupNow("calls", quarters, CALM)], people(3), [BILLING]
    ).groups["calls"]
    assert decided.figures is not None
    assert decided.figures.surplus == decided.surplus_now == 2
    lends = [decided.figures.with_window(w) for w in decided.windows]
    assert [(f.window.end, f.window.minutes, f.window.confidence) for f in lends if f.window] == [
        (NOW + timedelta(minutes=60), 60.0, 0.5),
        (NOW + timedelta(minutes=60), 60.0, 0.5),
    ]
    assert {(f.need, f.staffed, f.forecast_calls) for f in lends} == {(1, 3, 12.0)}
