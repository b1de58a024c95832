"""Simulated days on a real PostgreSQL: one database per policy, cloned from a prepared one.

Each run gets a database of its own on the configured server (the embedded one by default),
made for simulation (:mod:`simulation.database_clock`: its clock is the simulated time),
migrated, and prepared once with the world's task types, roster, call history and first
forecast; each policy then runs on a clone of it, so every policy starts from the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from blending import acd_store
from blending.acd import AcdModes
from blending.policy import BlendPolicy
from bot.database import SESSION, connect, database_url, open_pool
from bot.migrate import migrate_url
from bot.settings import Settings
from clock import Clock
from queues.db import Executor
from simulation.center import Center, SimAgent
from simulation.database_clock import install_sql
from simulation.profile import CenterProfile, load_profile
from simulation.real_engine import (
    AgentActions,
    DirectActions,
    EngineBackoffice,
    EngineSettings,
    Notify,
    Timeline,
    drive,
    prepare,
    results,
    roster_size,
)
from simulation.world import RosterAgent, World, WorldSpec, build_world, make_roster

Progress = Callable[[str, float], None]
"""(policy, share of its simulated time done)."""

SIMULATED = {**SESSION, "synchronous_commit": "off"}
"""A simulated run's database is a clone dropped at its end: its commits need not wait for the
write-ahead log to reach the disk, which is most of what a simulated day waits on."""


@dataclass
class PolicyRun:
    policy: BlendPolicy
    figures: dict[str, float | int | None]
    timeline: Timeline
    center: Center


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(server: str, *statements: str) -> None:
    conn = await connect(server)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def _database(
    server: str, world: World, template: str | None = None
) -> AsyncIterator[tuple[str, str]]:
    """A database made for simulation (its clock is the world's), dropped afterwards."""
    name = f"blendbot_sim_{uuid.uuid4().hex[:10]}"
    clause = f" TEMPLATE {template}" if template else ""
    await _admin(server, f"CREATE DATABASE {name}{clause}")
    url = _with_database(server, name)
    try:
        install = install_sql(name, world.clock(0))
        if template is None:
            await _admin(url, *install)
        else:
            await _admin(url, install[-1])  # a clone does not inherit the database's settings
        yield name, url
    finally:
        await _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def agents_of(roster: Sequence[RosterAgent]) -> list[SimAgent]:
    return [SimAgent(r.agent_id, dict(r.skills), r.speed) for r in roster]


Setup = Callable[[EngineBackoffice, Center], Awaitable[None]]

Wiring = Callable[[asyncpg.Pool, Clock], AbstractAsyncContextManager[tuple[AgentActions, Notify]]]
"""How virtual agents reach the engine other than directly: given the run's pool and its
clock, it opens (and closes) what they act through, and what tells them of offers."""


async def run_policy(
    url: str,
    world: World,
    roster: Sequence[RosterAgent],
    settings: EngineSettings,
    *,
    wiring: Wiring | None = None,
    progress: Callable[[float], None] | None = None,
    setup: Setup | None = None,
    after: Callable[[Executor, EngineBackoffice], Awaitable[None]] | None = None,
) -> PolicyRun:
    """``setup`` readies the run once the engine has scheduled its days (the center not yet
    started): schedules, probes, more agents; ``after`` reads the database at the end, once
    the figures are taken."""
    end = world.spec.days * 86400.0
    # Room beyond the engine's own connection: a service wired on this pool (the demo's Slack
    # app) keeps a connection listening for the console's and the sources' changes, and its
    # outbox holds one per card while Slack answers a request that itself needs one.
    async with (
        open_pool(url, min_size=1, max_size=8, session=SIMULATED) as pool,
        pool.acquire() as conn,
    ):
        # The engine's work is sequential: one connection saves the pool's round trips.
        await acd_store.save_modes(conn, AcdModes(settings.acd_mode))
        controller = EngineBackoffice(conn, world, roster, settings, DirectActions(conn), pool=pool)
        center = Center(
            agents_of(roster),
            world.calls,
            controller,
            target_seconds=settings.forecast.target_seconds,
            interval_seconds=world.spec.interval_minutes * 60,
            horizon=end,
            tick_seconds=settings.tick_seconds,
            interruptible=settings.acd_mode == "interruptible",
        )
        async with wiring(pool, controller.clock) if wiring else _direct() as wired:
            if wired is not None:
                controller.actions, controller.notify = wired
            controller.start()
            if setup is not None:
                await setup(controller, center)
            center.start()
            await drive(center, controller, end, progress)
            figures = await results(conn, center, controller, end)
            if after is not None:
                await after(conn, controller)
    return PolicyRun(settings.policy, figures, controller.timeline, center)


@asynccontextmanager
async def _direct() -> AsyncIterator[None]:
    yield None


@dataclass(frozen=True)
class Prepared:
    server: str
    template: str
    world: World
    roster: list[RosterAgent]


@asynccontextmanager
async def prepared_world(
    settings: Settings,
    spec: WorldSpec,
    seed: int,
    engine: EngineSettings,
    profile: CenterProfile | None = None,
    also: Callable[[asyncpg.Pool, World], Awaitable[object]] | None = None,
) -> AsyncIterator[Prepared]:
    """The world of ``seed``, with a template database prepared for its runs (and ``also``
    on it, for what one kind of run needs more)."""
    world = build_world(profile or load_profile(), spec, seed)
    roster = make_roster(world, roster_size(world))
    async with (
        database_url(settings.database_url, settings.data_dir) as server,
        _database(server, world) as (name, url),
    ):
        await migrate_url(url)
        async with open_pool(url, min_size=1, max_size=2, session=SIMULATED) as pool:
            await prepare(pool, world, roster, engine.forecast)
            if also is not None:
                await also(pool, world)
        yield Prepared(server, name, world, roster)


async def run_on_clone(
    prepared: Prepared,
    engine: EngineSettings,
    **options: Any,
) -> PolicyRun:
    async with _database(prepared.server, prepared.world, prepared.template) as (_, url):
        return await run_policy(url, prepared.world, prepared.roster, engine, **options)


async def simulate_policies(
    prepared: Prepared,
    base: EngineSettings,
    policies: Sequence[BlendPolicy],
    progress: Progress | None = None,
) -> list[PolicyRun]:
    out = []
    for policy in policies:
        tick: Callable[[float], None] | None = None
        if progress is not None:
            total = prepared.world.spec.days * 86400.0
            name = policy.name

            def tick(at: float, name: str = name, total: float = total) -> None:
                progress(name, at / total)

        out.append(await run_on_clone(prepared, replace(base, policy=policy), progress=tick))
    return out


@dataclass(frozen=True)
class Limits:
    """What a policy must keep to: the inbound service level, and how much abandonment may
    rise over no blending at all."""

    service_level: float = 0.8
    abandon_rise: float = 0.005

    def met(self, figures: dict[str, float | int | None], baseline_abandon: float) -> bool:
        sl, abandon = figures["service_level"], figures["abandon_rate"]
        assert isinstance(sl, float)
        assert isinstance(abandon, float)
        return sl >= self.service_level and abandon <= baseline_abandon + self.abandon_rise


@dataclass
class Tuning:
    k: int
    tried: dict[int, dict[str, float | int | None]]


async def tune_reserve_k(
    prepared: Prepared,
    base: EngineSettings,
    limits: Limits,
    baseline_abandon: float,
    *,
    most: int = 16,
    progress: Progress | None = None,
) -> tuple[PolicyRun, Tuning]:
    """The best-tuned threshold policy: the smallest k (the most lending) that keeps within
    the limits, found by bisection (service improves as k grows)."""
    runs: dict[int, PolicyRun] = {}

    async def at(k: int) -> PolicyRun:
        if k not in runs:
            policy = replace(base.policy, name="reserve_k", k=k)
            tick = None if progress is None else (lambda share: progress(f"reserve_k={k}", share))
            runs[k] = await run_on_clone(prepared, replace(base, policy=policy), progress=tick)
        return runs[k]

    lo, hi = 0, most
    if not limits.met((await at(hi)).figures, baseline_abandon):
        return runs[hi], Tuning(hi, {k: r.figures for k, r in runs.items()})
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if limits.met((await at(mid)).figures, baseline_abandon):
            hi = mid
        else:
            lo = mid
    if lo == 0 and limits.met((await at(0)).figures, baseline_abandon):
        hi = 0
    return runs[hi], Tuning(hi, {k: r.figures for k, r in sorted(runs.items())})
