"""End-to-end tests: Debian's Chromium, driven by Playwright, against a live daphne serving
the built canvas, the test database and a Redis channel layer (the realtime tests' launcher).

Runs execute on real Celery workers (`server_env`), as in the scaled deployment."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core import serializers
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from tests.cluster import ROOT, broker_url, celery_cluster, daphne, database_url, dispatch_env
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
TIMEOUT_MS = 15_000  # generous: CI shares two cores between the browser, the server and the steps

expect.set_options(timeout=TIMEOUT_MS)

# Every e2e module marks itself with this: a live server must see the deployment as
# migrated (e.g. the default compute targets a data migration creates), not the empty
# tables another test's flush left. The marker makes pytest-django keep the migrated rows
# when it creates the test database; `server` puts them back (see `migrated_rows`).
LIVE_DATABASE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="session")
def migrated_rows(django_db_setup: None, django_db_blocker: Any) -> str:
    """The rows the migrations wrote, as serialized when the test database was made.

    Read before Playwright starts its event loop in this thread: from then on Django's
    connection handler (context-local) hands out a fresh connection object, which lacks
    them, so pytest-django's own restore finds nothing after a non-e2e test ran first."""
    return getattr(connections[DEFAULT_DB_ALIAS], "_test_serialized_contents", "")


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built bundle and every app's static files, collected once (the server uses the
    production manifest storage, as `make run` does)."""
    if not (ROOT / "static" / "atelier" / "atelier.js").exists():
        pytest.fail("the canvas is not built: run `make install` (npm ci + npm run build)")
    data = tmp_path_factory.mktemp("static-data")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT, env={**os.environ, "ATELIER_DATA_DIR": str(data)}, check=True,
    )
    return data / "staticfiles"


@pytest.fixture
def server_env(redis_url: str, tmp_path: Path, worker_id: str) -> Iterator[dict[str, str]]:
    """Runs go to real Celery workers (two, and beat), as in the scaled deployment: this is
    the environment of every process, the server's included. The workers share the server's
    artifact store and dataset folders."""
    data = tmp_path / "data"
    env = {
        **dispatch_env(
            database=database_url(), redis_url=redis_url, broker=broker_url(worker_id), data_dir=tmp_path / "workers"
        ),
        "ATELIER_ARTIFACT_STORE": str(data / "artifacts"),
        "ATELIER_DATASETS_DIR": str(data / "datasets"),
    }
    with celery_cluster(env, tmp_path):
        yield env


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:<port>
    log: Path


@pytest.fixture
def server(
    transactional_db: None, settings: Any, redis_url: str, tmp_path: Path,
    collected_static: Path, server_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, migrated_rows: str,
) -> Iterator[LiveServer]:
    # Only into tables the flush left empty: what post_migrate rebuilds (content types,
    # permissions, …) is there already, with new ids.
    empty: dict[type, bool] = {}
    for row in serializers.deserialize("json", migrated_rows or "[]"):
        model = type(row.object)
        if empty.setdefault(model, not model._default_manager.exists()):
            row.save()
    data = tmp_path / "data"
    data.mkdir()
    (data / "staticfiles").symlink_to(collected_static, target_is_directory=True)
    for key, value in server_env.items():
        monkeypatch.setenv(key, value)
    with daphne("designer.asgi:application", settings, redis_url, tmp_path) as running:
        yield LiveServer(url=running.origin, log=running.log)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. While Playwright's sync API runs, its event loop sits in
    this thread and Django's ORM takes every call for an async one; the tests' own database
    work (fixtures, flushes) is plain sync code, so the check is off until the browser
    closes, before the tests of other folders run in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    """Where the e2e run keeps its screenshots: test-results/screenshots/ (gitignored)."""
    folder = ROOT / "test-results" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Page, server: LiveServer, path: str = "/") -> None:
    page.goto(f"{server.url}{path}")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}{path}")


@pytest.fixture
def page(server: LiveServer, user: Any, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A signed-in page at 1280×800, the smallest screen the canvas is built for."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    # Any uncaught error, failed request or server error fails the test, even when what
    # the test looks at still showed up: a white page or a 500 is a defect in itself.
    page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
    page.on("requestfailed", lambda request: _request_failed(request, errors))
    page.on("response", lambda response: response.status >= 500 and errors.append(
        f"{response.request.method} {response.url} answered {response.status}"
    ))
    sign_in(page, server)
    yield page
    # The last screen of every test, to see what a failure looked like.
    last = ROOT / "test-results" / "last-screen"
    last.mkdir(parents=True, exist_ok=True)
    for number, open_page in enumerate(context.pages):
        open_page.screenshot(path=str(last / f"{request.node.name}-{number}.png"))
    context.close()
    assert not errors, f"the page raised or a request failed: {errors}"


def _request_failed(request: Request, errors: list[str]) -> None:
    # A request the page itself dropped (leaving the page, an aborted fetch, a closed
    # socket) is not a failure of the server's.
    if request.failure != "net::ERR_ABORTED":
        errors.append(f"{request.method} {request.url} failed: {request.failure}")
