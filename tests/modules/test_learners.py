"""Algorithm modules: the estimators they build, trained against plain scikit-learn."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.decomposition import PCA
from sklearn.linear_model import (
    LinearRegression, LogisticRegression, PoissonRegressor, Ridge, SGDClassifier, SGDRegressor,
)
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from modules.builtin.learners import first_rows_as_centers
from modules.sdk import Estimator, ModuleError, roles_of
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
    ("multiclass_boosted_decision_tree", {"n_trees": 20}, "multiclass", "grade",
     HistGradientBoostingClassifier(max_leaf_nodes=20, min_samples_leaf=10, learning_rate=0.2,
                                    max_iter=20, early_stopping=False, random_state=0), False),
    ("poisson_regression", {"l2": 0.1}, "regression", "count",
     PoissonRegressor(alpha=0.1, tol=1e-7, max_iter=1000), True),
    ("neural_network_regression", {"hidden_nodes": 8, "normalizer": "gaussian", "iterations": 30}, "regression",
     "target", MLPRegressor(hidden_layer_sizes=(8,), activation="logistic", solver="sgd", learning_rate_init=0.005,
                            momentum=0.0, nesterovs_momentum=False, max_iter=30, random_state=0), True),
    ("two_class_neural_network", {"hidden_nodes": 8, "normalizer": "gaussian", "iterations": 30}, "binary",
     "klass", MLPClassifier(hidden_layer_sizes=(8,), activation="logistic", solver="sgd", learning_rate_init=0.1,
                            momentum=0.0, nesterovs_momentum=False, max_iter=30, random_state=0), True),
    ("multiclass_neural_network", {"hidden_nodes": 8, "normalizer": "gaussian", "iterations": 30, "seed": 2},
     "multiclass", "grade",
     MLPClassifier(hidden_layer_sizes=(8,), activation="logistic", solver="sgd", learning_rate_init=0.1,
                   momentum=0.0, nesterovs_momentum=False, max_iter=30, random_state=2), True),
]
IDS = [f"{m}-{i}" for i, (m, *_) in enumerate(LEARNERS)]


def with_count(df):
    """The example table with `count`, a Poisson count label depending on x1."""
    return df.assign(count=np.random.default_rng(1).poisson(np.exp(0.5 * df["x1"] + 1)))


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
    df = with_count(example_table(rows=80))[[*FEATURES, label]]
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


# --- learners built on scikit-learn parts: checked against the same parts put together by hand ---


def train(module_id: str, params: dict[str, Any], label: str, df, tmp_path: Path, **extra: Any) -> Estimator:
    untrained = roundtrip(PortType.UNTRAINED_MODEL, call_module(module_id, params).outputs["model"], tmp_path / "u")
    trained = call_module(
        "train_model", {"label_column": label}, model=untrained, dataset=df[[*FEATURES, label]]
    ).outputs["model"]
    return roundtrip(PortType.TRAINED_MODEL, trained, tmp_path / "t")


@pytest.mark.parametrize(("module_id", "params", "linear"), [
    ("two_class_support_vector_machine", {"iterations": 5, "l2": 0.01, "seed": 3},
     SGDClassifier(loss="hinge", alpha=0.01, max_iter=5, tol=None, random_state=3)),
    ("two_class_averaged_perceptron", {"learning_rate": 0.5},
     SGDClassifier(loss="perceptron", penalty=None, learning_rate="constant", eta0=0.5, max_iter=10, tol=None,
                   average=True, random_state=0)),
])
def test_linear_classifiers_are_platt_scaled_scikit_learn_models(module_id, params, linear, tmp_path) -> None:
    df = example_table(rows=80)
    trained = train(module_id, params, "klass", df.iloc[:60], tmp_path)
    test = df.iloc[60:]

    encode = reference_pipeline(linear, True)
    encode.fit(df.iloc[:60][FEATURES], df.iloc[:60]["klass"])
    margins = encode.decision_function(df.iloc[:60][FEATURES]).reshape(-1, 1)
    platt = LogisticRegression().fit(margins, df.iloc[:60]["klass"])
    expected = platt.predict_proba(encode.decision_function(test[FEATURES]).reshape(-1, 1))

    np.testing.assert_allclose(trained.obj.predict_proba(test[FEATURES]), expected, atol=1e-10)
    assert list(trained.obj.predict(test[FEATURES])) == list(np.where(expected[:, 1] > 0.5, "yes", "no"))
    scored = call_module("score_model", {}, model=trained, dataset=test).outputs["dataset"]
    assert ((scored["Scored Probabilities"] > 0.5) == (scored["Scored Labels"] == "yes")).all()


def test_one_vs_all_trains_one_model_per_class_like_one_vs_rest(tmp_path: Path) -> None:
    df = example_table(rows=90)[[*FEATURES, "grade"]]
    binary = call_module("two_class_logistic_regression", {"l2": 0.5}).outputs["model"]
    wrapped = call_module("one_vs_all_multiclass", {}, model=binary).outputs["model"]
    assert wrapped.meta["task"] == "multiclass" and wrapped.meta["algorithm"] == "two_class_logistic_regression"
    trained = call_module("train_model", {"label_column": "grade"}, model=wrapped, dataset=df.iloc[:70]).outputs["model"]
    trained = roundtrip(PortType.TRAINED_MODEL, trained, tmp_path / "t")

    reference = reference_pipeline(
        OneVsRestClassifier(LogisticRegression(C=2.0, tol=1e-7, max_iter=1000, random_state=0)), True
    ).fit(df.iloc[:70][FEATURES], df.iloc[:70]["grade"])
    test = df.iloc[70:][FEATURES]
    np.testing.assert_allclose(trained.obj.predict_proba(test), reference.predict_proba(test), atol=1e-8)
    assert trained.meta["classes"] == ["a", "b", "c"]


def test_one_vs_one_probabilities_are_shares_of_the_pairwise_votes(tmp_path: Path) -> None:
    df = example_table(rows=90)[[*FEATURES, "grade"]]
    binary = call_module("two_class_decision_forest", {"n_trees": 4}).outputs["model"]
    wrapped = call_module("one_vs_one_multiclass", {}, model=binary).outputs["model"]
    trained = call_module("train_model", {"label_column": "grade"}, model=wrapped, dataset=df.iloc[:70]).outputs["model"]
    trained = roundtrip(PortType.TRAINED_MODEL, trained, tmp_path / "t")
    test = df.iloc[70:][FEATURES]

    reference = reference_pipeline(
        OneVsOneClassifier(RandomForestClassifier(n_estimators=4, max_depth=32, random_state=0)), False
    ).fit(df.iloc[:70][FEATURES], df.iloc[:70]["grade"])
    assert list(trained.obj.predict(test)) == list(reference.predict(test))
    # scikit-learn's decision values are each class's votes plus its confidence, within 1/3.
    decision = np.clip(reference.decision_function(test), 0, None)
    probabilities = trained.obj.predict_proba(test)
    np.testing.assert_allclose(probabilities, decision / decision.sum(axis=1, keepdims=True), atol=1e-12)
    assert list(probabilities.argmax(axis=1)) == list(np.searchsorted(["a", "b", "c"], reference.predict(test)))


def test_wrappers_refuse_a_model_that_is_not_two_class() -> None:
    forest = call_module("multiclass_decision_forest").outputs["model"]
    with pytest.raises(ModuleError, match="needs an untrained two-class learner") as caught:
        call_module("one_vs_one_multiclass", {}, model=forest)
    assert caught.value.port == "model"


def test_tune_sweeps_the_ranges_of_the_learner_one_vs_all_wraps() -> None:
    binary = call_module(
        "two_class_logistic_regression", {"trainer_mode": "parameter_range", "l2_range": "0.01; 10", "tolerance_range": "0.0001"}
    ).outputs["model"]
    wrapped = call_module("one_vs_all_multiclass", {}, model=binary).outputs["model"]
    run = call_module(
        "tune_model_hyperparameters", {"label_column": "grade", "sweep": "grid", "folds": 3}, model=wrapped,
        dataset=example_table(rows=90)[[*FEATURES, "grade"]],
    )
    assert sorted(run.outputs["results"]["l2"]) == [0.01, 10.0]
    best = run.outputs["model"]
    assert isinstance(best.obj[-1], OneVsRestClassifier) and best.meta["task"] == "multiclass"


def test_poisson_regression_refuses_a_negative_label() -> None:
    model = call_module("poisson_regression").outputs["model"]
    with pytest.raises(ModuleError, match="predicts counts, but the label 'target' is negative in") as caught:
        call_module("train_model", {"label_column": "target"}, model=model, dataset=example_table())
    assert caught.value.param == "label_column"


def quantiles_by_hand(forest: RandomForestRegressor, X_train, y_train, X_test, q: float) -> np.ndarray:
    """Meinshausen's quantile regression forest, written row by row."""
    train_leaves, test_leaves = forest.apply(X_train), forest.apply(X_test)
    out = []
    for row in test_leaves:
        weights = np.zeros(len(y_train))
        for t, leaf in enumerate(row):
            same = train_leaves[:, t] == leaf
            weights[same] += 1 / same.sum()
        weights /= len(row)
        order = np.argsort(y_train, kind="stable")
        cumulative = np.cumsum(weights[order])
        out.append(y_train[order][np.searchsorted(cumulative, q - 1e-12)])
    return np.array(out)


