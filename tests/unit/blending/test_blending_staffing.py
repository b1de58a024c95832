"""Erlang C and Erlang A against published examples and independent computations."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
from scipy.linalg import expm

from blending.errors import BlendingError, InvalidInput, TargetUnreachable, UnstableQueue
from blending.staffing import (
    StaffingResult,
    agents_needed,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_wait_probability,
    offered_load,
)


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """The textbook Erlang C formula in exact rational arithmetic."""
    term = Fraction(1)
    total = Fraction(0)
    for k in range(agents):
        total += term
        term = term * load / (k + 1)
    tail = term * agents / (agents - load)
    return tail / (total + tail)


def test_classic_half_hour_example() -> None:
    """The classic worked example (Call Centre Helper, "Erlang C formula - made simple"):
    100 calls in 30 minutes, 180 s handle time, 80% in 20 s: 10 Erlangs of work; 14 agents
    answer 88.84% within 20 s (the figure quoted in issue 7), 13 are too few.
    """
    assert offered_load(100, 30, 180) == pytest.approx(10.0)
    r14 = erlang_c(100, 30, 180, 14, 20)
    assert r14.service_level == pytest.approx(0.8884, abs=5e-5)
    assert r14.occupancy == pytest.approx(10 / 14)
    assert erlang_c(100, 30, 180, 13, 20).service_level < 0.8
    need = agents_needed(100, 30, 180, target_sl=0.8, target_seconds=20)
    assert need == r14
    assert need.abandon_rate is None


def test_erlang_c_step_by_step_example() -> None:
    """The step-by-step example of "The Erlang-C Formula" (Westbay Engineers' Erlang pages):
    360 calls per half hour, 4 minute calls, 55 agents, 15 s target. Traffic intensity 48
    Erlangs and occupancy 87.3% are printed there; the wait probability, ASA and service level
    are checked against the formula evaluated in exact rational arithmetic.
    """
    r = erlang_c(360, 30, 240, 55, 15)
    assert offered_load(360, 30, 240) == pytest.approx(48.0)
    assert r.occupancy == pytest.approx(0.873, abs=5e-4)
    pw = float(exact_erlang_c(55, Fraction(48)))
    assert erlang_c_wait_probability(55, 48.0) == pytest.approx(pw, rel=1e-12)
    assert r.asa_seconds == pytest.approx(pw * 240 / (55 - 48), rel=1e-12)
    assert r.service_level == pytest.approx(1 - pw * math.exp(-(55 - 48) * 15 / 240), rel=1e-12)


@pytest.mark.parametrize(
    ("agents", "load"), [(1000, Fraction(99999, 100)), (300, Fraction(2999, 10))]
)
def test_near_saturation_matches_exact_arithmetic(agents: int, load: Fraction) -> None:
    """A load within 0.01-0.1 Erlang of the agent count: the recursion agrees with exact
    rational arithmetic to 1e-10."""
    assert erlang_c_wait_probability(agents, float(load)) == pytest.approx(
        float(exact_erlang_c(agents, load)), rel=1e-10
    )


def test_five_thousand_agents_are_stable_and_fast() -> None:
    started = time.perf_counter()
    r = agents_needed(98_000, 30, 90, target_sl=0.8, target_seconds=2)
    load = offered_load(98_000, 30, 90)
    assert load == pytest.approx(4900.0)
    assert load < r.agents < load + 3 * math.sqrt(load)
    assert r.service_level >= 0.8
    assert erlang_c(98_000, 30, 90, r.agents - 1, 2).service_level < 0.8
    assert math.isfinite(r.asa_seconds)
    a = agents_needed(98_000, 30, 90, target_sl=0.8, target_seconds=2, patience_seconds=120)
    assert a.abandon_rate is not None
    assert 0 <= a.abandon_rate < 0.01
    assert erlang_a(98_000, 30, 90, a.agents - 1, 2, 120).service_level < 0.8
    assert a.agents <= r.agents
    assert time.perf_counter() - started < 5


def test_erlang_b_extremes() -> None:
    assert erlang_b(0, 5.0) == 1.0
    assert erlang_b(10_000, 10.0) == 0.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def tagged_caller(
    calls: float, interval_minutes: float, aht: float, n: int, t: float, patience: float
) -> tuple[float, float, float, float]:
    """An independent Erlang A computation on a truncated birth-death chain: the stationary
    queue seen on arrival (PASTA), then the tagged caller's own absorbing chain (served or
    abandoned), solved with a matrix exponential and the fundamental matrix.

    Returns P(wait > 0), P(abandon), P(served within t), mean wait of the served.
    """
    lam, mu, th = calls / (interval_minutes * 60), 1 / aht, 1 / patience
    size = 600
    log_p = np.zeros(size)
    for k in range(1, size):
        log_p[k] = log_p[k - 1] + math.log(lam / (min(k, n) * mu + max(k - n, 0) * th))
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    queue = np.maximum(np.arange(size) - n, 0)
    p_wait = float(p[n:].sum())
    p_abandon = float(th * (p * queue).sum() / lam)
    ahead = p[n:]  # the caller finds m = 0, 1, ... waiting ahead
    m = len(ahead)
    q = np.zeros((m + 2, m + 2))  # transient 0..m-1 (callers ahead), then served, abandoned
    for k in range(m):
        q[k, k] = -(n * mu + k * th + th)
        if k == 0:
            q[k, m] = n * mu
        else:
            q[k, k - 1] = n * mu + k * th
        q[k, m + 1] = th
    alpha = ahead / ahead.sum()
    served_by_t = float(alpha @ expm(q * t)[:m, m])
    fundamental = np.linalg.inv(-q[:m, :m])
    rate_served = q[:m, m]
    wait_served = float(alpha @ fundamental @ fundamental @ rate_served)
    served = float(alpha @ fundamental @ rate_served)
    sl = (1 - p_wait) + p_wait * served_by_t
    asa = p_wait * wait_served / (1 - p_abandon)
    assert served == pytest.approx(1 - p_abandon / p_wait, rel=1e-9)
    return p_wait, p_abandon, sl, asa


@pytest.mark.parametrize(
    "case",
    [
        (100, 30, 180, 10, 20, 60),
        (100, 30, 180, 12, 20, 120),
        (300, 15, 300, 90, 20, 90),
        (60, 30, 240, 6, 30, 300),
    ],
)
def test_erlang_a_matches_birth_death_chain(
    case: tuple[float, float, float, int, float, float],
) -> None:
    """Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call centers"
    (Technion, 2005), sections 4.4-4.5 give P(W>0) and P(Ab) through the incomplete gamma
    function; here they and the service level and ASA are checked against the chain itself
    (including the overloaded cases 10 agents for 10 Erlangs and 6 agents for 8)."""
    calls, minutes, aht, n, t, patience = case
    r = erlang_a(calls, minutes, aht, n, t, patience)
    p_wait, p_abandon, sl, asa = tagged_caller(calls, minutes, aht, n, t, patience)
    assert r.abandon_rate == pytest.approx(p_abandon, rel=1e-8)
    assert r.service_level == pytest.approx(sl, rel=1e-8)
    assert r.asa_seconds == pytest.approx(asa, rel=1e-8)
    assert r.occupancy == pytest.approx(offered_load(calls, minutes, aht) * (1 - p_abandon) / n)
    assert p_wait > 0


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    c = erlang_c(100, 30, 180, 12, 20)
    a = erlang_a(100, 30, 180, 12, 20, patience_seconds=1e9)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-5)
    assert a.abandon_rate == pytest.approx(0, abs=1e-6)


def test_erlang_a_staffs_leaner_and_reports_abandonment() -> None:
    c = agents_needed(100, 30, 180, 0.8, 20)
    a = agents_needed(100, 30, 180, 0.8, 20, patience_seconds=60)
    assert a.agents <= c.agents
    assert a.abandon_rate is not None
    assert a.service_level >= 0.8
    assert erlang_a(100, 30, 180, a.agents - 1, 20, 60).service_level < 0.8


def test_erlang_a_far_overloaded_and_far_overstaffed() -> None:
    over = erlang_a(2000, 30, 300, 50, 20, patience_seconds=600)
    assert over.abandon_rate is not None
    # 333 Erlangs offered to 50 agents: all but 50 Erlangs' worth of callers hang up.
    assert over.abandon_rate == pytest.approx(1 - 50 / offered_load(2000, 30, 300), rel=1e-3)
    assert over.occupancy == pytest.approx(1, abs=1e-3)
    idle = erlang_a(10, 30, 60, 500, 20, patience_seconds=60)
    assert idle.service_level == 1.0
    assert idle.abandon_rate == 0.0


def test_max_occupancy_adds_agents() -> None:
    free = agents_needed(2000, 30, 180, 0.8, 20)
    capped = agents_needed(2000, 30, 180, 0.8, 20, max_occupancy=0.85)
    assert free.occupancy > 0.85
    assert capped.occupancy <= 0.85
    assert capped.agents == math.ceil(offered_load(2000, 30, 180) / 0.85)


def test_no_calls_need_no_agents() -> None:
    assert agents_needed(0, 15, 180, 0.8, 20) == StaffingResult(
        agents=0, service_level=1.0, asa_seconds=0.0, occupancy=0.0
    )


def test_result_json_has_the_documented_fields() -> None:
    r = agents_needed(100, 30, 180, 0.8, 20)
    assert set(r.model_dump()) == {
        "agents",
        "service_level",
        "asa_seconds",
        "occupancy",
        "abandon_rate",
    }


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"calls": -1}, InvalidInput, "calls"),
        ({"aht_seconds": 0}, InvalidInput, "aht_seconds"),
        ({"interval_minutes": 0}, InvalidInput, "interval_minutes"),
        ({"target_seconds": -5}, InvalidInput, "target_seconds"),
        ({"target_sl": 0}, InvalidInput, "target_sl"),
        ({"target_sl": 1.5}, InvalidInput, "target_sl"),
        ({"max_occupancy": 0}, InvalidInput, "max_occupancy"),
        ({"patience_seconds": 0}, InvalidInput, "patience_seconds"),
        ({"target_sl": 1.0, "target_seconds": 0}, TargetUnreachable, "100.0%"),
        ({"target_sl": 1.0}, TargetUnreachable, "target below 1"),
    ],
)
def test_bad_input_is_refused_with_a_readable_message(
    kwargs: dict[str, float], error: type[BlendingError], words: str
) -> None:
    args: dict[str, float] = {
        "calls": 100,
        "interval_minutes": 30,
        "aht_seconds": 180,
        "target_sl": 0.8,
        "target_seconds": 20,
    } | kwargs
    with pytest.raises(error, match=words) as info:
        agents_needed(**args)
    assert isinstance(info.value, BlendingError)
    assert "Traceback" not in str(info.value)


def test_too_few_agents_for_erlang_c() -> None:
    with pytest.raises(UnstableQueue, match="grows without bound") as info:
        erlang_c(100, 30, 180, 10, 20)
    assert info.value.agents == 10
    assert info.value.load_erlangs == pytest.approx(10)


def test_agents_per_interval_follows_the_forecast() -> None:
    from blending.staffing import agents_per_interval

    rows = agents_per_interval([0, 100, 200], 30, [None, 180, 180], 0.8, 20)
    assert [r.agents for r in rows] == [0, 14, agents_needed(200, 30, 180, 0.8, 20).agents]


@pytest.mark.parametrize(
    ("agents", "erlangs", "blocking"),
    [(10, 5.0, 0.01838), (5, 2.0, 0.03670), (20, 15.0, 0.04559)],
)
def test_erlang_a_with_no_patience_is_the_published_erlang_b(
    agents: int, erlangs: float, blocking: float
) -> None:
    """Callers who hang up at once are lost calls: Erlang A's abandonment tends to Erlang's loss
    formula, whose values here are those of the classic Erlang B tables (e.g. Iversen,
    "Teletraffic Engineering and Network Planning", DTU, table of Erlang's B-formula)."""
    calls = erlangs * 1800 / 180  # the load in half-hour calls at 180 s each
    result = erlang_a(calls, 30, 180, agents, 0, patience_seconds=0.001)
    assert result.abandon_rate == pytest.approx(blocking, abs=5e-5)
