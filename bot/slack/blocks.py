"""Block Kit for every message, modal and Home tab: pure functions from values to JSON.

Built with ``slack_sdk``'s models, whose ``to_dict`` checks Slack's size limits, so that a
message Slack would refuse fails here, in a test, rather than in a worker's retry loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blending.decision_log import DecisionOut
from blending.figures import Figures
from queues.models import TaskDetail, TaskOut

Message = dict[str, Any]
"""``{"text": ..., "blocks": [...]}``: the arguments of chat.postMessage and chat.update."""

SKIP_REASONS = ("Not enough time", "Not my skill", "Need more information", "Other")
OUTCOMES = ("Resolved", "Approved", "Rejected", "Documents missing", "Customer contacted")


def _esc(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """Text from elsewhere, safe to put in mrkdwn."""
    return _esc(text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def minutes_words(seconds: float) -> str:
    """``3h20``, ``45 min``, ``overdue 10 min``: a duration as a person says it."""
    late = seconds < 0
    minutes = int(abs(seconds) // 60)
    text = f"{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
    return f"overdue {text}" if late else text


def when(at: datetime, now: datetime) -> str:
    """A time Slack shows in each reader's own time zone, with a relative fallback."""
    fallback = minutes_words((at - now).total_seconds())
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action_id, value=value, style=style)


def _message(text: str, blocks: Sequence[Block]) -> Message:
    return {"text": _clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def _task_fields(task: TaskOut, now: datetime, minutes: float | None) -> SectionBlock:
    fields = [
        MarkdownTextObject(text=f"*Type*\n{_esc(task.type)}"),
        MarkdownTextObject(text=f"*Customer*\n{_esc(task.customer_ref or '—')}"),
        MarkdownTextObject(text=f"*Due*\n{when(task.due_at, now)}"),
    ]
    if minutes is not None:
        fields.append(MarkdownTextObject(text=f"*Expected*\n{minutes:.0f} min"))
    if task.customer_tier:
        fields.append(MarkdownTextObject(text=f"*Tier*\n{_esc(task.customer_tier)}"))
    return SectionBlock(
        text=MarkdownTextObject(text=f"*#{task.id} {_esc(_clip(task.title, 200))}*"),
        fields=fields,
    )


def handover_text(task: TaskOut) -> str | None:
    """What the previous holder left when their paused work went back by itself."""
    h = task.handover
    if h is None:
        return None
    why = f" ({_esc(_clip(h.reason, 200))})" if h.reason else ""
    text = (
        f":memo: *Handed over:* {_esc(h.by)} worked {minutes_words(h.worked_seconds)} on it, "
        f"then paused{why} and did not resume."
    )
    if h.note:
        text += f"\n> {_esc(_clip(h.note, 1500))}"
    return text


def _handover(task: TaskOut) -> list[Block]:
    text = handover_text(task)
    return [] if text is None else [SectionBlock(text=MarkdownTextObject(text=text))]


def offer(task: TaskOut, why: Sequence[str], now: datetime, minutes: float | None) -> Message:
    """The offer DM: the task, why it was chosen, how long it stands; Claim and Skip."""
    reasons = "; ".join(_esc(r) for r in why[:8]) or "next in line for your skills"
    expires = task.offer_expires_at or now
    blocks: list[Block] = [
        HeaderBlock(text="A task for you while it is quiet"),
        _task_fields(task, now, minutes),
        *_handover(task),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=_clip(f"Why you: {reasons}", 2000)),
                MarkdownTextObject(text=f"Offer stands until {when(expires, now)}"),
            ]
        ),
        ActionsBlock(
            block_id=f"offer:{task.id}",
            elements=[
                _button("Claim", "claim", str(task.id), "primary"),
                _button("Skip", "skip", str(task.id)),
            ],
        ),
    ]
    return _message(f"Task #{task.id} for you: {task.title}", blocks)


