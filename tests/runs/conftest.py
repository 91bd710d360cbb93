from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster import ROOT, database_url


@pytest.fixture
def manage(data_dir: Path, transactional_db: None):
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
