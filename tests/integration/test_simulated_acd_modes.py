"""The simulated days in each ACD mode, on the real engine (one day, a fixed seed).

``advisory``: a recalled agent comes back after a person's reaction to the Slack card;
``control``: after the platform's command latency, the service's outbox having sent the state
command the database queued with the recall; ``interruptible``: a call pauses the work of the
agent it reaches, through the task lifecycle, and the work resumes once the call is over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from blending.acd import Mode
from blending.policy import policy_for
from bot.cli.simulated_days import PolicyRun, Prepared, prepared_world, run_on_clone
from bot.cli.what_if import engine_settings
from bot.settings import Settings
from simulation.phone_system import CommandLatency
from simulation.world import TASK_KINDS, WorldSpec

pytestmark = [pytest.mark.timeout(300), pytest.mark.simulation]
SEED = 3


@pytest.fixture
async def prepared(server_url: str, tmp_path: Path) -> AsyncIterator[Prepared]:
    settings = Settings(database_url=server_url, data_dir=tmp_path)
    base = engine_settings(settings)
    async with prepared_world(settings, WorldSpec(days=1), SEED, base) as world:
        yield world


async def _run(prepared: Prepared, mode: Mode, latency: CommandLatency | None = None) -> PolicyRun:
    engine = replace(
        engine_settings(Settings(acd_mode=mode)),
        policy=policy_for("forecast_guard"),
        latency=latency or CommandLatency(),
    )
    return await run_on_clone(prepared, engine)


def _delay(run: PolicyRun) -> float:
    delay = run.figures["recall_delay_seconds"]
    assert isinstance(delay, float), "the guard recalled nobody on back-office work"
    return delay


async def test_control_recalls_after_the_command_latency_not_a_person(
    prepared: Prepared,
) -> None:
    advisory = await _run(prepared, "advisory")
    control = await _run(prepared, "control", CommandLatency(fixed=1.0, mean_tail=0.0))

    assert advisory.timeline.recall_delays
    assert control.timeline.recall_delays
    assert all(d >= 2.0 for d in advisory.timeline.recall_delays)  # 2 s + a reaction
    assert all(d == pytest.approx(1.0) for d in control.timeline.recall_delays)
    assert _delay(control) < _delay(advisory) / 5
    # The platform was sent the outbox's commands, and the recalled agents' work was paused
    # by the service's own step.
    assert control.timeline.commands > 0
    assert control.timeline.paused_for_phones > 0
    assert advisory.timeline.commands == 0


async def test_interruptible_calls_pause_work_and_it_resumes_after_wrap_up(
    prepared: Prepared,
) -> None:
    run = await _run(prepared, "interruptible")
    tl = run.timeline

    assert tl.interruptions > 0
    # Each call that reached an agent on back-office work paused the task in the database
    # (the service's step, through the lifecycle), and it was resumed once the call ended.
    assert tl.paused_for_phones == tl.interruptions
    assert tl.resumed_for_phones >= 0.9 * tl.interruptions
    assert run.figures["recall_delay_seconds"] in (None, 0.0)
    assert run.center.tally.tasks_done > 0


async def test_interruptible_lends_work_no_call_can_pause_out_of_routing(
    prepared: Prepared,
) -> None:
    # An account opening cannot be paused: in interruptible mode it goes only to the windows
    # the forecast spares without the extra, and the platform takes its holder out of routing
    # for it (the simulated platform applies the service's commands), so the phones keep
    # their service level.
    unpausable = {k.name for k in TASK_KINDS if not k.pausable}
    assert unpausable
    run = await _run(prepared, "interruptible")
    tl = run.timeline
    assert tl.offers > 0
    assert sum(tl.offered_types.get(t, 0) for t in unpausable) > 0
    assert tl.commands > 0
    assert float(run.figures["service_level"] or 0) >= 0.8