def working(task: TaskOut, now: datetime, pausable: bool = True) -> Message:
    """The in-progress card, updated in place over the offer."""
    buttons = [_button("Complete", "complete", str(task.id), "primary")]
    if pausable:
        buttons.append(_button("Pause", "pause", str(task.id)))
    buttons += [
        _button("Release", "release", str(task.id)),
        _button("Escalate", "escalate", str(task.id), "danger"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text="You are working on this"),
        _task_fields(task, now, None),
        *_handover(task),
        ActionsBlock(block_id=f"work:{task.id}", elements=buttons),
    ]
    return _message(f"Working on task #{task.id}: {task.title}", blocks)


def paused(task: TaskOut, now: datetime, note: str | None = None) -> Message:
    """The paused card; ``note`` says why, when someone else paused it (a call came in)."""
    blocks: list[Block] = [HeaderBlock(text="Paused")]
    if note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(note, 3000))))
    blocks += [
        _task_fields(task, now, None),
        *_handover(task),
        ActionsBlock(
            block_id=f"paused:{task.id}",
            elements=[
                _button("Resume", "resume", str(task.id), "primary"),
                _button("Release", "release", str(task.id)),
            ],
        ),
    ]
    return _message(f"Task #{task.id} is paused", blocks)


def closed(task: TaskOut, headline: str, now: datetime) -> Message:
    """A card with no buttons left: done, released, lapsed, taken by someone else."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_clip(headline, 3000))),
        _task_fields(task, now, None),
    ]
    return _message(headline, blocks)


def notice(text: str) -> Message:
    """A one-line message (ephemeral replies, lost races)."""
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=_clip(text, 3000)))])


def escalation(task: TaskOut, by: str, reason: str | None, now: datetime) -> Message:
    """The post in the supervisors' channel, with what they can do about it."""
    why = f": {_esc(_clip(reason, 500))}" if reason else ""
    blocks: list[Block] = [
        HeaderBlock(text=f"Escalated: task #{task.id}"),
        SectionBlock(text=MarkdownTextObject(text=f"Escalated by {_esc(by)}{why}")),
        _task_fields(task, now, None),
        *_handover(task),
        ActionsBlock(
            block_id=f"escalation:{task.id}",
            elements=[
                UserSelectElement(
                    placeholder="Reassign to…", action_id="esc_reassign", initial_user=None
                ),
                _button("Return to queue", "esc_requeue", str(task.id)),
                _button("Take over", "esc_takeover", str(task.id), "primary"),
                _button("Cancel task", "esc_cancel", str(task.id), "danger"),
            ],
        ),
    ]
    return _message(f"Task #{task.id} escalated by {by}{why}", blocks)


def recall(tasks: Sequence[TaskOut]) -> Message:
    """Calls are rising: one click pauses the agent's work."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=":telephone_receiver: *Calls are rising: please pause and take calls.*"
            )
        )
    ]
    if tasks:
        blocks.append(
            ActionsBlock(
                block_id="recall",
                elements=[
                    _button(_clip(f"Pause #{t.id}", 75), "pause", str(t.id), "primary")
                    for t in tasks[:5]
                ],
            )
        )
    return _message("Calls are rising: please pause and take calls", blocks)


def metadata(task_id: int, ref: str | None) -> str:
    return json.dumps({"task": task_id, "ref": ref})


def _modal(
    callback_id: str, title: str, submit: str, blocks: Sequence[Block], meta: str
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        blocks=list(blocks),
        private_metadata=meta,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def _options(labels: Sequence[str]) -> list[Option]:
    return [Option(text=label, value=label) for label in labels]


def complete_modal(task: TaskOut, meta: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*#{task.id} {_esc(_clip(task.title, 200))}*")),
        InputBlock(
            block_id="outcome",
            label="Outcome",
            element=StaticSelectElement(action_id="value", options=_options(OUTCOMES)),
        ),
        InputBlock(
            block_id="note",
            label="Note",
            optional=True,
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=4000),
        ),
    ]
    return _modal("complete", "Complete task", "Complete", blocks, meta)


def escalate_modal(task: TaskOut, meta: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*#{task.id} {_esc(_clip(task.title, 200))}*")),
        InputBlock(
            block_id="reason",
            label="What do the supervisors need to know?",
            element=PlainTextInputElement(action_id="value", multiline=True, max_length=500),
        ),
    ]
    return _modal("escalate", "Escalate task", "Escalate", blocks, meta)


def skip_modal(task: TaskOut, meta: str) -> dict[str, Any]:
    blocks: list[Block] = [
        InputBlock(
            block_id="reason",
            label="Why skip it?",
            element=StaticSelectElement(action_id="value", options=_options(SKIP_REASONS)),
        ),
    ]
    return _modal("skip", "Skip task", "Skip", blocks, meta)


def _shown(value: Any) -> str:
    """A payload value as one short line: text as it is, anything else as compact JSON."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return _esc(_clip(text, 300)) or "—"


