"""Recommendation: Train SVD Recommender, Score SVD Recommender, Evaluate Recommender.

The designer's SVD recommender is matrix factorization trained by stochastic gradient
descent (Funk's "SVD"): a rating is predicted as the mean rating plus a user bias, an
item bias and the dot product of a user's and an item's factor vectors. The model is an
`Estimator` whose object is a plain dict of arrays (users, items, biases, factors).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modules.sdk import (
    Bool, Choice, Columns, Estimator, Float, Input, Int, Module, ModuleError, Output, ParamValues, PortType,
    StepContext, register, resolve_columns,
)
from modules.sdk.schema import column_kind
from modules.sdk.types import ColumnKind

CATEGORY = "Recommendation"
RECOMMENDATION = "recommendation"
USER, ITEM, RATING = "User", "Item", "Rating"
BATCH_ROWS = 256  # ratings per gradient step: vectorized, yet close to one rating at a time

RATING_PREDICTION, ITEM_RECOMMENDATION = "rating_prediction", "item_recommendation"
FROM_ALL, FROM_RATED, FROM_UNRATED = "from_all_items", "from_rated_items", "from_unrated_items"

_TRIPLE_HELP = "by default the {} column of the table"
USER_COLUMN = Columns(multiple=False, help="The users' column; " + _TRIPLE_HELP.format("first"))
ITEM_COLUMN = Columns(multiple=False, help="The items' column; " + _TRIPLE_HELP.format("second"))
RATING_COLUMN = Columns(multiple=False, kinds=("numeric",), help="The ratings' column; " + _TRIPLE_HELP.format("third"))


def triple_columns(df: pd.DataFrame, params: ParamValues, *, port: str, rating: bool = True) -> list[str]:
    """The user, item (and rating) columns: those the params name, else the first ones."""
    names = ["user_column", "item_column", "rating_column"][: 3 if rating else 2]
    if df.shape[1] < len(names):
        raise ModuleError(
            f"the table needs {'user, item and rating' if rating else 'user and item'} columns; it has "
            f"{df.shape[1]} column{'s' if df.shape[1] != 1 else ''}",
            code="too_few_columns", port=port,
        )
    columns = [
        resolve_columns(params[name], df, param=name)[0] if params.get(name) else str(df.columns[i])
        for i, name in enumerate(names)
    ]
    if len(set(columns)) < len(columns):
        raise ModuleError(f"the user, item and rating columns must differ; got {', '.join(columns)}",
                          code="same_column", param=names[0])
    return columns


def keys(values: pd.Series) -> np.ndarray:
    """Users and items as text, so that 7 and "7" are the same user in training and scoring."""
    return values.astype(str).to_numpy(dtype=object)


def ratings_of(df: pd.DataFrame, column: str, *, port: str) -> np.ndarray:
    if column_kind(df[column]) is not ColumnKind.NUMERIC:
        raise ModuleError(f"the rating column {column!r} is not numeric", code="label_type", port=port)
    return df[column].to_numpy(dtype=float)


def complete_rows(ctx: StepContext, df: pd.DataFrame, columns: list[str], *, port: str) -> pd.DataFrame:
    missing = df[columns].isna().any(axis=1)
    if missing.all():
        raise ModuleError(f"no row has all of {', '.join(columns)}", code="empty_table", port=port)
    if missing.any():
        ctx.warn(f"{int(missing.sum())} rows missing one of {', '.join(columns)} were left out")
    return df[~missing]


def factorize(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray, *, factors: int, iterations: int,
    learning_rate: float, l2: float, seed: int,
) -> dict[str, Any]:
    """Biased matrix factorization by stochastic gradient descent over shuffled ratings."""
    user_names, u = np.unique(users, return_inverse=True)
    item_names, i = np.unique(items, return_inverse=True)
    rng = np.random.default_rng(seed)
    mean = float(ratings.mean())
    user_bias, item_bias = np.zeros(len(user_names)), np.zeros(len(item_names))
    p = rng.normal(scale=0.1, size=(len(user_names), factors))
    q = rng.normal(scale=0.1, size=(len(item_names), factors))
    for _ in range(iterations):
        order = rng.permutation(len(ratings))
        for start in range(0, len(order), BATCH_ROWS):
            b = order[start:start + BATCH_ROWS]
            bu, bi = u[b], i[b]
            error = ratings[b] - (mean + user_bias[bu] + item_bias[bi] + (p[bu] * q[bi]).sum(axis=1))
            np.add.at(user_bias, bu, learning_rate * (error - l2 * user_bias[bu]))
            np.add.at(item_bias, bi, learning_rate * (error - l2 * item_bias[bi]))
            pu, qi = p[bu], q[bi]
            np.add.at(p, bu, learning_rate * (error[:, None] * qi - l2 * pu))
            np.add.at(q, bi, learning_rate * (error[:, None] * pu - l2 * qi))
    return {
        "users": user_names.tolist(), "items": item_names.tolist(), "mean": mean,
        "user_bias": user_bias, "item_bias": item_bias, "user_factors": p, "item_factors": q,
        "min_rating": float(ratings.min()), "max_rating": float(ratings.max()),
    }


class Recommender:
    """Predictions of a factorized model; users and items it never saw get the mean and
    the known bias (no factors)."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.model = model
        self.user_index = {name: k for k, name in enumerate(model["users"])}
        self.item_index = {name: k for k, name in enumerate(model["items"])}
        factors = np.asarray(model["user_factors"]).shape[1]
        # One extra zero row each: where unknown users and items point.
        self.user_bias = np.append(np.asarray(model["user_bias"]), 0.0)
        self.item_bias = np.append(np.asarray(model["item_bias"]), 0.0)
        self.p = np.vstack([np.asarray(model["user_factors"]), np.zeros(factors)])
        self.q = np.vstack([np.asarray(model["item_factors"]), np.zeros(factors)])

    def _users(self, users: np.ndarray) -> np.ndarray:
        return np.array([self.user_index.get(u, len(self.user_index)) for u in users], dtype=np.int64)

    def _items(self, items: np.ndarray) -> np.ndarray:
        return np.array([self.item_index.get(i, len(self.item_index)) for i in items], dtype=np.int64)

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        u, i = self._users(users), self._items(items)
        raw = self.model["mean"] + self.user_bias[u] + self.item_bias[i] + (self.p[u] * self.q[i]).sum(axis=1)
        return np.clip(raw, self.model["min_rating"], self.model["max_rating"])

    def all_items_for(self, user: str) -> np.ndarray:
        """Predicted ratings of every known item for one user, in the model's item order."""
        u = self._users(np.array([user], dtype=object))[0]
        raw = self.model["mean"] + self.user_bias[u] + self.item_bias[:-1] + self.q[:-1] @ self.p[u]
        return np.clip(raw, self.model["min_rating"], self.model["max_rating"])


