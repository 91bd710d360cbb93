"""While Redis cannot be reached, an endpoint that needs it answers 503 with Retry-After in
the API's error shape (never a 500 page), and the schema says so."""
from __future__ import annotations

import io
from typing import Any

import pytest
import yaml
from django.core.management import call_command

from tests.cluster import free_port

from .test_api import finished  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_an_endpoint_whose_redis_is_away_answers_503_with_retry_after(api: Any, finished: Any, settings: Any) -> None:  # noqa: F811
    run = finished()
    # The previews cache on a Redis nothing listens for.
    settings.CACHES = {**settings.CACHES, "previews": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
    }}

    response = api.get(f"/api/runs/{run.pk}/steps/typed/outputs/dataset/preview/")

    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    [error] = response.json()["errors"]
    assert error["code"] == "service_unavailable" and "again" in error["message"]


def test_the_schema_documents_the_503_of_every_operation() -> None:
    out = io.StringIO()
    call_command("spectacular", stdout=out)
    schema = yaml.safe_load(out.getvalue())

    unavailable = schema["components"]["responses"]["Unavailable"]
    assert "Retry-After" in unavailable["headers"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"]["503"] == {"$ref": "#/components/responses/Unavailable"}, (method, path)
