"""SVD recommender: training, scoring and evaluation, against numpy and scikit-learn metrics."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from modules.sdk import ModuleError
from modules.sdk.artifacts import read_value, write_value
from modules.sdk.testing import call_module
from modules.sdk.types import PortType


def ratings(users: int = 60, items: int = 40, seen: float = 0.4, seed: int = 0) -> pd.DataFrame:
    """Ratings 1-5 of a low-rank taste model, a share `seen` of them observed."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(users, 2)) @ rng.normal(size=(2, items))
    true = np.clip(np.round(3 + rng.normal(scale=0.5, size=(users, 1)) + taste), 1, 5)
    u, i = np.nonzero(rng.random((users, items)) < seen)
    return pd.DataFrame({"user": [f"u{k}" for k in u], "movie": i, "stars": true[u, i]})


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    test = df.sample(frac=0.2, random_state=1)
    return df.drop(test.index), test


TRAIN_PARAMS = {"factors": 8, "iterations": 60, "learning_rate": 0.02, "l2": 0.05}


def trained(df: pd.DataFrame, tmp_path: Path, **params: object):
    model = call_module("train_svd_recommender", {**TRAIN_PARAMS, **params}, dataset=df).outputs["model"]
    write_value(PortType.TRAINED_MODEL, model, tmp_path / "model")
    return read_value(PortType.TRAINED_MODEL, tmp_path / "model")


def test_predicted_ratings_beat_the_mean_and_biases_and_are_reproducible(tmp_path: Path) -> None:
    train, test = split(ratings())
    model = trained(train, tmp_path)
    scored = call_module("score_svd_recommender", {"prediction_kind": "rating_prediction"}, model=model,
                         dataset=test).outputs["dataset"]
    assert list(scored.columns) == ["User", "Item", "Rating"]
    assert scored["Item"].tolist() == test["movie"].astype(str).tolist()
    rmse = root_mean_squared_error(test["stars"], scored["Rating"])

    # Baseline, in plain numpy: the mean plus the user's and the item's mean offsets.
    mean = train["stars"].mean()
    user_offset = (train["stars"] - mean).groupby(train["user"]).mean()
    item_offset = (train["stars"] - mean).groupby(train["movie"]).mean()
    baseline = np.clip(mean + test["user"].map(user_offset).fillna(0) + test["movie"].map(item_offset).fillna(0), 1, 5)
    assert rmse < 0.85 * root_mean_squared_error(test["stars"], baseline)
    assert scored["Rating"].between(1, 5).all()

    again = call_module("score_svd_recommender", {"prediction_kind": "rating_prediction"},
                        model=trained(train, tmp_path / "again"), dataset=test).outputs["dataset"]
    pd.testing.assert_frame_equal(scored, again)


def test_recommendations_are_the_best_predicted_items_of_each_pool(tmp_path: Path) -> None:
    train, test = split(ratings())
    model = trained(train, tmp_path)
    params = {"item_selection": "from_rated_items", "max_items": 3, "min_pool_size": 3, "return_ratings": True}
    recommended = call_module("score_svd_recommender", params, model=model, dataset=test).outputs["dataset"]
    assert list(recommended.columns) == ["User", "Item 1", "Rating 1", "Item 2", "Rating 2", "Item 3", "Rating 3"]
    predicted = call_module("score_svd_recommender", {"prediction_kind": "rating_prediction"}, model=model,
                            dataset=test).outputs["dataset"]
    pools = test.groupby("user")["movie"].count()
    assert set(recommended["User"]) == set(pools[pools >= 3].index)
    for _, row in recommended.iterrows():
        mine = predicted[predicted["User"] == row["User"]].sort_values("Rating", ascending=False, kind="stable")
        assert [row["Item 1"], row["Item 2"], row["Item 3"]] == mine["Item"].head(3).tolist()
        assert row["Rating 1"] == pytest.approx(mine["Rating"].iloc[0])


