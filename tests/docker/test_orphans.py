"""Step containers left by an Atelier process that died are removed by the next one to
start; several starting at once (a server's Celery workers) sweep the same ones, and none
of them fails over a container another has just removed."""
from __future__ import annotations

import socket
import subprocess

import docker.errors
import pytest
from docker.models.containers import ContainerCollection

from designer.engine.docker_backend import LABEL


@pytest.fixture
def orphan(docker_client, default_image):
    """A container labelled as started on this host by a process that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    container = docker_client.containers.create(default_image, ["true"], labels={
        LABEL: "1", "atelier.host": socket.gethostname(), "atelier.pid": str(ended.pid),
    })
    yield container
    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


def test_a_dead_process_s_containers_are_removed(make_backend, docker_client, orphan):
    make_backend()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(orphan.id)


@pytest.mark.parametrize("moment", ["get", "list"])
def test_an_orphan_another_process_removed_meanwhile_is_no_error(
    make_backend, docker_client, orphan, monkeypatch, moment
):
    """Another process removes the orphan while this one lists the containers (between the
    engine's list and the inspection of each), or after it listed them, before it removes."""
    real = getattr(ContainerCollection, moment)

    def while_another_process_sweeps(self, *args, **kwargs):
        if moment == "get" and args and args[0] == orphan.id:
            docker_client.api.remove_container(orphan.id, force=True)
        found = real(self, *args, **kwargs)
        if moment == "list" and any(c.id == orphan.id for c in found):
            docker_client.api.remove_container(orphan.id, force=True)
        return found

    monkeypatch.setattr(ContainerCollection, moment, while_another_process_sweeps)
    make_backend()  # would raise NotFound from the sweep, failing whatever step started it
    monkeypatch.undo()
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(orphan.id)
