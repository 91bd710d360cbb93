"""Every datasets endpoint: the owner gets it, another user gets 404 (as if it did not exist),
an anonymous client is refused; and lists and names are each user's own."""
from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from designer.datasets.models import Dataset, DatasetVersion

from .conftest import CSV, upload

pytestmark = pytest.mark.django_db


def endpoints(dataset: dict[str, Any]) -> list[tuple[str, str, Any, int]]:
    """(method, url, body, status the owner gets) for every endpoint that names a dataset;
    bodies are built per call (an upload can be read once)."""
    base = f"/api/datasets/{dataset['id']}/"
    return [
        ("get", base, None, 200),
        ("get", f"{base}versions/", None, 200),
        ("post", f"{base}versions/", lambda: {"file": upload(CSV)}, 201),
        ("get", f"{base}versions/1/", None, 200),
        ("get", f"{base}versions/1/preview/", None, 200),
        ("get", f"{base}versions/1/profile/", None, 200),
        ("get", f"{base}versions/1/download/", None, 200),
        ("delete", base, None, 204),
    ]


def call(client: APIClient, method: str, url: str, body: Any):
    return getattr(client, method)(url, body() if body else None, format="multipart")


def test_another_user_gets_404_everywhere(intruder, dataset):
    for method, url, body, _ in endpoints(dataset):
        response = call(intruder, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["errors"][0]["code"] == "not_found"
    # Nothing was added or deleted in the owner's name.
    assert Dataset.objects.count() == 1 and DatasetVersion.objects.count() == 1


def test_the_owner_gets_every_endpoint(api, dataset):
    for method, url, body, expected in endpoints(dataset):
        response = call(api, method, url, body)
        assert response.status_code == expected, (method, url, response.status_code)


def test_anonymous_clients_are_refused(dataset):
    anonymous = APIClient()
    for method, url, body, _ in [*endpoints(dataset), ("get", "/api/datasets/", None, 200),
                                 ("post", "/api/datasets/", lambda: {"file": upload(CSV)}, 201)]:
        assert call(anonymous, method, url, body).status_code in (401, 403), (method, url)
    assert Dataset.objects.count() == 1 and DatasetVersion.objects.count() == 1


def test_lists_and_names_are_ones_own(api, intruder, user, other_user, store_dirs, dataset):
    # The same name is another dataset for another user, stored in that user's own folder.
    theirs = intruder.post("/api/datasets/", {"file": upload(CSV + "1,2,red\n"), "name": "cars"}, format="multipart")
    assert theirs.status_code == 201 and theirs.json()["id"] != dataset["id"]
    assert theirs.json()["current_version"] == 1
    assert [d["id"] for d in api.get("/api/datasets/").json()["results"]] == [dataset["id"]]
    assert [d["id"] for d in intruder.get("/api/datasets/").json()["results"]] == [theirs.json()["id"]]
    root = store_dirs / "datasets"
    assert (root / "users" / str(user.pk) / "cars" / "v1" / "table.parquet").is_file()
    assert (root / "users" / str(other_user.pk) / "cars" / "v1" / "table.parquet").is_file()
    assert not (root / "users" / str(user.pk) / "cars" / "v2").exists()
