"""Erlang C and Erlang A (Palm's M/M/n+M) performance, and the agents needed for a target.

Conventions, the same for both models:

* ``service_level`` is the fraction of *all* offered calls answered within the target time
  (calls that abandon count against it);
* ``asa_seconds`` is the mean wait of the calls that are answered (zero waits included);
* ``occupancy`` is the carried load per agent;
* ``abandon_rate`` is the fraction of offered calls that hang up while waiting (Erlang A only).

Erlang B is computed with its forward recursion, which stays in [0, 1] and cannot overflow, so
thousands of agents and loads a hair under saturation are exact to rounding. Erlang A follows
Mandelbaum & Zeltyn, "The Palm/Erlang-A queue, with applications to call centers" (2005),
sections 4.4-4.5: with ``a = lambda/theta`` and ``b = n mu/theta`` the queue's weight is
``A(b, a) = b e^a gamma(b, a) / a^b``; it is evaluated in log space through scipy's
regularised incomplete gamma function, or through its power series where that underflows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from blending.errors import InvalidInput, TargetUnreachable, UnstableQueue

MAX_AGENTS = 1_000_000


class StaffingResult(BaseModel):
    """Performance of one interval's queue with a given number of agents."""

    model_config = ConfigDict(frozen=True)

    agents: int
    service_level: float
    asa_seconds: float
    occupancy: float
    abandon_rate: float | None = None


