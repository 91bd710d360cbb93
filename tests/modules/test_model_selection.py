"""Parameter ranges and Tune Model Hyperparameters, checked against scikit-learn's own sweep
tools and a hand-run of the same combinations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, ParameterGrid, ParameterSampler
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modules.builtin.parameter_ranges import ValueRange, candidates, range_params
from modules.sdk import Float, Int, ModuleError, default_registry
from modules.sdk.conformance import example_table
from modules.sdk.params import ParamError
from modules.sdk.testing import call_module, run_through_runner


def learner(module_id: str, **params: object) -> object:
    return call_module(module_id, params).outputs["model"]


# --- ranges ------------------------------------------------------------------------------


def test_a_range_is_written_as_the_designer_writes_it_or_spread_over_min_max() -> None:
    leaves = ValueRange(of=Int(min=2), name="r")
    assert leaves.clean("2; 8; 32; 128") == [2, 8, 32, 128]
    assert leaves.clean("2, 8") == [2, 8] and leaves.clean(16) == [16] and leaves.clean([4, 4, 8]) == [4, 8]
    assert leaves.clean("2:32:5:log") == [2, 4, 8, 16, 32]
    rate = ValueRange(of=Float(min=1e-6, max=1), name="r")
    assert rate.clean("0.1:0.4:4") == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert rate.clean("0.001:1:4:log") == pytest.approx([0.001, 0.01, 0.1, 1])
    with pytest.raises(ParamError, match="value 1 must be at least 2"):
        leaves.clean("1; 8")
    with pytest.raises(ParamError, match="'many' is not a number"):
        leaves.clean("8; many")
    with pytest.raises(ParamError, match="log scale needs a positive min"):
        rate.clean("0:1:3:log")


def test_every_supervised_learner_offers_ranges_that_pass_their_own_declarations() -> None:
    for cls in default_registry():
        # Clustering and anomaly detection have no labels to rank by; the multiclass wrappers
        # sweep the ranges of the two-class learner they wrap.
        if getattr(cls, "task", None) in ("regression", "binary", "multiclass"):
            assert "trainer_mode" in cls.spec.params and range_params(cls.spec), cls.id


def test_a_grid_is_every_combination_and_a_random_sweep_samples_it_as_scikit_learn_does() -> None:
    spec = default_registry().get("two_class_decision_forest").spec
    params, _ = spec.clean_params({"trainer_mode": "parameter_range", "n_trees_range": "4; 8", "max_depth_range": "2; 4; 8"})
    grid = candidates(spec, params, sweep="grid", max_runs=2, seed=0)
    values = {"n_trees": [4, 8], "max_depth": [2, 4, 8], "min_samples_per_leaf": [1, 4, 16]}
    assert [{k: c[k] for k in values} for c in grid] == list(ParameterGrid(values))
    assert all(c["trainer_mode"] == "single_parameter" and "n_trees_range" not in c for c in grid)
    sampled = candidates(spec, params, sweep="random", max_runs=5, seed=3)
    assert [{k: c[k] for k in values} for c in sampled] == list(ParameterSampler(values, n_iter=5, random_state=3))


# --- Tune Model Hyperparameters ----------------------------------------------------------


FEATURES = ["x1", "x2", "color"]


def test_with_a_validation_table_each_combination_is_trained_and_scored_on_it(tmp_path: Path) -> None:
    df = example_table(rows=200)[[*FEATURES, "klass"]]
    training, validation = df.iloc[:140], df.iloc[140:]
    model = learner("two_class_decision_forest", trainer_mode="parameter_range",
                    n_trees_range="2; 16", max_depth_range="1; 6", min_samples_per_leaf_range="1")
    manifest, out = run_through_runner(
        "tune_model_hyperparameters", {"sweep": "grid", "label_column": "klass"}, tmp_path,
        model=model, dataset=training, validation=validation,
    )
    assert manifest["status"] == "completed", manifest["error"]
    encode = ColumnTransformer([
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color"]),
        ("numeric", "passthrough", ["x1", "x2"]),
    ])
    expected = {}
    for trees in (2, 16):
        for depth in (1, 6):
            forest = RandomForestClassifier(n_estimators=trees, max_depth=depth, min_samples_leaf=1, random_state=0)
            fitted = make_pipeline(encode, forest).fit(training[FEATURES], training["klass"])
            expected[(trees, depth)] = accuracy_score(validation["klass"], fitted.predict(validation[FEATURES]))
    results = out["results"]
    got = {(int(r.n_trees), int(r.max_depth)): r.Accuracy for r in results.itertuples()}
    assert got == pytest.approx(expected)
    assert list(results["Accuracy"]) == sorted(results["Accuracy"], reverse=True)
    best = out["model"].meta["params"]
    assert expected[(best["n_trees"], best["max_depth"])] == max(expected.values())
    assert manifest["metrics"]["accuracy"] == max(expected.values())
    assert {"AUC", "Precision", "Log_Loss"} <= set(results.columns)


def test_without_a_validation_table_combinations_are_cross_validated() -> None:
    df = example_table(rows=90)[[*FEATURES, "target"]]
    model = learner("linear_regression", trainer_mode="parameter_range", l2_range="0.001; 10; 1000")
    run = call_module(
        "tune_model_hyperparameters",
        {"sweep": "grid", "label_column": "target", "regression_metric": "coefficient_of_determination", "folds": 3, "seed": 1},
        model=model, dataset=df,
    )
    folds = KFold(n_splits=3, shuffle=True, random_state=1)
    expected = {}
    for alpha in (0.001, 10, 1000):
        reference = make_pipeline(
            ColumnTransformer([
                ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color"]),
                ("numeric", StandardScaler(), ["x1", "x2"]),
            ]),
            Ridge(alpha=alpha),
        )
        per_fold = []
        for train_rows, test_rows in folds.split(df):
            fitted = reference.fit(df.iloc[train_rows][FEATURES], df.iloc[train_rows]["target"])
            per_fold.append(r2_score(df.iloc[test_rows]["target"], fitted.predict(df.iloc[test_rows][FEATURES])))
        expected[alpha] = np.mean(per_fold)
    results = run.outputs["results"]
    assert dict(zip(results["l2"], results["Coefficient_of_Determination"])) == pytest.approx(expected)
    assert run.outputs["model"].meta["params"]["l2"] == 0.001


def test_a_random_sweep_tries_max_runs_combinations() -> None:
    df = example_table(rows=60)[[*FEATURES, "target"]]
    model = learner("boosted_decision_tree_regression", trainer_mode="parameter_range", n_trees_range="5; 10")
    run = call_module(
        "tune_model_hyperparameters", {"label_column": "target", "max_runs": 4, "folds": 2}, model=model, dataset=df,
    )
    assert len(run.outputs["results"]) == 4
    assert list(run.outputs["results"].columns[:4]) == ["max_leaves", "min_samples_per_leaf", "learning_rate", "n_trees"]


def test_a_single_parameter_learner_is_trained_once_with_a_warning() -> None:
    df = example_table(rows=60)[[*FEATURES, "klass"]]
    run = call_module("tune_model_hyperparameters", {"label_column": "klass"}, model=learner("two_class_logistic_regression"), dataset=df)
    assert len(run.outputs["results"]) == 1 and "single_parameter mode" in run.ctx.warnings[0]


def test_auc_for_a_multiclass_model_is_refused_on_the_metric() -> None:
    df = example_table(rows=60)[[*FEATURES, "grade"]]
    with pytest.raises(ModuleError, match="AUC measures two-class models") as caught:
        call_module("tune_model_hyperparameters", {"label_column": "grade", "classification_metric": "auc"},
                    model=learner("multiclass_decision_forest"), dataset=df)
    assert caught.value.param == "classification_metric"


def test_the_validation_table_needs_the_label() -> None:
    df = example_table(rows=60)[[*FEATURES, "klass"]]
    with pytest.raises(ModuleError, match="validation table lacks the label column 'klass'") as caught:
        call_module("tune_model_hyperparameters", {"label_column": "klass"}, model=learner("two_class_decision_forest"),
                    dataset=df, validation=df.drop(columns="klass"))
    assert caught.value.port == "validation"
