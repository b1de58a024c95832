"""The exact continuous-time Markov chain of the threshold ("reserve k") blending policy.

Bhulai & Koole (2003) and Gans & Zhou (2003): ``s`` agents serve Poisson calls (rate ``λ``)
and, from an unlimited backlog, back-office tasks; both take exponential time of rate ``μ``.
A free agent takes a waiting call first; with no call waiting, they take back-office work only
while more than ``k`` agents would otherwise be idle, so ``k`` agents are kept in reserve.
Back-office work is not interrupted. ``k = s`` lends nobody: plain Erlang C.

States are (agents on calls, agents on back-office work, calls waiting); calls wait only when
nobody is idle. With every agent busy, agents free up at rate ``sμ`` whatever they are doing,
so a call that arrives to find ``q`` waiting waits an Erlang(``q + 1``, ``sμ``) time.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import spsolve
from scipy.stats import gamma

from blending.errors import InvalidInput


class ChainResult(BaseModel):
    service_level: float
    """Share of calls answered within the target time."""
    asa_seconds: float
    backoffice_per_hour: float
    utilization: float
    """Share of agent time busy, on calls or back-office work."""


def threshold_chain(
    agents: int,
    calls_per_hour: float,
    handle_seconds: float,
    k: int,
    target_seconds: float = 20.0,
    max_queue: int | None = None,
) -> ChainResult:
    """Solve the chain; ``max_queue`` truncates it (by default far beyond any real mass)."""
    if agents < 1:
        raise InvalidInput("agents", agents, "must be at least 1")
    if not 0 <= k <= agents:
        raise InvalidInput("k", k, f"must be between 0 and the {agents} agents")
    if handle_seconds <= 0 or calls_per_hour < 0:
        raise InvalidInput("handle_seconds", handle_seconds, "must be positive")
    lam = calls_per_hour / 3600
    mu = 1 / handle_seconds
    if lam >= agents * mu:
        raise InvalidInput("calls_per_hour", calls_per_hour, "exceeds what the agents can serve")
    cap = max_queue or max(200, int(40 * agents * mu / max(agents * mu - lam, 1e-9)))
    states: list[tuple[int, int, int]] = []
    for c in range(agents + 1):
        for b in range(agents + 1 - c):
            idle = agents - c - b
            if idle > k:
                continue
            states += [(c, b, q) for q in range(cap + 1)] if idle == 0 else [(c, b, 0)]
    index = {state: i for i, state in enumerate(states)}
    rows: list[int] = []
    cols: list[int] = []
    rates: list[float] = []

    def move(i: int, to: tuple[int, int, int], rate: float) -> None:
        j = index.get(to)
        if j is not None and j != i and rate > 0:
            rows.extend((i, i))
            cols.extend((j, i))
            rates.extend((rate, -rate))

    for (c, b, q), i in index.items():
        idle = agents - c - b
        move(i, (c + 1, b, 0) if idle else (c, b, q + 1), lam)
        if q:
            move(i, (c, b, q - 1), c * mu)  # a call ends, the agent takes the next call
            move(i, (c + 1, b - 1, q - 1), b * mu)  # a task ends, the agent takes a call
            continue
        lend = idle + 1 > k
        move(i, (c - 1, b + 1, 0) if lend else (c - 1, b, 0), c * mu)
        if not lend:
            move(i, (c, b - 1, 0), b * mu)  # otherwise the agent takes another task
    n = len(states)
    generator = coo_matrix((rates, (rows, cols)), shape=(n, n)).tocsr()
    system = generator.T.tolil()
    system[0, :] = np.ones(n)
    rhs = np.zeros(n)
    rhs[0] = 1.0
    p = spsolve(system.tocsr(), rhs)
    c_arr = np.array([s[0] for s in states])
    b_arr = np.array([s[1] for s in states])
    q_arr = np.array([s[2] for s in states])
    waiting = (agents - c_arr - b_arr) == 0
    answered_in_time = np.where(
        waiting, gamma.cdf(target_seconds, a=q_arr + 1, scale=1 / (agents * mu)), 1.0
    )
    mean_wait = np.where(waiting, (q_arr + 1) / (agents * mu), 0.0)
    return ChainResult(
        service_level=float(p @ answered_in_time),
        asa_seconds=float(p @ mean_wait),
        backoffice_per_hour=float(p @ b_arr) * mu * 3600,
        utilization=float(p @ (c_arr + b_arr)) / agents,
    )
