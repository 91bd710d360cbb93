"""The text, recommender and anomaly detection samples run on the real executor and measure
what they are for."""
from __future__ import annotations

from pathlib import Path

from designer.engine.artifact_store import LocalArtifactStore
from designer.engine.compiler import compile_plan
from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from designer.engine.pipeline_file import load_pipeline
from designer.engine.validation import validate_pipeline
from designer.samples import SAMPLES_DIR
from modules.sdk import default_registry


def metrics_of(sample: str, tmp_path: Path) -> dict[str, dict[str, float]]:
    doc = load_pipeline((SAMPLES_DIR / f"{sample}.yaml").read_bytes())
    plan = compile_plan(validate_pipeline(doc, registry=default_registry()).require())
    executor = Executor(store=LocalArtifactStore(tmp_path / "store"), backends={"local": LocalBackend(capacity=2)})
    result = executor.run(plan, run_id=sample)
    assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
    return {node: step.metrics for node, step in result.steps.items()}


def test_text_classification_learns_sentiment_from_ngrams(tmp_path: Path) -> None:
    evaluate = metrics_of("text-sentiment-classification", tmp_path)["evaluate"]
    # About 5% of the labels are flipped on purpose, so 0.95 is the ceiling.
    assert evaluate["accuracy"] > 0.8 and evaluate["auc"] > 0.85
    assert evaluate["compare.accuracy"] > 0.8


def test_the_recommender_predicts_ratings_and_ranks_held_out_movies(tmp_path: Path) -> None:
    metrics = metrics_of("svd-movie-recommender", tmp_path)
    # The ratings' standard deviation is about 1.2 stars.
    assert metrics["evaluate"]["root_mean_squared_error"] < 0.9
    assert metrics["evaluate_ranking"]["ndcg"] > 0.9


def test_pca_anomaly_detection_tells_malignant_tumours_from_benign_ones(tmp_path: Path) -> None:
    evaluate = metrics_of("anomaly-detection", tmp_path)["evaluate"]
    assert evaluate["auc"] > 0.85
    assert evaluate["precision"] > 0.8
