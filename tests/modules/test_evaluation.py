"""Evaluate Model: metrics checked against scikit-learn on hand-made scored tables."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modules.sdk import ModuleError, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.registry import default_registry
from modules.sdk.testing import call_module, run_through_runner

RNG = np.random.default_rng(0)


def scored_table(columns: dict[str, object], label: str | None, scores: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    roles = {c: "score" for c in scores}
    if label:
        roles[label] = "label"
    return set_roles(df, roles)


def regression_table(rows: int = 200, noise: float = 1.0) -> pd.DataFrame:
    actual = RNG.normal(10, 3, rows)
    return scored_table(
        {"y": actual, "Scored Labels": actual + RNG.normal(0, noise, rows)}, "y", ["Scored Labels"]
    )


def binary_table(rows: int = 300) -> pd.DataFrame:
    probability = RNG.random(rows)
    actual = np.where(RNG.random(rows) < probability, "yes", "no")
    return scored_table(
        {"klass": actual, "Scored Labels": np.where(probability > 0.5, "yes", "no"), "Scored Probabilities": probability},
        "klass", ["Scored Labels", "Scored Probabilities"],
    )


def test_regression_metrics_match_scikit_learn() -> None:
    df = regression_table()
    y, p = df["y"], df["Scored Labels"]
    run = call_module("evaluate_model", {}, scored=df)
    m = run.ctx.metrics
    assert m["mean_absolute_error"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert m["root_mean_squared_error"] == pytest.approx(skm.root_mean_squared_error(y, p))
    assert m["relative_absolute_error"] == pytest.approx(np.abs(y - p).sum() / np.abs(y - y.mean()).sum())
    assert m["relative_squared_error"] == pytest.approx(((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert m["coefficient_of_determination"] == pytest.approx(skm.r2_score(y, p))
    results = run.outputs["results"]
    assert results.shape[0] == 1 and results.loc[0, "Task"] == "regression"
    assert results.loc[0, "Coefficient_of_Determination"] == pytest.approx(m["coefficient_of_determination"])


def test_results_columns_have_the_designers_names_or_the_metric_keys() -> None:
    regression = call_module("evaluate_model", {}, scored=regression_table()).outputs["results"]
    assert list(regression.columns) == [
        "Scored_Dataset", "Task", "Mean_Absolute_Error", "Root_Mean_Squared_Error", "Relative_Absolute_Error",
        "Relative_Squared_Error", "Coefficient_of_Determination",
    ]
    binary = call_module("evaluate_model", {}, scored=binary_table()).outputs["results"]
    assert list(binary.columns)[2:] == ["Accuracy", "Precision", "Recall", "F1_Score", "AUC", "Log_Loss"]
    keyed = call_module("evaluate_model", {"column_names": "metric_keys"}, scored=binary_table())
    assert list(keyed.outputs["results"].columns) == ["dataset", "task", *keyed.ctx.metrics]


def test_version_1_nodes_keep_the_metric_keys_as_column_names() -> None:
    # Version 1 wrote the metric keys; its pipelines may select those columns downstream.
    resolution = default_registry().resolve("evaluate_model", 1, {})
    assert resolution.module.version == 2 and resolution.params == {"column_names": "metric_keys"}
    assert default_registry().resolve("evaluate_model", 2, {}).params == {}


def test_regression_visuals_are_capped_and_json_safe() -> None:
    run = call_module("evaluate_model", {}, scored=regression_table(rows=5000))
    points = run.ctx.visuals["predicted_vs_actual"]
    assert len(points["actual"]) == len(points["predicted"]) == 2000
    assert len(run.ctx.visuals["residuals"]["residual"]) == 2000
    json.dumps(run.ctx.visuals, allow_nan=False)


def test_binary_metrics_match_scikit_learn() -> None:
    df = binary_table()
    y, pred, prob = df["klass"] == "yes", df["Scored Labels"] == "yes", df["Scored Probabilities"]
    run = call_module("evaluate_model", {}, scored=df)
    m = run.ctx.metrics
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1_score"] == pytest.approx(skm.f1_score(y, pred))
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, prob))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, prob))

    visuals = run.ctx.visuals
    json.dumps(visuals, allow_nan=False)
    assert visuals["confusion_matrix"] == {
        "labels": ["no", "yes"],
        "matrix": skm.confusion_matrix(df["klass"], df["Scored Labels"], labels=["no", "yes"]).tolist(),
    }
    roc = visuals["roc"]
    assert roc["false_positive_rate"][0] == 0.0 and roc["true_positive_rate"][-1] == 1.0
    assert roc["threshold"][0] is None  # scikit-learn's infinite first threshold
    assert len(visuals["precision_recall"]["precision"]) <= 1000


def test_binary_positive_class_is_the_second_sorted_value() -> None:
    # With 0/1 labels the positive class is 1: precision is about predicting 1.
    df = scored_table(
        {"y": [0, 0, 1, 1], "Scored Labels": [1, 0, 1, 1], "Scored Probabilities": [0.6, 0.2, 0.9, 0.7]},
        "y", ["Scored Labels", "Scored Probabilities"],
    )
    m = call_module("evaluate_model", {}, scored=df).ctx.metrics
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == 1.0


def test_multiclass_metrics_match_scikit_learn_with_numeric_classes() -> None:
    # Classes 1, 2, 10 sort differently as text: the probability columns must still line up.
    classes = [1, 2, 10]
    probabilities = RNG.dirichlet(np.ones(3), 150)
    actual = np.array([RNG.choice(classes, p=p) for p in probabilities])
    predicted = np.array(classes)[probabilities.argmax(axis=1)]
    columns = {f"Scored Probabilities_{c}": probabilities[:, i] for i, c in enumerate(classes)}
    df = scored_table({"y": actual, "Scored Labels": predicted, **columns}, "y", ["Scored Labels", *columns])

    run = call_module("evaluate_model", {}, scored=df)
    m = run.ctx.metrics
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(actual, predicted))
    assert m["macro_precision"] == pytest.approx(skm.precision_score(actual, predicted, average="macro"))
    assert m["macro_recall"] == pytest.approx(skm.recall_score(actual, predicted, average="macro"))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(actual, predicted, average="macro"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(actual, probabilities, labels=classes))
    assert run.ctx.visuals["confusion_matrix"] == {
        "labels": ["1", "2", "10"],
        "matrix": skm.confusion_matrix(actual, predicted, labels=classes).tolist(),
    }


def test_multiclass_log_loss_is_empty_for_classes_the_model_never_saw() -> None:
    df = scored_table(
        {"y": ["a", "b", "z"], "Scored Labels": ["a", "b", "a"],
         "Scored Probabilities_a": [0.9, 0.2, 0.6], "Scored Probabilities_b": [0.1, 0.8, 0.4]},
        "y", ["Scored Labels", "Scored Probabilities_a", "Scored Probabilities_b"],
    )
    run = call_module("evaluate_model", {}, scored=df)
    assert np.isnan(run.ctx.metrics["log_loss"])
    assert run.ctx.visuals["confusion_matrix"]["labels"] == ["a", "b", "z"]


def test_clustering_counts_and_distances() -> None:
    df = scored_table(
        {"Assignments": [0, 0, 1],
         "DistancesToClusterCenter no.0": [1.0, 3.0, 5.0],
         "DistancesToClusterCenter no.1": [4.0, 6.0, 2.0]},
        None, ["Assignments", "DistancesToClusterCenter no.0", "DistancesToClusterCenter no.1"],
    )
    run = call_module("evaluate_model", {}, scored=df)
    m = run.ctx.metrics
    assert m["cluster_0.points"] == 2 and m["cluster_1.points"] == 1
    assert m["cluster_0.mean_distance_to_center"] == 2.0
    assert m["cluster_0.max_distance_to_center"] == 3.0
    assert m["cluster_0.mean_distance_to_other_centers"] == 5.0
    assert m["mean_distance_to_center"] == 2.0 and m["max_distance_to_center"] == 3.0
    assert run.ctx.visuals["clusters"][1] == {
        "cluster": 1, "points": 1.0, "mean_distance_to_center": 2.0, "max_distance_to_center": 2.0,
        "mean_distance_to_other_centers": 5.0,
    }


def test_comparing_two_scored_tables_prefixes_the_second(tmp_path: Path) -> None:
    manifest, out = run_through_runner(
        "evaluate_model", {}, tmp_path, scored=regression_table(noise=1.0), scored_compare=regression_table(noise=3.0)
    )
    assert manifest["status"] == "completed", manifest["error"]
    results = out["results"]
    assert list(results["Scored_Dataset"]) == ["scored", "scored_compare"]
    metrics = manifest["metrics"]
    assert metrics["compare.coefficient_of_determination"] == pytest.approx(results.loc[1, "Coefficient_of_Determination"])
    assert metrics["coefficient_of_determination"] > metrics["compare.coefficient_of_determination"]
    assert "compare.residuals" in manifest["visuals"]


def test_evaluating_a_table_without_scores_is_a_clear_error() -> None:
    with pytest.raises(ModuleError, match="no score columns.*Score Model") as caught:
        call_module("evaluate_model", {}, scored=example_table())
    assert caught.value.port == "scored"


def test_evaluating_without_a_label_is_a_clear_error() -> None:
    df = set_roles(regression_table(), {"Scored Labels": "score"})
    with pytest.raises(ModuleError, match="label role, found none"):
        call_module("evaluate_model", {}, scored=df)


def test_regression_scores_against_a_text_label_are_refused() -> None:
    df = scored_table({"y": ["a", "b"], "Scored Labels": [1.0, 2.0]}, "y", ["Scored Labels"])
    with pytest.raises(ModuleError, match="'y' is not numeric"):
        call_module("evaluate_model", {}, scored=df)


def test_binary_scores_need_two_classes() -> None:
    df = scored_table(
        {"y": ["a", "b", "c"], "Scored Labels": ["a", "b", "b"], "Scored Probabilities": [0.1, 0.9, 0.8]},
        "y", ["Scored Labels", "Scored Probabilities"],
    )
    with pytest.raises(ModuleError, match="two values"):
        call_module("evaluate_model", {}, scored=df)


def test_empty_scored_table_is_refused() -> None:
    with pytest.raises(ModuleError, match="no rows"):
        call_module("evaluate_model", {}, scored=regression_table().iloc[:0])
