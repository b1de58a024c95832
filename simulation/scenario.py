"""Scenario files for ``blendbot simulate --scenario``: what the simulated center looks like."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from blending.policy import BlendPolicy, policy_for
from blending.policy_names import Bound, PolicyName


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dist(_Strict):
    dist: Literal["exponential", "lognormal", "deterministic"] = "exponential"
    mean: float = Field(gt=0)
    sd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _lognormal_needs_sd(self) -> Dist:
        if self.dist == "lognormal" and self.sd is None:
            raise ValueError("a lognormal distribution needs its sd")
        return self

    def sampler(self, rng: np.random.Generator) -> SecondsSampler:
        return SecondsSampler(self, rng)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.dist == "exponential":
            return rng.exponential(self.mean, n)
        if self.dist == "deterministic":
            return np.full(n, self.mean)
        assert self.sd is not None
        sigma2 = math.log(1 + (self.sd / self.mean) ** 2)
        return rng.lognormal(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2), n)


class SecondsSampler:
    """Draws from a :class:`Dist` in batches (one numpy call per thousand draws)."""

    def __init__(self, dist: Dist, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._buffer: list[float] = []

    def __call__(self) -> float:
        if not self._buffer:
            self._buffer = self._dist.draw(self._rng, 1024).tolist()
            self._buffer.reverse()
        return self._buffer.pop()


class ArrivalSpec(_Strict):
    per_hour: float | None = Field(default=None, ge=0)
    profile: Path | None = Field(
        default=None, description="CSV of interval_start,calls: its mean week is the profile."
    )
    scale: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> ArrivalSpec:
        if (self.per_hour is None) == (self.profile is None):
            raise ValueError("give either per_hour or profile")
        return self


class BackofficeSpec(_Strict):
    backlog: Literal["unlimited"] | int = "unlimited"
    task_seconds: Dist = Field(default_factory=lambda: Dist(mean=180))
    sla_minutes: float | None = Field(
        default=None, gt=0, description="Tasks done within this many minutes of arrival count."
    )


class PolicySpec(_Strict):
    name: PolicyName = "reserve_k"
    k: int | None = Field(default=None, ge=0)
    safety_margin: int | None = Field(
        default=None,
        ge=0,
        description="forecast policies: agents kept beyond the forecast need (default 1, "
        "and 0 with the guard)",
    )
    bound: Bound = Field(
        default="hi_80", description="forecast policies: the forecast figure staffed for"
    )

    def blend_policy(self) -> BlendPolicy:
        return policy_for(self.name, k=self.k, safety_margin=self.safety_margin, bound=self.bound)

    @model_validator(mode="after")
    def _k_for_reserve(self) -> PolicySpec:
        if self.name == "reserve_k" and self.k is None:
            raise ValueError("reserve_k needs k, the number of agents kept for calls")
        return self


class Target(_Strict):
    service_level: float = Field(default=0.8, gt=0, le=1)
    seconds: float = Field(default=20, ge=0)


class Scenario(_Strict):
    hours: float = Field(gt=0, le=100_000)
    agents: int = Field(ge=1, le=10_000)
    arrivals: ArrivalSpec
    handle_seconds: Dist
    patience_seconds: Dist | None = None
    backoffice: BackofficeSpec = Field(default_factory=BackofficeSpec)
    policy: PolicySpec
    target: Target = Field(default_factory=Target)
    seed: int = 1
    warmup_hours: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _k_within_agents(self) -> Scenario:
        if self.policy.k is not None and self.policy.k > self.agents:
            raise ValueError(f"policy.k = {self.policy.k} is more than the {self.agents} agents")
        if self.warmup_hours >= self.hours:
            raise ValueError("warmup_hours must be shorter than hours")
        return self