def offered_load(calls: float, interval_minutes: float, aht_seconds: float) -> float:
    """The offered load in Erlangs: arrival rate times mean handle time."""
    _check_traffic(calls, interval_minutes, aht_seconds)
    return calls * aht_seconds / (interval_minutes * 60.0)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n, by the recursion B(k) = A B(k-1) / (k + A B(k-1))."""
    if agents < 0:
        raise InvalidInput("agents", agents, "must be zero or more")
    if load < 0 or not math.isfinite(load):
        raise InvalidInput("load", load, "must be a finite number of Erlangs, zero or more")
    b = 1.0
    for k in range(1, agents + 1):
        ab = load * b
        b = ab / (k + ab)
    return b


def erlang_c_wait_probability(agents: int, load: float) -> float:
    """Probability that a call waits in M/M/n (the Erlang C formula); needs agents > load."""
    if agents <= load:
        raise UnstableQueue(agents, load)
    b = erlang_b(agents, load)
    rho = load / agents
    return b / (1.0 - rho * (1.0 - b))


def erlang_c(
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    agents: int,
    target_seconds: float,
) -> StaffingResult:
    """Erlang C (M/M/n, callers never hang up) with ``agents`` on the phones."""
    load = offered_load(calls, interval_minutes, aht_seconds)
    _check_agents(agents)
    _check_target_seconds(target_seconds)
    if load == 0:
        return StaffingResult(agents=agents, service_level=1.0, asa_seconds=0.0, occupancy=0.0)
    pw = erlang_c_wait_probability(agents, load)
    spare = agents - load
    sl = 1.0 - pw * math.exp(-spare * target_seconds / aht_seconds)
    return StaffingResult(
        agents=agents,
        service_level=_unit(sl),
        asa_seconds=pw * aht_seconds / spare,
        occupancy=load / agents,
    )


def erlang_a(
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    agents: int,
    target_seconds: float,
    patience_seconds: float,
) -> StaffingResult:
    """Erlang A (M/M/n+M): callers hang up after an exponential patience with this mean."""
    load = offered_load(calls, interval_minutes, aht_seconds)
    _check_agents(agents)
    _check_target_seconds(target_seconds)
    if not (patience_seconds > 0 and math.isfinite(patience_seconds)):
        raise InvalidInput("patience_seconds", patience_seconds, "must be more than zero")
    if load == 0:
        return StaffingResult(
            agents=agents, service_level=1.0, asa_seconds=0.0, occupancy=0.0, abandon_rate=0.0
        )
    if agents == 0:
        return StaffingResult(
            agents=0, service_level=0.0, asa_seconds=0.0, occupancy=0.0, abandon_rate=1.0
        )
    lam = calls / (interval_minutes * 60.0)
    theta = 1.0 / patience_seconds
    a = lam / theta
    b = agents * patience_seconds / aht_seconds
    log_t = _log_series(b, a)
    pw = _delay_probability(agents, load, log_t)
    # P(served | delayed) = b/(b+1) * T(b+1, a) / T(b, a)
    served_if_delayed = b / (b + 1.0) * math.exp(_log_series(b + 1.0, a) - log_t)
    served_if_delayed = min(served_if_delayed, 1.0)
    abandon = pw * (1.0 - served_if_delayed)
    q = math.exp(-theta * target_seconds)
    if target_seconds == 0:
        late = served_if_delayed
    else:
        log_late = (b + 1.0) * math.log(q) + a * (1.0 - q) + _log_series(b + 1.0, a * q) - log_t
        late = b / (b + 1.0) * math.exp(log_late)
    answered_in_time = (1.0 - pw) + pw * max(served_if_delayed - late, 0.0)
    served = 1.0 - abandon
    wait_served = pw * _served_wait_sum(b, a, log_t) / theta
    return StaffingResult(
        agents=agents,
        service_level=_unit(answered_in_time),
        asa_seconds=wait_served / served if served > 0 else 0.0,
        occupancy=_unit(load * served / agents),
        abandon_rate=_unit(abandon),
    )


def evaluate(
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    agents: int,
    target_seconds: float,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """Erlang A when a patience is given, otherwise Erlang C."""
    if patience_seconds is None:
        return erlang_c(calls, interval_minutes, aht_seconds, agents, target_seconds)
    return erlang_a(calls, interval_minutes, aht_seconds, agents, target_seconds, patience_seconds)


def agents_needed(
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    target_sl: float,
    target_seconds: float,
    max_occupancy: float = 1.0,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """The fewest agents that answer ``target_sl`` of calls within ``target_seconds`` with
    occupancy at most ``max_occupancy`` (Erlang A with a patience, Erlang C without).

    Raises ``InvalidInput`` for out-of-range values and ``TargetUnreachable`` for a target no
    finite staffing meets (a service level of 100%, for instance).
    """
    load = offered_load(calls, interval_minutes, aht_seconds)
    _check_target_seconds(target_seconds)
    if not (0 < target_sl <= 1):
        raise InvalidInput("target_sl", target_sl, "must be a fraction above 0 and at most 1")
    if target_sl >= 1:
        reason = (
            "some calls always find every agent busy, so no number of agents answers all "
            "of them immediately"
            if target_seconds == 0
            else "calls arrive at random, so no finite number of agents answers every one "
            "of them in time; use a target below 1 (e.g. 0.8)"
        )
        raise TargetUnreachable(target_sl, target_seconds, reason)
    if not (0 < max_occupancy <= 1):
        raise InvalidInput(
            "max_occupancy", max_occupancy, "must be a fraction above 0 and at most 1"
        )
    if patience_seconds is not None and not (
        patience_seconds > 0 and math.isfinite(patience_seconds)
    ):
        raise InvalidInput("patience_seconds", patience_seconds, "must be more than zero")
    if load == 0:
        return StaffingResult(
            agents=0,
            service_level=1.0,
            asa_seconds=0.0,
            occupancy=0.0,
            abandon_rate=None if patience_seconds is None else 0.0,
        )

    def meets(n: int) -> StaffingResult | None:
        if patience_seconds is None and n <= load:
            return None
        r = evaluate(calls, interval_minutes, aht_seconds, n, target_seconds, patience_seconds)
        ok = r.service_level >= target_sl and r.occupancy <= max_occupancy + 1e-12
        return r if ok else None

    # Both the service level and the occupancy improve monotonically with agents, so the
    # smallest feasible count is found by doubling and then bisecting.
    lo = max(0, math.floor(load) if patience_seconds is None else 0)
    hi = max(lo + 1, math.ceil(load / max_occupancy))
    found = meets(hi)
    while found is None:
        lo = hi
        hi *= 2
        if hi > MAX_AGENTS:
            raise TargetUnreachable(
                target_sl, target_seconds, f"not reached even with {MAX_AGENTS:,} agents"
            )
        found = meets(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        r = meets(mid)
        if r is None:
            lo = mid
        else:
            hi, found = mid, r
    return found


def agents_per_interval(
    calls: Sequence[float],
    interval_minutes: float,
    aht_seconds: float | Sequence[float | None],
    target_sl: float,
    target_seconds: float,
    max_occupancy: float = 1.0,
    patience_seconds: float | None = None,
) -> list[StaffingResult]:
    """``agents_needed`` for each interval of a forecast; a per-interval handle time of None
    falls back to the first known one."""
    if isinstance(aht_seconds, int | float):
        handle: list[float | None] = [float(aht_seconds)] * len(calls)
    else:
        handle = list(aht_seconds)
    known = [h for h in handle if h is not None]
    if not known and len(calls):
        raise InvalidInput("aht_seconds", None, "no handle time given for any interval")
    fallback = known[0] if known else 0.0
    return [
        agents_needed(
            c,
            interval_minutes,
            h if h is not None else fallback,
            target_sl,
            target_seconds,
            max_occupancy,
            patience_seconds,
        )
        for c, h in zip(calls, handle, strict=True)
    ]


def _delay_probability(agents: int, load: float, log_t: float) -> float:
    """P(W > 0) = A B / (1 + (A - 1) B), written to survive A = exp(large) and B -> 0."""
    b = erlang_b(agents, load)
    if b <= 0.0:
        return 0.0
    if b >= 1.0:
        return 1.0
    return 1.0 / (1.0 + math.exp(math.log1p(-b) - math.log(b) - log_t))


def _log_series(b: float, x: float) -> float:
    """log T(b, x), T(b, x) = sum_m x^m Gamma(b+1) / Gamma(b+m+1) = b e^x gamma(b, x) / x^b."""
    if x <= 0:
        return 0.0
    # Imported here: only Erlang A needs them, and scipy.special takes longer to import than
    # a whole Erlang C staffing answer takes to compute.
    import numpy as np
    from scipy.special import gammainc, gammaln, logsumexp

    p = float(gammainc(b, x))
    if p > 1e-200:
        return float(gammaln(b + 1.0) - b * math.log(x) + x + math.log(p))
    # Here x is far below b: the terms fall geometrically with ratio < x / b.
    n_terms = 64
    while True:
        m = np.arange(n_terms, dtype=float)
        terms = m * math.log(x) + gammaln(b + 1.0) - gammaln(b + m + 1.0)
        if terms[-1] < terms.max() - 40.0:
            return float(logsumexp(terms))
        n_terms *= 2


def _served_wait_sum(b: float, a: float, log_t: float) -> float:
    """E[wait; served | delayed] * theta, by summing over the queue seen on arrival.

    With m callers waiting ahead, the wait of an infinitely patient caller is a sum of
    exponentials with rates theta (b + k), k = 0..m, so E[V e^{-theta V}] has a closed form.
    """
    import numpy as np
    from scipy.special import digamma, gammaln

    peak = max(0.0, a - b)
    n_terms = int(peak + 12.0 * math.sqrt(a + 1.0) + 64.0)
    while True:
        m = np.arange(n_terms, dtype=float)
        log_w = m * math.log(a) + gammaln(b + 1.0) - gammaln(b + m + 1.0)
        if log_w[-1] < log_w.max() - 40.0:
            break
        n_terms *= 2
    inner = b / (b + m + 1.0) * (digamma(b + m + 2.0) - digamma(b + 1.0))
    return float(np.sum(np.exp(log_w - log_t) * inner))


def _check_traffic(calls: float, interval_minutes: float, aht_seconds: float) -> None:
    if not (calls >= 0 and math.isfinite(calls)):
        raise InvalidInput("calls", calls, "must be a number of calls, zero or more")
    if not (interval_minutes > 0 and math.isfinite(interval_minutes)):
        raise InvalidInput("interval_minutes", interval_minutes, "must be more than zero")
    if not (aht_seconds > 0 and math.isfinite(aht_seconds)):
        raise InvalidInput("aht_seconds", aht_seconds, "must be more than zero")


def _check_agents(agents: int) -> None:
    if agents < 0:
        raise InvalidInput("agents", agents, "must be zero or more")


def _check_target_seconds(target_seconds: float) -> None:
    if not (target_seconds >= 0 and math.isfinite(target_seconds)):
        raise InvalidInput("target_seconds", target_seconds, "must be zero seconds or more")


def _unit(x: float) -> float:
    return min(max(x, 0.0), 1.0)
