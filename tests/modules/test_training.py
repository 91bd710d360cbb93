"""Train Model, Score Model, Cross Validate Model and the clustering modules."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from modules.builtin.samples import load_sample
from modules.sdk import Estimator, ModuleError, roles_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module, run_through_runner

FEATURES = ["x1", "x2", "color", "flag"]


def learner(module_id: str, **params: Any) -> Estimator:
    return call_module(module_id, params).outputs["model"]


def train(module_id: str, df: pd.DataFrame, label: str | None, **params: Any) -> Estimator:
    train_params = {"label_column": label} if label else {}
    return call_module("train_model", train_params, model=learner(module_id, **params), dataset=df).outputs["model"]


def linear_reference(scale_with: Any = StandardScaler) -> Any:
    return make_pipeline(
        ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color", "flag"]),
            ("numeric", scale_with(), ["x1", "x2"]),
        ]),
        LogisticRegression(C=1.0, tol=1e-7, max_iter=1000, random_state=0),
    )


# --- Train Model -------------------------------------------------------------------------


def test_train_model_uses_the_label_role_when_no_label_column_is_given() -> None:
    df = set_roles(example_table()[[*FEATURES, "target"]], {"target": "label"})
    model = train("linear_regression", df, None)
    assert model.meta["label"] == "target"
    assert model.meta["features"] == FEATURES


def test_train_model_leaves_score_columns_out_of_the_features() -> None:
    df = example_table()[[*FEATURES, "target"]].assign(**{"Scored Labels": 1.0})
    set_roles(df, {"Scored Labels": "score"})
    assert train("linear_regression", df, "target").meta["features"] == FEATURES


def test_missing_numbers_are_refused_with_the_columns_and_counts() -> None:
    df = example_table()
    df.loc[[1, 5, 7], "x1"] = np.nan
    df.loc[[2, 3], "x2"] = np.nan
    df.loc[2, "color"] = None  # a missing text value is a category, never refused
    with pytest.raises(ModuleError) as caught:
        train("linear_regression", df, "target")
    message = caught.value.message
    assert "'x1' (3 rows)" in message and "'x2' (2 rows)" in message and "color" not in message
    assert "Clean Missing Data" in message
    assert caught.value.code == "missing_values"
    assert caught.value.details == {"x1": 3, "x2": 2}


def test_rows_without_a_label_are_left_out_and_counted() -> None:
    df = example_table()[[*FEATURES, "target"]]
    df.loc[[0, 9, 17], "target"] = np.nan
    run = call_module("train_model", {"label_column": "target"}, model=learner("linear_regression"), dataset=df)
    assert run.ctx.warnings == ["3 of 40 rows have no label ('target' is missing) and were left out of training"]
    labelled = df.dropna(subset=["target"])
    reference = make_pipeline(
        ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color", "flag"]),
            ("numeric", StandardScaler(), ["x1", "x2"]),
        ]),
        Ridge(alpha=0.001),
    ).fit(labelled[FEATURES], labelled["target"])
    np.testing.assert_allclose(run.outputs["model"].obj.predict(df[FEATURES]), reference.predict(df[FEATURES]))


def test_a_table_without_any_label_is_refused() -> None:
    df = example_table().assign(target=np.nan)
    with pytest.raises(ModuleError, match="no row has a label") as caught:
        train("linear_regression", df, "target")
    assert caught.value.param == "label_column"


def test_a_missing_text_value_is_a_category_of_its_own() -> None:
    df = example_table(rows=80)[[*FEATURES, "klass"]]
    df.loc[df.index % 5 == 0, "color"] = None
    model = train("two_class_logistic_regression", df, "klass")
    # The designer's encoding: missing text as one more category (here the text "missing").
    filled = df.assign(color=df["color"].fillna("missing"), flag=df["flag"].astype(str))
    reference = linear_reference().fit(filled[FEATURES], filled["klass"])
    scored = call_module("score_model", {}, model=model, dataset=df).outputs["dataset"]
    np.testing.assert_allclose(scored["Scored Probabilities"], reference.predict_proba(filled[FEATURES])[:, 1])
    encoder = model.obj.named_steps["features"].named_transformers_["categorical"].named_steps["onehot"]
    assert encoder.categories_[0].tolist()[:3] == ["blue", "green", "red"] and pd.isna(encoder.categories_[0][3])


def test_boosted_trees_take_missing_numbers_as_scikit_learn_does() -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    df = example_table(rows=200)[["x1", "x2", "target"]]
    df["x2"] = df["x2"].astype("Int64")
    df.loc[df.index % 4 == 0, "x1"] = np.nan
    df.loc[df.index % 7 == 0, "x2"] = pd.NA
    model = train("boosted_decision_tree_regression", df, "target", n_trees=20)
    X = df[["x1", "x2"]].astype("float64")
    reference = HistGradientBoostingRegressor(
        max_leaf_nodes=20, min_samples_leaf=10, learning_rate=0.2, max_iter=20, early_stopping=False, random_state=0,
    ).fit(X, df["target"])
    scored = call_module("score_model", {}, model=model, dataset=df).outputs["dataset"]
    np.testing.assert_allclose(scored["Scored Labels"], reference.predict(X))


def test_train_model_refuses_a_learner_in_parameter_range_mode() -> None:
    model = learner("two_class_decision_forest", trainer_mode="parameter_range")
    with pytest.raises(ModuleError, match="parameter_range mode.*Tune Model Hyperparameters") as caught:
        call_module("train_model", {"label_column": "klass"}, model=model, dataset=example_table())
    assert caught.value.port == "model"


def test_unknown_label_column_is_named() -> None:
    with pytest.raises(ModuleError) as caught:
        train("linear_regression", example_table(), "prise")
    assert "'prise'" in caught.value.message and caught.value.param == "label_column"


def test_no_label_at_all_says_what_to_set() -> None:
    with pytest.raises(ModuleError, match="label_column") as caught:
        train("linear_regression", example_table(), None)
    assert caught.value.code == "no_label"


def test_empty_table_is_refused() -> None:
    with pytest.raises(ModuleError, match="no rows"):
        train("linear_regression", example_table().iloc[:0], "target")


def test_regression_learner_refuses_a_text_label() -> None:
    with pytest.raises(ModuleError, match="'klass' is not numeric") as caught:
        train("boosted_decision_tree_regression", example_table(), "klass")
    assert caught.value.code == "label_type"


def test_two_class_learner_refuses_a_label_with_three_values() -> None:
    with pytest.raises(ModuleError, match="exactly two values; 'grade' has 3: a, b, c"):
        train("two_class_logistic_regression", example_table(), "grade")


def test_multiclass_learner_refuses_a_single_class() -> None:
    df = example_table().assign(grade="a")
    with pytest.raises(ModuleError, match="single value"):
        train("multiclass_decision_forest", df, "grade")


def test_train_model_refuses_a_clustering_model() -> None:
    with pytest.raises(ModuleError, match="Train Clustering Model"):
        call_module("train_model", {"label_column": "target"}, model=learner("kmeans_clustering"), dataset=example_table())


def test_datetime_features_are_refused() -> None:
    df = example_table().assign(when=pd.Timestamp("2024-01-01"))
    with pytest.raises(ModuleError, match="date/time columns can't be features: when"):
        train("linear_regression", df, "target")


def test_convergence_warnings_reach_the_user() -> None:
    model = learner("two_class_logistic_regression", tolerance=0.0)
    model.obj.set_params(max_iter=1)
    run = call_module("train_model", {"label_column": "klass"}, model=model, dataset=example_table())
    assert run.ctx.warnings and run.ctx.warnings[0].startswith("two_class_logistic_regression: ")


# --- Score Model -------------------------------------------------------------------------


def test_score_model_binary_matches_scikit_learn() -> None:
    df = example_table(rows=80)[[*FEATURES, "klass"]]
    train_df, test_df = df.iloc[:60], df.iloc[60:]
    model = train("two_class_logistic_regression", train_df, "klass")
    scored = call_module("score_model", {}, model=model, dataset=test_df).outputs["dataset"]

    reference = linear_reference().fit(train_df[FEATURES], train_df["klass"])
    assert list(scored["Scored Labels"]) == list(reference.predict(test_df[FEATURES]))
    np.testing.assert_allclose(scored["Scored Probabilities"], reference.predict_proba(test_df[FEATURES])[:, 1])
    assert list(scored.columns) == [*FEATURES, "klass", "Scored Labels", "Scored Probabilities"]
    assert roles_of(scored) == {"klass": "label", "Scored Labels": "score", "Scored Probabilities": "score"}


def test_score_model_multiclass_writes_one_probability_per_class() -> None:
    df = example_table(rows=80)
    model = train("multiclass_logistic_regression", df[[*FEATURES, "grade"]], "grade")
    scored = call_module("score_model", {"append_score_columns": False}, model=model, dataset=df).outputs["dataset"]
    assert list(scored.columns) == [
        "grade", "Scored Labels", "Scored Probabilities_a", "Scored Probabilities_b", "Scored Probabilities_c",
    ]
    np.testing.assert_allclose(scored.filter(like="Scored Probabilities_").sum(axis=1), 1.0)
    assert roles_of(scored)["grade"] == "label"


def test_score_model_without_label_and_without_appending() -> None:
    df = example_table()
    model = train("linear_regression", df[[*FEATURES, "target"]], "target")
    scored = call_module("score_model", {"append_score_columns": False}, model=model, dataset=df[FEATURES]).outputs["dataset"]
    assert list(scored.columns) == ["Scored Labels"]
    assert roles_of(scored) == {"Scored Labels": "score"}


def test_scoring_again_replaces_the_earlier_scores() -> None:
    df = example_table()[[*FEATURES, "target"]]
    model = train("linear_regression", df, "target")
    once = call_module("score_model", {}, model=model, dataset=df).outputs["dataset"]
    twice = call_module("score_model", {}, model=model, dataset=once).outputs["dataset"]
    assert list(twice.columns) == list(once.columns)


def test_score_model_names_missing_feature_columns() -> None:
    df = example_table()[[*FEATURES, "target"]]
    model = train("linear_regression", df, "target")
    with pytest.raises(ModuleError, match="lacks columns the model was trained on: color"):
        call_module("score_model", {}, model=model, dataset=df.drop(columns="color"))


def test_score_model_refuses_missing_numbers_and_changed_types() -> None:
    df = example_table()[[*FEATURES, "target"]]
    model = train("linear_regression", df, "target")
    holes = df.assign(x2=df["x2"].astype(float))
    holes.loc[3, "x2"] = np.nan
    with pytest.raises(ModuleError, match=r"'x2' \(1 row\).*Clean Missing Data"):
        call_module("score_model", {}, model=model, dataset=holes)
    with pytest.raises(ModuleError, match="changed type since training.*x1"):
        call_module("score_model", {}, model=model, dataset=df.assign(x1=df["x1"].astype(str)))


def test_train_and_score_through_the_runner(tmp_path: Path) -> None:
    """The real file round trip: Parquet tables with roles, skops models."""
    df = example_table(rows=80)[[*FEATURES, "klass"]]
    untrained = learner("two_class_boosted_decision_tree", n_trees=10)
    manifest, out = run_through_runner(
        "train_model", {"label_column": "klass"}, tmp_path / "train", model=untrained, dataset=df.iloc[:60]
    )
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["outputs"]["model"]["meta"]["positive_class"] == "yes"
    manifest, scored = run_through_runner("score_model", {}, tmp_path / "score", model=out["model"], dataset=df.iloc[60:])
    assert manifest["status"] == "completed", manifest["error"]
    table = scored["dataset"]
    assert roles_of(table) == {"klass": "label", "Scored Labels": "score", "Scored Probabilities": "score"}
    direct = call_module("score_model", {}, model=out["model"], dataset=df.iloc[60:]).outputs["dataset"]
    np.testing.assert_allclose(table["Scored Probabilities"], direct["Scored Probabilities"])


def test_a_user_error_in_the_runner_is_reported_not_raised(tmp_path: Path) -> None:
    df = example_table()
    df.loc[0, "x1"] = np.nan
    manifest, _ = run_through_runner(
        "train_model", {"label_column": "target"}, tmp_path, model=learner("linear_regression"), dataset=df
    )
    assert manifest["status"] == "failed"
    assert manifest["error"]["code"] == "missing_values"
    assert "Clean Missing Data" in manifest["error"]["message"]


# --- the automobile tutorial -------------------------------------------------------------


def test_automobile_price_linear_regression_reaches_r2_of_0_8() -> None:
    """The classic designer tutorial, with Split Data's rows mode (randomize, seed 0) replicated."""
    cars = load_sample("automobile-price-raw").drop(columns="normalized-losses").dropna()
    first, second = train_test_split(cars, train_size=0.7, random_state=0, shuffle=True)
    model = train("linear_regression", first, "price")
    scored = call_module("score_model", {}, model=model, dataset=second).outputs["dataset"]
    run = call_module("evaluate_model", {}, scored=scored)
    r2 = run.ctx.metrics["coefficient_of_determination"]
    assert r2 >= 0.8
    assert r2 == pytest.approx(r2_score(second["price"], scored["Scored Labels"]))


