"""Matching windows to tasks as an assignment problem: plain tables of cases, no database."""

from __future__ import annotations

from queues.matching import AgentProfile, Candidate, MatchResult, Window, match


def task(task_id: int, type_: str, priority: float, minutes: float = 10, *skills: str) -> Candidate:
    return Candidate(task_id, type_, 1, frozenset(skills or (type_,)), minutes, priority)


def pairs(result: MatchResult) -> dict[str, int]:
    return {a.agent_id: a.task_id for a in result.assignments}


def test_the_whole_round_beats_first_come_greedy() -> None:
    # Greedy would give the versatile agent the top task and leave the specialist idle.
    agents = {
        "versatile": AgentProfile({"billing": 3, "mortgage": 3}),
        "specialist": AgentProfile({"mortgage": 3}),
    }
    tasks = [task(1, "mortgage", 50), task(2, "billing", 40)]
    result = match([Window("versatile", 30), Window("specialist", 30)], tasks, agents)
    assert pairs(result) == {"specialist": 1, "versatile": 2}


def test_skills_and_time_must_fit() -> None:
    agents = {"ana": AgentProfile({"billing": 2})}
    tasks = [task(1, "mortgage", 90), task(2, "billing", 80, 40), task(3, "billing", 10, 8)]
    assert pairs(match([Window("ana", 30)], tasks, agents)) == {"ana": 3}
    nothing = match([Window("ana", 5)], tasks, agents)
    assert nothing.assignments == []
    assert nothing.unmatched == ["ana"]


def test_higher_priority_first() -> None:
    agents = {"ana": AgentProfile({"billing": 1})}
    tasks = [task(n, "billing", n) for n in range(1, 6)]
    assert pairs(match([Window("ana", 60)], tasks, agents)) == {"ana": 5}


def test_rotation_breaks_a_near_tie_toward_another_type() -> None:
    agents = {"ana": AgentProfile({"billing": 1, "cards": 1}, recent_types=("billing",))}
    tasks = [task(1, "billing", 30), task(2, "cards", 25)]
    assert pairs(match([Window("ana", 60)], tasks, agents)) == {"ana": 2}
    urgent = [task(1, "billing", 60), task(2, "cards", 25)]
    assert pairs(match([Window("ana", 60)], urgent, agents)) == {"ana": 1}


def test_fairness_gives_the_scarce_task_to_who_had_less_today() -> None:
    agents = {
        "busy": AgentProfile({"billing": 2}, minutes_today=180),
        "idle": AgentProfile({"billing": 2}, minutes_today=0),
    }
    result = match([Window("busy", 30), Window("idle", 30)], [task(1, "billing", 20)], agents)
    assert pairs(result) == {"idle": 1}
    assert result.unmatched == ["busy"]


def test_personal_estimates_decide_the_fit() -> None:
    agents = {"slow": AgentProfile({"billing": 1}), "fast": AgentProfile({"billing": 4})}

    def estimate(agent: str, type_: str, step: int, minutes: float) -> float:
        return minutes * (2.0 if agent == "slow" else 0.5)

    result = match(
        [Window("slow", 15), Window("fast", 15)],
        [task(1, "billing", 10, 10)],
        agents,
        estimate=estimate,
    )
    assert pairs(result) == {"fast": 1}
    assert result.assignments[0].expected_minutes == 5


def test_deterministic_for_the_same_input() -> None:
    agents = {f"a{n}": AgentProfile({"billing": 1 + n % 3}) for n in range(20)}
    tasks = [task(n, "billing", n % 7) for n in range(100)]
    windows = [Window(f"a{n}", 30) for n in range(20)]
    first = pairs(match(windows, tasks, agents))
    assert first == pairs(match(list(reversed(windows)), list(reversed(tasks)), agents))
    assert len(first) == 20
    assert len(set(first.values())) == 20
