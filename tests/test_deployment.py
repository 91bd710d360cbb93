"""Deployment files stay well-formed, and production settings pass Django's deploy checks."""
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_docker_compose_parses_and_wires_the_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web"} <= set(services)
    web = services["web"]
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["REDIS_URL"].startswith("redis://")
    assert "designer.asgi:application" in web["command"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_docker_compose_runs_workers_for_the_step_queues_and_beat_for_the_lost_worker_sweep():
    from django.conf import settings

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    worker, beat = services["worker"], services["beat"]
    queues = worker["command"][worker["command"].index("-Q") + 1].split(",")
    assert "local" in queues and settings.CELERY_TASK_DEFAULT_QUEUE in queues
    assert "beat" in beat["command"]
    for service in (worker, beat, services["web"]):
        assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://")
        assert service["environment"]["ATELIER_DATA_DIR"] == "/data"  # the shared artifact store


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ, "ATELIER_ENV": "production", "DJANGO_SECRET_KEY": "x" * 64 + "-not-a-real-key-only-for-this-check",
        "ATELIER_DATA_DIR": str(tmp_path), "DJANGO_ALLOWED_HOSTS": "atelier.example.org",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "ATELIER_ENV": "production", "ATELIER_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SECRET_KEY", None)
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "DJANGO_SECRET_KEY must be set in production" in done.stderr


def test_readme_names_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