# --- Cross Validate Model ----------------------------------------------------------------


def test_cross_validation_regression_matches_cross_val_predict() -> None:
    df = example_table(rows=60)[[*FEATURES, "target"]]
    run = call_module(
        "cross_validate_model", {"label_column": "target", "folds": 5, "seed": 2},
        model=learner("linear_regression"), dataset=df,
    )
    reference = make_pipeline(
        ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color", "flag"]),
            ("numeric", StandardScaler(), ["x1", "x2"]),
        ]),
        Ridge(alpha=0.001),
    )
    kfold = KFold(n_splits=5, shuffle=True, random_state=2)
    expected = cross_val_predict(reference, df[FEATURES], df["target"], cv=kfold)
    scored = run.outputs["scored"]
    np.testing.assert_allclose(scored["Scored Labels"], expected, rtol=1e-6)
    expected_fold = np.empty(len(df), dtype=int)
    for fold, (_, test_rows) in enumerate(kfold.split(df)):
        expected_fold[test_rows] = fold
    assert list(scored["Fold"]) == list(expected_fold)
    assert roles_of(scored)["target"] == "label"

    folds = run.outputs["folds"]
    assert list(folds["Fold"]) == ["0", "1", "2", "3", "4", "mean", "std"]
    per_fold = [r2_score(df["target"][expected_fold == k], expected[expected_fold == k]) for k in range(5)]
    np.testing.assert_allclose(folds["coefficient_of_determination"][:5], per_fold, rtol=1e-6)
    assert folds["coefficient_of_determination"][5] == pytest.approx(np.mean(per_fold))
    assert folds["coefficient_of_determination"][6] == pytest.approx(np.std(per_fold, ddof=1))
    assert run.ctx.metrics["mean.coefficient_of_determination"] == pytest.approx(np.mean(per_fold))


