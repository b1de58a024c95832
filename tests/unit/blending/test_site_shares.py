"""A site's share of each skill set's work: by the hours its agents give the set, by head
count where nobody gives any, the default site's where nobody has the skills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blending.planning.model import AgentSupply, OpenTask, TypeInfo
from blending.planning.plan import type_share
from blending.planning.share import set_pulls, site_shares

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
END = NOW + timedelta(days=2)
BILLING, CLAIMS, AUDIT = frozenset({"billing"}), frozenset({"claims"}), frozenset({"audit"})


def _on(agent: str, skills: frozenset[str], hours: float, at: datetime = NOW) -> AgentSupply:
    return AgentSupply(agent, skills, True, ((at, at + timedelta(hours=hours), 1.0),))


def test_shares_follow_the_hours_each_site_gives_a_set() -> None:
    pulls = {BILLING: 1.0, CLAIMS: 1.0, AUDIT: 1.0}
    staff = {
        "akl": (BILLING | CLAIMS, "auckland"),
        "ny": (BILLING, "new-york"),
        "ny2": (CLAIMS, "new-york"),
        "idle": (AUDIT, "new-york"),
        "idle2": (AUDIT, "default"),
    }
    supply = [
        _on("akl", BILLING | CLAIMS, 8),  # half to billing, half to claims (equal pulls)
        _on("ny", BILLING, 12),
        _on("ny2", CLAIMS, 2, at=END - timedelta(hours=1)),  # one hour inside the plan
        _on("idle", AUDIT, 0),
    ]
    shares = site_shares(pulls, supply, staff, NOW, END)
    assert shares[BILLING] == pytest.approx({"auckland": 0.25, "new-york": 0.75})
    assert shares[CLAIMS] == pytest.approx({"auckland": 0.8, "new-york": 0.2})
    assert shares[AUDIT] == pytest.approx({"new-york": 0.5, "default": 0.5})  # by head count
    nobody = site_shares({frozenset({"legal"}): 1.0}, supply, staff, NOW, END)
    assert nobody == {frozenset({"legal"}): {"default": 1.0}}
    for by_site in shares.values():
        assert sum(by_site.values()) == pytest.approx(1.0)


def test_pulls_and_a_types_share_weigh_the_steps_work() -> None:
    letters = TypeInfo("letters", 2880, (BILLING, CLAIMS), (30.0, 10.0))
    open_task = OpenTask(1, "letters", "L", 2, NOW, END, 0.0)
    pulls = set_pulls({"letters": letters}, {"letters": 12.0}, [open_task])
    # 12 arrived: 6 h of billing and 2 h of claims, plus the open task's 10 claims minutes,
    # over the 2-day SLA.
    assert pulls == pytest.approx({BILLING: 3.0, CLAIMS: (2 + 1 / 6) / 2})
    assert type_share(letters, {BILLING: 1.0, CLAIMS: 0.0}) == 0.75
