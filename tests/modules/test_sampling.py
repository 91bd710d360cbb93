"""Partition and Sample, and SMOTE (checked against imbalanced-learn run directly)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from imblearn.over_sampling import SMOTE, SMOTENC

from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module, run_through_runner


def run(params: dict, df: pd.DataFrame) -> pd.DataFrame:
    return call_module("partition_and_sample", params, dataset=df).outputs["dataset"]


@pytest.fixture
def table() -> pd.DataFrame:
    return set_roles(example_table(rows=103), {"target": "label"})


def test_sampling_draws_round_rate_times_rows_with_the_seed_in_table_order(table: pd.DataFrame) -> None:
    out = run({"mode": "sampling", "rate": 0.25, "seed": 7}, table)
    expected = sorted(np.random.RandomState(7).permutation(103)[:26])
    pdt.assert_frame_equal(out, table.iloc[expected])
    assert roles_of(out) == {"target": "label"}


def test_stratified_sampling_takes_each_values_share(table: pd.DataFrame) -> None:
    out = run({"mode": "sampling", "rate": 0.5, "stratify": True, "stratify_column": ["grade"]}, table)
    counts = table["grade"].value_counts()
    assert out["grade"].value_counts().to_dict() == {g: int(round(n * 0.5)) for g, n in counts.items()}


def test_head_takes_the_first_rows(table: pd.DataFrame) -> None:
    pdt.assert_frame_equal(run({"mode": "head", "count": 4}, table), table.head(4))
    assert len(run({"mode": "head", "count": 1000}, table)) == 103


def test_even_folds_hold_every_row_once_and_pick_fold_takes_one_back(table: pd.DataFrame, tmp_path: Path) -> None:
    manifest, out = run_through_runner("partition_and_sample", {"mode": "assign_to_folds", "folds": 4, "seed": 2}, tmp_path, dataset=table)
    assert manifest["status"] == "completed"
    folded = out["dataset"]
    pdt.assert_frame_equal(folded.drop(columns="Fold"), table.reset_index(drop=True), check_index_type=False)
    assert sorted(folded["Fold"].value_counts().tolist()) == [25, 26, 26, 26]
    picked = run({"mode": "pick_fold", "fold": 3}, folded)
    pdt.assert_frame_equal(picked, folded[folded["Fold"] == 3].drop(columns="Fold"))
    rest = run({"mode": "pick_fold", "fold": 3, "complement": True}, folded)
    assert len(picked) + len(rest) == 103 and "Fold" not in rest.columns


def test_stratified_folds_and_proportions(table: pd.DataFrame) -> None:
    folded = run({"mode": "assign_to_folds", "partition": "proportions", "proportions": "0.6, 0.3"}, table)
    assert folded["Fold"].value_counts().sort_index().tolist() == [62, 31, 10]
    strata = run({"mode": "assign_to_folds", "folds": 2, "stratify": True, "stratify_column": ["klass"]}, table)
    for _, group in strata.groupby("klass"):
        sizes = group["Fold"].value_counts().tolist()
        assert max(sizes) - min(sizes) <= 1


def test_replacement_lets_a_row_be_in_several_folds(table: pd.DataFrame) -> None:
    folded = run({"mode": "assign_to_folds", "folds": 3, "replacement": True, "seed": 1}, table.head(30))
    assert len(folded) == 30 and sorted(folded["Fold"].unique()) == [1, 2, 3]
    assert folded.drop(columns="Fold").duplicated().any()


def test_pick_fold_needs_folds(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="needs a table with a 'Fold' column"):
        run({"mode": "pick_fold"}, table)
    folded = run({"mode": "assign_to_folds", "folds": 2}, table)
    with pytest.raises(ModuleError, match="has no fold 5 \\(it has 1, 2\\)") as caught:
        run({"mode": "pick_fold", "fold": 5}, folded)
    assert caught.value.param == "fold"


# --- SMOTE ---------------------------------------------------------------------------------------


def imbalanced(rows: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(rows, 2))
    rare = x[:, 0] > 1.0
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": np.where(rare, "rare", "common")})


def test_smote_adds_the_same_rows_as_imbalanced_learn() -> None:
    df = imbalanced()
    rare = int((df["label"] == "rare").sum())
    out = call_module("smote", {"label_column": "label", "smote_percentage": 200, "neighbors": 3, "seed": 5}, dataset=df).outputs["dataset"]
    X, y = SMOTE(sampling_strategy={"rare": rare * 3}, k_neighbors=3, random_state=5).fit_resample(df[["a", "b"]], df["label"])
    pdt.assert_frame_equal(out.iloc[: len(df)], df)
    np.testing.assert_allclose(out[["a", "b"]].iloc[len(df):], np.asarray(X)[len(df):])
    assert (out["label"].iloc[len(df):] == "rare").all() and len(out) == len(df) + 2 * rare


def test_smote_with_text_features_uses_smote_nc_and_keeps_whole_numbers_whole() -> None:
    df = imbalanced().assign(colour=lambda d: np.where(d["b"] > 0, "red", "blue"), count=lambda d: (d["b"] * 10).round().astype("int64"))
    df = set_roles(df, {"label": "label"})
    out = call_module("smote", {"smote_percentage": 100, "neighbors": 2}, dataset=df).outputs["dataset"]
    rare = int((df["label"] == "rare").sum())
    X, _ = SMOTENC(categorical_features=[2], sampling_strategy={"rare": 2 * rare}, k_neighbors=2, random_state=0).fit_resample(
        df[["a", "b", "colour", "count"]].astype({"colour": object}), df["label"]
    )
    np.testing.assert_allclose(out["a"].iloc[len(df):], np.asarray(X)[len(df):, 0].astype(float))
    assert list(out["colour"].iloc[len(df):]) == list(np.asarray(X)[len(df):, 2])
    assert out["count"].dtype == "int64" and roles_of(out) == {"label": "label"}


def test_smote_refuses_what_it_cannot_do() -> None:
    df = imbalanced()
    with pytest.raises(ModuleError, match="multiple of 100") as caught:
        call_module("smote", {"label_column": "label", "smote_percentage": 150}, dataset=df)
    assert caught.value.param == "smote_percentage"
    holes = df.copy()
    holes.loc[7, "b"] = np.nan
    with pytest.raises(ModuleError, match="'b' has a missing value in row 8"):
        call_module("smote", {"label_column": "label"}, dataset=holes)
    with pytest.raises(ModuleError, match="single class"):
        call_module("smote", {"label_column": "label"}, dataset=df.assign(label="one"))
