"""API errors in one shape: `{"errors": [{"code", "message", "field"?, "node"?, ...}]}`.

Every 4xx says what and where; nothing reaches the client as a 500 page or a traceback.
"""
from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from designer.engine.errors import PipelineInvalid


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            out += _flatten(value, None if key == "non_field_errors" else name)
        return out
    if isinstance(detail, list):
        return [e for item in detail for e in _flatten(item, field)]
    error: dict[str, Any] = {"code": getattr(detail, "code", "invalid"), "message": str(detail)}
    if field:
        error["field"] = field
    return [error]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PipelineInvalid):
        return Response({"errors": [e.to_json() for e in exc.errors]}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = {"errors": _flatten(exc.detail)}
    return response
