"""Execute R Script where no R is installed: a clear refusal, not a crash. (Runs with R are
in tests/docker/test_r_script.py, on an environment image with R.)"""
from __future__ import annotations

import shutil

import pytest

from modules.sdk.conformance import example_table
from modules.sdk.testing import run_through_runner


@pytest.mark.skipif(shutil.which("Rscript") is not None, reason="R is installed here")
def test_without_r_the_step_says_where_r_scripts_run(tmp_path):
    manifest, _ = run_through_runner("execute_r_script", {}, tmp_path, dataset1=example_table())
    assert manifest["status"] == "failed"
    assert manifest["error"]["code"] == "runtime_unavailable"
    assert manifest["error"]["message"] == (
        "R is not installed where this step runs: run Execute R Script on a docker compute target "
        "whose environment includes R"
    )
