"""The Now page's figures, read once through the read models every surface uses (the live
queues, the guards, presence, the task list's views); no SQL of its own. And the board
rendered as the fragments its live updates are made of (:mod:`bot.console.fragments`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from blending import decision_store
from blending.guard import GuardState
from blending.snapshot import MIN_SETTLED, POOLED, RECENT_SECONDS, live_queues
from bot.console.fragments import Rendered, Rows, one_line, slot
from bot.http.keys import CLOCK, STORES
from bot.stores import Stores
from queues.views import TypeBacklog

TEMPLATE = "now_board.html"

STATE_ORDER = (
    "on_call",
    "after_call_work",
    "available",
    "back_office",
    "break",
    "unknown",
    "offline",
)
STATE_WORDS = {
    "on_call": "on a call",
    "after_call_work": "wrap-up",
    "available": "available",
    "back_office": "lent (back office)",
    "break": "break",
    "unknown": "unknown",
    "offline": "offline",
}


@dataclass(frozen=True)
class QueueLine:
    queue: str
    calls_waiting: int
    longest_wait_seconds: float
    service_level: float | None
    """Answered within target among the calls settled in the last 15 minutes; ``None`` with
    fewer than five."""
    settled: int
    guard: str
    live: bool


@dataclass(frozen=True)
class AgentLine:
    agent_id: str
    name: str
    state: str
    since: datetime | None
    task_id: int | None
    task_status: str | None
    task_type: str | None

    @property
    def shown_state(self) -> str:
        """The state in words; an agent whose back-office work is paused is ``paused``."""
        if self.task_status == "paused" and self.state != "back_office":
            return f"{STATE_WORDS.get(self.state, self.state)} (task paused)"
        return STATE_WORDS.get(self.state, self.state)


@dataclass
class Board:
    at: datetime
    blending_on: bool
    queues: list[QueueLine] = field(default_factory=list)
    agents: list[AgentLine] = field(default_factory=list)
    backlog: list[TypeBacklog] = field(default_factory=list)

    @property
    def states(self) -> list[tuple[str, int]]:
        """How many agents in each state, in :data:`STATE_ORDER`."""
        counts = Counter(a.state for a in self.agents)
        return [(STATE_WORDS[s], counts[s]) for s in STATE_ORDER if counts[s]]


def _guard(guards: dict[str, GuardState], queue: str) -> str:
    """The guard of the staffing group that answers ``queue``: the queue's own group where
    agents answer it by name, else the pooled group."""
    state = guards.get(queue) or guards.get(POOLED)
    return state.mode if state is not None else "open"


async def board(stores: Stores, now: datetime) -> Board:
    pool = stores.pool
    guards = await decision_store.load_guards(pool)
    queues = [
        QueueLine(
            q.queue,
            q.calls_waiting,
            q.longest_wait_seconds,
            q.in_target / q.settled if q.settled >= MIN_SETTLED else None,
            q.settled,
            _guard(guards, q.queue),
            q.live,
        )
        for q in await live_queues(pool, now, stores.telemetry)
    ]
    presence = (await stores.telemetry.presence(now)).items
    work = {a.agent_id: a for a in await stores.views.agents_at_work()}
    people = await stores.views.people([p.agent_id for p in presence])
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    agents = sorted(
        (
            AgentLine(
                p.agent_id,
                people[p.agent_id].name if p.agent_id in people else p.agent_id,
                p.state,
                p.since,
                work[p.agent_id].task_id if p.agent_id in work else None,
                work[p.agent_id].status if p.agent_id in work else None,
                work[p.agent_id].type if p.agent_id in work else None,
            )
            for p in presence
        ),
        key=lambda a: (rank.get(a.state, len(rank)), a.since or now, a.name),
    )
    state = await stores.switch.get()
    return Board(
        at=now,
        blending_on=state.on,
        queues=queues,
        agents=agents,
        backlog=await stores.views.backlog(now),
    )


RECENT_MINUTES = int(RECENT_SECONDS // 60)


def render(
    template: jinja2.Template,
    shown: Board,
    kept: dict[AgentLine, str] | None = None,
    *,
    zone: tzinfo | None = None,
) -> Rendered:
    """The board as its fragments: each row by its template's macro, keyed by what names it
    (a queue, an agent, a task type; the counts by state). An agent's row depends on its line
    alone: one in ``kept`` (the rows of the rendering before) is not rendered again, and
    ``kept`` is left with this rendering's. Times on ``zone``'s clock (None: the default
    site's)."""
    page: Any = template.make_module(
        {"board": shown, "slot": slot, "recent_minutes": RECENT_MINUTES, "zone": zone}
    )
    made: dict[AgentLine, str] = {}
    for a in shown.agents:
        html = kept.get(a) if kept is not None else None
        made[a] = html if html is not None else one_line(str(page.agent_row(a)))
    if kept is not None:
        kept.clear()
        kept.update(made)

    def lines(rows: list[tuple[str, Any]]) -> Rows:
        return tuple((key, one_line(str(html))) for key, html in rows)

    return Rendered(
        one_line(str(page)),
        {
            "stamp": lines([("stamp", page.stamp(shown))]),
            "queues": lines([(q.queue, page.queue_row(q, shown.at)) for q in shown.queues]),
            "counts": lines([(label, page.count(label, n)) for label, n in shown.states]),
            "agents": tuple((a.agent_id, made[a]) for a in shown.agents),
            "backlog": lines([(b.type, page.backlog_row(b)) for b in shown.backlog]),
        },
    )


class NowBoard:
    """The Now board as it is, read and rendered: what the page shows and the live updates
    are made of (the agents' rows kept from one rendering to the next)."""

    def __init__(self, service: web.Application, console: web.Application) -> None:
        self._service = service
        self._console = console
        self._rows: dict[AgentLine, str] = {}

    async def render(self) -> Rendered:
        shown = await board(self._service[STORES], self._service[CLOCK].now())
        template = aiohttp_jinja2.get_env(self._console).get_template(TEMPLATE)
        return render(template, shown, self._rows)