def test_cross_validation_classification_is_stratified(tmp_path: Path) -> None:
    df = example_table(rows=60)[[*FEATURES, "klass"]]
    manifest, out = run_through_runner(
        "cross_validate_model", {"label_column": "klass", "folds": 3},
        tmp_path, model=learner("two_class_logistic_regression"), dataset=df,
    )
    assert manifest["status"] == "completed", manifest["error"]
    skfold = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    expected = cross_val_predict(linear_reference(), df[FEATURES], df["klass"], cv=skfold, method="predict_proba")
    np.testing.assert_allclose(out["scored"]["Scored Probabilities"], expected[:, 1], rtol=1e-6)
    assert {"accuracy", "auc", "log_loss"} <= set(out["folds"].columns)


def test_cross_validation_needs_enough_rows_for_its_folds() -> None:
    with pytest.raises(ModuleError, match="10 folds need at least 10 rows") as caught:
        call_module("cross_validate_model", {"label_column": "target"},
                    model=learner("linear_regression"), dataset=example_table(rows=8))
    assert caught.value.param == "folds"


def test_cross_validation_refuses_missing_values_counted_over_the_whole_table() -> None:
    df = example_table()
    df.loc[[0, 30], "x2"] = np.nan
    with pytest.raises(ModuleError, match=r"'x2' \(2 rows\)"):
        call_module("cross_validate_model", {"label_column": "target", "folds": 4},
                    model=learner("linear_regression"), dataset=df)


