"""The OpenAPI 3.1 document, generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.http.operations import Operation

_REF = "#/components/schemas/{model}"


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for param in op.params:
        schema = param.adapter.json_schema(ref_template=_REF)
        params.append(
            {
                "name": param.name,
                "in": "path",
                "required": True,
                "description": param.description,
                "schema": schema,
            }
        )
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            entry: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if "description" in prop:
                entry["description"] = prop["description"]
            if "array" in str(prop):
                entry["style"] = "form"
                entry["explode"] = False
            params.append(entry)
    return params


def build(operations: tuple[Operation, ...], *, title: str, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing ``operations``."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        models.extend((m, "serialization") for m in op.responses.values() if m is not None)
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        entry: dict[str, Any] = {
            "operationId": re.sub(r"\W+", "_", f"{op.method.lower()}_{op.openapi_path}").strip("_"),
            "summary": op.summary,
            "tags": [op.tag],
            "responses": {},
        }
        if op.description:
            entry["description"] = op.description
        params = _parameters(op)
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
            }
        for status, model in sorted(op.responses.items()):
            response: dict[str, Any] = {"description": _DESCRIPTIONS.get(status, "")}
            if model is not None:
                response["content"] = {
                    "application/json": {"schema": refs[(model, "serialization")]}
                }
                if op.csv and status == 200:
                    response["content"]["text/csv"] = {}
            entry["responses"][str(status)] = response
        if op.auth:
            entry["security"] = [{"bearer": []}]
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": _LIMITS},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


_LIMITS = (
    "Limits every operation enforces. Bodies are JSON nested at most 200 levels deep, with "
    "integers of at most 4,300 digits and no NaN or Infinity; beyond that, 400. Values are "
    "strictly typed: `true` is not a number, a number is not a date-time, a number is not "
    "text. A date-time is ISO 8601 text with its offset, between 1970-01-01T00:00:00Z and "
    "2100-01-01T00:00:00Z, excluding the end (`formatMinimum`, `formatExclusiveMaximum`); "
    "outside, 422. Text is stripped of surrounding whitespace and must not be blank "
    "(`pattern: \\S`), nor hold the NUL character or a lone surrogate. A span's end (`to`, "
    "`end`) comes after its start; a schedule entry lasts at most 24 hours; an interval "
    "query spans at most 92 days."
)

_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    400: "Malformed JSON",
    401: "Missing or wrong bearer token",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body larger than the limit",
    422: "Invalid input; the error names each bad field",
    503: "Unavailable",
}
