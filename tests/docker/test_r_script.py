"""Execute R Script on docker compute: an environment with R (Debian's r-base-core, fetched
by the host's apt and installed offline) runs the designer's R contract; a failing script
reports R's message."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from designer.engine.environments import EnvironmentSpec
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.compiler import compile_plan
from designer.engine.pipeline_file import pipeline_from_data
from designer.engine.validation import validate_pipeline
from modules.builtin.r_script import DEFAULT_SCRIPT
from modules.sdk import default_registry
from modules.sdk.artifacts import read_table
from tests.conftest import BASE_IMAGE

from .conftest import IRIS

R_SCRIPT = textwrap.dedent("""\
    azureml_main <- function(dataframe1, dataframe2){
      print("R script run.")
      means <- aggregate(dataframe1[, c("sepal length (cm)", "petal width (cm)")],
                         by = list(species = dataframe1$class), FUN = mean)
      wide <- dataframe1[dataframe1[["petal width (cm)"]] > 2, c("class", "petal width (cm)")]
      return(list(dataset1 = means, dataset2 = wide))
    }
    """)


def table(store, result, node: str, port: str) -> pd.DataFrame:
    return read_table(store.path(result.steps[node].outputs[port]["artifact"]))


@pytest.fixture(scope="module")
def r_image(builder):
    return builder.ensure(EnvironmentSpec("with-r", BASE_IMAGE, system_packages=("r-base-core",))).tag


def r_plan(script: str):
    doc = pipeline_from_data({
        "format": "atelier/pipeline@1", "name": "r", "settings": {"default_compute": "docker"},
        "nodes": {"iris": IRIS, "r": {"module": "execute_r_script", "inputs": {"dataset1": "iris.dataset"},
                                      "params": {"script": script}}},
    })
    validation = validate_pipeline(doc, registry=default_registry(), computes=("docker",), runtimes={"docker": ("R",)})
    return compile_plan(validation.require())


def test_the_designers_r_contract_runs_and_matches_pandas(r_image, make_backend, store, events):
    backend = make_backend(image=lambda: r_image)
    result = Executor(store=store, backends={"docker": backend}, on_event=events).run(r_plan(R_SCRIPT))
    assert result.status is Status.COMPLETED, result.steps["r"].error
    assert any("R script run." in line for line in events.logs("r"))
    iris = table(store, result, "iris", "dataset")
    means = table(store, result, "r", "dataset1")
    expected = iris.groupby("class")[["sepal length (cm)", "petal width (cm)"]].mean().reset_index()
    assert means["species"].tolist() == expected["class"].tolist()
    pd.testing.assert_series_equal(means["sepal length (cm)"], expected["sepal length (cm)"], check_names=False)
    wide = table(store, result, "r", "dataset2")
    assert len(wide) == (iris["petal width (cm)"] > 2).sum()


def test_the_default_script_passes_the_table_through(r_image, make_backend, store):
    backend = make_backend(image=lambda: r_image)
    result = Executor(store=store, backends={"docker": backend}).run(r_plan(DEFAULT_SCRIPT))
    assert result.status is Status.COMPLETED, result.steps["r"].error
    out = table(store, result, "r", "dataset1")
    iris = table(store, result, "iris", "dataset")
    pd.testing.assert_frame_equal(out, iris, check_dtype=False)


def test_an_r_error_is_the_scripts_error_with_rs_message(r_image, make_backend, store):
    backend = make_backend(image=lambda: r_image)
    script = 'azureml_main <- function(dataframe1, dataframe2){\n  stop("no price column")\n}\n'
    result = Executor(store=store, backends={"docker": backend}).run(r_plan(script))
    error = result.steps["r"].error
    assert result.status is Status.FAILED
    assert error["code"] == "script_error" and error["message"] == "the R script failed: no price column"


def test_without_r_the_image_refuses_the_step(make_backend, store):
    """The default image has no R: a step that gets there anyway says what it needs."""
    result = Executor(store=store, backends={"docker": make_backend()}).run(r_plan(DEFAULT_SCRIPT))
    error = result.steps["r"].error
    assert error["code"] == "runtime_unavailable" and "docker compute target whose environment includes R" in error["message"]