def test_cross_validation_leaves_out_rows_without_a_label() -> None:
    df = example_table()
    df.loc[[3, 4], "target"] = np.nan
    run = call_module("cross_validate_model", {"label_column": "target", "folds": 4},
                      model=learner("linear_regression"), dataset=df)
    assert len(run.outputs["scored"]) == 38 and "2 of 40 rows have no label" in run.ctx.warnings[0]


# --- clustering --------------------------------------------------------------------------


def test_train_clustering_model_matches_kmeans_and_appends_assignments() -> None:
    df = set_roles(example_table(rows=50), {"target": "label"})
    model = learner("kmeans_clustering", n_clusters=3, init="first_n")
    run = call_module("train_clustering_model", {}, model=model, dataset=df)
    trained, table = run.outputs["model"], run.outputs["dataset"]
    assert trained.meta["features"] == ["x1", "x2"]  # numeric, label left out

    X = MinMaxScaler().fit_transform(df[["x1", "x2"]])
    reference = KMeans(n_clusters=3, init=X[:3], n_init=1, max_iter=100, random_state=0).fit(X)
    assert list(table["Assignments"]) == list(reference.labels_)
    np.testing.assert_allclose(
        table[[f"DistancesToClusterCenter no.{k}" for k in range(3)]], reference.transform(X), atol=1e-10
    )
    assert list(table.columns[: df.shape[1]]) == list(df.columns)
    assert roles_of(table)["Assignments"] == "score" and roles_of(table)["target"] == "label"


