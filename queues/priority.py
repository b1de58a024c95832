"""Why a task ranks where it does: its type's base, its priority rules, and its SLA urgency.

Rules are written in CEL, Google's Common Expression Language: safe, small, well known. A rule
is compiled once (errors carry their position), and evaluated against a task's fields.
Evaluation is pure: ``now`` is passed in, and a rule that cannot be evaluated for a task (a
missing payload key, a null value compared with a number) does not match it.

The urgency mirrors the ``sla_urgency`` SQL function that orders the queue, so that the
reasons shown to people match the order the database uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel

from queues.errors import QueuesError

FIELDS: dict[str, str] = {
    "type": "task type name",
    "step": "current step number, from 1",
    "source": "source system",
    "title": "task title",
    "customer_ref": "customer reference",
    "customer_tier": "customer tier, e.g. 'gold'",
    "value": "monetary value (double)",
    "status": "task status",
    "age_minutes": "minutes since the task was created (double)",
    "minutes_to_sla": "minutes until the SLA is breached; negative once breached (double)",
    "payload": "the task's payload (a map): payload.branch, has(payload.branch)",
}
TIME_FIELDS = frozenset({"age_minutes", "minutes_to_sla"})
_POSITION = re.compile(r"<input>:(\d+):(\d+):")


class InvalidRule(QueuesError):
    """A rule expression that does not compile; ``line`` and ``column`` locate the error."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.detail = message
        self.line = line
        self.column = column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"invalid rule expression{where}: {message}")


@dataclass(frozen=True)
class Rule:
    name: str
    expression: str
    boost: int
    until: datetime | None = None


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    program: Any
    uses_time: bool

    def matches(self, context: dict[str, Any]) -> bool:
        try:
            return self.program.execute(context) is True
        except (KeyError, TypeError, ValueError, RuntimeError):
            return False


_SAMPLE: dict[str, Any] = {
    "type": "billing_correction",
    "step": 1,
    "source": "crm",
    "title": "t",
    "customer_ref": "C-1",
    "customer_tier": "gold",
    "value": 1.0,
    "status": "queued",
    "age_minutes": 1.0,
    "minutes_to_sla": 60.0,
    "payload": {},
}


def compile_cel(expression: str, variables: Iterable[str], what: str = "field") -> Any:
    """Compile a CEL expression that may use only ``variables``; :class:`InvalidRule` locates
    a syntax error or an unknown name by line and column (from 1)."""
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        text = str(exc)
        found = _POSITION.search(text)
        detail = text.split("ERROR: <input>:", 1)[-1]
        detail = detail.split("\n", 1)[0].split(": ", 1)[-1] if found else text
        if found:
            raise InvalidRule(detail, int(found.group(1)), int(found.group(2))) from None
        raise InvalidRule(detail) from None
    known = list(variables)
    unknown = sorted(set(program.variables()) - set(known))
    if unknown:
        name = unknown[0]
        found_at = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", expression)
        line = column = None
        if found_at is not None:
            before = expression[: found_at.start()]
            line = before.count("\n") + 1
            column = found_at.start() - (before.rfind("\n") + 1) + 1
        raise InvalidRule(
            f"unknown {what} {name!r}; the {what}s are {', '.join(known)}", line, column
        )
    return program


def compile_rule(rule: Rule) -> CompiledRule:
    """Compile and check a rule: syntax, known fields, and a true/false result."""
    program = compile_cel(rule.expression, FIELDS)
    try:
        result = program.execute(_SAMPLE)
    except KeyError:
        result = True  # a payload key the sample lacks: decided task by task
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidRule(str(exc).split(". ")[0]) from None
    if not isinstance(result, bool):
        raise InvalidRule(f"the expression must be true or false, not {type(result).__name__}")
    return CompiledRule(rule, program, bool(TIME_FIELDS & set(program.variables())))


def context(task: Any, now: datetime) -> dict[str, Any]:
    """The fields a rule sees, from a task row."""
    return {
        "type": task["type"],
        "step": task["step"],
        "source": task["source"],
        "title": task["title"],
        "customer_ref": task["customer_ref"],
        "customer_tier": task["customer_tier"],
        "value": task["value"],
        "status": task["status"],
        "age_minutes": (now - task["created_at"]).total_seconds() / 60,
        "minutes_to_sla": (task["due_at"] - now).total_seconds() / 60,
        "payload": task["payload"],
    }


class RuleSet:
    """Rules evaluated over many tasks: only the fields they use are built, and tasks that agree
    on every used field (when no rule looks at time or payload) share one evaluation."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        self.used = sorted({v for r in rules for v in r.program.variables()})
        self.uses_payload = "payload" in self.used
        self._cacheable = not (set(self.used) & (TIME_FIELDS | {"payload"}))
        self._cache: dict[tuple[Any, ...], tuple[int, list[str]]] = {}

    def apply(self, task: Any, now: datetime) -> tuple[int, list[str]]:
        if not self.rules:
            return 0, []
        if self._cacheable:
            key = tuple(task[f] for f in self.used)
            found = self._cache.get(key)
            if found is None:
                found = evaluate(self.rules, dict(zip(self.used, key, strict=True)))
                self._cache[key] = found
            return found
        fields = context(task, now)
        return evaluate(self.rules, {f: fields[f] for f in self.used})


def evaluate(rules: list[CompiledRule], fields: dict[str, Any]) -> tuple[int, list[str]]:
    """The total boost of the matching rules and a reason for each, e.g. ``platinum +20``."""
    boost = 0
    reasons: list[str] = []
    for compiled in rules:
        if compiled.matches(fields):
            boost += compiled.rule.boost
            reasons.append(f"{compiled.rule.name} {compiled.rule.boost:+d}")
    return boost, reasons


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
