"""The names of the blending policies and forecast bounds, as settings, the CLI and scenario
files spell them: a module of its own so that reading them imports no decision code."""

from __future__ import annotations

from typing import Literal, get_args

PolicyName = Literal["none", "reserve_k", "forecast", "forecast_guard"]
POLICIES: tuple[PolicyName, ...] = get_args(PolicyName)
Bound = Literal["mean", "hi_80", "hi_95"]
