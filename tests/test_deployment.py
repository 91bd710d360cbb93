"""Deployment files stay well-formed."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_docker_compose_parses_and_wires_the_database():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "pipelines"} <= set(services)
    assert "postgres" in services["pipelines"]["depends_on"]
    assert services["pipelines"]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_readme_names_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
