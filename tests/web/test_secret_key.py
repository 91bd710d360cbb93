"""The embedded default's secret key: `make run` creates it once in the data dir (mode 0600)
and every process reads it, so a session outlives a restart of the server; without the
file (tests, the CLI) each process still gets a random key, and DJANGO_SECRET_KEY wins."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.test import Client

from tests.cluster import ROOT, daphne_process, database_url


def manage(data: Path, *args: str, secret: str = "") -> str:
    # An empty DJANGO_SECRET_KEY is an unset one, whatever the suite's environment holds.
    env = {**os.environ, "ATELIER_DATA_DIR": str(data), "DJANGO_SECRET_KEY": secret}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def key_of(data: Path, secret: str = "") -> str:
    printed = manage(data, "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", secret=secret)
    return printed.splitlines()[-1]


def test_the_key_is_created_once_readable_by_its_owner_only(tmp_path):
    assert "Created the secret key" in manage(tmp_path, "create_secret_key")
    key_file = tmp_path / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert manage(tmp_path, "create_secret_key") == ""
    assert key_file.read_text() == key
    assert [p.name for p in tmp_path.iterdir() if "secret" in p.name] == ["secret_key"]


def test_every_process_reads_the_kept_key(tmp_path):
    manage(tmp_path, "create_secret_key")
    assert key_of(tmp_path) == key_of(tmp_path) == (tmp_path / "secret_key").read_text()


def test_without_the_file_each_process_has_a_key_of_its_own(tmp_path):
    assert key_of(tmp_path) != key_of(tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_the_environment_wins(tmp_path):
    manage(tmp_path, "create_secret_key")
    assert key_of(tmp_path, secret="from-the-environment") == "from-the-environment"
    assert "is set" in manage(tmp_path, "create_secret_key", secret="from-the-environment")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kept", [True, False])
def test_a_session_outlives_a_restart_when_the_key_is_kept(tmp_path, settings: Any, django_user_model: Any, kept):
    data = tmp_path / "data"
    data.mkdir()
    if kept:
        manage(data, "create_secret_key")
        settings.SECRET_KEY = (data / "secret_key").read_text()
    client = Client()
    client.force_login(django_user_model.objects.create_user("ada", password="not-used"))
    cookie = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    env = {"DATABASE_URL": database_url(), "ATELIER_DATA_DIR": str(data), "DJANGO_SECRET_KEY": "",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    answers = []
    for start in range(2):
        with daphne_process(env, tmp_path / f"daphne-{start}.log") as daphne:
            me = requests.get(f"http://127.0.0.1:{daphne.port}/api/auth/me/", cookies=cookie, timeout=60)
            answers.append(me.status_code)
    assert answers == ([200, 200] if kept else [403, 403])
