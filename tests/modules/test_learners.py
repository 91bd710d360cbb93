"""Algorithm modules: the estimators they build, trained against plain scikit-learn."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from modules.builtin.learners import first_rows_as_centers
from modules.sdk import Estimator
from modules.sdk.artifacts import read_value, write_value
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module
from modules.sdk.types import PortType

FEATURES = ["x1", "x2", "color", "flag"]
TEXT = ["color", "flag"]
NUMERIC = ["x1", "x2"]

# module id, params, task, label, the scikit-learn estimator it should build, scales numeric features
LEARNERS: list[tuple[str, dict[str, Any], str, str, BaseEstimator, bool]] = [
    ("linear_regression", {}, "regression", "target", Ridge(alpha=0.001), True),
    ("linear_regression", {"l2": 0.0, "fit_intercept": False}, "regression", "target",
     LinearRegression(fit_intercept=False), True),
    ("linear_regression", {"solver": "sgd", "seed": 3}, "regression", "target",
     SGDRegressor(alpha=0.001, eta0=0.1, max_iter=10, tol=None, random_state=3), True),
    ("boosted_decision_tree_regression", {}, "regression", "target",
     HistGradientBoostingRegressor(max_leaf_nodes=20, min_samples_leaf=10, learning_rate=0.2,
                                   max_iter=100, early_stopping=False, random_state=0), False),
    ("decision_forest_regression", {"bootstrap": False}, "regression", "target",
     RandomForestRegressor(n_estimators=8, max_depth=32, min_samples_leaf=1, bootstrap=False,
                           random_state=0), False),
    ("two_class_logistic_regression", {"l2": 0.5}, "binary", "klass",
     LogisticRegression(C=2.0, tol=1e-7, max_iter=1000, random_state=0), True),
    ("two_class_boosted_decision_tree", {"n_trees": 20}, "binary", "klass",
     HistGradientBoostingClassifier(max_leaf_nodes=20, min_samples_leaf=10, learning_rate=0.2,
                                    max_iter=20, early_stopping=False, random_state=0), False),
    ("two_class_decision_forest", {}, "binary", "klass",
     RandomForestClassifier(n_estimators=8, max_depth=32, min_samples_leaf=1, random_state=0), False),
    ("multiclass_logistic_regression", {}, "multiclass", "grade",
     LogisticRegression(C=1.0, tol=1e-7, max_iter=1000, random_state=0), True),
    ("multiclass_decision_forest", {"n_trees": 5, "seed": 7}, "multiclass", "grade",
     RandomForestClassifier(n_estimators=5, max_depth=32, min_samples_leaf=1, random_state=7), False),
]
IDS = [f"{m}-{i}" for i, (m, *_) in enumerate(LEARNERS)]


def roundtrip(port_type: PortType, value: Estimator, folder: Path) -> Estimator:
    write_value(port_type, value, folder)
    return read_value(port_type, folder)


def reference_pipeline(estimator: BaseEstimator, scale: bool) -> Any:
    """What Train Model should build, written out independently with scikit-learn."""
    return make_pipeline(
        ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), TEXT),
            ("numeric", StandardScaler() if scale else "passthrough", NUMERIC),
        ]),
        estimator,
    )


@pytest.mark.parametrize(("module_id", "params", "task", "label", "expected", "scale"), LEARNERS, ids=IDS)
def test_learner_builds_the_estimator(module_id, params, task, label, expected, scale) -> None:
    model = call_module(module_id, params).outputs["model"]
    assert type(model.obj) is type(expected)
    assert model.obj.get_params() == expected.get_params()
    assert model.meta["task"] == task
    assert model.meta["algorithm"] == module_id
    assert model.meta["scaling"] == ("standard" if scale else None)


@pytest.mark.parametrize(("module_id", "params", "task", "label", "expected", "scale"), LEARNERS, ids=IDS)
def test_trained_learner_matches_scikit_learn_and_survives_skops(
    module_id, params, task, label, expected, scale, tmp_path
) -> None:
    df = example_table(rows=80)[[*FEATURES, label]]
    train, test = df.iloc[:60], df.iloc[60:]
    untrained = roundtrip(PortType.UNTRAINED_MODEL, call_module(module_id, params).outputs["model"], tmp_path / "u")
    trained = call_module("train_model", {"label_column": label}, model=untrained, dataset=train).outputs["model"]
    reloaded = roundtrip(PortType.TRAINED_MODEL, trained, tmp_path / "t")

    reference = reference_pipeline(expected, scale).fit(train[FEATURES], train[label])
    ours = reloaded.obj.predict(test[FEATURES])
    if task == "regression":
        np.testing.assert_allclose(ours, reference.predict(test[FEATURES]), rtol=1e-6, atol=1e-8)
    else:
        assert list(ours) == list(reference.predict(test[FEATURES]))
        np.testing.assert_allclose(
            reloaded.obj.predict_proba(test[FEATURES]), reference.predict_proba(test[FEATURES]), atol=1e-8
        )
    assert reloaded.meta["label"] == label
    assert reloaded.meta["features"] == FEATURES


def test_classifier_meta_records_classes_and_positive_class() -> None:
    model = call_module("two_class_logistic_regression").outputs["model"]
    trained = call_module("train_model", {"label_column": "klass"}, model=model, dataset=example_table()).outputs["model"]
    assert trained.meta["classes"] == ["no", "yes"]
    assert trained.meta["positive_class"] == "yes"
    multi = call_module("multiclass_decision_forest").outputs["model"]
    trained = call_module("train_model", {"label_column": "grade"}, model=multi, dataset=example_table()).outputs["model"]
    assert trained.meta["classes"] == ["a", "b", "c"]
    assert "positive_class" not in trained.meta


@pytest.mark.parametrize("init", ["kmeans++", "random", "first_n"])
@pytest.mark.parametrize("normalize", [True, False])
def test_kmeans_matches_scikit_learn(init: str, normalize: bool, tmp_path: Path) -> None:
    df = example_table(rows=60)
    params = {"n_clusters": 3, "init": init, "normalize": normalize, "seed": 4, "max_iter": 50}
    untrained = roundtrip(
        PortType.UNTRAINED_CLUSTER_MODEL, call_module("kmeans_clustering", params).outputs["model"], tmp_path / "u"
    )
    assert untrained.meta == {"task": "clustering", "algorithm": "kmeans_clustering", "version": 1,
                              "scaling": "minmax" if normalize else None, "missing_numeric": False, "params": params}
    run = call_module("train_clustering_model", {}, model=untrained, dataset=df)
    trained = roundtrip(PortType.TRAINED_CLUSTER_MODEL, run.outputs["model"], tmp_path / "t")

    numeric = ["x1", "x2", "target"]
    X = MinMaxScaler().fit_transform(df[numeric]) if normalize else df[numeric].to_numpy(dtype=float)
    sk_init = {"kmeans++": "k-means++", "random": "random", "first_n": X[:3]}[init]
    reference = KMeans(n_clusters=3, init=sk_init, n_init=1 if init == "first_n" else "auto",
                       max_iter=50, random_state=4).fit(X)
    np.testing.assert_allclose(trained.obj[-1].cluster_centers_, reference.cluster_centers_, atol=1e-10)
    assert list(trained.obj.predict(df[numeric])) == list(reference.labels_)


def test_first_rows_as_centers_takes_a_copy_of_the_first_rows() -> None:
    X = np.arange(12.0).reshape(6, 2)
    centers = first_rows_as_centers(X, 2, None)
    np.testing.assert_array_equal(centers, X[:2])
    assert not np.shares_memory(centers, X)  # KMeans moves the centers in place


def test_learners_handle_text_and_boolean_features_not_seen_in_training() -> None:
    df = example_table()
    model = call_module("linear_regression").outputs["model"]
    trained = call_module("train_model", {"label_column": "target"}, model=model, dataset=df).outputs["model"]
    new = df.head(3).assign(color=["purple", "red", "teal"])
    scored = call_module("score_model", {}, model=trained, dataset=new).outputs["dataset"]
    assert scored["Scored Labels"].notna().all()


def test_every_learner_is_in_its_category() -> None:
    from modules.sdk import default_registry

    ids = {m for m, *_ in LEARNERS} | {"kmeans_clustering"}
    for module_id in ids:
        spec = default_registry().get(module_id).spec
        assert spec.category == "Machine Learning Algorithms"
        assert spec.help and spec.description
        assert "seed" in spec.params


@pytest.mark.parametrize("module_id", ["two_class_boosted_decision_tree", "boosted_decision_tree_regression"])
def test_designer_compatible_boosted_trees_are_three_levels_deep_like_the_designers(module_id: str) -> None:
    # The designer's LightGBM trainer fixes max_depth=3 whatever the leaf count.
    model = call_module(module_id, {"designer_compatible": True}).outputs["model"]
    assert model.obj.get_params()["max_depth"] == 3
    assert call_module(module_id, {}).outputs["model"].obj.get_params()["max_depth"] is None
    assert model.meta["missing_numeric"] is True