def lookup(
    detail: TaskDetail,
    holder: str | None,
    now: datetime,
    shared: Sequence[tuple[str, Any]] = (),
) -> Message:
    """What an agent tells a customer: where it is, who has it, when it will likely be done,
    and the payload fields its type marks shareable (``shared``: nothing else is shown)."""
    likely = when(detail.eta, now) if detail.eta else "unknown"
    eta = f"{likely}\n_{_esc(_clip(detail.eta_basis, 600))}_"
    progress = detail.progress
    if detail.holder and holder:
        progress = progress.replace(detail.holder, holder)
    fields = [
        MarkdownTextObject(text=f"*Status*\n{_esc(progress)}"),
        MarkdownTextObject(text=f"*Held by*\n{_esc(holder or 'nobody')}"),
        MarkdownTextObject(text=f"*SLA*\n{when(detail.due_at, now)}"),
        MarkdownTextObject(text=f"*Likely done*\n{eta}"),
    ]
    if detail.step_count > 1:
        fields.append(
            MarkdownTextObject(
                text=f"*Step*\n{detail.step} of {detail.step_count}: {detail.step_name}"
            )
        )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*#{detail.id} {_esc(_clip(detail.title, 200))}* · "
                f"{_esc(detail.customer_ref or '')}"
            ),
            fields=fields,
        )
    ]
    details = [
        MarkdownTextObject(text=f"*{_esc(key)}*\n{_shown(value)}") for key, value in shared[:20]
    ]
    for start in range(0, len(details), 10):  # a section holds at most 10 fields
        blocks.append(SectionBlock(fields=details[start : start + 10]))
    return _message(f"Task #{detail.id}: {progress}", blocks)


def table(title: str, lines: Sequence[str], empty: str = "Nothing to show.") -> Message:
    """A titled list as one section per 40 lines (a section holds at most 3000 characters)."""
    blocks: list[Block] = [HeaderBlock(text=_clip(title, 150))]
    body = list(lines) or [empty]
    for start in range(0, min(len(body), 400), 40):
        chunk = "\n".join(_clip(line, 70) for line in body[start : start + 40])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(chunk, 3000))))
    return _message(f"{title}\n" + "\n".join(body[:20]), blocks[:50])


def backlog(lines: Sequence[str], chart: bool) -> Message:
    """Open work by type and SLA risk; says so when a chart of it is on its way."""
    message = table("Backlog by SLA risk", lines, "No open work.")
    if chart:
        note = ContextBlock(elements=[MarkdownTextObject(text="Chart in your DM with me")])
        message["blocks"].append(note.to_dict())
    return message


@dataclass(frozen=True)
class ForecastRow:
    """One hour of a forecast, on the center's clock."""

    start: datetime
    mean: float
    lo_80: float
    hi_80: float
    agents: int | None


def _forecast_line(row: ForecastRow) -> str:
    agents = "—" if row.agents is None else str(row.agents)
    calls = f"{row.mean:.0f} ({row.lo_80:.0f}-{row.hi_80:.0f})"
    return f"{row.start:%H:%M}  {calls:<15} {agents:>6}"


