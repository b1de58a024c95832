"""Typed keys of the objects the HTTP app holds."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
from aiohttp import web

from bot.metrics import Metrics
from bot.stores import Stores
from clock import Clock
from queues.dispatch import DispatchSettings

POOL = web.AppKey("pool", asyncpg.Pool)
STORES = web.AppKey("stores", Stores)
METRICS = web.AppKey("metrics", Metrics)
TOKENS = web.AppKey("api_tokens", tuple)
MAX_BODY = web.AppKey("max_body_bytes", int)
POLICY = web.AppKey("policy", DispatchSettings)
CLOCK = web.AppKey("clock", Clock)
"""What time it is for the handlers: the system clock, or a simulation's."""
JOB_HEALTH: web.AppKey[Callable[[], dict[str, str]]] = web.AppKey("job_health")
"""The tick's jobs that are failing, with their last error (set by the root when it runs one)."""