def test_assign_data_to_clusters_only_scores_when_not_appending(tmp_path: Path) -> None:
    df = example_table(rows=50)
    run = call_module("train_clustering_model", {"columns": ["x1", "target", "color"]},
                      model=learner("kmeans_clustering"), dataset=df)
    manifest, out = run_through_runner(
        "assign_data_to_clusters", {"append": False}, tmp_path, model=run.outputs["model"], dataset=df
    )
    assert manifest["status"] == "completed", manifest["error"]
    assigned = out["dataset"]
    assert list(assigned.columns) == ["Assignments", "DistancesToClusterCenter no.0", "DistancesToClusterCenter no.1"]
    assert list(assigned["Assignments"]) == list(run.outputs["dataset"]["Assignments"])


def test_clustering_refuses_missing_values_and_too_few_rows() -> None:
    df = example_table()
    df.loc[4, "x1"] = np.nan
    with pytest.raises(ModuleError, match=r"'x1' \(1 row\).*Clean Missing Data"):
        call_module("train_clustering_model", {}, model=learner("kmeans_clustering"), dataset=df)
    with pytest.raises(ModuleError, match="5 clusters need at least 5 rows"):
        call_module("train_clustering_model", {}, model=learner("kmeans_clustering", n_clusters=5),
                    dataset=example_table(rows=3))
    with pytest.raises(ModuleError, match="no rows"):
        call_module("train_clustering_model", {}, model=learner("kmeans_clustering"), dataset=example_table().iloc[:0])


@pytest.mark.parametrize(("module_id", "trainer", "params"), [
    ("score_model", "train_model", {"label_column": "target"}),
    ("assign_data_to_clusters", "train_clustering_model", {}),
])
def test_scoring_an_empty_table_is_a_clear_error(module_id: str, trainer: str, params: dict[str, Any]) -> None:
    algorithm = "linear_regression" if trainer == "train_model" else "kmeans_clustering"
    model = call_module(trainer, params, model=learner(algorithm), dataset=example_table()).outputs["model"]
    with pytest.raises(ModuleError, match="no rows"):
        call_module(module_id, {}, model=model, dataset=example_table().iloc[:0])
