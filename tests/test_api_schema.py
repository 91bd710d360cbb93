"""The OpenAPI schema the canvas is typed from (frontend/openapi.yaml, turned into TypeScript
at build) is the one the server serves: a serializer changed without it fails here, and a
canvas that no longer fits the new schema then fails its type check."""
from __future__ import annotations

from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[1] / "frontend" / "openapi.yaml"


def test_the_canvas_is_typed_from_the_served_schema(tmp_path):
    served = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(served))
    assert served.read_text() == COMMITTED.read_text(), (
        "frontend/openapi.yaml is out of date: `make openapi` writes it, then rebuild the canvas"
    )