@register
class TrainSVDRecommender(Module):
    """Train a recommender on user-item-rating rows by matrix factorization (SVD)."""

    id = "train_svd_recommender"
    name = "Train SVD Recommender"
    keywords = ("recommendations", "ratings", "collaborative filtering", "matrix factorization")
    category = CATEGORY
    help = (
        "Learns, from a table of ratings (a user, an item and a rating per row; by default its "
        "first three columns), a vector of `factors` numbers for every user and every item, "
        "plus a bias for each, such that the mean rating + the user's bias + the item's bias + "
        "the dot product of their vectors predicts the rating. This is the designer's SVD "
        "recommender: matrix factorization (Funk SVD) trained by stochastic gradient descent.\n\n"
        "- **factors**: length of the vectors (more: finer tastes, more overfitting);\n"
        "- **iterations**: passes over the shuffled ratings;\n"
        "- **learning_rate**: size of each step; **l2**: regularization weight of the biases and vectors.\n\n"
        "Users and items are compared as text. Rows missing a user, item or rating are left out. "
        "Score with Score SVD Recommender."
    )
    example_params = {"user_column": "color", "item_column": "x2", "rating_column": "target", "factors": 4}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="Ratings: user, item and rating columns")

    class Outputs:
        model = Output(type=PortType.TRAINED_MODEL, help="The trained recommender; connect it to Score SVD Recommender")

    class Params:
        user_column = USER_COLUMN
        item_column = ITEM_COLUMN
        rating_column = RATING_COLUMN
        factors = Int(default=200, min=1, max=10_000, help="Length of the user and item vectors")
        iterations = Int(default=30, min=1, max=10_000, help="Passes over the ratings")
        learning_rate = Float(default=0.005, min=1e-9, max=1.0, help="Size of each gradient step")
        l2 = Float(default=0.02, min=0.0, help="Regularization weight of biases and vectors")
        seed = Int(default=0, min=0, help="Random seed of the initial vectors and the order of the ratings")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = triple_columns(dataset, params, port="dataset")
        if dataset.empty:
            raise ModuleError("the table has no ratings", code="empty_table", port="dataset")
        ratings = complete_rows(ctx, dataset, columns, port="dataset")
        user, item, rating = columns
        model = factorize(
            keys(ratings[user]), keys(ratings[item]), ratings_of(ratings, rating, port="dataset"),
            factors=params.factors, iterations=params.iterations, learning_rate=params.learning_rate,
            l2=params.l2, seed=params.seed,
        )
        # What each user rated, so that from_unrated_items recommends only new items.
        rated = pd.Series(keys(ratings[item])).groupby(keys(ratings[user])).unique()
        model["rated"] = {str(u): [str(i) for i in items] for u, items in rated.items()}
        ctx.log(f"{len(model['users'])} users, {len(model['items'])} items, {len(ratings)} ratings")
        meta = {"task": RECOMMENDATION, "algorithm": self.id, "version": self.version,
                "user_column": user, "item_column": item, "rating_column": rating}
        return {"model": Estimator(model, meta)}


