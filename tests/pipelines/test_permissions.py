"""Every pipelines endpoint: the owner gets it, another user gets 404 (as if it did not
exist), and an anonymous client is refused."""
from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from designer.pipelines.models import Pipeline, PipelineVersion

from .conftest import document

pytestmark = pytest.mark.django_db


def endpoints(pipeline: Pipeline) -> list[tuple[str, str, Any, int]]:
    """(method, url, body, status the owner gets) for every endpoint that names a pipeline."""
    base = f"/api/pipelines/{pipeline.pk}/"
    return [
        ("get", base, None, 200),
        ("get", f"{base}versions/", None, 200),
        ("get", f"{base}versions/1/", None, 200),
        ("get", f"{base}export/?format=json", None, 200),
        ("post", f"{base}validate/", {}, 200),
        ("post", f"{base}duplicate/", {}, 201),
        ("put", base, {"document": document(name="saved"), "base_version": 1}, 200),
        ("patch", base, {"name": "renamed"}, 200),
        ("delete", base, None, 204),
    ]


def test_another_user_gets_404_everywhere(intruder, pipeline):
    for method, url, body, _ in endpoints(pipeline):
        response = getattr(intruder, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["errors"][0]["code"] == "not_found"
    # Nothing was changed, copied or deleted in the owner's name.
    assert Pipeline.objects.count() == 1 and PipelineVersion.objects.count() == 1


def test_the_owner_gets_every_endpoint(api, pipeline):
    for method, url, body, expected in endpoints(pipeline):
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == expected, (method, url, response.content)


def test_lists_show_only_ones_own(api, intruder, pipeline):
    intruder.post("/api/pipelines/", {"name": "theirs"}, format="json")
    assert [p["name"] for p in api.get("/api/pipelines/").json()["results"]] == ["regression"]
    assert [p["name"] for p in intruder.get("/api/pipelines/").json()["results"]] == ["theirs"]


def test_a_duplicate_belongs_to_whoever_made_it(api, pipeline, user):
    copy = api.post(f"/api/pipelines/{pipeline.pk}/duplicate/", {}, format="json").json()
    assert Pipeline.objects.get(pk=copy["id"]).owner == user


def test_anonymous_clients_are_refused(pipeline):
    anonymous = APIClient()
    urls = [(m, u, b) for m, u, b, _ in endpoints(pipeline)] + [
        ("get", "/api/pipelines/", None),
        ("post", "/api/pipelines/", {"name": "x"}),
        ("post", "/api/pipelines/import/", None),
        ("get", "/api/modules/", None),
        ("get", "/api/modules/split_data/", None),
        ("get", "/api/auth/me/", None),
    ]
    for method, url, body in urls:
        response = getattr(anonymous, method)(url, body, format="json")
        assert response.status_code in (401, 403), (method, url, response.status_code)
        assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert Pipeline.objects.count() == 1 and PipelineVersion.objects.count() == 1


def test_a_bad_token_is_refused(pipeline):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get(f"/api/pipelines/{pipeline.pk}/")
    assert response.status_code in (401, 403) and response.json()["errors"][0]["code"] == "authentication_failed"
