"""API errors in one shape: `{"errors": [{"code", "message", "field"?, "node"?, ...}]}`.

Every 4xx says what and where; nothing reaches the client as a 500 page or a traceback.
While the broker or Redis is away (restarting, cut off), a request that needed it is
answered 503 with a `Retry-After`, in the same shape.
"""
from __future__ import annotations

from typing import Any

import kombu.exceptions
import redis.exceptions
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler, set_rollback

from designer.engine.errors import PipelineInvalid

# What the Celery broker (kombu) and Redis (channel layer, caches) raise when they cannot be
# reached; other errors of theirs are bugs, and stay 500s.
_UNREACHABLE = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# Seconds a client waits before sending the request again: a broker restart takes about this.
RETRY_AFTER_S = 10
_UNAVAILABLE_MESSAGE = (
    "the message broker or Redis cannot be reached just now (restarting?); send the request again in a few seconds"
)


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
    if isinstance(exc, _UNREACHABLE):
        set_rollback()
        return Response(
            {"errors": [{"code": "service_unavailable", "message": _UNAVAILABLE_MESSAGE}]},
            status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if isinstance(exc, PipelineInvalid):
        return Response({"errors": [e.to_json() for e in exc.errors]}, status=status.HTTP_400_BAD_REQUEST)
    # Django's own exceptions, raised by get_object_or_404 and friends, take the same shape.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = {"errors": _flatten(exc.detail)}
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for URLs that match nothing: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [{"code": "not_found", "message": f"no API endpoint at {request.path}"}]}, status=404)
    return page_not_found(request, exception)