def recommender_of(model: Estimator) -> Recommender:
    if model.meta.get("task") != RECOMMENDATION:
        raise ModuleError(
            f"Score SVD Recommender needs a model from Train SVD Recommender, got a {model.meta.get('task')} model; "
            "use Score Model for it", code="model_type", port="model",
        )
    return Recommender(model.obj)


@register
class ScoreSVDRecommender(Module):
    """Predict ratings, or recommend items to users, with a trained SVD recommender."""

    id = "score_svd_recommender"
    name = "Score SVD Recommender"
    category = CATEGORY
    help = (
        "- **prediction_kind = rating_prediction**: for each row's user and item (the training "
        f"table's user and item columns, else the first two), predicts the rating: columns `{USER}`, "
        f"`{ITEM}`, `{RATING}`.\n"
        f"- **prediction_kind = item_recommendation**: for each user, the `max_items` items with "
        f"the highest predicted ratings, best first: `{USER}`, `{ITEM} 1`…, and with "
        f"`return_ratings` `{RATING} 1`…. Which items are candidates (`item_selection`):\n"
        "  - `from_all_items`: every item of the training table (users from the table's user column);\n"
        "  - `from_rated_items`: the items each user has in this table (for model evaluation on "
        "test ratings); users with fewer than `min_pool_size` of them are left out;\n"
        "  - `from_unrated_items`: the items each user did not rate in the training table (to "
        "suggest new ones).\n\n"
        "Users and items the model never saw get the mean rating and the item's (or user's) "
        "bias. Predictions stay within the training ratings' range."
    )
    example_params = {
        "prediction_kind": ITEM_RECOMMENDATION, "item_selection": FROM_RATED, "min_pool_size": 1, "return_ratings": True,
    }

    class Inputs:
        model = Input(type=PortType.TRAINED_MODEL, help="A model from Train SVD Recommender")
        dataset = Input(type=PortType.DATAFRAME, help="Users (and items) to score")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="Predicted ratings, or recommended items per user")

    class Params:
        prediction_kind = Choice(choices=(RATING_PREDICTION, ITEM_RECOMMENDATION), default=ITEM_RECOMMENDATION,
                                 help="Predict ratings of user-item pairs, or recommend items to users")
        item_selection = Choice(choices=(FROM_ALL, FROM_RATED, FROM_UNRATED), default=FROM_RATED,
                                help="Which items may be recommended (item_recommendation)")
        max_items = Int(default=5, min=1, max=1000, help="Items recommended per user")
        min_pool_size = Int(default=2, min=1, help="Users with fewer candidate items are left out (from_rated_items)")
        return_ratings = Bool(default=False, help="Add the predicted rating of each recommended item")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        recommender = recommender_of(model)
        needs_items = params.prediction_kind == RATING_PREDICTION or params.item_selection == FROM_RATED
        user, item = self._columns(model, dataset, with_item=needs_items)
        if dataset.empty:
            raise ModuleError("the table has no rows to score", code="empty_table", port="dataset")
        if params.prediction_kind == RATING_PREDICTION:
            assert item is not None  # asked for above: rating prediction needs items
            rows = complete_rows(ctx, dataset, [user, item], port="dataset")
            users, items = keys(rows[user]), keys(rows[item])
            return {"dataset": pd.DataFrame({USER: users, ITEM: items, RATING: recommender.predict(users, items)})}
        return {"dataset": self._recommend(ctx, params, recommender, dataset, user, item)}

    @staticmethod
    def _columns(model: Estimator, df: pd.DataFrame, *, with_item: bool) -> tuple[str, str | None]:
        wanted = [model.meta["user_column"], model.meta["item_column"]][: 2 if with_item else 1]
        if all(c in df.columns for c in wanted):
            columns = wanted
        elif df.shape[1] >= len(wanted):
            columns = [str(c) for c in df.columns[: len(wanted)]]
        else:
            raise ModuleError(f"the table needs a user{' and an item' if with_item else ''} column",
                              code="too_few_columns", port="dataset")
        return columns[0], columns[1] if with_item else None

    @staticmethod
    def _recommend(
        ctx: StepContext, params: ParamValues, recommender: Recommender, df: pd.DataFrame, user: str, item: str | None
    ) -> pd.DataFrame:
        items = np.asarray(recommender.model["items"], dtype=object)
        rated_in_training: dict[str, list[str]] = recommender.model["rated"]
        candidates_of: dict[str, np.ndarray] = {}
        if params.item_selection == FROM_RATED:
            assert item is not None
            rows = df[[user, item]].dropna()
            for rater, group in rows.groupby(keys(rows[user]), sort=False):
                pool = pd.unique(keys(group[item]))
                if len(pool) >= params.min_pool_size:
                    candidates_of[str(rater)] = pool
            left_out = len(pd.unique(keys(df[user].dropna()))) - len(candidates_of)
            if left_out:
                ctx.warn(f"{left_out} users have fewer than {params.min_pool_size} items to rank and were left out")
        else:
            for name in pd.unique(keys(df[user].dropna())):
                candidates_of[str(name)] = items
        rows_out = []
        for who, pool in candidates_of.items():
            predicted = recommender.predict(np.full(len(pool), who, dtype=object), pool)
            if params.item_selection == FROM_UNRATED:
                seen = set(rated_in_training.get(who, ()))
                keep = np.array([p not in seen for p in pool], dtype=bool)
                pool, predicted = pool[keep], predicted[keep]
            best = np.argsort(-predicted, kind="stable")[: params.max_items]
            row: dict[str, Any] = {USER: who}
            for rank in range(params.max_items):
                row[f"{ITEM} {rank + 1}"] = pool[best[rank]] if rank < len(best) else None
                if params.return_ratings:
                    row[f"{RATING} {rank + 1}"] = float(predicted[best[rank]]) if rank < len(best) else np.nan
            rows_out.append(row)
        columns = [USER] + [
            name for rank in range(params.max_items)
            for name in ([f"{ITEM} {rank + 1}"] + ([f"{RATING} {rank + 1}"] if params.return_ratings else []))
        ]
        return pd.DataFrame(rows_out, columns=columns).astype({c: object for c in columns if not c.startswith(RATING)})


