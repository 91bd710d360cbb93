"""The designer's published sample results reproduce: its samples, as Atelier pipelines with
the designer-compatible options, run on the real executor."""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.pipeline_file import load_pipeline
from designer.engine.validation import validate_pipeline
from designer.samples import SAMPLES_DIR
from modules.sdk import default_registry


def metrics_of(sample: str, tmp_path: Path) -> dict[str, float]:
    doc = load_pipeline((SAMPLES_DIR / f"{sample}.yaml").read_bytes())
    plan = compile_plan(validate_pipeline(doc, registry=default_registry()).require())
    executor = Executor(store=LocalArtifactStore(tmp_path / "store"), backends={"local": LocalBackend(capacity=2)})
    result = executor.run(plan, run_id=sample)
    assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    return result.steps["evaluate"].metrics


def test_the_automobile_basic_sample_gives_the_published_coefficient_of_determination(tmp_path: Path) -> None:
    # Published for the designer's "Regression - Automobile Price Prediction (Basic)": 0.868.
    assert metrics_of("designer-automobile-price-basic", tmp_path)["coefficient_of_determination"] == pytest.approx(0.868, abs=5e-4)


@pytest.mark.slow  # the whole income sample, every step in a process of its own
def test_the_income_sample_with_chi_squared_selection_gives_the_published_auc(tmp_path: Path) -> None:
    # Published for "Binary Classification with Feature Selection - Income Prediction": 0.894.
    assert metrics_of("designer-income-feature-selection", tmp_path)["auc"] == pytest.approx(0.894, abs=0.003)
