from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, for the `manage.py` processes a test starts."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def manage(data_dir, transactional_db):
    """Run `python manage.py ...` as a user would, against the test database."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        full_env = {
            **os.environ, "DATABASE_URL": database_url(), "ATELIER_DATA_DIR": str(data_dir), **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def write_pipeline(tmp_path, pipeline_text):
    def write(nodes: dict, name: str = "pipeline.yaml", **top) -> str:
        path = tmp_path / name
        path.write_text(pipeline_text(nodes, **top))
        return str(path)

    return write


@pytest.fixture
def store_dirs(settings, data_dir):
    """Point the artifact store and the datasets at this test's own folder."""
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": data_dir / "artifacts", "DATASETS_DIR": data_dir / "datasets",
    }
    return data_dir


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="not-used")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("brian", password="not-used")


@pytest.fixture
def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
