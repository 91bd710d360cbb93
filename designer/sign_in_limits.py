"""Sign-in attempts are throttled per client address, so that passwords cannot be guessed at
speed: the sign-in pages (the canvas's, the browsable API's, the admin's) and the token
endpoint share one budget (REST_FRAMEWORK's "sign-in" rate, ATELIER_SIGN_IN_RATE).

DRF's throttling does the counting, in the `throttle` cache (Redis when configured, so
that every web process counts together). The client address is the connection's, or
the one ATELIER_NUM_PROXIES trusted proxies name: a client cannot pick its own with an
X-Forwarded-For header. A throttled request gets 429 with Retry-After; on the API in its
JSON error shape (DRF's Throttled), on the pages as a short text.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

# The views whose POSTs are sign-in attempts (besides the token endpoint, a DRF view).
SIGN_IN_VIEWS = {"login", "rest_framework:login", "admin:login"}
# DRF's throttles are told the view they guard; the sign-in pages are Django's, not DRF's.
_PAGES = APIView()


class SignInThrottle(SimpleRateThrottle):
    scope = "sign-in"

    def __init__(self) -> None:
        super().__init__()
        self.cache = caches["throttle"]

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInThrottleMiddleware:
    """Counts POSTs to the sign-in pages against the sign-in budget."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and _is_sign_in_page(request.path_info):
            throttle = SignInThrottle()
            if not throttle.allow_request(Request(request), _PAGES):
                wait = math.ceil(throttle.wait() or 1)
                return HttpResponse(
                    f"Too many sign-in attempts from your address: try again in {wait} seconds.\n",
                    status=429, content_type="text/plain; charset=utf-8", headers={"Retry-After": str(wait)},
                )
        return self.get_response(request)


def _is_sign_in_page(path: str) -> bool:
    try:
        return resolve(path).view_name in SIGN_IN_VIEWS
    except Resolver404:
        return False
