"""The demo's HTML report: the table, and charts of the day (one self-contained file)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure

from blending.planning.model import Plan
from bot.cli.plan_report import plan_section
from bot.cli.simulate import COLUMNS
from bot.cli.simulated_days import PolicyRun
from simulation.world import World
from standins.slack import StandIn

COLORS = {
    "none": "#7f7f7f",
    "reserve_k": "#1f77b4",
    "forecast": "#2ca02c",
    "forecast_guard": "#d62728",
}


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _times(stamps: Sequence[datetime]) -> Any:
    return date2num(list(stamps))  # type: ignore[no-untyped-call]


def arrivals_chart(world: World, run: PolicyRun) -> str:
    tl, c = run.timeline, run.center
    fig, ax = plt.subplots(figsize=(10, 3.2))
    x = _times(tl.starts)
    ax.step(x, c.offered_by_interval[: len(tl.starts)], where="post", label="actual calls", lw=1)
    ax.plot(x, tl.forecast, label="forecast (at midnight)", lw=1.6)
    ax.set_ylabel(f"calls per {world.spec.interval_minutes} min")
    ax.set_title("Forecast and actual arrivals")
    _dates(fig, ax)
    return _png(fig)


def staffing_chart(world: World, run: PolicyRun) -> str:
    tl = run.timeline
    fig, ax = plt.subplots(figsize=(10, 3.4))
    x = _times(tl.starts)
    ax.step(x, tl.scheduled, where="post", label="agents scheduled (breaks off)")
    ax.step(x, tl.required, where="post", label="agents needed (forecast, 80% bound)")
    step = timedelta(minutes=world.spec.interval_minutes)
    lent = {world.clock(at) - step: n for at, n in tl.lent}
    label: str | None = "agents lent (forecast_guard)"
    for start in tl.starts:
        if lent.get(start, 0) > 0:
            lo, hi = _times([start, start + step])
            ax.axvspan(lo, hi, color="#f4c430", alpha=0.25, lw=0, label=label)
            label = None
    ax.set_ylabel("agents")
    ax.set_title("Required and staffed agents, with the lull windows lent")
    _dates(fig, ax)
    return _png(fig)


def backlog_chart(world: World, runs: Mapping[str, PolicyRun]) -> str:
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for name, run in runs.items():
        points = run.timeline.backlog
        x = _times([world.clock(t) for t, _ in points])
        ax.plot(x, [n for _, n in points], label=name, color=COLORS.get(name))
    ax.set_ylabel("open back-office tasks")
    ax.set_title("Back-office backlog")
    _dates(fig, ax)
    return _png(fig)


def _dates(fig: Figure, ax: Any) -> None:
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    ax.legend(loc="upper left")
    fig.autofmt_xdate()


def utilization_chart(runs: Mapping[str, PolicyRun]) -> str:
    fig, ax = plt.subplots(figsize=(6, 3))
    names = list(runs)
    values = [float(runs[n].figures["utilization"] or 0.0) for n in names]
    bars = ax.bar(names, values, color=[COLORS.get(n, "#333") for n in names])
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(
            f"{value:.1%}", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom"
        )
    ax.set_ylim(0, 1)
    ax.set_ylabel("utilization")
    ax.set_title("Utilization by policy")
    return _png(fig)


SWEPT = (
    ("service level", "service_level"),
    ("abandoned", "abandon_rate"),
    ("utilization", "utilization"),
    ("back-office in SLA", "backoffice_sla_attainment"),
)


def sweep_chart(sweep: Mapping[str, Any]) -> str:
    """The swept setting's values across, the shares up the left and the back-office work
    done up the right."""
    rows = sweep["rows"]
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = list(range(len(rows)))
    labels = [
        f"{r['value']}" + (f"\n{r['policy']}" if r["policy"] != rows[0]["policy"] else "")
        for r in rows
    ]
    for heading, key in SWEPT:
        ax.plot(x, [r["figures"].get(key) or 0.0 for r in rows], marker="o", label=heading)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.set_xticks(x, labels)
    ax.set_xlabel(sweep["key"])
    done = ax.twinx()
    done.bar(x, [r["figures"]["backoffice_completed"] for r in rows], alpha=0.2, color="#555")
    done.set_ylabel("back-office tasks done (bars)")
    ax.legend(loc="upper left")
    ax.set_title(f"What if: {sweep['key']}")
    return _png(fig)


def _table(
    rows: Mapping[str, Mapping[str, Any]],
    runs: Mapping[str, PolicyRun] | None = None,
    first: str = "policy",
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h, _, _ in COLUMNS)
    body = []
    for name, figures in rows.items():
        label = name
        if runs is not None and name == "reserve_k":
            label = f"reserve_k (k = {runs[name].policy.k})"
        cells = "".join(
            "<td>-</td>" if figures.get(key) is None else f"<td>{form.format(figures[key])}</td>"
            for _, key, form in COLUMNS
        )
        body.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f"<table><tr><th>{first}</th>{head}</tr>{''.join(body)}</table>"


def write_report(
    path: Path,
    world: World,
    runs: Mapping[str, PolicyRun],
    body: Mapping[str, Any],
    standin: StandIn | None = None,
    plan: Plan | None = None,
) -> None:
    ordered = {n: runs[n] for n in ("none", "reserve_k", "forecast", "forecast_guard") if n in runs}
    guarded = ordered.get("forecast_guard") or next(iter(ordered.values()))
    charts = [
        arrivals_chart(world, guarded),
        staffing_chart(world, guarded),
        backlog_chart(world, ordered),
        utilization_chart(ordered),
    ]
    slack = ""
    if standin is not None:
        posted = len(standin.calls_to("chat.postMessage", ok=True))
        updated = len(standin.calls_to("chat.update", ok=True))
        modals = len(standin.calls_to("views.open", ok=True))
        slack = (
            f"<p>Under forecast_guard the agents were reached through the Slack app: {posted} "
            f"direct messages posted, {updated} updated in place, {modals} modals opened.</p>"
        )
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{c}">' for c in charts)
    modes = ""
    if body.get("acd_modes"):
        modes = (
            "<h2>forecast_guard in each ACD mode</h2><p>advisory: a recalled agent comes back "
            "after reading Slack; control: blendbot sets the agent's state in the phone "
            "system, which applies it after its command latency; interruptible: the agent "
            "stays routable and a call pauses their task.</p>"
            + _table(body["acd_modes"], first="ACD mode")
        )
    swept = ""
    if body.get("sweep"):
        sweep = body["sweep"]
        rows = {f"{r['value']} ({r['policy']})": r["figures"] for r in sweep["rows"]}
        swept = (
            f"<h2>What if: {html.escape(sweep['key'])}</h2>"
            + _table(rows, first=html.escape(sweep["key"]))
            + f'<img alt="chart" src="data:image/png;base64,{sweep_chart(sweep)}">'
        )
    profile = world.profile
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>blendbot demo</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: .3em .7em; text-align: right; }}
th:first-child {{ text-align: left; }}
img {{ display: block; max-width: 100%; margin: 1em 0; }}
</style></head><body>
<h1>One simulated day under four blending policies</h1>
<p>{world.spec.start:%A %Y-%m-%d}, seed {html.escape(str(body.get("seed")))}: calls drawn from
the intraday profile of {html.escape(profile.name)} ({html.escape(profile.source)}), handle
times and caller patience from its call records; shifts planned from that profile, the
forecast and every blending decision made by the engine on a real PostgreSQL.</p>
{_table(body["policies"], ordered)}
{slack}
{images}
{modes}
{swept}
{plan_section(plan) if plan is not None else ""}
</body></html>
"""
    path.write_text(text, encoding="utf-8")