def test_unrated_items_are_only_ones_the_user_did_not_rate_in_training(tmp_path: Path) -> None:
    train, _ = split(ratings())
    model = trained(train, tmp_path)
    users = pd.DataFrame({"user": ["u0", "u1", "stranger"]})
    out = call_module("score_svd_recommender", {"item_selection": "from_unrated_items", "max_items": 4}, model=model,
                      dataset=users).outputs["dataset"]
    assert out["User"].tolist() == ["u0", "u1", "stranger"]
    for _, row in out.iterrows():
        rated = set(train.loc[train["user"] == row["User"], "movie"].astype(str))
        picks = [row[f"Item {k}"] for k in range(1, 5)]
        assert len(set(picks)) == 4 and not rated & set(picks)
    every = call_module("score_svd_recommender", {"item_selection": "from_all_items", "max_items": 4}, model=model,
                        dataset=users).outputs["dataset"]
    # A user the model never saw gets the items with the largest biases, whatever the selection.
    assert every.iloc[2, 1:].tolist() == out.iloc[2, 1:].tolist()


def test_evaluate_recommender_measures_ratings_like_scikit_learn(tmp_path: Path) -> None:
    train, test = split(ratings())
    model = trained(train, tmp_path)
    scored = call_module("score_svd_recommender", {"prediction_kind": "rating_prediction"}, model=model,
                         dataset=test).outputs["dataset"]
    run = call_module("evaluate_recommender", {}, test=test, scored=scored)
    results = run.outputs["results"]
    assert results.loc[0, "Mean_Absolute_Error"] == pytest.approx(mean_absolute_error(test["stars"], scored["Rating"]))
    assert results.loc[0, "Root_Mean_Squared_Error"] == pytest.approx(root_mean_squared_error(test["stars"], scored["Rating"]))
    assert run.ctx.metrics["root_mean_squared_error"] == pytest.approx(results.loc[0, "Root_Mean_Squared_Error"])


def test_ndcg_of_recommendations_by_hand() -> None:
    test = pd.DataFrame({"user": ["a", "a", "a", "b", "b"], "item": ["x", "y", "z", "x", "y"], "rating": [5, 3, 1, 2, 4]})
    scored = pd.DataFrame({"User": ["a", "b", "nobody"], "Item 1": ["z", "y", "x"], "Item 2": ["x", "w", "y"]})
    results = call_module("evaluate_recommender", {}, test=test, scored=scored).outputs["results"]
    discount = 1 / np.log2([2, 3])
    user_a = (1 * discount[0] + 5 * discount[1]) / (5 * discount[0] + 3 * discount[1])
    user_b = (4 * discount[0] + 0) / (4 * discount[0] + 2 * discount[1])
    assert results.loc[0, "NDCG"] == pytest.approx((user_a + user_b) / 2)


def test_bad_inputs_say_what_is_wrong(tmp_path: Path) -> None:
    text_ratings = pd.DataFrame({"user": ["a", "b"], "item": ["x", "y"], "rating": ["good", "bad"]})
    with pytest.raises(ModuleError, match="the rating column 'rating' is not numeric"):
        call_module("train_svd_recommender", {}, dataset=text_ratings)
    with pytest.raises(ModuleError, match="needs user, item and rating columns; it has 2 columns"):
        call_module("train_svd_recommender", {}, dataset=text_ratings[["user", "item"]])
    model = trained(ratings(users=5, items=4, seen=0.9), tmp_path)
    with pytest.raises(ModuleError, match="this module needs a regression or classification model, got a recommendation"):
        call_module("score_model", {}, model=model, dataset=ratings(users=5, items=4))
    regression = call_module("linear_regression").outputs["model"]
    with pytest.raises(ModuleError, match="needs a model from Train SVD Recommender") as caught:
        call_module("score_svd_recommender", {}, model=regression, dataset=ratings())
    assert caught.value.port == "model"
    with pytest.raises(ModuleError, match="connect the output of Score SVD Recommender"):
        call_module("evaluate_recommender", {}, test=ratings(), scored=ratings())


def test_rows_missing_a_user_item_or_rating_are_left_out_and_counted(tmp_path: Path) -> None:
    df = ratings(users=10, items=6, seen=0.8)
    holes = df.astype({"movie": "float64"})
    holes.loc[holes.index[:3], "movie"] = np.nan
    run = call_module("train_svd_recommender", {"factors": 2}, dataset=holes)
    assert run.ctx.warnings == ["3 rows missing one of user, movie, stars were left out"]
    scored = call_module("score_svd_recommender", {"prediction_kind": "rating_prediction"}, model=run.outputs["model"],
                         dataset=holes)
    assert len(scored.outputs["dataset"]) == len(df) - 3
    assert scored.ctx.warnings == ["3 rows missing one of user, movie were left out"]
