"""Supervisors' actions from the console: pause and resume blending, boost a task type, give a
task to an agent, lend an agent to back-office work and recall them. Each goes through the
code Slack's `/blend` commands use (the blending switch, the priority rules under Slack's
boost names, :func:`bot.work.reassign` with the agent's card through the outbox, and the
:class:`bot.acd.Steering` that `/blend lend|recall` and the API's lend and recall share), each
is written to the audit log, and each form carries its CSRF token (the console's middleware
refuses a POST without it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from blending.errors import LendRefused
from bot.acd import STEERING
from bot.console.pages import required
from bot.console.render import page
from bot.http.keys import CLOCK, POLICY, STORES, ZONE
from bot.slack import cards
from bot.slack.commands import _TYPE, BOOST_PREFIX
from bot.slack.context import card_ref
from bot.slack.store import SlackStore
from bot.work import reassign
from queues.db import transaction
from queues.dispatch import NoOffer
from queues.errors import QueuesError
from queues.lifecycle import Lifecycle
from queues.priority import InvalidRule
from queues.priority_store import RuleIn

FLASH = "flash"
MAX_BOOST_HOURS = 24 * 31


async def actions_page(request: web.Request) -> web.Response:
    found = await required(request)
    stores = request.config_dict[STORES]
    session = await get_session(request)
    flash = session.pop(FLASH, None)
    now = request.config_dict[CLOCK].now()
    everyone = [p.agent_id for p in (await stores.telemetry.presence(now, unmatched=False)).items]
    return await page(
        request,
        "actions.html",
        {
            "flash": flash,
            "blending": await stores.switch.get(),
            "types": [t.name for t in await stores.catalog.all()],
            "boosts": [r for r in await stores.rules.all(now) if r.name.startswith(BOOST_PREFIX)],
            "agents": sorted((await stores.views.people(everyone)).values(), key=lambda p: p.name),
            "steering": request.config_dict.get(STEERING) is not None,
        },
        viewer=found,
    )


async def _done(request: web.Request, message: str) -> web.Response:
    session = await get_session(request)
    session[FLASH] = message
    raise web.HTTPSeeOther("/console/actions")


async def set_blending(request: web.Request) -> web.Response:
    found = await required(request)
    form = await request.post()
    on = form.get("on") == "1"
    reason = str(form.get("reason", "")).strip()[:500] or None
    stores = request.config_dict[STORES]
    _, changed = await stores.switch.set(on, found.name, reason)
    await stores.slack.audit(
        found.actor, "console_blending_" + ("on" if on else "off"), True, reason=reason
    )
    if not changed:
        return await _done(request, f"Blending was already {'on' if on else 'paused'}.")
    return await _done(
        request,
        "Blending is on: agents get back-office work again."
        if on
        else "Blending is paused: no back-office offers until it is resumed.",
    )


async def boost(request: web.Request) -> web.Response:
    found = await required(request)
    form = await request.post()
    type_ = str(form.get("type", ""))
    try:
        amount = max(-1000, min(1000, int(str(form.get("boost", "")))))
        hours = max(1, min(MAX_BOOST_HOURS, int(str(form.get("hours", "8")))))
    except ValueError:
        return await _done(request, "A boost is a whole number, and so are its hours.")
    if not _TYPE.match(type_):
        return await _done(request, "Choose a task type to boost.")
    now = request.config_dict[CLOCK].now()
    reason = str(form.get("reason", "")).strip()[:500] or "boost from the console"
    body = RuleIn(
        when=f'type == "{type_}"',
        boost=amount,
        until=now + timedelta(hours=hours),
        reason=reason,
        author=found.actor,
    )
    stores = request.config_dict[STORES]
    try:
        rule, _ = await stores.rules.put(BOOST_PREFIX + type_, body, now)
    except (InvalidRule, ValueError) as exc:
        return await _done(request, f"That boost cannot be made: {exc}")
    await stores.slack.audit(found.actor, "console_boost", True, type=type_, boost=amount)
    return await _done(
        request, f"{type_} {rule.boost:+d} for {hours} h ({reason}): from the next tick."
    )


async def assign(request: web.Request) -> web.Response:
    found = await required(request)
    form = await request.post()
    raw = str(form.get("task", "")).strip().lstrip("#")
    agent_id = str(form.get("agent", ""))
    override = form.get("override") == "1"
    if not raw.isdigit() or len(raw) > 18:
        return await _done(request, "Give the task's number.")
    task_id = int(raw)
    stores = request.config_dict[STORES]
    person = (await stores.views.people([agent_id])).get(agent_id)
    if person is None:
        return await _done(request, "Choose an agent on the roster.")
    limit = request.config_dict[POLICY].max_tasks_per_agent
    now = request.config_dict[CLOCK].now()
    try:
        async with transaction(stores.pool) as conn:
            task = await reassign(
                Lifecycle(conn, max_tasks_per_agent=limit),
                task_id,
                person.agent_id,
                found.actor,
                override=override,
            )
            await SlackStore(conn).audit(
                found.actor,
                "console_assign",
                True,
                task=task_id,
                agent=agent_id,
                override=override,
            )
            if person.slack_user_id:
                card = await cards.for_agent(conn, task, person.agent_id, now)
                await SlackStore(conn).card(
                    card_ref(task_id, person.slack_user_id), person.slack_user_id, card
                )
    except QueuesError as exc:
        return await _done(request, f"Task #{task_id} was not given: {exc}")
    return await _done(request, f"Task #{task_id} is now with {person.name}.")


MAX_LEND_MINUTES = 24 * 60


async def _steered(request: web.Request, what: str) -> tuple[Any, Any, str, Any] | web.Response:
    """The steering, the form and the agent on the roster a lend or recall names; or the page
    saying why not."""
    steering = request.config_dict.get(STEERING)
    if steering is None:
        return await _done(request, f"{what} is not available on this instance.")
    form = await request.post()
    agent_id = str(form.get("agent", ""))
    person = (await request.config_dict[STORES].views.people([agent_id])).get(agent_id)
    if person is None:
        return await _done(request, "Choose an agent on the roster.")
    return steering, form, agent_id, person


async def lend(request: web.Request) -> web.Response:
    """The API's and Slack's lend: a window of some minutes and the best task offered."""
    found = await required(request)
    chosen = await _steered(request, "Lending")
    if isinstance(chosen, web.Response):
        return chosen
    steering, form, agent_id, person = chosen
    stores = request.config_dict[STORES]
    raw = str(form.get("minutes", "")).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LEND_MINUTES:
        return await _done(request, f"Lend for 1 to {MAX_LEND_MINUTES} whole minutes.")
    override = form.get("override") == "1"
    try:
        lent = await steering.lend(agent_id, int(raw), found.actor, override=override)
    except LendRefused as exc:
        await stores.slack.audit(found.actor, "console_lend", False, agent=agent_id, why=str(exc))
        return await _done(request, f"{person.name} was not lent: {exc}.")
    except QueuesError as exc:
        return await _done(request, f"{person.name} was not lent: {exc}")
    await stores.slack.audit(
        found.actor, "console_lend", True, agent=agent_id, minutes=int(raw), override=override
    )
    zone = request.config_dict[ZONE]
    said = f"{person.name} is lent to back-office work until {lent.ends_at.astimezone(zone):%H:%M}"
    if isinstance(lent.offer, NoOffer):
        return await _done(request, f"{said}. No task offered yet: {lent.offer.reason}.")
    return await _done(request, f"{said}. Offered task #{lent.offer.task.id}.")


async def recall(request: web.Request) -> web.Response:
    """The API's and Slack's recall: back to the phones, as the guard recalls."""
    found = await required(request)
    chosen = await _steered(request, "Recalling")
    if isinstance(chosen, web.Response):
        return chosen
    steering, form, agent_id, person = chosen
    stores = request.config_dict[STORES]
    reason = str(form.get("reason", "")).strip()[:500] or f"recalled by {found.name}"
    try:
        done = await steering.recall(agent_id, found.actor, reason)
    except QueuesError as exc:
        return await _done(request, f"{person.name} was not recalled: {exc}")
    await stores.slack.audit(found.actor, "console_recall", True, agent=agent_id, reason=reason)
    said = f"{person.name} is recalled to the phones"
    if done.withdrawn:
        said += f"; {len(done.withdrawn)} open offer(s) went back to the queue"
    return await _done(request, said + ".")
