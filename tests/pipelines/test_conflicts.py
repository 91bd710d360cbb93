"""Saves never overwrite each other: a save based on an out-of-date version gets 409 with
the current version, and the current version is left as it was."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from designer.pipelines import services
from designer.pipelines.models import Pipeline

from .conftest import document


@pytest.mark.django_db
def test_two_saves_from_the_same_base_the_second_gets_409(api, pipeline):
    url = f"/api/pipelines/{pipeline.pk}/"
    mine, theirs = document(name="mine"), document(name="theirs")
    assert api.put(url, {"document": mine, "base_version": 1}, format="json").status_code == 200

    response = api.put(url, {"document": theirs, "base_version": 1}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2 and body["document"]["name"] == "mine"
    assert body["errors"][0]["code"] == "version_conflict" and body["errors"][0]["field"] == "base_version"
    pipeline.refresh_from_db()
    assert (pipeline.current_version, pipeline.name, pipeline.versions.count()) == (2, "mine", 2)

    # Based on the current version, the same change goes through.
    assert api.put(url, {"document": theirs, "base_version": 2}, format="json").json()["current_version"] == 3


@pytest.mark.django_db
def test_a_base_version_from_the_future_is_a_conflict_too(api, pipeline):
    response = api.put(f"/api/pipelines/{pipeline.pk}/", {"document": document(), "base_version": 5}, format="json")
    assert response.status_code == 409 and response.json()["current_version"] == 1


@pytest.mark.django_db
def test_a_rename_from_an_old_base_is_a_conflict(api, pipeline):
    api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": "first"}, format="json")
    response = api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": "second", "base_version": 1}, format="json")
    assert response.status_code == 409 and response.json()["current_version"] == 2
    # Without a base version a rename applies on top of whatever is current.
    assert api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": "third"}, format="json").json()["current_version"] == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_the_same_base_exactly_one_wins(user):
    pipeline = services.pipeline_create(user=user, document=document())
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def save(n: int) -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = client.put(
                f"/api/pipelines/{pipeline.pk}/", {"document": document(name=f"save {n}"), "base_version": 1},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    assert Pipeline.objects.get().current_version == 2
