"""Whole-graph validation: every error is data that names its node and port/param."""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.engine.compiler import compile_plan
from designer.engine.errors import PipelineInvalid
from designer.engine.pipeline_file import load_pipeline, pipeline_from_data
from designer.engine.validation import validate_pipeline
from modules.sdk import default_registry

REG = default_registry()


def validate(text, parameters=None, computes=("local",), code_refused=None, runtimes=None):
    return validate_pipeline(
        load_pipeline(text), registry=REG, parameters=parameters, computes=computes, code_refused=code_refused,
        runtimes=runtimes,
    )


def errors(text, **kw):
    return [e.to_json() for e in validate(text, **kw).errors]


def only(text, **kw):
    found = errors(text, **kw)
    assert len(found) == 1, found
    return found[0]


CARS = {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}}


def test_a_valid_pipeline_has_no_errors(pipeline_text):
    text = pipeline_text({
        "cars": CARS,
        "split": {"module": "split_data", "inputs": {"dataset": "cars.dataset"}, "params": {"fraction": 0.7}},
    })
    result = validate(text)
    assert result.ok
    assert result.resolved.nodes["split"].params["fraction"] == 0.7


def test_cycle_names_the_nodes_in_it(pipeline_text):
    text = pipeline_text({
        "a": {"module": "select_columns", "inputs": {"dataset": "b.dataset"}, "params": {"columns": ["x"]}},
        "b": {"module": "select_columns", "inputs": {"dataset": "a.dataset"}, "params": {"columns": ["x"]}},
    })
    error = only(text)
    assert error["code"] == "cycle"
    assert set(error["details"]["nodes"]) == {"a", "b"}
    assert "form a cycle" in error["message"] and error["node"] in {"a", "b"}


def test_unknown_module(pipeline_text):
    error = only(pipeline_text({"x": {"module": "no_such_module"}}))
    assert error == {"code": "unknown_module", "message": "there is no module 'no_such_module'", "node": "x"}


def test_unknown_version(pipeline_text):
    error = only(pipeline_text({"x": {"module": "import_data", "version": 7}}))
    assert error["code"] == "unknown_version" and error["node"] == "x" and "no version 7" in error["message"]


def test_missing_required_input(pipeline_text):
    error = only(pipeline_text({"s": {"module": "select_columns", "params": {"columns": ["a"]}}}))
    assert error["code"] == "missing_input"
    assert (error["node"], error["port"]) == ("s", "dataset")


def test_type_mismatch_table_into_model_port(pipeline_text):
    text = pipeline_text({
        "cars": CARS,
        "algo": {"module": "linear_regression"},
        "train": {
            "module": "train_model",
            "inputs": {"model": "cars.dataset", "dataset": "cars.dataset"},
            "params": {"label_column": "price"},
        },
    })
    error = only(text)
    assert error["code"] == "type_mismatch"
    assert (error["node"], error["port"]) == ("train", "model")
    assert error["message"] == "input 'model' takes a UntrainedModel, but cars.dataset is a DataFrame"


def test_reference_to_missing_node_and_port(pipeline_text):
    found = errors(pipeline_text({
        "cars": CARS,
        "a": {"module": "select_columns", "inputs": {"dataset": "ghost.dataset"}, "params": {"columns": ["x"]}},
        "b": {"module": "select_columns", "inputs": {"dataset": "cars.table"}, "params": {"columns": ["x"]}},
        "c": {"module": "select_columns", "inputs": {"dataset": "cars"}, "params": {"columns": ["x"]}},
        "d": {"module": "select_columns", "inputs": {"data": "cars.dataset"}, "params": {"columns": ["x"]}},
    }))
    by_node = {e["node"]: e["code"] for e in found if e["code"] != "missing_input"}
    assert by_node == {"a": "unknown_node", "b": "unknown_port", "c": "bad_reference", "d": "unknown_port"}


@pytest.mark.parametrize(
    "params, param, fragment",
    [
        ({"fraction": "most"}, "fraction", "must be a number, got text 'most'"),
        ({"fraction": 1.5}, "fraction", "must be at most 1"),
        ({"seed": 0.5}, "seed", "must be an integer"),
        ({"mode": "random"}, "mode", "must be one of rows, regex, expression"),
        ({"randomize": "yes"}, "randomize", "must be true or false"),
        ({"fractoin": 0.5}, "fractoin", "is not a param of split_data"),
    ],
)
def test_param_type_and_range_errors_name_the_param(pipeline_text, params, param, fragment):
    error = only(pipeline_text({"cars": CARS, "split": {"module": "split_data", "inputs": {"dataset": "cars.dataset"}, "params": params}}))
    assert (error["node"], error["param"]) == ("split", param)
    assert fragment in error["message"]


