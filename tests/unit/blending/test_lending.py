"""The lending outlook: spare agents by the forecast, shared by skills, and when an agent is
next free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blending.lending import ForecastLending, GroupNeed, Staffer, working_spans
from blending.outlook import group_needs
from blending.policy import policy_for
from blending.snapshot import POOLED, ForecastRow

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BILLING, CARDS = frozenset({"billing"}), frozenset({"cards"})


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def needs(required: list[int | None], group: str = POOLED) -> list[GroupNeed]:
    return [GroupNeed(group, at(15 * i), 15, r) for i, r in enumerate(required)]


def staff(n: int, skills: frozenset[str] = BILLING, **kw: object) -> list[Staffer]:
    return [
        Staffer(f"{sorted(skills)[0]}{i}", POOLED, skills, present=True, **kw)  # type: ignore[arg-type]
        for i in range(n)
    ]


def test_spare_agents_are_shared_by_who_has_the_skills() -> None:
    team = staff(3) + staff(1, CARDS)
    lending = ForecastLending(NOW, needs([2, 2, 4, 3]), team)
    billing = lending.capacity(BILLING)
    # Two spare of four in the first half hour, three of them billing; none, then one.
    assert [(s.start, s.end) for s in billing.slots] == [(at(0), at(30)), (at(45), at(60))]
    assert [s.agent_minutes for s in billing.slots] == pytest.approx([2 * 0.75 * 30, 0.75 * 15])
    assert billing.skilled == 3
    assert billing.forecast
    assert billing.until == at(60)
    assert lending.capacity(CARDS).slots[0].agent_minutes == pytest.approx(2 * 0.25 * 30)
    assert lending.capacity(frozenset({"mortgage"})).skilled == 0
    assert lending.capacity(frozenset()).skilled == 4  # work that needs no skills


def test_no_spare_while_the_guard_holds_or_the_policy_lends_nobody() -> None:
    held = ForecastLending(NOW, needs([1, 1]), staff(3), held=frozenset({POOLED}))
    assert [s.start for s in held.capacity(BILLING).slots] == [at(15)]
    off = ForecastLending(NOW, needs([1, 1]), staff(3), lends=False)
    assert off.capacity(BILLING).slots == ()
    assert off.capacity(BILLING).forecast
    margin = ForecastLending(NOW, needs([1]), staff(3), safety_margin=2)
    assert margin.capacity(BILLING).slots == ()
    unknown = ForecastLending(NOW, needs([None]), staff(3))
    assert unknown.capacity(BILLING).slots == ()
    assert not ForecastLending(NOW, [], staff(3)).capacity(BILLING).forecast


def test_shifts_and_breaks_decide_who_counts_ahead() -> None:
    spans = working_spans([(at(-60), at(60))], [(at(15), at(30))])
    assert spans == ((at(-60), at(15)), (at(30), at(60)))
    ana = Staffer("ana", POOLED, BILLING, spans)
    ben = Staffer("ben", POOLED, BILLING, ((at(30), at(120)),))
    away = Staffer("cy", POOLED, BILLING, None, present=False)
    lending = ForecastLending(NOW, needs([0, 0, 1, 1]), [ana, ben, away])
    assert [s.agent_minutes for s in lending.capacity(BILLING).slots] == [15, 30]
    assert lending.resume_at("ana") == NOW
    assert lending.resume_at("ben") == at(30)
    assert lending.resume_at("cy") is None
    assert lending.resume_at("nobody") is None


def test_an_agent_is_back_at_the_next_lull_of_their_group() -> None:
    team = [Staffer(f"a{i}", "sales", BILLING, present=True) for i in range(3)]
    lending = ForecastLending(NOW, needs([3, 3, 2, 3], "sales"), team)
    assert lending.resume_at("a0") == at(30)
    later = ForecastLending(at(35), needs([3, 3, 2, 3], "sales"), team)
    assert later.resume_at("a0") == at(35)


def test_group_needs_add_the_queues_no_named_group_answers() -> None:
    rows = [
        ForecastRow(q, at(0), 15, 20.0, 180.0, n, n + 1)
        for q, n in (("sales", 2), ("care", 3), ("claims", 4))
    ]
    found = group_needs(rows, {"sales"}, policy_for("forecast_guard"), (0.8, 20.0))
    assert {(n.group, n.required) for n in found} == {("sales", 2), (POOLED, 7)}
