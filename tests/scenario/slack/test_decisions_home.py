"""The supervisors' Home tab shows the engine's last decisions, one line each with the figures
behind it; an agent's Home does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from blending import decision_store
from blending.figures import Figures
from blending.guard import GuardState
from blending.policy import Decision, GroupDecision
from blending.windows import UsableWindow
from queues.dispatch import DispatchSettings
from tests.support.slack import DANA, SUPERVISOR, Harness, seed

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
GROUP = "all queues"
CALM = Figures("forecast_guard", "hi_80", NOW, 30.0, need=7, staffed=9, surplus=2, calls_waiting=1)
RISING = Figures(
    "forecast_guard",
    "hi_80",
    NOW,
    need=7,
    staffed=9,
    surplus=2,
    lent=1,
    calls_waiting=5,
    longest_wait_seconds=31.0,
    service_level=0.55,
    guard="recall",
    tripped=("recall_waiting",),
)


async def _decisions(slack: Harness) -> None:
    """The engine lends Dana 25 minutes, then calls rise: the guard recalls her."""
    await seed(slack.pool, tasks=1, window=None)
    window = UsableWindow("dana", NOW, NOW + timedelta(minutes=25), 0.9)
    lend = Decision({GROUP: GroupDecision(GROUP, windows=[window], figures=CALM)})
    acted = await decision_store.act(slack.pool, lend, NOW, DispatchSettings(), {})
    assert [t.holder for t in acted.offers] == ["dana"]
    later = NOW + timedelta(minutes=3)
    rising = GroupDecision(GROUP, recall=["dana"], guard=GuardState("recall", later))
    rising.reason, rising.figures = "calls are rising: 5 calls waiting", RISING
    await decision_store.act(slack.pool, Decision({GROUP: rising}), later, DispatchSettings(), {})


async def _home(slack: Harness, user: str) -> str:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    assert (await slack.event(event, f"Ev-home-{user}")).status == 200
    await slack.drain()
    return json.dumps(slack.standin.homes[user])


def _section(home: str, title: str) -> list[str]:
    """The lines of the Home's section headed ``title``."""
    texts = [b.get("text", {}).get("text", "") for b in json.loads(home)["blocks"]]
    (found,) = [t for t in texts if t.startswith(title)]
    return str(found).splitlines()[1:]


async def test_a_supervisor_sees_the_last_decisions_with_their_figures(slack: Harness) -> None:
    await _decisions(slack)
    home = await _home(slack, SUPERVISOR)
    assert _section(home, "*Last blending decisions*") == [
        "10:45 guard *recall* in all queues: need 7, staffed 9, surplus 2, reserve 0, 1 lent, "
        "5 waiting, longest 31 s, service level 55%, tripped recall waiting",
        "10:45 recalled Dana Levi from all queues: need 7, staffed 9, surplus 2, reserve 0, "
        "1 lent, 5 waiting, longest 31 s, service level 55%, tripped recall waiting",
        "10:42 lent Dana Levi 25 min (confidence 90%): need 7, staffed 9, surplus 2, reserve 0, "
        "1 waiting",
    ]


async def test_an_agent_does_not(slack: Harness) -> None:
    await _decisions(slack)
    home = await _home(slack, DANA)
    assert "blending decisions" not in home
    assert "need 7" not in home


async def test_before_any_decision_the_supervisor_is_told_so(slack: Harness) -> None:
    await seed(slack.pool, tasks=0, window=None)
    assert "No blending decision yet." in await _home(slack, SUPERVISOR)