def test_fast_forest_quantile_regression_reads_quantiles_from_the_leaves(tmp_path: Path) -> None:
    df = example_table(rows=120)[[*FEATURES, "target"]]
    params = {"n_trees": 12, "max_leaves": 8, "min_samples_per_leaf": 3, "quantiles": "0.1; 0.5; 0.9", "seed": 5}
    trained = train("fast_forest_quantile_regression", params, "target", df.iloc[:90], tmp_path)
    test = df.iloc[90:]
    scored = call_module("score_model", {}, model=trained, dataset=test).outputs["dataset"]

    forest = RandomForestRegressor(n_estimators=12, max_leaf_nodes=8, min_samples_leaf=3, max_samples=0.7,
                                   max_features=0.7, random_state=5)
    encode = reference_pipeline(forest, False)[:-1]
    X_train = encode.fit_transform(df.iloc[:90][FEATURES])
    forest.fit(X_train, df.iloc[:90]["target"])
    X_test = encode.transform(test[FEATURES])
    y = df.iloc[:90]["target"].to_numpy()
    for q in (0.1, 0.5, 0.9):
        np.testing.assert_allclose(scored[f"Quantile:{q:g}"], quantiles_by_hand(forest, X_train, y, X_test, q))
    np.testing.assert_allclose(scored["Scored Labels"], scored["Quantile:0.5"])
    assert (scored["Quantile:0.1"] <= scored["Quantile:0.9"]).all()
    assert roles_of(scored)["Quantile:0.1"] == "score"
    results = call_module("evaluate_model", {}, scored=scored).outputs["results"]
    assert results.loc[0, "Coefficient_of_Determination"] > 0.5


