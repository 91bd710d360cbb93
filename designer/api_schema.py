"""The OpenAPI schema says every error an operation can answer: a drf-spectacular hook adds
the ones every operation of a kind shares, in the API's one error shape, where a view's
own declaration has not already described them.

- 404 wherever the path names something (an id, a node, a port…): no such thing, or not yours;
- 400 wherever a body or query parameters are read: each error says which field;
- 413 wherever a body is read (designer/request_limits.py refuses it before any view runs);
- 503 everywhere: the broker or Redis away (designer/api_errors.py answers it).
"""
from __future__ import annotations

from typing import Any

ERRORS_COMPONENT = "Errors"
_ERRORS_SCHEMA = {
    "type": "object",
    "properties": {"errors": {"type": "array", "items": {"type": "object", "additionalProperties": {}}}},
    "required": ["errors"],
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _error(description: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERRORS_COMPONENT}"}}},
        "description": description,
    }


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: the shared error responses, added to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault(ERRORS_COMPONENT, _ERRORS_SCHEMA)
    for path, operations in result.get("paths", {}).items():
        for method in _METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            body = "requestBody" in operation
            query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if "{" in path:
                responses.setdefault("404", _error("no such object (or not yours); the error says which"))
            if body or query:
                responses.setdefault("400", _error("a bad request; each error says which field and what is wrong"))
            if body:
                responses.setdefault("413", _error("the request body is larger than the configured limit"))
    return result


def unavailable_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: every operation may answer 503 while the broker or Redis is away."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Unavailable"] = {
        "type": "object",
        "properties": {"errors": {"type": "array", "items": {
            "type": "object",
            "properties": {"code": {"type": "string", "enum": ["service_unavailable"]}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }}},
        "required": ["errors"],
    }
    components.setdefault("responses", {})["Unavailable"] = {
        "description": "the message broker or Redis cannot be reached just now; send the request again later",
        "headers": {"Retry-After": {
            "schema": {"type": "integer"}, "description": "seconds to wait before sending the request again",
        }},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Unavailable"}}},
    }
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method in _METHODS:
                operation.setdefault("responses", {})["503"] = {"$ref": "#/components/responses/Unavailable"}
    return result