def forecast(
    queue: str,
    rows: Sequence[ForecastRow],
    peak: ForecastRow | None,
    *,
    model: str,
    computed_at: datetime,
    zone: str,
    now: datetime,
    chart: bool,
) -> Message:
    """The rest of today by hour (calls with their 80% range, agents needed), tomorrow's peak."""
    head = f"{'Hour':<6} {'Calls (80%)':<15} {'Agents':>6}"
    lines = [_forecast_line(r) for r in rows[:30]] or ["no intervals left today"]
    table_text = _clip("```\n" + "\n".join([head, *lines]) + "\n```", 3000)
    if peak is None:
        tomorrow = "Tomorrow: not forecast yet."
    else:
        agents = f", {peak.agents} agents" if peak.agents is not None else ""
        tomorrow = (
            f"Tomorrow's peak: *{peak.start:%H:%M}*, {peak.mean:.0f} calls "
            f"({peak.lo_80:.0f} to {peak.hi_80:.0f}){agents}."
        )
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"Forecast: {queue}", 150)),
        SectionBlock(text=MarkdownTextObject(text=table_text)),
        SectionBlock(text=MarkdownTextObject(text=tomorrow)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_clip(
                        f"Hours in {_esc(zone)} time · model {_esc(model)} · "
                        f"computed {when(computed_at, now)}"
                        + (" · chart in your DM with me" if chart else ""),
                        2000,
                    )
                )
            ]
        ),
    ]
    summary = "; ".join(f"{r.start:%H:%M} {r.mean:.0f}" for r in rows[:6])
    return _message(f"Forecast for {queue}: {summary or 'no intervals left today'}", blocks)


@dataclass(frozen=True)
class Report:
    """What ``/blend report`` shows for a period."""

    period: str
    since: datetime
    created: int
    completed: int
    escalated: int
    cancelled: int
    on_time: int
    minutes: float
    top: Sequence[tuple[str, int, float]]
    """Agents by tasks completed: (name, tasks, minutes)."""


def report(facts: Report, now: datetime) -> Message:
    if facts.completed:
        sla = f"{100 * facts.on_time / facts.completed:.0f}% ({facts.on_time} of {facts.completed})"
    else:
        sla = "— (nothing completed)"
    fields = [
        MarkdownTextObject(text=f"*Created*\n{facts.created}"),
        MarkdownTextObject(text=f"*Completed*\n{facts.completed}"),
        MarkdownTextObject(text=f"*Escalated*\n{facts.escalated}"),
        MarkdownTextObject(text=f"*Cancelled*\n{facts.cancelled}"),
        MarkdownTextObject(text=f"*Done within SLA*\n{sla}"),
        MarkdownTextObject(text=f"*Back-office time*\n{minutes_words(facts.minutes * 60)}"),
    ]
    top = "\n".join(
        f"{n}. {_esc(_clip(name, 60))}: {tasks} done, {minutes_words(minutes * 60)}"
        for n, (name, tasks, minutes) in enumerate(facts.top[:10], start=1)
    )
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"Back-office report: {facts.period}", 150)),
        SectionBlock(fields=fields),
        SectionBlock(text=MarkdownTextObject(text=f"*Top agents*\n{top or 'Nobody yet.'}")),
        ContextBlock(elements=[MarkdownTextObject(text=f"Since {when(facts.since, now)}")]),
    ]
    text = (
        f"Report {facts.period}: {facts.created} created, {facts.completed} completed, "
        f"{facts.escalated} escalated, {facts.cancelled} cancelled, SLA {sla}"
    )
    return _message(text, blocks)


def blending_line(on: bool, by: str | None, at: datetime, now: datetime) -> str:
    """Blending on or paused, for the supervisors' Home tab."""
    if on:
        return "Blending: *on*"
    return f"Blending: *paused* by {_esc(by or 'a supervisor')} since {when(at, now)}"


def _figures_words(f: Figures) -> str:
    """``need 7, staffed 9, surplus 2, reserve 0, 1 waiting``: what a decision rested on."""
    need = "unknown" if f.need is None else str(f.need)
    words = [f"need {need}", f"staffed {f.staffed}", f"surplus {f.surplus}"]
    words.append(f"reserve {f.reserve}")
    if f.lent:
        words.append(f"{f.lent} lent")
    if f.calls_waiting is not None:
        words.append(f"{f.calls_waiting} waiting")
        if f.calls_waiting and f.longest_wait_seconds:
            words.append(f"longest {f.longest_wait_seconds:.0f} s")
    if f.service_level is not None:
        words.append(f"service level {f.service_level:.0%}")
    if f.tripped:
        words.append("tripped " + " and ".join(t.replace("_", " ") for t in f.tripped))
    return ", ".join(words)


