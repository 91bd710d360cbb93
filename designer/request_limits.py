"""Refuse oversized request bodies before anything reads them.

DRF's parsers read the request stream directly, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
check, so the limit is enforced here, for every view, from the declared length. Dataset
uploads (and only they) may send up to ATELIER["MAX_UPLOAD_BYTES"] of file.
"""
from __future__ import annotations

import re
from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

# POST /api/datasets/ (a new dataset) and /api/datasets/<id>/versions/ (a new version).
DATASET_UPLOAD_PATH = re.compile(r"^/api/datasets/(?:[^/]+/versions/)?$")
# Room for the multipart envelope (boundaries, headers, the name field) around the file.
MULTIPART_OVERHEAD = 64 * 1024


def body_limit(request: HttpRequest) -> int:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.method == "POST" and DATASET_UPLOAD_PATH.match(request.path_info):
        limit = max(limit, settings.ATELIER["MAX_UPLOAD_BYTES"] + MULTIPART_OVERHEAD)
    return limit


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            return JsonResponse(
                {"errors": [{"code": "too_large", "message": f"the request body is larger than {limit >> 20} MiB"}]},
                status=413,
            )
        return self.get_response(request)
