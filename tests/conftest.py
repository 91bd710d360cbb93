"""Fixtures shared by every test folder."""
from __future__ import annotations

import signal
import textwrap

import pytest
import yaml


def pytest_configure(config: pytest.Config) -> None:
    """Tests press Ctrl-C on the commands they start. A suite started in the background by a
    shell without job control inherits SIGINT ignored, and so would those commands (Python
    then never raises KeyboardInterrupt): they get it back, as in a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _deployment_rows(request: pytest.FixtureRequest) -> None:
    """The rows every deployment gets when it migrates (the default compute targets),
    put back for each database test: a transactional test's flush empties every table, and
    a deployment never runs without them."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        return
    transactional = bool(names & {"transactional_db", "live_server"}) or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from designer.compute.backends import compute_targets_seed

    compute_targets_seed()


@pytest.fixture(autouse=True)
def _sign_in_attempts_forgotten() -> None:
    """Sign-in attempts are counted per client address in a cache that lives as long as the
    process: every test starts with none counted (the in-memory cache only; a Redis one
    would be another deployment's to clear)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["throttle"], LocMemCache):
        caches["throttle"].clear()


@pytest.fixture
def in_test_transaction():
    """For requests sent in-process to Django's WSGI handler (Schemathesis): as Django's test
    client does, a request's end must not close the connection holding the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def pipeline_text():
    """Build a pipeline file's text from a nodes mapping (plus optional top-level keys)."""

    def build(nodes: dict, **top) -> str:
        data = {"format": "atelier/pipeline@1", "name": "test", **top, "nodes": nodes}
        return yaml.safe_dump(data, sort_keys=False)

    return build


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
