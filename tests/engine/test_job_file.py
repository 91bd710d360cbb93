"""The job file: validated to errors as data, compiled to a one-node Run Script pipeline."""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.engine.errors import PipelineInvalid
from designer.engine.job_file import environment_requirements, job_pipeline, load_job
from designer.engine.pipeline_file import pipeline_from_data


def errors_of(text: str) -> list[dict]:
    with pytest.raises(PipelineInvalid) as invalid:
        load_job(text)
    return [e.to_json() for e in invalid.value.errors]


def test_a_job_file_becomes_a_run_script_pipeline() -> None:
    doc = load_job("""
format: atelier/job@1
name: train-adult
script: train.py
args: [--data, "${{inputs.train}}", --epochs, 5, --model, "${{outputs.model}}"]
inputs:
  train: dataset:adult:2
  extra: {path: extra/file.csv}
experiment: adult
timeout: 60
""")
    pipeline = job_pipeline(doc, snapshot="a" * 64, compute="docker")
    node = pipeline["nodes"]["job"]
    assert node["module"] == "run_script" and node["timeout"] == 60
    assert node["params"]["arguments"] == "--data '${{inputs.train}}' --epochs 5 --model '${{outputs.model}}'"
    assert node["params"]["inputs"] == "train=dataset:adult:2\nextra=path:extra/file.csv"
    assert pipeline["settings"] == {"default_compute": "docker"}
    assert pipeline_from_data(pipeline).nodes["job"].params["snapshot"] == "a" * 64
    assert doc.experiment == "adult"


def test_a_command_is_split_into_script_and_arguments() -> None:
    doc = load_job("format: atelier/job@1\ncommand: python src/train.py --lr 0.1\n")
    assert doc.entry == ("src/train.py", ["--lr", "0.1"])


@pytest.mark.parametrize("text, code, where", [
    ("format: atelier/job@1\nscript: a.py\nscirpt: b.py\n", "unknown_key", "scirpt"),
    ("format: atelier/job@2\nscript: a.py\n", "unknown_format", "format"),
    ("format: atelier/job@1\n", "invalid_value", None),
    ("format: atelier/job@1\ncommand: bash run.sh\n", "invalid_value", None),
    ("format: atelier/job@1\nscript: a.py\ninputs: {train: s3://bucket}\n", "invalid_value", "inputs"),
    ("format: atelier/job@1\nscript: a.py\ntimeout: -1\n", "invalid_value", "timeout"),
])
def test_bad_job_files_say_what_and_where(text: str, code: str, where: str | None) -> None:
    errors = errors_of(text)
    assert errors[0]["code"] == code, errors
    if where:
        assert errors[0]["param"].startswith(where), errors


def test_environment_files_give_pip_requirements_and_refuse_conda_packages(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.9.1  # pinned\n\nlightgbm\n")
    assert environment_requirements(tmp_path / "requirements.txt") == ("scikit-learn==1.9.1", "lightgbm")
    (tmp_path / "environment.yml").write_text(
        "name: x\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - joblib==1.4.2\n"
    )
    assert environment_requirements(tmp_path / "environment.yml") == ("joblib==1.4.2",)
    (tmp_path / "conda.yml").write_text("dependencies:\n  - cudatoolkit=11\n  - pip:\n    - joblib\n")
    with pytest.raises(PipelineInvalid) as refused:
        environment_requirements(tmp_path / "conda.yml")
    assert "cudatoolkit=11" in refused.value.errors[0].message
    assert refused.value.errors[0].code == "conda_not_supported"
