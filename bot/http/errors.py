"""The one place where errors become HTTP responses."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from bot.errors import ServiceError
from bot.http.keys import MAX_BODY
from queues.errors import (
    AgentBusy,
    AgentConflict,
    AgentInactive,
    AgentNeeded,
    HeldByOther,
    HoldsWork,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    OfferExpired,
    OfferWithdrawn,
    QueuesError,
    UnknownTaskType,
)
from queues.priority import InvalidRule
from task_sources.errors import (
    InvalidSource,
    MappingFailed,
    RejectNotFound,
    SourceAuthFailed,
    SourceNotFound,
    SourcesError,
)

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. `tasks.3.type`.")
    message: str
    line: int | None = Field(default=None, description="Where in an expression, from 1.")
    column: int | None = None


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `invalid`, `not_found`.")
    message: str = Field(description="What went wrong, in words a person can act on.")
    fields: list[FieldError] = Field(default_factory=list)
    current_status: str | None = Field(default=None, description="Set on invalid transitions.")
    holder: str | None = Field(default=None, description="Who holds the task, on a lost race.")
    holding: list[int] | None = Field(
        default=None, description="The tasks the agent already works on, when at the limit."
    )
    limit: int | None = Field(default=None, description="How much work one agent may hold.")


class ErrorOut(BaseModel):
    error: ErrorBody


class ApiError(ServiceError):
    """An error response with a status, a code and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(code=code, message=message, fields=fields or [], **extra)


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    out = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(p) for p in error["loc"] if p != "[key]")
        out.append(FieldError(field=f"{prefix}{path}" or "(body)", message=error["msg"]))
    return out


def from_validation(exc: ValidationError, prefix: str = "") -> ApiError:
    fields = field_errors(exc, prefix)
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
    return ApiError(422, "invalid", f"invalid request: {summary}", fields)


def from_domain(exc: QueuesError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, UnknownTaskType):
        return ApiError(
            422, "unknown_task_type", str(exc), [FieldError(field="type", message=str(exc))]
        )
    if isinstance(exc, IdempotencyConflict):
        return ApiError(422, "idempotency_conflict", str(exc))
    if isinstance(exc, InvalidTransition):
        return ApiError(409, "invalid_transition", str(exc), current_status=exc.status)
    if isinstance(exc, InvalidRule):
        field = FieldError(field="when", message=str(exc), line=exc.line, column=exc.column)
        return ApiError(422, "invalid_rule", str(exc), [field])
    if isinstance(exc, HeldByOther):
        return ApiError(
            409, "held_by_other", str(exc), current_status=exc.status, holder=exc.holder
        )
    if isinstance(exc, OfferExpired):
        return ApiError(409, "offer_expired", str(exc))
    if isinstance(exc, AgentBusy):
        return ApiError(409, "agent_busy", str(exc), holding=exc.holding, limit=exc.limit)
    if isinstance(exc, HoldsWork):
        return ApiError(
            409,
            "agent_busy",
            str(exc),
            current_status=exc.status,
            holding=[exc.task_id],
            limit=exc.limit,
        )
    if isinstance(exc, OfferWithdrawn):
        return ApiError(409, "offer_withdrawn", str(exc), current_status="queued")
    if isinstance(exc, AgentNeeded):
        return ApiError(409, "agent_needed", str(exc))
    if isinstance(exc, AgentInactive):
        return ApiError(409, "agent_inactive", str(exc))
    if isinstance(exc, AgentConflict):
        return ApiError(409, "conflict", str(exc))
    return ApiError(400, "rejected", str(exc))


def from_sources(exc: SourcesError) -> ApiError:
    if isinstance(exc, (SourceNotFound, RejectNotFound)):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, InvalidSource):
        field = FieldError(field=exc.field, message=exc.message, line=exc.line, column=exc.column)
        return ApiError(422, "invalid_source", str(exc), [field])
    if isinstance(exc, MappingFailed):
        fields = [FieldError(field=exc.field, message=exc.reason)] if exc.field else []
        return ApiError(422, "unmappable", f"still cannot be made into a task: {exc}", fields)
    if isinstance(exc, SourceAuthFailed):
        return ApiError(401, "unauthorized", f"delivery refused: {exc}")
    return ApiError(400, "rejected", str(exc))


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    body = ErrorOut(error=error.body).model_dump_json(exclude_none=True)
    return web.Response(
        status=error.status, text=body, content_type="application/json", headers=headers
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn every failure into a JSON error body; never let a traceback reach a client."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as exc:
        return error_response(exc)
    except QueuesError as exc:
        return error_response(from_domain(exc))
    except SourcesError as exc:
        return error_response(from_sources(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason
        if exc.status == 413:
            message = f"request body too large: the limit is {request.app[MAX_BODY]} bytes"
        code = _HTTP_CODES.get(exc.status, "error")
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() in {"allow", "www-authenticate"}
        }
        return error_response(ApiError(exc.status, code, message), headers)
    except asyncpg.DataError as exc:
        # Input validation should catch these first; this is the net under it. The database's
        # own words stay in the log: they name tables and constraints, not the client's input.
        log.warning("a value could not be stored on %s %s: %s", request.method, request.path, exc)
        return error_response(ApiError(422, "invalid", "a value in the request cannot be stored"))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, "internal", "internal error: it has been logged"))