def test_quantiles_must_be_strictly_between_0_and_1() -> None:
    with pytest.raises(ModuleError, match="quantile 1.0 is not strictly between 0 and 1"):
        call_module("fast_forest_quantile_regression", {"quantiles": "0.5; 1"})


def test_pca_anomaly_detection_scores_reconstruction_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(200, 1)) @ np.array([[1.0, 2.0, -1.0]]) + rng.normal(scale=0.05, size=(200, 3))
    odd = rng.normal(scale=2.0, size=(10, 3))
    table = pd.DataFrame(np.vstack([normal, odd]), columns=["a", "b", "c"]).assign(
        anomaly=[0] * 200 + [1] * 10
    )
    untrained = roundtrip(
        PortType.UNTRAINED_MODEL,
        call_module("pca_based_anomaly_detection", {"n_components": 1}).outputs["model"], tmp_path / "u",
    )
    run = call_module("train_anomaly_detection_model", {"label_column": "anomaly"}, model=untrained, dataset=table)
    trained = roundtrip(PortType.TRAINED_MODEL, run.outputs["model"], tmp_path / "t")
    assert trained.meta["features"] == ["a", "b", "c"]
    scored = call_module("score_model", {}, model=trained, dataset=table).outputs["dataset"]

    pca = PCA(n_components=1, svd_solver="randomized", n_oversamples=2, random_state=0).fit(table[["a", "b", "c"]])
    X = table[["a", "b", "c"]].to_numpy()
    errors = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum(axis=1)
    threshold = np.quantile(errors, 0.99)
    np.testing.assert_allclose(scored["Scored Probabilities"], errors / (errors + threshold), rtol=1e-6)
    assert list(scored["Scored Labels"]) == list((errors > threshold).astype(int))
    metrics = call_module("evaluate_model", {}, scored=scored).ctx.metrics
    assert metrics["auc"] > 0.95


def test_anomaly_models_go_to_their_own_trainer() -> None:
    detector = call_module("pca_based_anomaly_detection").outputs["model"]
    with pytest.raises(ModuleError, match="use Train Anomaly Detection Model"):
        call_module("train_model", {"label_column": "target"}, model=detector, dataset=example_table())
    regression = call_module("linear_regression").outputs["model"]
    with pytest.raises(ModuleError, match="needs an anomaly detector"):
        call_module("train_anomaly_detection_model", {}, model=regression, dataset=example_table())


@pytest.mark.parametrize(("module_id", "label"), [
    ("two_class_support_vector_machine", "klass"), ("two_class_averaged_perceptron", "klass"),
    ("two_class_neural_network", "klass"), ("multiclass_neural_network", "grade"),
    ("neural_network_regression", "target"), ("multiclass_boosted_decision_tree", "grade"),
    ("poisson_regression", "count"), ("fast_forest_quantile_regression", "target"),
])
def test_tune_sweeps_the_default_ranges_of_every_new_learner(module_id: str, label: str) -> None:
    learner = call_module(module_id, {"trainer_mode": "parameter_range"}).outputs["model"]
    run = call_module(
        "tune_model_hyperparameters", {"label_column": label, "max_runs": 2, "folds": 2}, model=learner,
        dataset=with_count(example_table(rows=60))[[*FEATURES, label]],
    )
    results = run.outputs["results"]
    assert len(results) == 2
    ranged = [c for c in results.columns if not c[0].isupper()]
    assert ranged and results[ranged].drop_duplicates().shape[0] == 2
    assert run.outputs["model"].meta["params"]["trainer_mode"] == "single_parameter"