def test_required_param_unset(pipeline_text):
    error = only(pipeline_text({"cars": CARS, "s": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"}}}))
    assert (error["code"], error["node"], error["param"]) == ("invalid_param", "s", "columns")
    assert error["message"] == "Columns is required: choose its columns"


def test_pipeline_parameters_are_substituted_with_their_type(pipeline_text):
    text = pipeline_text(
        {"cars": CARS, "split": {"module": "split_data", "inputs": {"dataset": "cars.dataset"},
                                 "params": {"fraction": "${{parameters.share}}"}}},
        parameters={"share": {"type": "float", "default": 0.7}},
    )
    assert validate(text).resolved.nodes["split"].params["fraction"] == 0.7
    # Values from the command line arrive as text and are coerced by the parameter's type.
    assert validate(text, parameters={"share": "0.25"}).resolved.nodes["split"].params["fraction"] == 0.25
    error = only(text, parameters={"share": "lots"})
    assert error["code"] == "invalid_parameter" and "'share' must be a number" in error["message"]
    assert only(text, parameters={"sahre": "0.2"})["code"] == "unknown_parameter"


def test_unresolved_parameter_names_node_and_param(pipeline_text):
    text = pipeline_text({"cars": CARS, "split": {
        "module": "split_data", "inputs": {"dataset": "cars.dataset"}, "params": {"fraction": "${{parameters.nope}}"},
    }})
    error = only(text)
    assert (error["code"], error["node"], error["param"]) == ("unresolved_parameter", "split", "fraction")
    assert "${{parameters.nope}}" in error["message"]


def test_unknown_compute_target(pipeline_text):
    text = pipeline_text({"cars": {**CARS, "compute": "gpu-cluster"}})
    error = only(text)
    assert (error["code"], error["node"]) == ("unknown_compute", "cars")


def test_every_error_is_reported_at_once(pipeline_text):
    text = pipeline_text({
        "x": {"module": "no_such_module"},
        "s": {"module": "select_columns"},
        "cars": {**CARS, "params": {"source": "moon"}},
    })
    codes = sorted(e["code"] for e in errors(text))
    assert codes == ["invalid_param", "invalid_param", "missing_input", "unknown_module"]


def _chain(n: int) -> dict:
    nodes = {"n0": CARS, "n1": {"module": "split_data", "inputs": {"dataset": "n0.dataset"}}}
    for i in range(2, n):
        nodes[f"n{i}"] = {"module": "split_data", "inputs": {"dataset": f"n{i - 1}.first"}, "params": {"fraction": 0.9}}
    return {"format": "atelier/pipeline@1", "name": "big", "nodes": nodes}


def test_a_thousand_node_graph_validates_and_compiles():
    doc = pipeline_from_data(_chain(1000))
    started = time.perf_counter()
    plan = compile_plan(validate_pipeline(doc, registry=REG).require())
    assert len(plan.steps) == 1000
    assert plan.steps[0].node == "n0"
    # Speed is reported by bench/engine_bench.py; this only guards against pathologies.
    assert time.perf_counter() - started < 30


node_ids = st.sampled_from(["a", "b", "c", "d", "e"])
module_ids = st.sampled_from(["import_data", "select_columns", "split_data", "train_model", "linear_regression", "nope"])
ports = st.sampled_from(["dataset", "first", "second", "model", "x"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(node_ids, st.fixed_dictionaries({
    "module": module_ids,
    "inputs": st.dictionaries(ports, st.builds(lambda n, p: f"{n}.{p}", node_ids, ports), max_size=2),
    "params": st.dictionaries(st.sampled_from(["fraction", "columns", "label_column", "seed"]),
                              st.one_of(st.integers(-2, 2), st.floats(allow_nan=True), st.text(max_size=5),
                                        st.lists(st.text(max_size=3), max_size=2)), max_size=2),
}), max_size=5))
def test_random_graphs_give_errors_as_data_never_exceptions(nodes):
    try:
        doc = pipeline_from_data({"format": "atelier/pipeline@1", "name": "r", "nodes": nodes})
    except PipelineInvalid as invalid:  # what no file may hold (a NUL character) is refused on loading
        result = None
        errors = invalid.errors
    else:
        result = validate_pipeline(doc, registry=REG)
        errors = result.errors
    for error in errors:
        assert error.code and error.message
        assert error.node is None or error.node in nodes
    if result is not None and result.ok:
        plan = compile_plan(result.resolved)
        order = [s.node for s in plan.steps]
        for step in plan.steps:
            assert all(order.index(u) < order.index(step.node) for u in step.upstream)


PYTHON_MODEL_NODES = {
    "cars": CARS,
    "mine": {"module": "create_python_model"},
    "train": {"module": "train_model", "inputs": {"model": "mine.model", "dataset": "cars.dataset"},
              "params": {"label_column": ["price"]}, "compute": "docker"},
    "score": {"module": "score_model", "inputs": {"model": "train.model", "dataset": "cars.dataset"}},
    "summary": {"module": "summarize_data", "inputs": {"dataset": "score.dataset"}},
}


def test_a_python_models_code_runs_where_its_model_goes(pipeline_text):
    """Train and Score Model run the code a Python model holds: where users' code may not run,
    they are refused as Create Python Model is; the table downstream runs no code."""
    text = pipeline_text(PYTHON_MODEL_NODES)
    refused = {"local": "has no sandbox here"}
    found = errors(text, computes=("local", "docker"), code_refused=refused)
    assert {(e["node"], e["code"]) for e in found} == {("mine", "code_not_allowed"), ("score", "code_not_allowed")}
    assert "Score Model runs your code (a model that holds it reaches it), and compute 'local' has no sandbox here" in {
        e["message"] for e in found
    }
    plan = compile_plan(validate(text, computes=("local", "docker")).require())
    assert {s.node for s in plan.steps if s.runs_user_code} == {"mine", "train", "score"}


def test_a_module_needing_r_is_refused_where_r_is_absent_naming_where_it_runs(pipeline_text):
    text = pipeline_text({"r": {"module": "execute_r_script"}})
    found = only(text, computes=("local", "docker", "docker-r"), runtimes={"docker-r": ("R",)})
    assert (found["code"], found["node"]) == ("runtime_unavailable", "r")
    assert found["message"] == "Execute R Script needs R, which compute 'local' does not have: run it on 'docker-r'"
    assert found["details"] == {"runtimes": ["R"], "computes": ["docker-r"]}
    nowhere = only(text, computes=("local",))
    assert "no compute target here has it" in nowhere["message"]
    on_r = pipeline_text({"r": {"module": "execute_r_script", "compute": "docker-r"}})
    assert errors(on_r, computes=("local", "docker-r"), runtimes={"docker-r": ("R",)}) == []
