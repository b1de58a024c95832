"""Priority rules as stored, and the ranker that applies them to the open tasks.

A task's priority is its type's base, plus the boosts of the rules that match it (kept on the
task by the ranker), plus its SLA urgency (computed when the queue is read). A rule change is
applied to every open task at the next tick; new tasks are ranked at every tick; rules that
look at time (age, minutes to SLA) are re-applied every ``time_rules_every`` seconds.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from queues.bounds import Instant
from queues.db import Executor, load_queries, transaction
from queues.errors import NotFound
from queues.models import ShortText, Strict, Text
from queues.priority import CompiledRule, Rule, RuleSet, compile_rule

_SQL = load_queries("queues", "priority_store.sql")


class RuleIn(Strict):
    when: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        examples=['customer_tier == "platinum"'], description="A CEL expression over the task."
    )
    boost: int = Field(ge=-1000, le=1000)
    until: Instant | None = Field(default=None, description="The rule ends by itself then.")
    reason: Text | None = None
    author: ShortText | None = Field(default=None, description="Who made the change.")


class RuleOut(BaseModel):
    name: str
    when: str
    boost: int
    author: str
    reason: str | None
    until: datetime | None
    active: bool
    created_at: datetime
    updated_at: datetime


class RuleChange(BaseModel):
    at: datetime
    name: str
    action: str
    author: str
    reason: str | None
    rule: dict[str, Any] | None


def _rule_out(row: Any, now: datetime) -> RuleOut:
    return RuleOut(
        name=row["name"],
        when=row["expression"],
        boost=row["boost"],
        author=row["author"],
        reason=row["reason"],
        until=row["until"],
        active=row["until"] is None or row["until"] > now,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class RuleStore:
    def __init__(self, db: Executor) -> None:
        self._db = db

    async def put(self, name: str, body: RuleIn, now: datetime) -> tuple[RuleOut, bool]:
        """Check, then create or replace a rule, with its audit row in the same transaction."""
        compile_rule(Rule(name, body.when, body.boost, body.until))
        if body.until is not None and body.until <= now:
            raise ValueError("until is in the past")
        author = body.author or "api"
        async with transaction(self._db) as conn:
            row = await conn.fetchrow(
                _SQL["upsert_rule"], name, body.when, body.boost, author, body.reason, body.until
            )
            assert row is not None
            created = bool(row["inserted"])
            rule = _rule_out(row, now)
            await conn.execute(
                _SQL["record_change"],
                name,
                "created" if created else "replaced",
                author,
                body.reason,
                json.loads(rule.model_dump_json()),
            )
        return rule, created

    async def delete(self, name: str, author: str, reason: str | None, now: datetime) -> RuleOut:
        async with transaction(self._db) as conn:
            row = await conn.fetchrow(_SQL["delete_rule"], name)
            if row is None:
                raise NotFound("priority rule", name)
            rule = _rule_out(row, now)
            await conn.execute(
                _SQL["record_change"],
                name,
                "deleted",
                author,
                reason,
                json.loads(rule.model_dump_json()),
            )
        return rule

    async def get(self, name: str, now: datetime) -> RuleOut:
        row = await self._db.fetchrow(_SQL["get_rule"], name)
        if row is None:
            raise NotFound("priority rule", name)
        return _rule_out(row, now)

    async def all(self, now: datetime) -> list[RuleOut]:
        return [_rule_out(r, now) for r in await self._db.fetch(_SQL["list_rules"])]

    async def changes(self, name: str | None, limit: int) -> list[RuleChange]:
        rows = await self._db.fetch(_SQL["changes"], name, limit)
        return [RuleChange.model_validate(dict(r)) for r in rows]


@dataclass
class RankReport:
    examined: int = 0
    changed: int = 0
    full: bool = False


def _evaluate(
    ruleset: RuleSet, rows: list[Any], now: datetime
) -> tuple[list[int], list[int], list[str]]:
    """The tasks of ``rows`` whose boost or reasons change (or that were never ranked), with
    their new boost and reasons."""
    ids: list[int] = []
    boosts: list[int] = []
    reasons: list[str] = []
    for row in rows:
        boost, why = ruleset.apply(row, now)
        unchanged = boost == row["rule_boost"] and why == row["rule_reasons"]
        if unchanged and row["ranked_at"] is not None:
            continue
        ids.append(row["id"])
        boosts.append(boost)
        reasons.append(json.dumps(why))
    return ids, boosts, reasons


class Ranker:
    """Keeps each open task's rule boost and reasons current. One per tick leader."""

    def __init__(self, db: Executor, *, time_rules_every: float = 60.0, batch: int = 20_000):
        self._db = db
        self._time_every = time_rules_every
        self._batch = batch
        self._fingerprint: tuple[int, frozenset[str]] | None = None
        self._time_ranked_at: datetime | None = None
        self._compiled: dict[tuple[str, str], CompiledRule] = {}

    async def _rules(self, now: datetime) -> list[CompiledRule]:
        rows = await self._db.fetch(_SQL["active_rules"], now)
        rules = []
        for row in rows:
            key = (row["name"], row["expression"])
            rule = Rule(row["name"], row["expression"], row["boost"], row["until"])
            cached = self._compiled.get(key)
            if cached is None or cached.rule != rule:
                cached = compile_rule(rule)
                self._compiled[key] = cached
            rules.append(cached)
        return rules

    async def tick(self, now: datetime) -> RankReport:
        """Rank new tasks; re-rank all open tasks when the rules or the time call for it."""
        rules = await self._rules(now)
        change_id = await self._db.fetchval(_SQL["rules_fingerprint"])
        fingerprint = (int(change_id), frozenset(r.rule.name for r in rules))
        if self._fingerprint is None:
            # A new leader goes on from the last complete ranking, whoever made it.
            last = await self._db.fetchrow(_SQL["last_ranking"])
            if last is not None:
                self._fingerprint = (int(last["change_id"]), frozenset(last["rules"]))
                self._time_ranked_at = last["ranked_at"]
        time_due = any(r.uses_time for r in rules) and (
            self._time_ranked_at is None
            or (now - self._time_ranked_at).total_seconds() >= self._time_every
        )
        full = fingerprint != self._fingerprint or time_due
        report = await self.rank(rules, now, everything=full)
        self._fingerprint = fingerprint
        if full:
            self._time_ranked_at = now
            await self._db.execute(
                _SQL["save_ranking"], fingerprint[0], sorted(fingerprint[1]), now
            )
        return report

    async def rank(self, rules: list[CompiledRule], now: datetime, everything: bool) -> RankReport:
        """Evaluate the rules on open tasks (all, or the unranked) and store what changed."""
        report = RankReport(full=everything)
        after = 0
        ruleset = RuleSet(rules)
        while True:
            rows = await self._db.fetch(
                _SQL["open_tasks"], everything, after, self._batch, ruleset.uses_payload
            )
            if not rows:
                return report
            after = rows[-1]["id"]
            # A batch's rules are evaluated off the event loop: a re-rank of every open task
            # takes seconds, during which this instance still serves its requests.
            ids, boosts, reasons = await asyncio.to_thread(_evaluate, ruleset, rows, now)
            report.examined += len(rows)
            report.changed += len(ids)
            if ids:
                await self._db.execute(_SQL["write_ranks"], ids, boosts, reasons, now)