def dcg(gains: np.ndarray) -> float:
    return float((gains / np.log2(np.arange(2, len(gains) + 2))).sum())


@register
class EvaluateRecommender(Module):
    """Measure a recommender's predicted ratings or recommendations against test ratings."""

    id = "evaluate_recommender"
    name = "Evaluate Recommender"
    category = CATEGORY
    help = (
        "Compares the output of Score SVD Recommender with the true ratings of the test table "
        "(user, item and rating columns; by default its first three).\n\n"
        f"- **Predicted ratings** (`{USER}`, `{ITEM}`, `{RATING}`): mean absolute error and root "
        "mean squared error over the pairs found in the test table.\n"
        f"- **Recommended items** (`{USER}`, `{ITEM} 1`…): NDCG, the normalized discounted "
        "cumulative gain: for each user, the true ratings of the recommended items (0 for items "
        "the user did not rate in the test table), discounted by log2(rank + 1), divided by the "
        "best possible order of the user's test ratings; averaged over users.\n\n"
        "The metrics are recorded on the run and returned as a one-row table."
    )

    # The conformance check gives both inputs the same table: Score SVD Recommender's example
    # output, whose first recommendation and its rating stand in for test ratings.
    example_params = {"user_column": USER, "item_column": f"{ITEM} 1", "rating_column": f"{RATING} 1"}

    class Inputs:
        test = Input(type=PortType.DATAFRAME, help="The test ratings: user, item and rating")
        scored = Input(type=PortType.DATAFRAME, help="The output of Score SVD Recommender")

    class Outputs:
        results = Output(type=PortType.DATAFRAME, help="The metrics, one row")

    class Params:
        user_column = USER_COLUMN
        item_column = ITEM_COLUMN
        rating_column = RATING_COLUMN

    def run(self, ctx: StepContext, params: ParamValues, test: pd.DataFrame, scored: pd.DataFrame) -> dict[str, Any]:
        user, item, rating = triple_columns(test, params, port="test")
        for port, table in (("test", test), ("scored", scored)):
            if table.empty:
                raise ModuleError("the table has no rows", code="empty_table", port=port)
        test = complete_rows(ctx, test, [user, item, rating], port="test")
        truth = pd.Series(ratings_of(test, rating, port="test"),
                          index=pd.MultiIndex.from_arrays([keys(test[user]), keys(test[item])]))
        truth = truth[~truth.index.duplicated(keep="last")]
        if {USER, ITEM, RATING} <= set(scored.columns):
            metrics = self._ratings(truth, scored)
        elif USER in scored.columns and f"{ITEM} 1" in scored.columns:
            metrics = self._recommendations(truth, scored)
        else:
            raise ModuleError(
                f"the scored table has neither {USER}, {ITEM} and {RATING} (predicted ratings) nor {USER} and "
                f"{ITEM} 1… (recommended items); connect the output of Score SVD Recommender",
                code="no_scores", port="scored",
            )
        for name, value in metrics.items():
            ctx.metric(name, value)
        return {"results": pd.DataFrame([{self._column(k): v for k, v in metrics.items()}])}

    @staticmethod
    def _column(metric: str) -> str:
        return {"mean_absolute_error": "Mean_Absolute_Error", "root_mean_squared_error": "Root_Mean_Squared_Error",
                "ndcg": "NDCG"}[metric]

    @staticmethod
    def _ratings(truth: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
        predicted = pd.Series(scored[RATING].to_numpy(dtype=float),
                              index=pd.MultiIndex.from_arrays([keys(scored[USER]), keys(scored[ITEM])]))
        common = predicted.index.intersection(truth.index)
        if common.empty:
            raise ModuleError("no scored user-item pair is in the test table", code="no_overlap", port="scored")
        error = predicted.loc[common].to_numpy() - truth.loc[common].to_numpy()
        return {"mean_absolute_error": float(np.abs(error).mean()),
                "root_mean_squared_error": float(np.sqrt((error**2).mean()))}

    @staticmethod
    def _recommendations(truth: pd.Series, scored: pd.DataFrame) -> dict[str, float]:
        ranks = [c for c in scored.columns if c.startswith(f"{ITEM} ") and c[len(ITEM) + 1:].isdigit()]
        by_user = {str(u): group.droplevel(0) for u, group in truth.groupby(level=0)}
        scores = []
        for _, row in scored.iterrows():
            known = by_user.get(str(row[USER]))
            if known is None:
                continue  # a user without test ratings has nothing to measure
            items = [str(row[c]) for c in ranks if not pd.isna(row[c])]
            gains = np.array([known.get(i, 0.0) for i in items], dtype=float)
            ideal = dcg(np.sort(known.to_numpy(dtype=float))[::-1][: len(ranks)])
            scores.append(dcg(gains) / ideal if ideal > 0 else 0.0)
        if not scores:
            raise ModuleError("no scored user has ratings in the test table", code="no_overlap", port="scored")
        return {"ndcg": float(np.mean(scores))}