def decision_line(d: DecisionOut, zone: tzinfo) -> str:
    """One decision in one line, with its figures: ``10:42 lent Dana 25 min (confidence 90%):
    need 7, staffed 9, surplus 2, reserve 0, 1 waiting``."""
    at = f"{d.at.astimezone(zone):%H:%M}"
    who = _esc(d.agent_name or d.agent_id or "")
    group = _esc(d.group)
    f = d.figures
    if d.event == "lend_offered" and f is not None and f.window is not None:
        what = f"lent {who} {f.window.minutes:.0f} min (confidence {f.window.confidence:.0%})"
    elif d.event == "lend_offered":
        what = f"lent {who}"
    elif d.event == "guard":
        mode = f.guard if f is not None and f.guard else (d.reason or "").partition(":")[0]
        what = f"guard *{_esc(mode)}* in {group}"
    elif d.event == "recalled":
        what = f"recalled {who} from {group}"
    else:
        what = f"{d.event.replace('_', ' ')} {who}".strip()
    if f is None:
        return f"{at} {what}" + (f": {_esc(d.reason)}" if d.reason else "")
    return f"{at} {what}: {_figures_words(f)}"


AGENT_HELP = (
    ("/blend next", "ask for a task that fits the time you have now"),
    (
        "/blend task <id, customer ref or source id>",
        "where a task is, who has it, when it will be done",
    ),
    ("/blend help", "this list"),
)
SUPERVISOR_HELP = (
    ("/blend status", "tasks by state"),
    ("/blend backlog [type]", "open work by SLA risk, with a chart"),
    ("/blend agents", "who is doing what"),
    ("/blend priority list", "the priority rules in force"),
    ("/blend priority boost <type> +30 for 4h reason <why>", "a time-boxed boost"),
    ("/blend priority clear <type>", "end a boost"),
    (
        "/blend assign <task> @agent [override]",
        "give a task to an agent (`override`: even while the phones need them)",
    ),
    ("/blend forecast [queue]", "a queue's calls and agents needed today, with a chart"),
    (
        "/blend plan [type] [site <id>]",
        "the back-office plan (a site's: its staff, its share of the work): extra hours "
        "needed, backlog, arrivals per hour, tasks that will miss their SLA",
    ),
    ("/blend report [today|week]", "tasks done, SLA kept, back-office time, top agents"),
    ("/blend pause [reason] | resume", "turn blending off (calls first) or back on"),
    (
        "/blend lend @agent <minutes> [override]",
        "lend an agent to back-office work (`override`: even while the phones need them)",
    ),
    ("/blend recall @agent [reason]", "call an agent back to the phones now"),
)


def help_message(supervisor: bool) -> Message:
    rows = list(AGENT_HELP) + (list(SUPERVISOR_HELP) if supervisor else [])
    lines = [f"`{_esc(cmd)}` — {what}" for cmd, what in rows]
    if not supervisor:
        lines.append("_Supervisor commands are available to the configured supervisors._")
    return _message(
        "What you can do with /blend",
        [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))],
    )


@dataclass
class HomeFacts:
    """What the Home tab shows one person."""

    current: TaskOut | None = None
    paused: list[TaskOut] = field(default_factory=list)
    done_today: int = 0
    on_roster: bool = True
    supervisor_lines: list[str] | None = None
    decisions: list[str] | None = None
    """The engine's last decisions, one line each (supervisors only)."""


def home(facts: HomeFacts, now: datetime) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="blendbot")]
    if not facts.on_roster:
        blocks.append(
            SectionBlock(text="You are not on the roster yet: ask a supervisor to add you.")
        )
    else:
        if facts.current is not None:
            t = facts.current
            blocks.append(SectionBlock(text=MarkdownTextObject(text="*Your current task*")))
            blocks.append(_task_fields(t, now, None))
        else:
            blocks.append(SectionBlock(text="No task in progress."))
        if facts.paused:
            lines = "\n".join(f"• #{t.id} {_esc(_clip(t.title, 80))}" for t in facts.paused[:10])
            blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Paused*\n{lines}")))
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Done today: *{facts.done_today}*")])
        )
        blocks.append(
            ActionsBlock(
                block_id="home", elements=[_button("Get next task", "next", "home", "primary")]
            )
        )
    if facts.supervisor_lines is not None:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Supervisor view*")))
        text = "\n".join(facts.supervisor_lines) or "Nothing open."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(text, 3000))))
    if facts.decisions is not None:
        lines = "\n".join(facts.decisions) or "No blending decision yet."
        text = f"*Last blending decisions*\n{lines}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(text, 3000))))
    result: dict[str, Any] = View(type="home", blocks=blocks[:100]).to_dict()
    return result


