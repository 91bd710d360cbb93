"""The canvas page shell: behind sign-in, served for every client route, carrying the CSRF token."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_static_storage(settings: Any) -> None:
    # The manifest storage needs collectstatic; the shell only has to name the bundle here.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.mark.parametrize("path", ["/", "/pipelines/3/", "/runs/0b7e6a52-3c1d-4f6e-9a57-2f4c8d1e9b10/"])
def test_every_client_route_needs_sign_in_then_serves_the_app(client: Client, django_user_model: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"

    client.force_login(django_user_model.objects.create_user("ada", password="x"))
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/atelier/atelier.js" in html and 'id="root"' in html
    assert "csrftoken" in page.cookies


def test_sign_in_page_signs_in_and_returns_to_the_app(client: Client, django_user_model: Any) -> None:
    django_user_model.objects.create_user("ada", password="correct horse")
    assert client.get("/login/").status_code == 200
    wrong = client.post("/login/", {"username": "ada", "password": "nope"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.content.decode()
    right = client.post("/login/", {"username": "ada", "password": "correct horse", "next": "/pipelines/1/"})
    assert right.status_code == 302 and right["Location"] == "/pipelines/1/"
