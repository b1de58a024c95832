"""The pure rules: folding call events into interval statistics, and resolving presence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blending.events import AgentStateChanged, CallAbandoned, CallAnswered, CallArrived, CallEnded
from blending.interval_stats import Call, Counts, deltas, fold, fold_all, interval_start
from blending.presence import Line, ScheduleEntry, reduce_states, resolve

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("moment", "minutes", "start"),
    [
        (at(0), 15, at(0)),
        (at(899.9), 15, at(0)),
        (at(900), 15, at(900)),
        (at(359), 6, at(0)),
        (at(3599), 60, at(0)),
    ],
)
def test_interval_start(moment: datetime, minutes: int, start: datetime) -> None:
    assert interval_start(moment, minutes) == start


ARRIVED = CallArrived(event_id="1", at=at(10), queue="q", call_id="c")
ANSWERED = CallAnswered(event_id="2", at=at(25), call_id="c", agent_id="a")
ENDED = CallEnded(event_id="3", at=at(205), call_id="c", wrap_seconds=20)
ABANDONED = CallAbandoned(event_id="4", at=at(70), queue="q", call_id="c")


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([ARRIVED], Counts(offered=1)),
        (
            [ARRIVED, ANSWERED, ENDED],
            Counts(
                offered=1,
                answered=1,
                answered_in_sl=1,
                handled=1,
                handle_seconds=200,
                wait_seconds=15,
            ),
        ),
        ([ENDED, ANSWERED, ARRIVED], None),  # any order: the same as in order
        ([ARRIVED, ABANDONED], Counts(offered=1, abandoned=1)),
        # An abandonment reported for a call that was answered does not count.
        (
            [ARRIVED, ANSWERED, ABANDONED],
            Counts(offered=1, answered=1, answered_in_sl=1, wait_seconds=15),
        ),
        ([ANSWERED], Counts()),  # no queue known yet: counts nowhere
    ],
)
def test_fold_and_contribution(events: list[object], expected: Counts | None) -> None:
    calls = fold_all({}, [("s", e) for e in events])  # type: ignore[misc]
    found = deltas([(Call(), c) for c in calls.values()], 15, 20)
    if expected is None:
        in_order = fold_all({}, [("s", e) for e in (ARRIVED, ANSWERED, ENDED)])
        expected = deltas([(Call(), c) for c in in_order.values()], 15, 20)[("q", T0)]
    assert found.get(("q", T0), Counts()) == expected


def test_a_late_arrival_moves_the_contribution() -> None:
    answered = CallAnswered(event_id="a", at=at(905), queue="q", call_id="c")
    first = fold(Call(), answered)
    second = fold(first, CallArrived(event_id="b", at=at(890), queue="q", call_id="c"))
    moved = deltas([(first, second)], 15, 20)
    assert moved[("q", at(900))].offered == -1
    assert moved[("q", T0)].offered == 1
    assert moved[("q", T0)].answered_in_sl == 1


def line(state: str, seconds: float, source: str = "twilio") -> Line:
    return Line(source, state, None, at(seconds), at(seconds), at(seconds))  # type: ignore[arg-type]


SHIFT = ScheduleEntry(kind="shift", start=T0, end=at(8 * 3600))
LUNCH = ScheduleEntry(kind="break", start=at(3600), end=at(5400))


@pytest.mark.parametrize(
    ("lines", "schedule", "on_task", "now", "state"),
    [
        ([line("available", 0)], [], None, at(60), "available"),
        ([line("available", 0)], [], at(30), at(60), "back_office"),
        ([line("on_call", 0)], [], at(30), at(60), "on_call"),
        ([line("after_call_work", 0)], [], at(30), at(60), "after_call_work"),
        ([line("available", 0), line("break", 10, "genesys")], [], None, at(60), "break"),
        ([], [SHIFT], None, at(60), "unknown"),
        ([], [SHIFT, LUNCH], None, at(3700), "break"),
        ([], [SHIFT], None, at(9 * 3600), "offline"),
        ([line("available", 0, "amazon_connect")], [], None, at(301), "unknown"),
        ([line("available", 0, "amazon_connect")], [], None, at(299), "available"),
    ],
)
def test_resolve(
    lines: list[Line],
    schedule: list[ScheduleEntry],
    on_task: datetime | None,
    now: datetime,
    state: str,
) -> None:
    assert resolve(lines, schedule, on_task, now, source_last_seen={}).state == state


def test_a_silent_source_without_agent_heartbeats() -> None:
    genesys = line("available", 0, "genesys")
    alive = {"genesys": at(100)}
    assert resolve([genesys], [], None, at(200), source_last_seen=alive).state == "available"
    assert resolve([genesys], [], None, at(221), source_last_seen=alive).state == "unknown"


def test_reduce_states_keeps_the_last_change() -> None:
    events = [
        AgentStateChanged(event_id="1", at=at(0), agent_id="a", state="available"),
        AgentStateChanged(event_id="3", at=at(20), agent_id="a", state="available"),
        AgentStateChanged(event_id="2", at=at(10), agent_id="a", state="on_call"),
    ]
    (update,) = reduce_states(events)
    assert (update.state, update.since, update.state_at, update.changed) == (
        "available",
        at(20),
        at(20),
        True,
    )
