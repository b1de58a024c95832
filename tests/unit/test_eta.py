"""The ETA of a task, from the facts and a lending outlook: pure, with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from queues.eta import (
    Capacity,
    EtaFacts,
    EtaSettings,
    EventFact,
    NoLending,
    Slot,
    Step,
    active_minutes,
    estimate,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BILLING = frozenset({"billing"})
ONE_STEP = [Step(1, None, BILLING, 10.0)]


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def steady(agents: float, hours: int = 24, *, skilled: int = 3, start: float = 0) -> Capacity:
    """``agents`` agents spare every quarter hour from ``start`` minutes on."""
    slots = tuple(
        Slot(at(start + 15 * i), at(start + 15 * (i + 1)), agents * 15) for i in range(hours * 4)
    )
    return Capacity(slots, forecast=True, skilled=skilled, start=NOW, until=at(hours * 60))


@dataclass
class Outlook:
    """A lending outlook with one capacity for every set of skills, and agents' return times."""

    cap: Capacity = field(default_factory=Capacity)
    back: dict[str, datetime] = field(default_factory=dict)
    by_skills: dict[frozenset[str], Capacity] = field(default_factory=dict)

    def capacity(self, skills: frozenset[str]) -> Capacity:
        return self.by_skills.get(skills, self.cap)

    def resume_at(self, agent_id: str) -> datetime | None:
        return self.back.get(agent_id)


def ev(minutes: float, event: str, old: str | None, new: str) -> EventFact:
    return EventFact(at(minutes), event, old, new)


def queued(ahead: int = 0, completions: int = 0, steps: list[Step] = ONE_STEP) -> EtaFacts:
    return EtaFacts("queued", None, 1, steps, ahead=ahead, completions=completions)


def test_no_history_and_no_forecast_still_gives_an_eta_with_its_basis() -> None:
    eta = estimate(queued(ahead=2), NOW, NoLending())
    assert eta.at == at(30)  # three tasks of 10 minutes, one agent on them
    assert eta.basis == (
        "2 ahead in the queue, 10 min each; no forecast of spare agent time yet, "
        "so one agent on it is assumed"
    )


def test_queued_work_waits_for_the_lending_the_forecast_expects() -> None:
    two_agents = Outlook(steady(2))
    eta = estimate(queued(ahead=3), NOW, two_agents)
    # The 30 agent-minutes ahead take two agents 15 minutes; then one agent takes its 10.
    assert eta.at == at(25)
    assert "3 ahead in the queue, 10 min each" in eta.basis
    assert "about 120 agent-minutes an hour of spare time" in eta.basis
    assert "billing skills over the next 24 h" in eta.basis
    # One agent's own work takes its own minutes however many are spare.
    assert estimate(queued(ahead=0), NOW, Outlook(steady(5))).at == at(10)


def test_a_lull_later_in_the_day_is_when_queued_work_is_done() -> None:
    lull = Capacity(
        (Slot(at(120), at(180), 60.0),), forecast=True, skilled=2, start=NOW, until=at(24 * 60)
    )
    eta = estimate(queued(ahead=1), NOW, Outlook(lull))
    assert eta.at == at(140)
    past = estimate(queued(ahead=8), NOW, Outlook(lull))
    # 90 minutes of work, 60 in the lull, the rest at the day's average (2.5 an hour).
    assert past.at == at(24 * 60) + timedelta(hours=30 / 2.5)
    assert "the same pace after that" in past.basis


def test_no_spare_time_or_no_skilled_agent_is_said_not_guessed() -> None:
    nothing = Capacity((), forecast=True, skilled=2, start=NOW, until=at(24 * 60))
    eta = estimate(queued(), NOW, Outlook(nothing))
    assert eta.at is None
    assert "no spare time is expected for agents with billing skills" in eta.basis
    nobody = estimate(queued(), NOW, Outlook(Capacity(skilled=0)))
    assert nobody.at is None
    assert nobody.basis == "nobody on the roster has the skills for this work"
    trickle = Capacity(
        (Slot(at(0), at(60), 1.0),), forecast=True, skilled=1, start=NOW, until=at(60)
    )
    assert estimate(queued(ahead=10_000), NOW, Outlook(trickle)).at is None  # past 14 days


def test_the_recent_pace_is_a_floor_when_it_is_faster() -> None:
    slow = Outlook(steady(0.1))
    history = queued(ahead=4, completions=7 * 24 * 6)  # six an hour lately
    eta = estimate(history, NOW, slow)
    assert eta.at == at(50)
    assert eta.basis == "4 ahead in the queue, 6.0 done per hour"
    few = estimate(queued(ahead=4, completions=4), NOW, slow)
    assert "spare time" in few.basis  # four completions in a week say nothing of the pace


