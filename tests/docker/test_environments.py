"""Environment images: built once from a host-side wheelhouse, then reused; a requirement
that does not exist fails the build with pip's message."""
from __future__ import annotations

import docker.errors
import pytest

from designer.engine.environments import EnvironmentBuilder, EnvironmentBuildError, EnvironmentSpec
from designer.engine.events import Status
from designer.engine.executor import Executor
from tests.conftest import BASE_IMAGE

from .conftest import plan_of, script

EXTRA = "tabulate==0.9.0"


def test_an_extra_pinned_requirement_builds_once_then_is_reused(docker_client, builder, env_cache, make_backend, store):
    spec = EnvironmentSpec("with-tabulate", BASE_IMAGE, (EXTRA,))
    tag = f"atelier-env:{builder.digest(spec)}"
    try:
        docker_client.images.remove(tag, force=True)  # an earlier run of this test built it
    except docker.errors.ImageNotFound:
        pass

    first = builder.ensure(spec)
    assert first.built and first.tag == tag
    assert "Successfully tagged" in first.log()

    # Another process (a fresh builder) finds the image by its digest and does not build.
    again = EnvironmentBuilder(client=docker_client, cache_dir=env_cache).ensure(spec, on_build=pytest.fail)
    assert not again.built and again.tag == tag
    assert docker_client.images.get(tag).id == docker_client.images.get(first.tag).id

    backend = make_backend()
    backend._image = lambda: tag
    plan = plan_of({"table": script("""
        import tabulate, pandas as pd
        print(tabulate.tabulate([[1, 2]]))
        return pd.DataFrame({"version": [tabulate.__version__]}),
    """, inputs=None)})
    result = Executor(store=store, backends={"docker": backend}).run(plan)
    assert result.status is Status.COMPLETED, result.steps["table"].error


def test_a_requirement_that_does_not_exist_fails_the_build_with_pips_message(builder):
    spec = EnvironmentSpec("broken", BASE_IMAGE, ("atelier-no-such-package==1.0",))
    with pytest.raises(EnvironmentBuildError) as caught:
        builder.ensure(spec)
    assert "No matching distribution found for atelier-no-such-package==1.0" in str(caught.value)
    assert "No matching distribution found" in caught.value.log
    assert "No matching distribution found" in builder.log_path(builder.digest(spec)).read_text()
