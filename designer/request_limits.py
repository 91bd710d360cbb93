"""Refuse oversized request bodies before anything reads them.

DRF's parsers read the request stream directly, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
check, so the limit is enforced here, for every view, from the declared length.
"""
from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return JsonResponse(
                {"errors": [{"code": "too_large", "message": f"the request body is larger than {limit >> 20} MiB"}]},
                status=413,
            )
        return self.get_response(request)