def test_later_steps_wait_for_agents_with_their_own_skills() -> None:
    steps = [
        Step(1, "document_check", frozenset({"docs"}), 10.0),
        Step(2, "underwriting", frozenset({"uw"}), 30.0),
    ]
    late_uw = Capacity(
        (Slot(at(60), at(120), 60.0),), forecast=True, skilled=1, start=NOW, until=at(120)
    )
    outlook = Outlook(steady(1), by_skills={frozenset({"uw"}): late_uw})
    eta = estimate(queued(steps=steps), NOW, outlook)
    assert eta.at == at(90)
    assert eta.basis.endswith("; then step 2 (30 min of work, when agents are free)")
    nobody = Outlook(steady(1), by_skills={frozenset({"uw"}): Capacity(skilled=0)})
    missing = estimate(queued(steps=steps), NOW, nobody)
    assert missing.at is None
    assert "nobody on the roster has the skills for step 2 (underwriting)" in missing.basis


def test_work_in_progress_counts_active_time_only() -> None:
    events = [
        ev(-60, "claimed", "offered", "in_progress"),
        ev(-57, "paused", "in_progress", "paused"),
        ev(-7, "resumed", "paused", "in_progress"),
    ]
    assert active_minutes(events, NOW) == pytest.approx(10)
    facts = EtaFacts("in_progress", "ana", 1, ONE_STEP, holder_minutes=12.0, events=events)
    eta = estimate(facts, NOW, NoLending())
    assert eta.at == at(2)
    assert eta.basis == "ana's usual time on this step (12 min), 10 min worked so far"
    over = EtaFacts("in_progress", "ana", 1, ONE_STEP, holder_minutes=8.0, events=events)
    late = estimate(over, NOW, NoLending())
    assert late.at == NOW
    assert late.basis.endswith("10 min worked so far: running over, any time now")
    done_step = [ev(-90, "claimed", "offered", "in_progress")]
    done_step += [ev(-80, "step_completed", "in_progress", "queued"), *events]
    assert active_minutes(done_step, NOW) == pytest.approx(10)


def test_paused_work_resumes_when_its_holder_is_expected_free() -> None:
    events = [ev(-20, "claimed", "offered", "in_progress"), ev(-14, "paused", "in_progress", "x")]
    facts = EtaFacts("paused", "ana", 1, ONE_STEP, holder_minutes=10.0, events=events)
    outlook = Outlook(steady(1), back={"ana": at(45)})
    eta = estimate(facts, NOW, outlook)
    assert eta.at == at(49)
    assert eta.basis == (
        "paused by ana: 4 of 10 min left, resumed when the calls leave ana free "
        "(in 45 min, by the forecast)"
    )
    away = estimate(facts, NOW, Outlook(steady(1)))
    assert away.at == at(10)  # someone else with the skills, first in the queue
    assert away.basis.startswith("paused by ana, who is not expected free in the next 24 h")
    blind = estimate(facts, NOW, NoLending())
    assert blind.at == at(4)
    assert "no forecast of when the calls leave them free" in blind.basis


def test_escalated_work_waits_for_the_supervisors_answer_then_its_turn() -> None:
    events = [ev(-20, "escalated", "in_progress", "escalated")]
    facts = EtaFacts("escalated", "ana", 1, ONE_STEP, events=events, settings=EtaSettings(60))
    eta = estimate(facts, NOW, Outlook(steady(1)))
    assert eta.at == at(50)  # answer due at +40, then 10 minutes of work
    assert eta.basis.startswith(
        "with the supervisors: their answer is assumed within 60 min of the escalation "
        "(in 40 min); then first in the queue, 10 min of work"
    )
    late = EtaFacts("escalated", "ana", 1, ONE_STEP, events=[ev(-90, "escalated", "x", "y")])
    overdue = estimate(late, NOW, NoLending())
    assert overdue.at == at(10)
    assert overdue.basis.startswith("with the supervisors since 1h30: their answer is overdue")


def test_offered_and_finished_tasks() -> None:
    offered = EtaFacts("offered", "ben", 1, ONE_STEP, holder_minutes=8.0)
    eta = estimate(offered, NOW, NoLending())
    assert eta.at == at(8)
    assert eta.basis.startswith("offered to ben")
    assert estimate(EtaFacts("done", None, 1, ONE_STEP), NOW, NoLending()).at is None
