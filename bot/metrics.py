"""Prometheus metrics of one app, in a registry of its own (no process-wide globals)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "blendbot_http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "blendbot_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.tasks_created = Counter(
            "blendbot_tasks_created_total",
            "Tasks created through the API or an import.",
            ["source"],
            registry=self.registry,
        )

        self.feed_rejected = Counter(
            "blendbot_feed_records_rejected_total",
            "Telephony feed records set aside because they cannot be used, by source.",
            ["source"],
            registry=self.registry,
        )
        self.blending_rounds = Histogram(
            "blendbot_blending_round_seconds",
            "Time of one blending round of the tick (read, decide, carry out).",
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5),
        )
        self.tick_rounds = Histogram(
            "blendbot_tick_round_seconds",
            "Time of one whole round of the elected instance's tick (all its jobs); a round "
            "longer than BLENDBOT_TICK_SECONDS delays the next.",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.tick_last_round = Gauge(
            "blendbot_tick_last_round_seconds",
            "Time of the elected instance's last round of the tick.",
            registry=self.registry,
        )
        self.lent = Gauge(
            "blendbot_agents_lent",
            "Agents on back-office work or holding an offer, by staffing group.",
            ["group"],
            registry=self.registry,
        )
        self.surplus = Gauge(
            "blendbot_surplus_agents",
            "Agents the calls do not need now, by staffing group.",
            ["group"],
            registry=self.registry,
        )
        self.guard = Gauge(
            "blendbot_guard_mode",
            "The real-time guard of a group: 0 open, 1 hold, 2 recall.",
            ["group"],
            registry=self.registry,
        )
        self.offers = Counter(
            "blendbot_blending_offers_total",
            "Offers made by the blending rounds.",
            registry=self.registry,
        )
        self.tick_errors = Counter(
            "blendbot_tick_errors_total",
            "Unexpected errors of the tick's jobs (each retried with backoff), by job.",
            ["job"],
            registry=self.registry,
        )
        self.recalls = Counter(
            "blendbot_recalls_total",
            "Agents recalled to the phones by the guard.",
            registry=self.registry,
        )
        self.acd_sent = Counter(
            "blendbot_acd_commands_sent_total",
            "State commands the platform accepted (each send), by target and state.",
            ["target", "state"],
            registry=self.registry,
        )
        self.acd_confirmed = Counter(
            "blendbot_acd_commands_confirmed_total",
            "State commands the feed showed done, by target and state.",
            ["target", "state"],
            registry=self.registry,
        )
        self.acd_failed = Counter(
            "blendbot_acd_commands_failed_total",
            "State commands given up (the supervisors are told), by target and why: refused, "
            "unreachable, unconfirmed, no_target.",
            ["target", "reason"],
            registry=self.registry,
        )
        self.acd_drift = Counter(
            "blendbot_acd_drift_corrections_total",
            "Corrections of a state the platform drifted to: ghost (back office with no "
            "work), drift (routable while lent).",
            ["kind"],
            registry=self.registry,
        )
        self.interruptions = Counter(
            "blendbot_interruptions_total",
            "Back-office tasks paused by a call and resumed after it (interruptible mode).",
            ["action"],
            registry=self.registry,
        )

        self.source_deliveries = Counter(
            "blendbot_source_deliveries_total",
            "Deliveries of task sources, by source and outcome (created, updated, unchanged, "
            "closed, holder_told, unknown_record, duplicate, rejected, unauthenticated).",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.writebacks = Counter(
            "blendbot_source_writebacks_total",
            "Write-backs to task sources, by source, event and result: sent, retried "
            "(unreachable or 5xx), throttled (429), failed (given up; supervisors told).",
            ["source", "event", "result"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def middleware(self) -> Any:
        @web.middleware
        async def measure(request: web.Request, handler: Any) -> web.StreamResponse:
            started = time.perf_counter()
            route = request.match_info.route.resource
            name = route.canonical if route is not None else "unmatched"
            status = 500
            try:
                response: web.StreamResponse = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.requests.labels(request.method, name, str(status)).inc()
                self.latency.labels(request.method, name).observe(time.perf_counter() - started)

        return measure


CONTENT_TYPE = CONTENT_TYPE_LATEST
