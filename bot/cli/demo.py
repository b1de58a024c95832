"""``blendbot demo``: one simulated day of the default center, every policy, and a report.

The day runs on the embedded database (or ``DATABASE_URL``) on the real engine. Under
``forecast_guard`` the offers, recalls and asks to resume reach the virtual agents as Slack
direct messages, sent by the real Slack app to the local stand-in for Slack's Web API, and
every click (Claim, Skip, Complete, Pause, Resume, with their modals) is a request signed as
Slack signs it, sent to the app's ``/slack/events``. The other policies run with the agents
acting on the task lifecycle directly. Then the table, and an HTML report with charts.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from aiohttp import web
from rich.console import Console
from slack_sdk.signature import SignatureVerifier

from blending import decision_store
from blending.acd import MODES
from blending.planning.model import Plan
from blending.planning.service import PlanSettings
from blending.policy import policy_for
from blending.policy_names import POLICIES
from bot import root
from bot.cli.plan_check import simulated_plan_settings
from bot.cli.report import write_report
from bot.cli.simulate import (
    Figures,
    _bar,
    _compare,
    _labels,
    policies_of,
    policy_table,
    run_all,
    sweep_runs,
    tune_against,
)
from bot.cli.simulated_days import Wiring, prepared_world, run_on_clone
from bot.cli.what_if import Sweep, engine_settings, used
from bot.settings import Settings
from bot.slack.blocks import OUTCOMES, SKIP_REASONS
from bot.slack.context import SlackConfig
from clock import Clock
from queues.db import Executor
from simulation.plan_check import plan_after_run
from simulation.real_engine import AgentActions, EngineBackoffice, Notify
from simulation.world import RosterAgent, WorldSpec
from standins.slack import StandIn

SUPERVISOR = "USUPERVISOR"
CHANNEL = "CSUPERVISORS"


def slack_user(index: int) -> str:
    """The Slack user id the simulation's roster gives its agent number ``index`` (from 0)."""
    return f"USIM{index + 1:05d}"


@dataclass
class SlackTally:
    clicks: int = 0
    refused: int = 0
    """Clicks whose request was not answered 200 (none expected)."""


