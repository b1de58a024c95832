"""Handlers of ``/api/v1/priority-rules``: managers change priorities without a release."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, TypeAdapter

from bot.http.errors import ApiError, ErrorOut, FieldError
from bot.http.keys import CLOCK, STORES
from bot.http.operations import (
    Operation,
    PathParam,
    json_response,
    path_param,
    read_body,
    read_query,
)
from queues.models import Name, ShortText, Strict, Text
from queues.priority import FIELDS
from queues.priority_store import RuleChange, RuleIn, RuleOut

RULE_NAME = PathParam("name", TypeAdapter(Name), "The rule's name, e.g. `month-end-billing`.")


class RuleList(BaseModel):
    items: list[RuleOut]
    fields: dict[str, str] = Field(description="The task fields a rule can use.")


class ChangeList(BaseModel):
    items: list[RuleChange]


class DeleteQuery(Strict):
    author: ShortText | None = None
    reason: Text | None = None


class ChangesQuery(Strict):
    name: Name | None = None
    limit: int = Field(default=100, ge=1, le=1000)


async def put_rule(request: web.Request) -> web.Response:
    name = path_param(request, RULE_NAME)
    body = await read_body(request, RuleIn)
    try:
        rule, created = await request.app[STORES].rules.put(name, body, request.app[CLOCK].now())
    except ValueError as exc:
        fields = [FieldError(field="until", message=str(exc))]
        raise ApiError(422, "invalid", str(exc), fields) from None
    return json_response(rule, 201 if created else 200)


async def get_rule(request: web.Request) -> web.Response:
    name = path_param(request, RULE_NAME)
    return json_response(await request.app[STORES].rules.get(name, request.app[CLOCK].now()))


async def list_rules(request: web.Request) -> web.Response:
    rules = await request.app[STORES].rules.all(request.app[CLOCK].now())
    return json_response(RuleList(items=rules, fields=FIELDS))


async def delete_rule(request: web.Request) -> web.Response:
    name = path_param(request, RULE_NAME)
    query = read_query(request, DeleteQuery)
    rule = await request.app[STORES].rules.delete(
        name, query.author or "api", query.reason, request.app[CLOCK].now()
    )
    return json_response(rule)


async def list_changes(request: web.Request) -> web.Response:
    query = read_query(request, ChangesQuery)
    changes = await request.app[STORES].rules.changes(query.name, query.limit)
    return json_response(ChangeList(items=changes))


_ERRORS: dict[int, type[BaseModel] | None] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}

RULE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "PUT",
        "/api/v1/priority-rules/{name}",
        put_rule,
        "Create or replace a priority rule",
        "priority rules",
        body=RuleIn,
        params=(RULE_NAME,),
        responses={200: RuleOut, 201: RuleOut, 400: ErrorOut, 413: ErrorOut, **_ERRORS},
        description="`when` is a CEL expression over the task's fields (see `GET "
        "/api/v1/priority-rules`); matching tasks get `boost` added to their priority until "
        "`until`. An invalid expression is refused with 422 and the error's line and column. "
        "The change applies to every open task at the next tick and is kept in the audit log.",
    ),
    Operation(
        "GET",
        "/api/v1/priority-rules",
        list_rules,
        "List priority rules",
        "priority rules",
        responses={200: RuleList, 401: ErrorOut},
    ),
    Operation(
        "GET",
        "/api/v1/priority-rules/{name}",
        get_rule,
        "Get a priority rule",
        "priority rules",
        params=(RULE_NAME,),
        responses={200: RuleOut, **_ERRORS},
    ),
    Operation(
        "DELETE",
        "/api/v1/priority-rules/{name}",
        delete_rule,
        "Delete a priority rule",
        "priority rules",
        params=(RULE_NAME,),
        query=DeleteQuery,
        responses={200: RuleOut, **_ERRORS},
    ),
    Operation(
        "GET",
        "/api/v1/priority-rule-changes",
        list_changes,
        "The audit log of priority rules, newest first",
        "priority rules",
        query=ChangesQuery,
        responses={200: ChangeList, 401: ErrorOut, 422: ErrorOut},
    ),
)