@dataclass(frozen=True)
class Risk:
    """A task whose ETA passes its due time, as the supervisors are warned of it."""

    task_id: int
    title: str
    type: str
    customer_ref: str | None
    state: str
    due_at: datetime
    eta: datetime
    basis: str


def sla_risk(risks: Sequence[Risk], now: datetime) -> Message:
    """The supervisors' warning: tasks that will likely miss their SLA, before they do."""
    count = len(risks)
    head = f":warning: {count} task{'s' if count != 1 else ''} will likely miss the SLA"
    lines = []
    for r in risks:
        who = f", {_esc(_clip(r.customer_ref, 40))}" if r.customer_ref else ""
        lines.append(
            f"• *#{r.task_id}* {_esc(_clip(r.title, 80))} ({_esc(r.type)}{who}), "
            f"{_esc(r.state)}: due {when(r.due_at, now)}, likely done {when(r.eta, now)}\n"
            f"    _{_esc(_clip(r.basis, 250))}_"
        )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{head}*"))]
    for start in range(0, len(lines), 4):  # a section's text holds 3,000 characters
        text = "\n".join(lines[start : start + 4])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Each task is warned of once. Boost, reassign or tell the customer: "
                    "`/blend task <id>` shows where it is."
                )
            ]
        )
    )
    return _message(f"{head}: " + ", ".join(f"#{r.task_id}" for r in risks), blocks)


INTERRUPTED = (
    ":telephone_receiver: *A call came in: this task is paused.* It resumes by itself when "
    "your wrap-up ends."
)
RESUMED = ":arrows_counterclockwise: Your call is over: the task is running again."
RECALLED = (
    ":telephone_receiver: *You are back on the phones: this task is paused.* Resume it when "
    "the calls are quiet again (`/blend next` tells you when)."
)


def state_failure(name: str, state: str, target: str | None, detail: str) -> Message:
    """For the supervisors: blendbot could not set an agent's state in the phone system."""
    where = f" ({_esc(target)})" if target else ""
    wanted = "not routable (back office)" if state == "backoffice" else "available for calls"
    text = (
        f":warning: Could not make *{_esc(name)}* {wanted} in the phone system{where}: "
        f"{_esc(_clip(detail, 2500))}. Please set their status by hand."
    )
    return _message(
        f"Could not set {name}'s state in the phone system",
        [SectionBlock(text=MarkdownTextObject(text=text))],
    )


def state_failure_for_agent(state: str) -> Message:
    """For the agent: their status could not be set for them."""
    what = "Back office" if state == "backoffice" else "Available"
    return notice(
        f":warning: I could not switch your phone status for you: please set it to *{what}* "
        "yourself. Your supervisors know."
    )


def closed_at_source(task: TaskOut, source: str) -> Message:
    """For the holder: the record behind their task was closed where it lives."""
    text = (
        f":information_source: The record behind task #{task.id} "
        f"(*{_esc(_clip(task.title, 200))}*, {_esc(task.external_id)}) was closed or deleted "
        f"in {_esc(source)}. Check there whether the work is still needed, then complete or "
        "release the task."
    )
    return notice(text)


def write_back_failure(
    task_id: int, title: str, source: str, event: str, external_id: str, detail: str
) -> Message:
    """For the supervisors: a task's outcome could not be written back to its source."""
    text = (
        f":warning: Could not tell *{_esc(source)}* that task #{task_id} "
        f"(*{_esc(_clip(title, 200))}*) was {_esc(event.replace('_', ' '))}: "
        f"{_esc(_clip(detail, 2000))}. Please update {_esc(external_id)} there by hand."
    )
    return _message(
        f"Could not write task #{task_id} back to {source}",
        [SectionBlock(text=MarkdownTextObject(text=text))],
    )
