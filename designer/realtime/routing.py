"""WebSocket routes; designer/asgi.py mounts them behind the session authentication."""
from django.urls import URLPattern, path

from .consumers import RunConsumer, UserRunsConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/runs/", UserRunsConsumer.as_asgi()),
    path("ws/runs/<uuid:run_id>/", RunConsumer.as_asgi()),
]
