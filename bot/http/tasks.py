"""Handlers of ``/api/v1``: the task list's intake and lookup API."""

from __future__ import annotations

import hashlib
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from bot.http.errors import ApiError, ErrorOut, FieldError
from bot.http.keys import CLOCK, METRICS, POLICY, POOL, STORES
from bot.http.operations import (
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
from bot.roster import deactivate
from queues.db import transaction
from queues.errors import NotFound
from queues.lifecycle import Lifecycle
from queues.models import (
    AgentId,
    AgentIn,
    AgentOut,
    AgentPage,
    CancelIn,
    Name,
    ShortText,
    TaskBatchIn,
    TaskBatchItem,
    TaskBatchOut,
    TaskDetail,
    TaskFilter,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskTypeIn,
    TaskTypeOut,
    Text,
)
from queues.tasks import Tasks

API_ACTOR = "api"

TYPE_NAME = PathParam("name", TypeAdapter(Name), "Task type name, e.g. `mortgage_document_check`.")
AGENT_ID = PathParam("agent_id", TypeAdapter(AgentId), "The agent's id in your roster.")
TASK_ID = PathParam("task_id", TypeAdapter(Annotated[int, Field(ge=1)]), "The task's id.")


class AgentPageQuery(BaseModel):
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: AgentId | None = None


class TaskTypeList(BaseModel):
    items: list[TaskTypeOut]


async def put_task_type(request: web.Request) -> web.Response:
    name = path_param(request, TYPE_NAME)
    body = await read_body(request, TaskTypeIn)
    task_type, created = await request.app[STORES].catalog.put(name, body)
    return json_response(task_type, 201 if created else 200)


async def list_task_types(request: web.Request) -> web.Response:
    return json_response(TaskTypeList(items=await request.app[STORES].catalog.all()))


async def put_agent(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, AgentIn)
    roster = request.app[STORES].roster
    created = await roster.put(agent_id, body)
    agent = await roster.get(agent_id)
    assert agent is not None
    return json_response(agent, 201 if created else 200)


async def get_agent(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    agent = await request.app[STORES].roster.get(agent_id)
    if agent is None:
        raise ApiError(404, "not_found", f"agent {agent_id} not found")
    return json_response(agent)


class DeactivateIn(BaseModel):
    model_config = {"extra": "forbid"}
    by: ShortText | None = Field(default=None, description="Who deactivates; default `api`.")
    reason: Text | None = Field(default=None, description="Why, for the agent's history.")


class DeactivatedOut(BaseModel):
    agent: AgentOut
    withdrawn: list[int] = Field(description="Open offers taken back to the queue.")
    released: list[int] = Field(description="Work in progress or paused, back to the queue.")
    already: bool = Field(description="The agent was deactivated before: nothing changed.")


async def delete_agent(request: web.Request) -> web.Response:
    agent_id = path_param(request, AGENT_ID)
    body = await read_body(request, DeactivateIn) if request.body_exists else DeactivateIn()
    done = await deactivate(request.app[POOL], agent_id, body.by or API_ACTOR, body.reason)
    agent = await request.app[STORES].roster.get(agent_id)
    assert agent is not None
    return json_response(
        DeactivatedOut(
            agent=agent,
            withdrawn=[t.id for t in done.withdrawn],
            released=[t.id for t in done.released],
            already=done.already,
        )
    )


async def list_agents(request: web.Request) -> web.Response:
    query = read_query(request, AgentPageQuery)
    items = await request.app[STORES].roster.page(query.cursor, query.limit)
    more = len(items) == query.limit
    return json_response(AgentPage(items=items, next_cursor=items[-1].agent_id if more else None))


async def create_task(request: web.Request) -> web.Response:
    body = await read_body(request, TaskIn)
    task, created = await request.app[STORES].tasks.create(body, API_ACTOR)
    if created:
        request.app[METRICS].tasks_created.labels(task.source).inc()
    return json_response(task, 201 if created else 200, Location=f"/api/v1/tasks/{task.id}")


async def create_tasks(request: web.Request) -> web.Response:
    body = await read_body(request, TaskBatchIn)
    async with transaction(request.app[POOL]) as conn:
        results = await Tasks(conn).create_many(body.tasks, API_ACTOR)
        problems = [
            FieldError(field=f"tasks.{index}", message=str(result.error))
            for index, result in enumerate(results)
            if result.error is not None
        ]
        if problems:
            # Raising inside the transaction rolls back the tasks this batch did create.
            raise ApiError(
                422,
                "invalid",
                f"{len(problems)} of {len(results)} tasks refused; none stored",
                problems,
            )
    for result in results:
        if result.outcome == "created" and result.task is not None:
            request.app[METRICS].tasks_created.labels(result.task.source).inc()
    items = [
        TaskBatchItem(created=r.outcome == "created", task=r.task)
        for r in results
        if r.task is not None
    ]
    return json_response(TaskBatchOut(results=items))


def caller(request: web.Request) -> str:
    """Who is asking, for the audit log: the bearer token's fingerprint (never the token)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:12]


async def get_task(request: web.Request) -> web.Response:
    task_id = path_param(request, TASK_ID)
    top_share = request.app[POLICY].sla_top_share
    now = request.app[CLOCK].now()
    stores = request.app[STORES]
    try:
        detail = await stores.tasks.get(task_id, now, sla_top_share=top_share)
    except NotFound:
        await stores.lookups.record("api", caller(request), {"id": task_id}, [])
        raise
    await stores.lookups.record("api", caller(request), {"id": task_id}, [task_id])
    return json_response(detail)


async def list_tasks(request: web.Request) -> web.Response:
    query = read_query(request, TaskFilter, lists=("status",))
    stores = request.app[STORES]
    items = await stores.tasks.find(query)
    asked = query.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    await stores.lookups.record("api", caller(request), asked, [t.id for t in items])
    more = len(items) == query.limit
    return json_response(TaskPage(items=items, next_cursor=str(items[-1].id) if more else None))


async def cancel_task(request: web.Request) -> web.Response:
    task_id = path_param(request, TASK_ID)
    body = await read_body(request, CancelIn) if request.body_exists else CancelIn()
    task = await Lifecycle(request.app[POOL]).cancel(task_id, body.by or API_ACTOR, body.reason)
    return json_response(task)


_ERRORS: dict[int, type[BaseModel] | None] = {401: ErrorOut, 422: ErrorOut}
_BODY_ERRORS: dict[int, type[BaseModel] | None] = {400: ErrorOut, 413: ErrorOut}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "PUT",
        "/api/v1/task-types/{name}",
        put_task_type,
        "Create or replace a task type",
        "task types",
        body=TaskTypeIn,
        params=(TYPE_NAME,),
        responses={200: TaskTypeOut, 201: TaskTypeOut, **_ERRORS, **_BODY_ERRORS},
    ),
    Operation(
        "GET",
        "/api/v1/task-types",
        list_task_types,
        "List task types",
        "task types",
        responses={200: TaskTypeList, 401: ErrorOut},
    ),
    Operation(
        "PUT",
        "/api/v1/agents/{agent_id}",
        put_agent,
        "Create or replace an agent",
        "agents",
        body=AgentIn,
        params=(AGENT_ID,),
        responses={200: AgentOut, 201: AgentOut, 409: ErrorOut, **_ERRORS, **_BODY_ERRORS},
        description="Skills and telephony ids are replaced as a whole. A Slack user id or a "
        "telephony id that belongs to another agent is refused with 409. A deactivated agent "
        "is active again. `email` is what the roster sync matches the agent by.",
    ),
    Operation(
        "DELETE",
        "/api/v1/agents/{agent_id}",
        delete_agent,
        "Deactivate an agent",
        "agents",
        body=DeactivateIn,
        body_required=False,
        params=(AGENT_ID,),
        responses={200: DeactivatedOut, 404: ErrorOut, **_ERRORS, **_BODY_ERRORS},
        description="The agent and their history are kept; nothing is offered to them any "
        "more: their open offers are withdrawn and the work they hold in progress or paused "
        "goes back to the queue (each with its event), their window or lend ends, and in "
        "`control` mode the command that puts them back to available in the phone system is "
        "queued. Their own actions are refused with 409 `agent_inactive`; the roster sync "
        "leaves them alone. `PUT` the agent to reactivate them. Deactivating again changes "
        "nothing (`already`).",
    ),
    Operation(
        "GET",
        "/api/v1/agents/{agent_id}",
        get_agent,
        "Get an agent",
        "agents",
        params=(AGENT_ID,),
        responses={200: AgentOut, 404: ErrorOut, **_ERRORS},
    ),
    Operation(
        "GET",
        "/api/v1/agents",
        list_agents,
        "List agents, by id",
        "agents",
        query=AgentPageQuery,
        responses={200: AgentPage, **_ERRORS},
    ),
    Operation(
        "POST",
        "/api/v1/tasks",
        create_task,
        "Create a task (idempotent)",
        "tasks",
        body=TaskIn,
        responses={200: TaskOut, 201: TaskOut, **_ERRORS, **_BODY_ERRORS},
        description="(source, external_id) identifies a task: a repeated delivery returns 200 "
        "with the same task, a new one 201; the same key with a different body is refused "
        "with 422.",
    ),
    Operation(
        "POST",
        "/api/v1/tasks/batch",
        create_tasks,
        "Create many tasks at once",
        "tasks",
        body=TaskBatchIn,
        responses={200: TaskBatchOut, **_ERRORS, **_BODY_ERRORS},
        description="All or nothing: if any task is refused, none is stored and the 422 lists "
        "every refused task by its index.",
    ),
    Operation(
        "GET",
        r"/api/v1/tasks/{task_id:\d{1,18}}",
        get_task,
        "Get a task and its timeline",
        "tasks",
        params=(TASK_ID,),
        responses={200: TaskDetail, 404: ErrorOut, **_ERRORS},
        description="Where the task is, why it ranks there, and when it will likely be done: "
        "`eta` with `eta_basis`, the estimate's basis in words (the holder's usual time; the "
        "queue ahead and the spare agent time the forecast expects for the step's skills; "
        "for a paused task, when its holder is expected free; for an escalated one, the "
        "supervisors' answer time). Written to the audit log of lookups.",
    ),
    Operation(
        "GET",
        "/api/v1/tasks",
        list_tasks,
        "Find tasks, newest first",
        "tasks",
        query=TaskFilter,
        responses={200: TaskPage, **_ERRORS},
        description="Find what a customer quotes with `q`: a task id, a `customer_ref` or a "
        "source's `external_id` (`?q=APP-1042`). Filters combine: `customer_ref`, "
        "`external_id` (with `source`), `holder` (an agent id), `status` (one status or "
        "several separated by commas), `type`, and the due time: `due_after` (inclusive) and "
        "`due_before` (exclusive), ISO 8601 with a time zone (`Z`, or an offset with its `+` "
        "written `%2B`). Each call is written to the audit log of lookups with the bearer "
        "token's fingerprint and the tasks found. A bad parameter is 422 naming it.",
    ),
    Operation(
        "POST",
        r"/api/v1/tasks/{task_id:\d{1,18}}/cancel",
        cancel_task,
        "Cancel a task",
        "tasks",
        body=CancelIn,
        body_required=False,
        params=(TASK_ID,),
        responses={200: TaskOut, 404: ErrorOut, 409: ErrorOut, **_ERRORS, **_BODY_ERRORS},
    ),
)
