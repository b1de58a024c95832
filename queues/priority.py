"""Why a task ranks where it does: its type's base, its rules, and its SLA urgency.

The urgency mirrors the ``sla_urgency`` SQL function that orders the queue, so that the
reasons shown to people match the order the database uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TOP = 1000.0
"""The urgency of a task past the top share of its SLA: above any rule boost."""


def sla_urgency(created: datetime, due: datetime, now: datetime, top_share: float) -> float:
    total = (due - created).total_seconds()
    if total <= 0:
        return TOP
    used = max(0.0, (now - created).total_seconds() / total)
    if used >= top_share:
        return TOP
    return 100 * used**2


def _duration(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    return f"{hours}h{minutes:02d}" if hours else f"{minutes} min"


@dataclass(frozen=True)
class Ranked:
    priority: float
    reasons: list[str]


def explain(
    base: int,
    rule_boost: int,
    rule_reasons: list[str],
    created: datetime,
    due: datetime,
    now: datetime,
    top_share: float,
) -> Ranked:
    """The priority and its reasons, e.g. ``["SLA in 1h40 +35", "platinum +20"]``."""
    urgency = sla_urgency(created, due, now, top_share)
    left = (due - now).total_seconds()
    when = f"SLA in {_duration(left)}" if left >= 0 else f"SLA breached {_duration(left)} ago"
    reasons = [f"{when} +{round(urgency)}" if urgency < TOP else f"{when}: top of the queue"]
    if base:
        reasons.append(f"type base {base:+d}")
    reasons += rule_reasons
    return Ranked(base + rule_boost + urgency, reasons)