class SlackActions:
    """A virtual agent's clicks, as Slack sends them to the app, signed."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: str,
        standin: StandIn,
        pool: asyncpg.Pool,
        users: dict[str, str],
        drain: Callable[[], Any],
        tally: SlackTally,
    ) -> None:
        self._session = session
        self._url = url
        self._verifier = SignatureVerifier(secret)
        self._standin = standin
        self._pool = pool
        self._users = users
        self._drain = drain
        self.tally = tally

    async def _send(self, payload: dict[str, Any]) -> None:
        body = urlencode({"payload": json.dumps(payload)})
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self._verifier.generate_signature(timestamp=stamp, body=body)
            or "",
        }
        async with self._session.post(self._url, data=body, headers=headers) as response:
            self.tally.clicks += 1
            if response.status != 200:
                self.tally.refused += 1
        await self._drain()

    def _card_ts(self, user: str, block_id: str) -> str | None:
        dm = self._standin.dm_of(user)
        for (channel, ts), message in reversed(self._standin.messages.items()):
            if channel == dm and any(b.get("block_id") == block_id for b in message.blocks):
                return ts
        return None

    async def _click(self, agent_id: str, action_id: str, task_id: int, block: str) -> None:
        user = self._users[agent_id]
        block_id = f"{block}:{task_id}"
        ts = self._card_ts(user, block_id) or "0000000000.000000"
        channel = self._standin.dm_of(user)
        await self._send(
            {
                "type": "block_actions",
                "team": {"id": "TDEMO", "domain": "demo"},
                "user": {"id": user, "username": agent_id, "team_id": "TDEMO"},
                "api_app_id": "ADEMO",
                "container": {
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": False,
                },
                "trigger_id": f"{secrets.randbelow(10**12)}.demo",
                "channel": {"id": channel, "name": "directmessage"},
                "message": {"type": "message", "ts": ts, "text": ""},
                "actions": [
                    {
                        "action_id": action_id,
                        "block_id": block_id,
                        "type": "button",
                        "value": str(task_id),
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    async def _submit(
        self, agent_id: str, callback_id: str, task_id: int, values: dict[str, Any]
    ) -> None:
        user = self._users[agent_id]
        view = self._standin.views.get(user) or {}
        meta = view.get("private_metadata") or json.dumps({"task": task_id, "ref": None})
        await self._send(
            {
                "type": "view_submission",
                "team": {"id": "TDEMO", "domain": "demo"},
                "user": {"id": user, "username": agent_id},
                "api_app_id": "ADEMO",
                "trigger_id": f"{secrets.randbelow(10**12)}.demo",
                "view": {
                    "id": "VDEMO",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": meta,
                    "state": {"values": values},
                },
            }
        )

    async def _is(self, task_id: int, status: str, holder: str | None) -> bool:
        row = await self._pool.fetchrow("SELECT status, holder FROM tasks WHERE id = $1", task_id)
        return row is not None and row["status"] == status and row["holder"] == holder

    async def claim(self, task_id: int, agent_id: str) -> bool:
        await self._click(agent_id, "claim", task_id, "offer")
        return await self._is(task_id, "in_progress", agent_id)

    async def skip(self, task_id: int, agent_id: str, reason: str) -> bool:
        await self._click(agent_id, "skip", task_id, "offer")
        choice = {"selected_option": {"value": SKIP_REASONS[0]}}
        await self._submit(agent_id, "skip", task_id, {"reason": {"value": choice}})
        return await self._is(task_id, "queued", None)

    async def complete(self, task_id: int, agent_id: str) -> bool:
        await self._click(agent_id, "complete", task_id, "work")
        values = {
            "outcome": {"value": {"selected_option": {"value": OUTCOMES[0]}}},
            "note": {"value": {"value": "done in a lull"}},
        }
        await self._submit(agent_id, "complete", task_id, values)
        return await self._is(task_id, "done", None)

    async def pause(self, task_id: int, agent_id: str) -> bool:
        await self._click(agent_id, "pause", task_id, "work")
        return await self._is(task_id, "paused", agent_id)

    async def resume(self, task_id: int, agent_id: str) -> bool:
        await self._click(agent_id, "resume", task_id, "paused")
        return await self._is(task_id, "in_progress", agent_id)


@dataclass
class SlackRun:
    standin: StandIn
    tally: SlackTally


def slack_wiring(roster: Sequence[RosterAgent], into: list[SlackRun]) -> Wiring:
    """The Slack app and the stand-in, for one run; what they did is appended to ``into``."""
    users = {r.agent_id: slack_user(i) for i, r in enumerate(roster)}

    @asynccontextmanager
    async def wire(pool: asyncpg.Pool, clock: Clock) -> AsyncIterator[tuple[AgentActions, Notify]]:
        token, secret = "xoxb-demo-" + secrets.token_hex(8), secrets.token_hex(16)
        names = {u: a for a, u in users.items()} | {SUPERVISOR: "Supervisor"}
        standin = StandIn(token=token, users=names, channels={CHANNEL})
        api = web.AppRunner(standin.app(), access_log=None)
        await api.setup()
        api_site = web.TCPSite(api, "127.0.0.1", 0)
        await api_site.start()
        api_url = _url_of(api)
        config = SlackConfig(
            bot_token=token,
            signing_secret=secret,
            api_url=f"{api_url}/api/",
            supervisor_channel=CHANNEL,
            supervisors=frozenset({SUPERVISOR}),
            run_outbox=False,
            clock=clock,
        )
        app = root.http_app(
            pool, root.Parts(clock=clock), tokens=[secrets.token_urlsafe(24)], slack=config
        )
        slack = app.slack
        assert slack is not None
        runner = web.AppRunner(app.web, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        tally = SlackTally()
        into.append(SlackRun(standin, tally))

        async def drain() -> None:
            await slack.outbox.drain()

        async def notify(acted: decision_store.Acted) -> None:
            await slack.notifier.offers(acted.offers)
            await slack.notifier.recall(acted.recalled)
            await slack.notifier.resume(acted.resume)
            await drain()

        try:
            async with aiohttp.ClientSession() as session:
                actions = SlackActions(
                    session,
                    f"{_url_of(runner)}/slack/events",
                    secret,
                    standin,
                    pool,
                    users,
                    drain,
                    tally,
                )
                yield actions, notify
        finally:
            await runner.cleanup()
            await api.cleanup()

    return wire


def _url_of(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


PLAN_DAYS = 7


def _plan_into(
    plans: list[Plan], settings: PlanSettings
) -> Callable[[Executor, EngineBackoffice], Awaitable[None]]:
    """The back-office plan for the days after the run, made on its database at its end."""

    async def after(db: Executor, controller: EngineBackoffice) -> None:
        plans.append(await plan_after_run(db, controller, settings))

    return after


async def demo(
    settings: Settings,
    console: Console,
    *,
    seed: int = 1,
    report: Path | None = None,
    sweep: Sweep | None = None,
    overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec = WorldSpec(days=1)
    base = replace(engine_settings(settings), policy=policy_for("none"))
    make = policies_of(settings)
    slack_runs: list[SlackRun] = []
    started = time.monotonic()
    modes: dict[str, Figures] = {}
    with _bar(console) as bar:
        async with prepared_world(settings, spec, seed, base) as prepared:
            runs, _ = await run_all(prepared, base, ["none", "forecast"], None, bar, make=make)
            guarded = replace(base, policy=make("forecast_guard", None))
            plans: list[Plan] = []
            runs["forecast_guard"] = await run_on_clone(
                prepared,
                guarded,
                wiring=slack_wiring(prepared.roster, slack_runs),
                progress=lambda share: bar.update("forecast_guard (through Slack)", share),
                after=_plan_into(plans, simulated_plan_settings(settings, guarded, PLAN_DAYS)),
            )
            tuning = await tune_against(prepared, base, runs, bar)
            modes[base.acd_mode] = runs["forecast_guard"].figures
            for mode in MODES:
                if mode not in modes:
                    run = await run_on_clone(
                        prepared,
                        replace(guarded, acd_mode=mode),
                        progress=lambda share, m=mode: bar.update(f"forecast_guard, {m}", share),
                    )
                    modes[mode] = run.figures
            world = prepared.world
        swept: dict[str, Any] | None = None
        if sweep is not None:
            sweep_rows = await sweep_runs(
                dict(overrides or {}), sweep, spec, seed, ["forecast_guard"], None, bar
            )
            swept = {"key": sweep.key, "values": list(sweep.values), "rows": sweep_rows}
    rows: dict[str, Figures] = {name: runs[name].figures for name in POLICIES if name in runs}
    console.print(
        policy_table(
            f"One simulated day, {world.spec.start:%Y-%m-%d}, seed {seed}", _labels(rows, runs)
        )
    )
    _compare(console, rows)
    console.print(policy_table("forecast_guard in each ACD mode", modes, "ACD mode"))
    if swept is not None:
        table = {f"{swept['key']}={r['value']}": r["figures"] for r in swept["rows"]}
        console.print(policy_table(f"forecast_guard, {swept['key']} swept", table, "run"))
    slack_run = slack_runs[0]
    posted = len(slack_run.standin.calls_to("chat.postMessage", ok=True))
    updated = len(slack_run.standin.calls_to("chat.update", ok=True))
    console.print(
        f"Slack (forecast_guard): {posted} messages posted, {updated} updated in place, "
        f"{slack_run.tally.clicks} signed clicks and modal submissions, "
        f"{slack_run.tally.refused} refused"
    )
    seconds = time.monotonic() - started
    body: dict[str, Any] = {
        "days": 1,
        "seed": seed,
        "policies": rows,
        "seconds": seconds,
        "slack": {
            "posted": posted,
            "updated": updated,
            "clicks": slack_run.tally.clicks,
            "refused": slack_run.tally.refused,
        },
    }
    body["reserve_k"] = tuning
    body["acd_modes"] = {m: modes[m] for m in MODES}
    body["backoffice_arrived"] = len(world.tasks)
    body["settings"] = used(settings)
    if swept is not None:
        body["sweep"] = swept
    if report is not None:
        write_report(report, world, runs, body, slack_run.standin, plans[0] if plans else None)
        console.print(f"report: {report}")
    console.print(f"{seconds:.0f} s")
    return body


async def run_demo(
    settings: Settings,
    args: argparse.Namespace,
    console: Console,
    sweep: Sweep | None = None,
    overrides: dict[str, str] | None = None,
) -> int:
    """``blendbot demo``: the day, the table, the report, and the figures as JSON if asked."""
    body = await demo(
        settings, console, seed=args.seed, report=args.report, sweep=sweep, overrides=overrides
    )
    if args.json_out:
        args.json_out.write_text(json.dumps(body, indent=2))
    return 0
