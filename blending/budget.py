"""How long an agent asking for work has for a new task. Pure: everything is passed in.

The time is the least of the minutes asked for, the rest of the usable window the engine
granted the agent, and the time until the agent's next break or the end of their shift by
their schedule (while a shift of theirs covers now); the budget names whichever ends first.
Without minutes asked for and without a window there is no time, and the budget says why and
when to ask again. On a break by the schedule there is no time either way.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from blending.schedule import ShiftNow
from queues.matching import Budget

AGAIN = "ask again in a few minutes or ask your supervisor"


def clock_time(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


def budget(
    now: datetime,
    asked: float | None,
    window_end: datetime | None,
    shift: ShiftNow,
    no_window: str,
    zone: tzinfo,
) -> Budget:
    """The agent's time for a new task.

    ``window_end`` is the end of the window the engine granted the agent (None: none);
    ``no_window`` is why there is none, said to an agent who asked for no minutes.
    """
    if shift.break_until is not None:
        until = clock_time(shift.break_until, zone)
        return Budget(None, f"by your schedule you are on a break until {until}: ask again then")
    if asked is None and window_end is None:
        return Budget(None, f"no usable window for you now: {no_window}; {AGAIN}")
    # (minutes, rank, basis): at equal minutes the schedule is named before the window, and
    # the window before the minutes asked for.
    ends: list[tuple[float, int, str]] = []
    if shift.next_break is not None:
        at = clock_time(shift.next_break, zone)
        ends.append((_minutes(now, shift.next_break), 0, f"until your break at {at}"))
    if shift.shift_end is not None:
        at = clock_time(shift.shift_end, zone)
        ends.append((_minutes(now, shift.shift_end), 1, f"until your shift ends at {at}"))
    if window_end is not None:
        at = clock_time(window_end, zone)
        ends.append((_minutes(now, window_end), 2, f"until the lull ends at {at}"))
    if asked is not None:
        ends.append((asked, 3, ""))
    minutes, _, basis = min(ends)
    return Budget(max(0.0, minutes), basis)


def _minutes(now: datetime, at: datetime) -> float:
    return (at - now).total_seconds() / 60
