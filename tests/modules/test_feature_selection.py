"""Filter Based Feature Selection and Permutation Feature Importance, checked against scipy,
scikit-learn and numpy doing the same work."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.metrics import accuracy_score, mean_absolute_error

from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module, run_through_runner


@pytest.fixture
def table() -> pd.DataFrame:
    df = example_table(rows=120)
    df.loc[[3, 8], "x2"] = np.nan
    return df


def select(df: pd.DataFrame, **params: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = call_module("filter_based_feature_selection", params, dataset=df).outputs
    return out["dataset"], out["features"]


def scores(df: pd.DataFrame, label: str, method: str) -> dict[str, float]:
    _, features = select(df, label_column=label, method=method, features=1)
    return dict(zip(features.columns[1:], features.iloc[0, 1:]))


def test_pearson_is_the_absolute_correlation_and_text_takes_part_through_conditional_means(table: pd.DataFrame) -> None:
    got = scores(table, "target", "pearson")
    both = table[["x2", "target"]].dropna()
    assert got["x1"] == pytest.approx(abs(scipy.stats.pearsonr(table["x1"], table["target"])[0]))
    assert got["x2"] == pytest.approx(abs(scipy.stats.pearsonr(both["x2"], both["target"])[0]))
    color_means = table.groupby("color")["target"].transform("mean")
    assert got["color"] == pytest.approx(abs(scipy.stats.pearsonr(color_means, table["target"])[0]))
    # A text feature against a text label has no correlation.
    assert scores(table, "klass", "pearson")["color"] == 0


@pytest.mark.parametrize("method, statistic", [("spearman", scipy.stats.spearmanr), ("kendall", scipy.stats.kendalltau)])
def test_rank_correlations_match_scipy(table: pd.DataFrame, method: str, statistic: object) -> None:
    got = scores(table, "target", method)
    assert got["x1"] == pytest.approx(abs(statistic(table["x1"], table["target"])[0]))  # type: ignore[operator]


def test_chi_squared_counts_every_distinct_value_as_a_category(table: pd.DataFrame) -> None:
    got = scores(table, "klass", "chi_squared")
    for column in ("color", "grade", "x2"):
        rows = table[[column, "klass"]].dropna()
        expected = scipy.stats.chi2_contingency(pd.crosstab(rows[column], rows["klass"]), correction=False)[0]
        assert got[column] == pytest.approx(expected)


def test_mutual_information_matches_scikit_learn(table: pd.DataFrame) -> None:
    got = scores(table, "klass", "mutual_information")
    assert got["x1"] == pytest.approx(mutual_info_classif(table[["x1"]], table["klass"], random_state=0)[0])
    codes = pd.factorize(table["color"])[0].reshape(-1, 1)
    assert got["color"] == pytest.approx(mutual_info_classif(codes, table["klass"], discrete_features=True, random_state=0)[0])
    regression = scores(table, "target", "mutual_information")
    assert regression["x1"] == pytest.approx(mutual_info_regression(table[["x1"]], table["target"], random_state=0)[0])


def test_fisher_score_and_count(table: pd.DataFrame) -> None:
    got = scores(table, "grade", "fisher")
    groups = table.groupby("grade")["x1"]
    between = (groups.size() * (groups.mean() - table["x1"].mean()) ** 2).sum()
    within = (groups.size() * groups.var(ddof=0)).sum()
    assert got["x1"] == pytest.approx(between / within) and got["color"] == 0
    counts = scores(table.assign(x2=table["x2"].where(table["x2"] != 3, 0)), "target", "count")
    expected = int(((table["x2"] != 0) & (table["x2"] != 3) & table["x2"].notna()).sum())
    assert counts["x2"] == expected and counts["color"] == len(table)


def test_outputs_are_the_designers_label_then_best_features_and_one_row_of_scores(table: pd.DataFrame) -> None:
    table = set_roles(table, {"target": "label"})
    filtered, features = select(table, label_column="klass", method="chi_squared", features=2)
    ranked = sorted(scores(table, "klass", "chi_squared").items(), key=lambda kv: -kv[1])
    assert list(filtered.columns) == ["klass", ranked[0][0], ranked[1][0]]
    assert roles_of(filtered) == {"klass": "label"}
    assert list(features.columns) == ["klass", *(name for name, _ in ranked)] and features.iloc[0, 0] == 1
    assert "target" not in features.columns  # another label column is never a candidate


def test_equal_scores_keep_the_table_order() -> None:
    df = pd.DataFrame({"b": [1, 2, 3, 4], "a": [1, 2, 3, 4], "y": [2.0, 4.0, 6.0, 8.0]})
    filtered, _ = select(df, label_column="y", method="pearson", features=1)
    assert list(filtered.columns) == ["y", "b"]


def test_feature_columns_only_scores_the_columns_marked_as_features(table: pd.DataFrame) -> None:
    marked = set_roles(table, {"x2": "feature", "color": "feature"})
    _, features = select(marked, label_column="target", method="pearson", features=5)
    assert set(features.columns[1:]) == {"x2", "color"}
    _, everything = select(marked, label_column="target", method="pearson", features=5, feature_columns_only=False)
    assert len(everything.columns) == len(table.columns)


def test_asking_for_more_features_than_there_are_keeps_all_with_a_warning(table: pd.DataFrame) -> None:
    run = call_module("filter_based_feature_selection", {"label_column": "target", "features": 50}, dataset=table)
    assert len(run.outputs["dataset"].columns) == len(table.columns) and "all kept" in run.ctx.warnings[0]


# --- Permutation Feature Importance ------------------------------------------------------


def trained(df: pd.DataFrame, learner: str, label: str) -> object:
    model = call_module(learner, {}).outputs["model"]
    return call_module("train_model", {"label_column": label}, model=model, dataset=df).outputs["model"]


def test_permutation_importance_is_the_metric_drop_with_one_shared_permutation(tmp_path: Path) -> None:
    df = example_table(rows=200)[["x1", "x2", "color", "klass"]]
    model = trained(df.iloc[:150], "two_class_decision_forest", "klass")
    test = df.iloc[150:].reset_index(drop=True)
    manifest, out = run_through_runner(
        "permutation_feature_importance", {"seed": 4, "metric": "accuracy"}, tmp_path, model=model, dataset=test
    )
    assert manifest["status"] == "completed", manifest["error"]
    pipeline = model.obj  # type: ignore[attr-defined]
    features = ["x1", "x2", "color"]
    base = accuracy_score(test["klass"], pipeline.predict(test[features]))
    order = np.random.RandomState(4).permutation(len(test))
    expected = {}
    for name in features:
        shuffled = test.assign(**{name: test[name].to_numpy()[order]})
        expected[name] = base - accuracy_score(test["klass"], pipeline.predict(shuffled[features]))
    importance = out["importance"]
    assert list(importance.columns) == ["Feature", "Score"]
    assert dict(zip(importance["Feature"], importance["Score"])) == pytest.approx(expected)
    assert list(importance["Score"]) == sorted(importance["Score"], reverse=True)
    assert importance["Feature"].iloc[0] == "x1"  # klass is made from x1


def test_errors_count_as_importance_when_they_grow() -> None:
    df = example_table(rows=120)[["x1", "x2", "target"]]
    model = trained(df, "linear_regression", "target")
    importance = call_module(
        "permutation_feature_importance", {"metric": "mean_absolute_error"}, model=model, dataset=df
    ).outputs["importance"]
    pipeline = model.obj  # type: ignore[attr-defined]
    base = mean_absolute_error(df["target"], pipeline.predict(df[["x1", "x2"]]))
    order = np.random.RandomState(0).permutation(len(df))
    shuffled = df.assign(x1=df["x1"].to_numpy()[order])
    grown = mean_absolute_error(df["target"], pipeline.predict(shuffled[["x1", "x2"]])) - base
    assert importance.set_index("Feature")["Score"]["x1"] == pytest.approx(grown) and grown > 0


def test_a_metric_of_the_other_task_and_a_missing_label_are_refused() -> None:
    df = example_table(rows=60)[["x1", "x2", "target"]]
    model = trained(df, "linear_regression", "target")
    with pytest.raises(ModuleError, match="accuracy does not measure a regression model") as caught:
        call_module("permutation_feature_importance", {"metric": "accuracy"}, model=model, dataset=df)
    assert caught.value.param == "metric"
    with pytest.raises(ModuleError, match="lacks the label column 'target'"):
        call_module("permutation_feature_importance", {"metric": "mean_absolute_error"}, model=model, dataset=df.drop(columns="target"))
