"""The back-office plan as a section of the demo's HTML report: the next days' work per type
with its bands and backlog, and per skill set the hours the lulls give and the hours to add."""

from __future__ import annotations

import html

from blending.planning.model import Band, Plan


def _band(b: Band) -> str:
    return f"<td>{b.mean:.1f} <small>({b.lo_80:.1f}-{b.hi_80:.1f})</small></td>"


def plan_section(plan: Plan) -> str:
    days = "".join(f"<th>{d:%a %d %b}</th>" for d in plan.days)
    work, backlog = [], []
    for t in plan.types:
        name = html.escape(t.type)
        work.append(
            f"<tr><th>{name}</th>" + "".join(_band(d.workload_hours) for d in t.days) + "</tr>"
        )
        backlog.append(
            f"<tr><th>{name} <small>({t.backlog_tasks} open)</small></th>"
            + "".join(_band(d.backlog_hours) for d in t.days)
            + "</tr>"
        )
    hours = []
    for s in plan.skills:
        name = html.escape(" + ".join(s.skills) or "no skill")
        for label, key in (
            ("lulls", "lull_hours"),
            ("dedicated", "dedicated_hours"),
            ("extra needed", "extra_hours"),
            ("extra, 80%", "extra_hours_80"),
            ("spare", "spare_hours"),
        ):
            cells = "".join(f"<td>{getattr(d, key):.1f}</td>" for d in s.days)
            hours.append(f"<tr><th>{name}: {label}</th>{cells}</tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in plan.notes)
    return f"""<h2>Back-office plan for the next {len(plan.days)} days</h2>
<p>Made at the end of the simulated day by the service's planner, from {len(plan.types)} task
types' history (the weeks before the day, imported as closed tasks, and the day itself), the
roster's shifts ahead and the calls' forecast. Hours of work; in brackets the 80% band.</p>
<h3>Workload per type (hours)</h3>
<table><tr><th>type</th>{days}</tr>{"".join(work)}</table>
<h3>Backlog at the end of each day (hours)</h3>
<table><tr><th>type</th>{days}</tr>{"".join(backlog)}</table>
<h3>Hours per skill set</h3>
<table><tr><th>skills</th>{days}</tr>{"".join(hours)}</table>
{f"<ul>{notes}</ul>" if notes else ""}"""
