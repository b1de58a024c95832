"""From a delivery to a task: one CEL expression per task field, as the priority rules are
written (:mod:`queues.priority`), compiled once and evaluated per delivery.

The expressions see ``event`` (the delivery as its connector reads it), ``source`` (the
source's name) and ``now`` (the time of receipt, a timestamp). The result goes through the same
validation as the REST intake (:class:`~queues.models.TaskIn`); what fails names the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel
from pydantic import ValidationError

from queues.models import TaskIn
from queues.priority import InvalidRule, compile_cel
from task_sources.errors import InvalidSource, MappingFailed

FIELDS: dict[str, str] = {
    "type": "the task type's name (required)",
    "title": "the task's title (required; cut to 500 characters)",
    "external_id": "the record's id at the source (required): one task per record",
    "customer_ref": "the customer's reference",
    "customer_tier": "the customer's tier, e.g. 'gold'",
    "value": "a monetary value (a number)",
    "due_at": "the SLA due time (a timestamp or ISO 8601 text); unset: the type's SLA",
    "payload": "a map kept on the task (and given to the write-back)",
}
REQUIRED = ("type", "title", "external_id")
VARIABLES = ("event", "source", "now")
TITLE_LIMIT = 500


def merged(defaults: Mapping[str, str], own: Mapping[str, str | None]) -> dict[str, str]:
    """The expressions in force: the source's own over the kind's defaults; ``None`` drops."""
    out = dict(defaults)
    for name, expression in own.items():
        if expression is None:
            out.pop(name, None)
        else:
            out[name] = expression
    return out


@dataclass(frozen=True)
class CompiledMapping:
    expressions: dict[str, str]
    programs: dict[str, Any]

    def _value(self, name: str, context: cel.Context) -> Any:
        try:
            return self.programs[name].execute(context)
        except KeyError as exc:
            raise MappingFailed(name, f"the event has no {exc}") from None
        except (TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise MappingFailed(name, str(exc).split(". ")[0]) from None

    def external_id(self, event: dict[str, Any], source: str, now: datetime) -> str:
        """Only the record's id (what a close needs)."""
        value = self._value("external_id", _context(event, source, now))
        if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
            raise MappingFailed("external_id", f"must be text or a number, not {value!r}")
        return str(value).strip()

    def task(self, event: dict[str, Any], source: str, now: datetime) -> TaskIn:
        """The task the delivery makes, validated as the REST intake validates one."""
        context = _context(event, source, now)
        values: dict[str, Any] = {"source": source}
        for name in self.programs:
            values[name] = _plain(self._value(name, context))
        for name in ("external_id", "customer_ref"):
            if isinstance(values.get(name), (int, float)) and not isinstance(values[name], bool):
                values[name] = str(values[name])
        if isinstance(values.get("title"), str):
            values["title"] = values["title"][:TITLE_LIMIT]
        if isinstance(values.get("value"), int) and not isinstance(values["value"], bool):
            values["value"] = float(values["value"])
        values = {k: v for k, v in values.items() if v is not None or k in REQUIRED}
        try:
            return TaskIn.model_validate(values)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in error["loc"]) or None
            raise MappingFailed(where, error["msg"]) from None


def compile_mapping(expressions: Mapping[str, str]) -> CompiledMapping:
    """Check and compile a mapping: known fields, the required ones present, each expression
    valid CEL over the known variables (:class:`InvalidSource` naming ``mapping.<field>`` with
    the line and column)."""
    for name in expressions:
        if name not in FIELDS:
            raise InvalidSource(
                f"mapping.{name}", f"not a task field; the fields are {', '.join(FIELDS)}"
            )
    for name in REQUIRED:
        if name not in expressions:
            raise InvalidSource(f"mapping.{name}", "required: the kind has no default for it")
    programs: dict[str, Any] = {}
    for name, expression in expressions.items():
        try:
            programs[name] = compile_cel(expression, VARIABLES, "variable")
        except InvalidRule as exc:
            raise InvalidSource(f"mapping.{name}", exc.detail, exc.line, exc.column) from None
    return CompiledMapping(dict(expressions), programs)


def _context(event: dict[str, Any], source: str, now: datetime) -> cel.Context:
    """The variables, converted to CEL values once for all of a mapping's expressions (a
    plain dict is converted again by each expression: six times the cost)."""
    try:
        return cel.Context({"event": event, "source": source, "now": now})
    except (TypeError, ValueError, RuntimeError) as exc:
        raise MappingFailed(None, str(exc).split(". ")[0]) from None


def _plain(value: Any) -> Any:
    """A CEL result as plain JSON values: timestamps as ISO 8601 text inside maps and lists."""
    if isinstance(value, (dict, list)):
        return json.loads(json.dumps(value, default=_json_default))
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
