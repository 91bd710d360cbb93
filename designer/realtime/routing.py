"""WebSocket routes; designer/asgi.py mounts them behind the session authentication."""
from django.urls import URLPattern, path, re_path

from .consumers import RunConsumer, UnknownPathConsumer, UserRunsConsumer

# Channels routes ASGI applications with Django's path(), whose stubs expect views.
websocket_urlpatterns: list[URLPattern] = [
    path("ws/runs/", UserRunsConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/runs/<uuid:run_id>/", RunConsumer.as_asgi()),  # type: ignore[arg-type]
    re_path(r"", UnknownPathConsumer.as_asgi()),  # type: ignore[arg-type]
]
