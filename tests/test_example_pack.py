"""The example pack (examples/atelier-example-pack, installed by `make install`): its module in
the palette and running on local and docker compute, its compute backend as a target, and
its release in its steps' cache keys."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from designer.compute.backends import compute_targets_seed
from designer.engine.events import Status
from modules.sdk import default_registry
from tests.security.conftest import compute, finished, submit  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[1]
IRIS = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}
NUMBERED = {"iris": IRIS, "numbered": {"module": "example.add_row_numbers", "inputs": {"dataset": "iris.dataset"},
                                       "params": {"start": 0}}}


def test_the_pack_is_loaded_with_its_release():
    registry = default_registry()
    assert registry.load_errors == []
    assert registry.get("example.add_row_numbers").pack == "atelier-example-pack==1.0.0"
    assert [pack.distribution for pack in registry.packs] == ["atelier-example-pack==1.0.0"]


@pytest.mark.django_db
def test_its_module_is_in_the_palette_and_its_backend_a_target(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("ada"))
    modules = {m["id"]: m for m in client.get("/api/modules/").json()}
    assert modules["example.add_row_numbers"]["category"] == "Example Pack"
    targets = {t["name"]: t for t in client.get("/api/compute/").json()}
    assert targets["one-at-a-time"]["backend"] == "example.one_at_a_time" and targets["one-at-a-time"]["available"]
    assert compute_targets_seed() == []  # created once, then left as the admin sets it


@pytest.mark.django_db(transaction=True)
def test_its_module_runs_on_local_and_docker_compute(django_user_model, compute):
    user = django_user_model.objects.create_user("ada")
    run = finished(submit(user, NUMBERED, default_compute=compute))
    step = run.steps.get(node="numbered")
    assert run.status == "completed", step.error
    assert step.outputs["dataset"]["rows"] == 150
    assert [c["name"] for c in step.outputs["dataset"]["schema"]][-1] == "row_number"


@pytest.mark.django_db(transaction=True)
def test_its_backend_runs_steps(user, store_dirs):
    run = finished(submit(user, NUMBERED, default_compute="one-at-a-time"))
    assert run.status == Status.COMPLETED.value
    assert {s.placement["compute"] for s in run.steps.all()} == {"one-at-a-time"}


PROBE = '''
from modules.sdk import Input, Module, Output, PortType


class Echo(Module):
    id = "probe.echo"
    name = "Echo"

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME)

    def run(self, ctx, params, dataset):
        return {"dataset": dataset}
'''


def installed_probe(folder: Path, version: str) -> Path:
    """A pack of one module, installed in `folder` at `version` as pip lays it out."""
    (folder / "atelier_probe").mkdir(parents=True)
    (folder / "atelier_probe" / "__init__.py").write_text(PROBE)
    info = folder / f"atelier_probe-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: atelier-probe\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[atelier.modules]\nprobe = atelier_probe\n")
    return folder


def signature_with(folder: Path) -> str:
    script = textwrap.dedent("""
        import json
        from designer.engine.compiler import compile_plan
        from designer.engine.pipeline_file import pipeline_from_data
        from designer.engine.validation import validate_pipeline
        from modules.sdk import default_registry
        doc = pipeline_from_data({"format": "atelier/pipeline@1", "name": "p", "nodes": {
            "iris": {"module": "import_data", "params": {"source": "sample", "name": "iris"}},
            "echo": {"module": "probe.echo", "inputs": {"dataset": "iris.dataset"}}}})
        plan = compile_plan(validate_pipeline(doc, registry=default_registry()).require())
        print(json.dumps({s.node: s.signature for s in plan.steps}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={"PYTHONPATH": f"{ROOT}:{folder}"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_upgrading_a_pack_invalidates_its_steps_cached_outputs_only(tmp_path):
    first = signature_with(installed_probe(tmp_path / "v1", "1.0.0"))
    again = signature_with(installed_probe(tmp_path / "v1-again", "1.0.0"))
    upgraded = signature_with(installed_probe(tmp_path / "v2", "1.1.0"))
    assert first == again
    assert upgraded["echo"] != first["echo"]
    assert upgraded["iris"] == first["iris"]  # Atelier's own steps keep their outputs
