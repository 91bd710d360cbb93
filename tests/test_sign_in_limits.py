"""Sign-in attempts are throttled per client address: the token endpoint and the three
sign-in pages share one budget (10 a minute by default); a throttled request gets 429 and
Retry-After, on the API in its JSON error shape. A client cannot dodge the count with an
X-Forwarded-For header of its choosing."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # each test hashes a budget of passwords
BUDGET = 10


@pytest.fixture(autouse=True)
def plain_static_storage(settings: Any) -> None:
    # The pages name their styles; the manifest storage would need collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def ada(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ada", password="lovelace-1815")


def token_attempt(client: Client, password: str = "guess", **headers: str):
    return client.post("/api/auth/token/", {"username": "ada", "password": password},
                       content_type="application/json", **headers)


def test_token_requests_past_the_budget_get_429_with_retry_after():
    client = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(BUDGET):
        assert token_attempt(client, HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}").status_code == 400
    refused = token_attempt(client, "lovelace-1815", HTTP_X_FORWARDED_FOR="10.0.0.99")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    (error,) = refused.json()["errors"]
    assert error["code"] == "throttled" and "throttled" in error["message"]


def test_another_address_has_its_own_budget():
    for _ in range(BUDGET + 1):
        token_attempt(Client(REMOTE_ADDR="203.0.113.7"))
    assert token_attempt(Client(REMOTE_ADDR="203.0.113.8"), "lovelace-1815").status_code == 200


@pytest.mark.parametrize("page", ["/login/", "/api-auth/login/", "/admin/login/"])
def test_sign_in_pages_are_throttled_too(page):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(BUDGET):
        assert client.post(page, {"username": "ada", "password": "guess"}).status_code == 200  # the form again
    refused = client.post(page, {"username": "ada", "password": "lovelace-1815"})
    assert refused.status_code == 429
    assert refused["Retry-After"].isdigit()
    assert b"Too many sign-in attempts" in refused.content
    assert client.get(page).status_code == 200, "showing the page is not an attempt"
    assert "_auth_user_id" not in client.session


def test_pages_and_the_api_share_one_budget():
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(BUDGET):
        page = ["/login/", "/api-auth/login/", "/admin/login/"][number % 3]
        client.post(page, {"username": "ada", "password": "guess"})
    assert token_attempt(client, "lovelace-1815").status_code == 429


def test_a_right_password_within_the_budget_signs_in():
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(BUDGET - 1):
        client.post("/login/", {"username": "ada", "password": "guess"})
    assert client.post("/login/", {"username": "ada", "password": "lovelace-1815"}).status_code == 302
