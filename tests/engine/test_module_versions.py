"""Pipelines saved with an older module version: upgraded through the module's migration,
validated, compiled and run; errors as data where no upgrade exists."""
from __future__ import annotations

from typing import Any

import pandas as pd

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.module_versions import pin_versions, upgrade_document
from designer.engine.pipeline_file import pipeline_from_data
from designer.engine.validation import validate_pipeline
from modules.sdk import Float, Int, Module, Output, ParamValues, PortType, StepContext, default_registry
from modules.sdk.artifacts import read_table
from modules.sdk.registry import Registry

REG = default_registry()

# The automobile regression, evaluated by Evaluate Model version 1, whose results table named
# its columns by the metric keys; a Select Columns downstream picks one by that name.
SAVED_WITH_VERSION_1 = {
    "cars": {"module": "import_data", "version": 1, "params": {"source": "sample", "name": "automobile-price-raw"}},
    "select": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"},
               "params": {"columns": {"include": "all", "exclude": ["normalized-losses"]}}},
    "clean": {"module": "clean_missing_data", "inputs": {"dataset": "select.dataset"}, "params": {"mode": "remove_row"}},
    "split": {"module": "split_data", "inputs": {"dataset": "clean.dataset"}, "params": {"fraction": 0.7}},
    "algorithm": {"module": "linear_regression"},
    "train": {"module": "train_model", "inputs": {"model": "algorithm.model", "dataset": "split.first"},
              "params": {"label_column": "price"}},
    "score": {"module": "score_model", "inputs": {"model": "train.model", "dataset": "split.second"}},
    "evaluate": {"module": "evaluate_model", "version": 1, "inputs": {"scored": "score.dataset"}},
    "r2": {"module": "select_columns", "inputs": {"dataset": "evaluate.results"},
           "params": {"columns": ["coefficient_of_determination"]}},
}


def document(nodes: dict[str, Any], **top: Any) -> Any:
    return pipeline_from_data({"format": "atelier/pipeline@1", "name": "old", **top, "nodes": nodes})


def test_a_node_saved_with_an_older_version_validates_as_the_current_one_with_migrated_params() -> None:
    validation = validate_pipeline(document(SAVED_WITH_VERSION_1), registry=REG)
    assert validation.ok, validation.errors
    [upgrade] = validation.upgrades
    assert (upgrade.node, upgrade.from_module, upgrade.from_version, upgrade.to_version) == (
        "evaluate", "evaluate_model", 1, 2,
    )
    assert "evaluate_model version 1 is now evaluate_model version 2" in upgrade.message
    resolved = validation.require()
    assert resolved.nodes["evaluate"].params == {"column_names": "metric_keys"}
    # What runs is recorded as what it is now: a run's snapshot shows version 2 and its params.
    evaluate = resolved.doc.nodes["evaluate"]
    assert evaluate.version == 2 and evaluate.params == {"column_names": "metric_keys"}
    assert resolved.doc.nodes["cars"] == document(SAVED_WITH_VERSION_1).nodes["cars"]
    assert resolved.doc.nodes["split"].version == 1  # pinned: the snapshot says what ran
    step = compile_plan(resolved).step("evaluate")
    assert (step.version, step.params) == (2, {"column_names": "metric_keys"})


def test_a_pipeline_saved_with_version_1_runs_and_its_downstream_nodes_still_work(tmp_path: Any) -> None:
    plan = compile_plan(validate_pipeline(document(SAVED_WITH_VERSION_1), registry=REG).require())
    store = LocalArtifactStore(tmp_path / "store")
    result = Executor(store=store, backends={"local": LocalBackend(capacity=2)}).run(plan, run_id="old")
    assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    r2 = read_table(store.path(result.steps["r2"].outputs["dataset"]["artifact"]))
    assert list(r2.columns) == ["coefficient_of_determination"]
    assert 0.8 < r2.iloc[0, 0] < 1


def test_the_current_version_is_taken_as_it_is() -> None:
    nodes = {**SAVED_WITH_VERSION_1, "evaluate": {**SAVED_WITH_VERSION_1["evaluate"], "version": 2}}
    validation = validate_pipeline(document(nodes), registry=REG)
    assert validation.ok and validation.upgrades == []
    assert validation.require().nodes["evaluate"].params == {"column_names": "designer"}


def test_a_version_newer_than_this_installation_is_an_error_on_the_node() -> None:
    validation = validate_pipeline(document({"e": {"module": "evaluate_model", "version": 3}}), registry=REG)
    [error] = [e for e in validation.errors if e.code == "unknown_version"]
    assert error.node == "e" and "no version 3 (it has 2)" in error.message and "newer Atelier" in error.message


# A module pack's history: `acme.shrink` version 1 had `ratio`; version 2 renamed it
# `fraction` and made it a share (a ratio of 4 is a fraction of 0.25); version 3 replaced the
# id `acme.old_shrink` and added `rounds`.


