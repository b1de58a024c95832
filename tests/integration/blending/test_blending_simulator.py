"""The simulator reproduces the exact chain of the threshold policy (Bhulai & Koole 2003;
Gans & Zhou 2003): 14 agents, 100 calls per 30 minutes, 180 s mean handle time."""

from __future__ import annotations

import math
import statistics

import pytest
from pydantic import ValidationError

from simulation.scenario import ArrivalSpec, Dist, PolicySpec, Scenario
from simulation.scenario_run import run, simulate
from tests.support.threshold import threshold_chain

pytestmark = pytest.mark.simulation


@pytest.mark.parametrize(
    ("k", "service_level", "per_hour"),
    [(4, 0.8015, 42.5), (14, 0.8884, 0.0)],  # the figures; k = 14 is plain Erlang C
)
def test_the_chain_gives_the_published_figures(
    k: int, service_level: float, per_hour: float
) -> None:
    chain = threshold_chain(14, 200, 180, k, target_seconds=20)
    assert chain.service_level == pytest.approx(service_level, abs=5e-5)
    assert chain.backoffice_per_hour == pytest.approx(per_hour, abs=0.05)


def _batch_error(values: list[float], size: int = 25) -> float:
    """Standard error of the mean from batch means (hours are correlated; batches hardly)."""
    batches = [statistics.fmean(values[i : i + size]) for i in range(0, len(values), size)]
    return statistics.stdev(batches) / math.sqrt(len(batches))


@pytest.mark.parametrize("k", [2, 4, 8, 14])
def test_long_simulated_runs_agree_with_the_chain(k: int) -> None:
    scenario = Scenario(
        hours=1000,
        agents=14,
        arrivals=ArrivalSpec(per_hour=200),
        handle_seconds=Dist(mean=180),
        policy=PolicySpec(name="reserve_k", k=k),
        seed=k,
    )
    simulated = run(scenario)
    chain = threshold_chain(14, 200, 180, k, target_seconds=20)
    sl_error = _batch_error(simulated.hourly_service_level)
    assert abs(simulated.result.service_level - chain.service_level) < 4 * sl_error + 1e-3
    if k == 14:  # no lending at all
        assert simulated.result.backoffice_completed == 0
    else:
        tasks_error = _batch_error([float(t) for t in simulated.hourly_tasks])
        per_hour = statistics.fmean(simulated.hourly_tasks)
        assert abs(per_hour - chain.backoffice_per_hour) < 4 * tasks_error + 0.1
    assert simulated.result.utilization == pytest.approx(chain.utilization, abs=0.01)


def test_same_seed_same_numbers() -> None:
    scenario = Scenario(
        hours=50,
        agents=10,
        arrivals=ArrivalSpec(per_hour=150),
        handle_seconds=Dist(dist="lognormal", mean=200, sd=120),
        patience_seconds=Dist(mean=120),
        policy=PolicySpec(name="reserve_k", k=3),
        seed=9,
    )
    first, second = simulate(scenario), simulate(scenario)
    assert first == second
    assert 0 < first.abandon_rate < 0.2


def test_more_reserve_means_better_service_and_less_back_office() -> None:
    results = [
        simulate(
            Scenario(
                hours=300,
                agents=14,
                arrivals=ArrivalSpec(per_hour=200),
                handle_seconds=Dist(mean=180),
                policy=PolicySpec(name="reserve_k", k=k),
                seed=5,
            )
        )
        for k in (1, 4, 8)
    ]
    assert [r.service_level for r in results] == sorted(r.service_level for r in results)
    tasks = [r.backoffice_completed for r in results]
    assert tasks == sorted(tasks, reverse=True)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"policy": {"name": "reserve_k"}}, "needs k"),
        ({"policy": {"name": "reserve_k", "k": 20}}, "more than the 14 agents"),
        ({"arrivals": {}}, "either per_hour or profile"),
        ({"handle_seconds": {"dist": "lognormal", "mean": 180}}, "needs its sd"),
        ({"hours": 1, "warmup_hours": 2}, "warmup_hours"),
    ],
)
def test_bad_scenarios_are_explained(body: dict[str, object], words: str) -> None:
    base: dict[str, object] = {
        "hours": 10,
        "agents": 14,
        "arrivals": {"per_hour": 200},
        "handle_seconds": {"mean": 180},
        "policy": {"name": "reserve_k", "k": 4},
    }
    with pytest.raises(ValidationError, match=words):
        Scenario.model_validate({**base, **body})


def _stationary(policy: PolicySpec, **extra: object) -> Scenario:
    body: dict[str, object] = {
        "hours": 300,
        "agents": 16,  # two more than Erlang C needs for 80/20
        "arrivals": {"per_hour": 200},
        "handle_seconds": {"mean": 180},
        "policy": policy.model_dump(),
        "seed": 3,
    }
    body.update(extra)
    return Scenario.model_validate(body)


def test_the_forecast_policies_lend_the_surplus_and_keep_the_target() -> None:
    none = simulate(_stationary(PolicySpec(name="none")))
    forecast = simulate(_stationary(PolicySpec(name="forecast")))
    guarded = simulate(_stationary(PolicySpec(name="forecast_guard")))
    assert none.backoffice_completed == 0
    assert forecast.backoffice_completed > 0
    assert guarded.backoffice_completed > forecast.backoffice_completed  # margin 0 by default
    for result in (forecast, guarded):
        assert result.service_level >= 0.8
        assert result.utilization > none.utilization


def test_a_target_no_staffing_meets_lends_nobody() -> None:
    scenario = _stationary(
        PolicySpec(name="forecast"), target={"service_level": 1.0, "seconds": 20}, hours=20
    )
    assert simulate(scenario).backoffice_completed == 0
