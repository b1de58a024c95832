"""``blendbot serve``: the service, until SIGINT or SIGTERM.

A stop drains: the tick and Socket Mode end first (another instance takes the tick over), the
listener closes (a proxy sends new connections to the other instances), the requests in
progress finish (``BLENDBOT_DRAIN_SECONDS`` at most), and then the app shuts down.
"""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from bot import root
from bot.http import connections
from bot.http.connections import IN_FLIGHT
from bot.settings import Settings
from bot.slack.socket import run_socket_mode


async def serve(settings: Settings, host: str, port: int, sample: bool, console: Console) -> None:
    """Run the service until SIGINT or SIGTERM."""
    async with root.service(settings, sample=sample) as service:
        if service.sample is not None:
            roster, tasks = service.sample
            console.print(
                f"sample data: {roster.created + roster.updated} agents, "
                f"{tasks.created + tasks.unchanged} tasks"
            )
        limits = service.wired.connections
        runner = connections.runner(service.app.web, limits)
        await runner.setup()
        site = connections.GuardedSite(runner, host, port, limits)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from None
        console.print(f"blendbot listening on http://{host}:{port}")
        if service.token_file is not None:
            console.print(f"API token (kept in {service.token_file}): {service.tokens[0]}")
        else:
            console.print("API tokens: from BLENDBOT_API_TOKENS")
        console.print(f"OpenAPI document: http://{host}:{port}/api/v1/openapi.json")
        background: list[asyncio.Task[None]] = []
        slack = service.app.slack
        if slack is None:
            console.print("Slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")
        elif settings.slack_app_token:
            console.print("Slack: Socket Mode")
            background.append(asyncio.create_task(run_socket_mode(slack, settings.slack_app_token)))
        else:
            console.print(f"Slack: events at http://{host}:{port}/slack/events")
        blender = service.tick.blender
        if blender is not None:
            console.print(f"blending policy: {blender.policy.name}")
        modes = service.wired.acd.modes
        named = "".join(f", {group}: {mode}" for group, mode in sorted(modes.groups.items()))
        targets = ", ".join(service.app.targets.sources) or "no control client"
        console.print(f"phone system: {modes.default}{named} ({targets})")
        background.append(asyncio.create_task(service.tick.run()))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            console.print("stopping")
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await site.stop()
            in_flight = service.app.web[IN_FLIGHT]
            if not await in_flight.drained(settings.drain_seconds):
                console.print(f"stopping with {in_flight.count} request(s) still in progress")
            await runner.cleanup()