class Shrink(Module):
    id = "acme.shrink"
    version = 3
    name = "Shrink"
    category = "Test"
    help = "Keeps a fraction."
    replaces = ("acme.old_shrink",)

    class Outputs:
        model = Output(type=PortType.UNTRAINED_MODEL)

    class Params:
        fraction = Float(default=0.5, min=0, max=1)
        rounds = Int(default=1, min=1)

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        if from_version < 2 and "ratio" in params:
            params["fraction"] = 1 / params.pop("ratio")
        return params

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        raise NotImplementedError


class Broken(Shrink):
    id = "acme.broken"
    replaces = ()

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        return params["missing"]


def pack_registry() -> Registry:
    registry = Registry()
    registry.add(Shrink)
    registry.add(Broken)
    return registry.freeze()


def test_every_older_version_and_a_replaced_id_migrate_in_one_step() -> None:
    registry = pack_registry()
    doc = document({
        "v1": {"module": "acme.shrink", "version": 1, "params": {"ratio": 4}},
        "renamed": {"module": "acme.old_shrink", "version": 2, "params": {"fraction": 0.1}},
        "latest": {"module": "acme.shrink", "params": {"fraction": 0.3}},
        "parameter": {"module": "acme.shrink", "version": 2, "params": {"fraction": "${{parameters.share}}"}},
    }, parameters={"share": {"type": "float", "default": 0.2}})
    validation = validate_pipeline(doc, registry=registry)
    assert validation.ok, validation.errors
    nodes = validation.require().nodes
    assert nodes["v1"].params == {"fraction": 0.25, "rounds": 1}
    assert nodes["renamed"].module is Shrink and nodes["renamed"].params["fraction"] == 0.1
    assert nodes["parameter"].params["fraction"] == 0.2
    upgrades = {u.node: (u.from_module, u.from_version, u.to_module, u.to_version) for u in validation.upgrades}
    assert upgrades == {
        "v1": ("acme.shrink", 1, "acme.shrink", 3),
        "renamed": ("acme.old_shrink", 2, "acme.shrink", 3),
        "parameter": ("acme.shrink", 2, "acme.shrink", 3),
    }
    assert validation.require().doc.nodes["renamed"].module == "acme.shrink"


def test_a_failing_migration_is_an_error_on_its_node_not_a_crash() -> None:
    validation = validate_pipeline(document({"b": {"module": "acme.broken", "version": 1}}), registry=pack_registry())
    [error] = validation.errors
    assert error.code == "migration_failed" and error.node == "b"
    assert "could not migrate the params of version 1 to version 3" in error.message and "KeyError" in error.message


def test_upgrading_a_document_for_the_canvas_and_pinning_versions_on_save() -> None:
    registry = pack_registry()
    doc = document({
        "old": {"module": "acme.shrink", "version": 1, "params": {"ratio": 2}},
        "new": {"module": "acme.shrink"},
        "unknown": {"module": "acme.nothing", "version": 1},
    })
    upgraded = upgrade_document(doc, registry=registry)
    assert upgraded.doc.nodes["old"].version == 3 and upgraded.doc.nodes["old"].params == {"fraction": 0.5}
    assert upgraded.doc.nodes["unknown"] == doc.nodes["unknown"]  # left for validation to report
    assert [u.node for u in upgraded.upgrades] == ["old"]
    assert upgrade_document(upgraded.doc, registry=registry).upgrades == []

    pinned = pin_versions(doc, registry=registry)
    assert pinned.nodes["new"].version == 3
    assert pinned.nodes["old"] == doc.nodes["old"] and pinned.nodes["unknown"].version == 1


def test_the_step_runner_upgrades_a_step_compiled_before_the_module_changed(tmp_path: Any) -> None:
    # A queued step of an older plan reaching a worker that has the new version.
    from modules.sdk.runner import execute
    from modules.sdk.testing import run_through_runner

    manifest, out = run_through_runner(
        "evaluate_model", {}, tmp_path / "new",
        scored=read_scored(tmp_path),
    )
    assert manifest["status"] == "completed"
    old = execute({
        "node": "e", "module": "evaluate_model", "version": 1, "params": {},
        "inputs": {"scored": str(tmp_path / "new" / "in" / "scored")},
        "output_dir": str(tmp_path / "old" / "out"), "work_dir": str(tmp_path / "old" / "work"),
    })
    assert old["status"] == "completed", old["error"]
    assert "coefficient_of_determination" in read_table(tmp_path / "old" / "out" / "results").columns
    assert "Coefficient_of_Determination" in out["results"].columns


def read_scored(tmp_path: Any) -> pd.DataFrame:
    from modules.sdk import set_roles

    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "Scored Labels": [1.1, 1.9, 3.2, 3.9]})
    return set_roles(df, {"y": "label", "Scored Labels": "score"})
