"""Web Service Input beside the data an input takes in a run: the rules of two sources on one
input, the run's plan without it, its columns, and the plan that serves a request."""
from __future__ import annotations

import pandas as pd
import pytest

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.errors import PipelineInvalid
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.pipeline_file import pipeline_from_data
from designer.engine.schema_propagation import propagate_schemas
from designer.engine.serving import serve, serving_plan
from designer.engine.validation import validate_pipeline
from modules.sdk import default_registry

REG = default_registry()
IRIS = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}
REQUEST = {"module": "web_service_input"}


def nodes_with(select_input, **more):
    return {
        "iris": IRIS,
        "request": REQUEST,
        "select": {"module": "select_columns", "inputs": {"dataset": select_input},
                   "params": {"columns": ["sepal length (cm)", "class"]}},
        "response": {"module": "web_service_output", "inputs": {"dataset": "select.dataset"}},
        **more,
    }


def validation(nodes, **kw):
    doc = pipeline_from_data({"format": "atelier/pipeline@1", "name": "t", "nodes": nodes})
    return validate_pipeline(doc, registry=REG, **kw)


def errors(nodes, **kw):
    return [e.to_json() for e in validation(nodes, **kw).errors]


def test_a_web_service_input_beside_the_run_data_is_valid_and_not_a_step_of_the_run():
    resolved = validation(nodes_with(["iris.dataset", "request.dataset"])).require()
    plan = compile_plan(resolved)
    assert [s.node for s in plan.steps] == ["iris", "select", "response"]
    assert plan.step("select").inputs == {"dataset": ("iris", "dataset")}
    assert plan.step("select").upstream == ("iris",)
    # Its columns are those of the data beside it: the request takes that data's place.
    schemas, column_errors = propagate_schemas(resolved)
    assert not column_errors
    assert schemas["request"]["dataset"].names == schemas["iris"]["dataset"].names


def test_the_order_of_the_two_sources_does_not_matter():
    plan = compile_plan(validation(nodes_with(["request.dataset", "iris.dataset"])).require())
    assert plan.step("select").inputs == {"dataset": ("iris", "dataset")}


def test_a_web_service_input_alone_is_refused_for_a_run_naming_node_and_port():
    assert errors(nodes_with("request.dataset")) == [{
        "code": "request_input_alone",
        "message": "Web Service Input 'request' feeds Select Columns in Dataset's dataset only when the pipeline "
                   "serves requests; wire the data dataset takes in a pipeline run to it too",
        "node": "select", "port": "dataset", "details": {"request_input": "request"},
    }]
    # Serving a request, the request is that input's data.
    assert validation(nodes_with("request.dataset"), serving=True).ok


@pytest.mark.parametrize("sources, says", [
    (["iris.dataset", "other.dataset"], "input 'dataset' has two sources, iris.dataset and other.dataset; an input "
                                        "takes one, or two when one of them is a Web Service Input"),
    (["request.dataset", "request2.dataset"], "two sources, request.dataset and request2.dataset"),
    (["iris.dataset", "request.dataset", "other.dataset"], "input 'dataset' lists 3 sources; an input takes one, "
                                                           "or two when one of them is a Web Service Input"),
    (["iris.dataset"], "lists 1 sources"),
])
def test_two_sources_are_refused_unless_one_is_a_web_service_input(sources, says):
    found = errors(nodes_with(sources, other=IRIS, request2={"module": "web_service_input", "params": {"name": "b"}}))
    assert len(found) == 1 and found[0]["code"] == "too_many_sources", found
    assert says in found[0]["message"]
    assert (found[0]["node"], found[0]["port"]) == ("select", "dataset")


def test_each_source_of_a_list_is_checked_like_a_single_one():
    found = errors(nodes_with(["iris.dataset", "request.nope"]))
    assert [(e["code"], e["port"]) for e in found] == [("unknown_port", "dataset")]


def test_web_service_names_are_required_and_unique_per_kind():
    found = errors(nodes_with(
        ["iris.dataset", "request.dataset"],
        request2=REQUEST,
        response2={"module": "web_service_output", "inputs": {"dataset": "iris.dataset"}, "params": {"name": " "}},
    ))
    assert sorted((e["code"], e["node"], e["param"]) for e in found) == [
        ("duplicate_name", "request2", "name"), ("invalid_param", "response2", "name"),
    ]
    assert "Name 'WebServiceInput0' is taken by Web Service Input 'request'" in next(
        e["message"] for e in found if e["code"] == "duplicate_name"
    )


def test_the_serving_plan_binds_the_request_and_keeps_only_what_leads_to_a_response():
    nodes = nodes_with(["iris.dataset", "request.dataset"], summary={"module": "summarize_data", "inputs": {"dataset": "iris.dataset"}})
    resolved = validation(nodes, serving=True).require()
    plan = serving_plan(resolved, {"WebServiceInput0": "d" * 64})
    assert [s.node for s in plan.steps] == ["select", "response"]  # neither iris nor summary is needed
    assert plan.step("select").bound == {"dataset": "d" * 64} and plan.step("select").inputs == {}
    # Same step signature as in a run: what the request does not reach is reused.
    run_plan = compile_plan(validation(nodes).require())
    assert plan.step("select").signature == run_plan.step("select").signature


def test_a_request_that_does_not_fit_the_pipeline_is_refused_with_the_names():
    resolved = validation(nodes_with(["iris.dataset", "request.dataset"]), serving=True).require()
    with pytest.raises(PipelineInvalid) as caught:
        serving_plan(resolved, {"input1": "d" * 64})
    assert [(e.code, e.node) for e in caught.value.errors] == [
        ("unknown_request_input", None), ("missing_request_input", "request"),
    ]
    assert "the request's table 'input1' is not the name of a Web Service Input (the pipeline's: WebServiceInput0)" in str(caught.value)
    without_output = {k: v for k, v in nodes_with(["iris.dataset", "request.dataset"]).items() if k != "response"}
    with pytest.raises(PipelineInvalid, match="no Web Service Output"):
        serving_plan(validation(without_output).require(), {"WebServiceInput0": "d" * 64})


def test_serving_runs_the_steps_on_the_request_and_answers_with_each_output(tmp_path):
    store = LocalArtifactStore(tmp_path / "store")
    executor = Executor(store=store, backends={"local": LocalBackend(capacity=1)})
    nodes = nodes_with(["iris.dataset", "request.dataset"])
    run = executor.run(compile_plan(validation(nodes).require()))
    assert run.status is Status.COMPLETED and set(run.steps) == {"iris", "select", "response"}

    request = pd.DataFrame({"sepal length (cm)": [5.0, 7.5], "petal width (cm)": [0.1, 2.0], "class": ["a", "b"]})
    answer = serve(validation(nodes, serving=True).require(), {"WebServiceInput0": request}, executor=executor)
    assert list(answer) == ["WebServiceOutput0"]
    pd.testing.assert_frame_equal(answer["WebServiceOutput0"], request[["sepal length (cm)", "class"]])
