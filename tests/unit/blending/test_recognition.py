"""Recognition's rankings, streaks and badges over agents' days, worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

from blending.recognition import MIN_DONE, Day, rank, streak

LAST = date(2026, 11, 23)


def day(agent: str, back: int, done: int, worked: float, standard: float = 600.0) -> Day:
    """``done`` steps ``back`` days before LAST, ``worked`` seconds each against ``standard``."""
    on = done if worked <= standard else 0
    return Day(
        agent,
        agent.title(),
        "north",
        LAST - timedelta(days=back),
        done,
        worked * done,
        standard * done,
        on,
    )


def test_top_performers_rank_steps_on_standard_then_pace() -> None:
    days = [
        day("ann", 0, 4, 500),  # 4 on standard, pace 0.83
        day("bob", 0, 6, 700),  # 6 done, none on standard
        day("cy", 0, 4, 300),  # 4 on standard, pace 0.5: before Ann
        day("dee", 0, MIN_DONE - 1, 100),  # too few to rank
    ]
    report = rank(days, LAST, LAST)
    assert [(p.rank, p.agent_id, p.on_standard) for p in report.top] == [
        (1, "cy", 4),
        (2, "ann", 4),
    ]  # Bob did the most, none within the standard: not a top performer
    assert report.top[0].pace == 0.5


def test_most_improved_against_the_equal_range_before() -> None:
    days = [
        day("ann", 0, 3, 600),
        day("ann", 1, 3, 600),
        day("ann", 2, 3, 900),  # the range before (LAST-3 .. LAST-2) was at pace 1.5 then 1.0
        day("ann", 3, 3, 600),
        day("bob", 0, 6, 300),
        day("bob", 2, 6, 400),
        day("cy", 0, 6, 900),  # slower than before: not improved
        day("cy", 3, 6, 600),
        day("dee", 0, 5, 300),  # nothing before: not ranked
    ]
    report = rank(days, LAST - timedelta(days=1), LAST)
    before = (report.previous_first, report.previous_last)
    assert before == (LAST - timedelta(days=3), LAST - timedelta(days=2))
    assert [(i.agent_id, round(i.previous_pace, 2), i.pace) for i in report.improved] == [
        ("bob", 0.67, 0.5),
        ("ann", 1.25, 1.0),
    ]
    assert round(report.improved[0].improvement, 2) == 0.25


def test_a_streak_counts_working_days_on_standard_and_skips_days_off() -> None:
    days = [day("ann", n, 1, 500) for n in (0, 1, 3, 4, 5)] + [day("ann", 6, 1, 700)]
    assert streak(days, LAST) == 5
    assert streak([day("ann", 0, 2, 700), *days[1:]], LAST) == 0
    assert streak(days, LAST - timedelta(days=2)) == 3


def test_badges_for_the_podium_and_the_longest_streak_reached() -> None:
    days = [day("ann", n, 3, 500) for n in range(12)] + [day("bob", 0, 3, 550)]
    report = rank(days, LAST, LAST)
    standing = {s.agent_id: s for s in report.agents}
    assert standing["ann"].streak_days == 12
    assert standing["ann"].badges == ["top_performer", "streak_10"]
    assert standing["bob"].badges == ["top_performer"]
    assert "most_improved" not in standing["ann"].badges
