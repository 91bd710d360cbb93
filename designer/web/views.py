"""The pages of the canvas: one page shell for every client route, and sign-in."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

LOGIN_URL = "/login/"


@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie  # the page's API calls send it back as X-CSRFToken
def app(request: HttpRequest, **route: object) -> HttpResponse:
    """The single-page app; the client reads the route (home, a pipeline, a run) itself."""
    return render(request, "web/app.html")
