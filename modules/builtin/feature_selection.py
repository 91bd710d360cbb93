"""Feature selection: Filter Based Feature Selection and Permutation Feature Importance."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import scipy.stats
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

from modules.sdk import (
    Bool, Choice, Columns, Estimator, Input, Int, Module, ModuleError, Output, ParamValues, PortType, Schema,
    StepContext, register, roles_of, set_roles,
)
from modules.sdk.schema import column_kind
from modules.sdk.types import ColumnKind

from .evaluation import evaluate_scored
from .learners import MULTICLASS, REGRESSION
from .training import label_column, labelled_rows, score_table, supervised_task

CATEGORY = "Feature Selection"
SchemaMap = Mapping[str, Schema | None]

PEARSON = "pearson"
MUTUAL_INFORMATION = "mutual_information"
KENDALL = "kendall"
SPEARMAN = "spearman"
CHI_SQUARED = "chi_squared"
FISHER = "fisher"
COUNT = "count"
METHODS = (PEARSON, MUTUAL_INFORMATION, KENDALL, SPEARMAN, CHI_SQUARED, FISHER, COUNT)
SIGNIFICANT_DIGITS = 10  # scores equal to this many digits are a tie, broken by table order


# --- scoring one feature against the label -----------------------------------------------


def _is_numeric(series: pd.Series) -> bool:
    return column_kind(series) in (ColumnKind.NUMERIC, ColumnKind.BOOLEAN, ColumnKind.DATETIME)


def _as_numbers(series: pd.Series) -> np.ndarray:
    if column_kind(series) is ColumnKind.DATETIME:
        return series.astype("int64").to_numpy(dtype=float)  # nanoseconds, as the designer does
    return series.astype("float64").to_numpy()


def _conditional_means(categories: pd.Series, numbers: np.ndarray) -> np.ndarray:
    """Each category replaced by the mean of `numbers` over its rows: how a text column takes
    part in a correlation with a numeric one (the designer's rule)."""
    means = pd.Series(numbers, index=categories.index).groupby(categories.to_numpy()).transform("mean")
    return means.to_numpy(dtype=float)


def _correlation_pair(feature: pd.Series, label: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Feature and label as two numeric arrays; None when both are text (no correlation)."""
    feature_numeric, label_numeric = _is_numeric(feature), _is_numeric(label)
    if feature_numeric and label_numeric:
        return _as_numbers(feature), _as_numbers(label)
    if feature_numeric:
        x = _as_numbers(feature)
        return x, _conditional_means(label, x)
    if label_numeric:
        y = _as_numbers(label)
        return _conditional_means(feature, y), y
    return None


def _correlation(statistic: Callable[[np.ndarray, np.ndarray], Any]) -> Callable[[pd.Series, pd.Series], float]:
    def score(feature: pd.Series, label: pd.Series) -> float:
        pair = _correlation_pair(feature, label)
        if pair is None or len(pair[0]) < 2 or np.ptp(pair[0]) == 0 or np.ptp(pair[1]) == 0:
            return 0.0
        return abs(float(statistic(*pair)[0]))

    return score


def _chi_squared(feature: pd.Series, label: pd.Series) -> float:
    # Every distinct value is a category, numbers included: bin a continuous column first
    # (Group Data into Bins) to score it by ranges.
    table = pd.crosstab(feature.to_numpy(), label.to_numpy())
    if min(table.shape) < 2:
        return 0.0
    return float(scipy.stats.chi2_contingency(table.to_numpy(), correction=False)[0])


def _codes(series: pd.Series) -> np.ndarray:
    return pd.factorize(series)[0].reshape(-1, 1)


def _mutual_information(feature: pd.Series, label: pd.Series) -> float:
    discrete = not _is_numeric(feature)
    x = _codes(feature) if discrete else _as_numbers(feature).reshape(-1, 1)
    if _is_numeric(label):
        return float(mutual_info_regression(x, _as_numbers(label), discrete_features=discrete, random_state=0)[0])
    return float(mutual_info_classif(x, label.astype("str").to_numpy(), discrete_features=discrete, random_state=0)[0])


def _fisher(feature: pd.Series, label: pd.Series) -> float:
    """Between-class over within-class variance of a numeric feature, the label's values
    being the classes; text features score 0."""
    if not _is_numeric(feature):
        return 0.0
    x = pd.Series(_as_numbers(feature))
    groups = x.groupby(label.astype("str").to_numpy())
    sizes, means, variances = groups.size(), groups.mean(), groups.var(ddof=0)
    between = float((sizes * (means - x.mean()) ** 2).sum())
    within = float((sizes * variances).sum())
    if within == 0:
        return float(np.finfo(float).max) if between > 0 else 0.0
    return between / within


def _count(feature: pd.Series, label: pd.Series) -> float:
    """Values that are neither missing nor zero."""
    if _is_numeric(feature):
        return float((_as_numbers(feature) != 0).sum())
    return float(len(feature))


_SCORERS: dict[str, Callable[[pd.Series, pd.Series], float]] = {
    PEARSON: _correlation(scipy.stats.pearsonr),
    SPEARMAN: _correlation(scipy.stats.spearmanr),
    KENDALL: _correlation(scipy.stats.kendalltau),
    CHI_SQUARED: _chi_squared,
    MUTUAL_INFORMATION: _mutual_information,
    FISHER: _fisher,
    COUNT: _count,
}


def feature_score(method: str, feature: pd.Series, label: pd.Series) -> float:
    """One feature's score; rows missing either value are left out."""
    both = feature.notna() & label.notna()
    feature, label = feature[both], label[both]
    if feature.empty:
        return 0.0
    score = _SCORERS[method](feature, label)
    return score if np.isfinite(score) else 0.0


def ranked_features(df: pd.DataFrame, label: str, candidates: list[str], method: str) -> list[tuple[str, float]]:
    """(feature, score), best first; equal scores keep the table's order."""
    scored = [(name, feature_score(method, df[name], df[label])) for name in candidates]
    position = {name: i for i, name in enumerate(candidates)}
    return sorted(scored, key=lambda item: (-float(f"{item[1]:.{SIGNIFICANT_DIGITS}g}"), position[item[0]]))


def candidate_features(df: pd.DataFrame, label: str, feature_columns_only: bool) -> list[str]:
    """Every column but the label, other label columns and score columns; with
    `feature_columns_only`, only columns with the feature role when some have it."""
    roles = roles_of(df)
    candidates = [c for c in df.columns if c != label and roles.get(c) not in ("label", "score")]
    marked = [c for c in candidates if roles.get(c) == "feature"]
    return marked if feature_columns_only and marked else candidates


@register
class FilterBasedFeatureSelection(Module):
    """Rank the columns of a table by how well each one predicts the label, and keep the best."""

    id = "filter_based_feature_selection"
    name = "Filter Based Feature Selection"
    keywords = ("feature selection", "best features", "correlation", "chi-squared", "drop columns")
    category = CATEGORY
    help = (
        "Scores every feature column against the label (`label_column`) with one statistic, "
        "ranks them, and keeps the label and the `features` best columns.\n\n"
        "- **pearson**, **spearman**, **kendall**: the absolute correlation (linear, of ranks, of "
        "concordant pairs). A text column takes part through the mean of the numeric side over "
        "each of its values; a text feature against a text label scores 0.\n"
        "- **mutual_information**: the information the feature gives about the label "
        "(scikit-learn's estimators; text columns as discrete values).\n"
        "- **chi_squared**: the chi-squared statistic of the feature's values against the "
        "label's, without continuity correction. Every distinct value is a category, numbers "
        "included (as the classic designer module did, whose published results this reproduces); "
        "bin a continuous column with Group Data into Bins to score it by ranges.\n"
        "- **fisher**: between-class over within-class variance of a numeric feature, the label's "
        "values being the classes; text features score 0.\n"
        "- **count**: how many values are neither missing nor zero.\n\n"
        "Rows missing the feature or the label are left out of that feature's score. Equal "
        "scores keep the table's order. Label and score columns are never candidates; with "
        "`feature_columns_only`, only columns with the feature role are, when some have it.\n\n"
        "Outputs, as in the designer: **dataset**, the label column then the kept features, best "
        "first (roles kept, the label marked as label), and **features**, one row holding the "
        "score of every candidate (the label's own column holds 1), best first. Connect the "
        "dataset to Select Columns Transform to keep the same columns in other tables."
    )
    example_params = {"label_column": "target", "features": 2}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The label and the best features")
        features = Output(type=PortType.DATAFRAME, help="One row: every candidate's score, best first")

    class Params:
        label_column = Columns(required=True, multiple=False, help="The column the features should predict")
        method = Choice(choices=METHODS, default=PEARSON, help="The statistic that scores each feature")
        features = Int(default=1, min=1, help="How many of the best features to keep")
        feature_columns_only = Bool(default=True, help="Score only columns with the feature role, when some have it")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        label = label_column(dataset, params.label_column)
        candidates = candidate_features(dataset, label, params.feature_columns_only)
        if not candidates:
            raise ModuleError("the table has no feature column to score besides the label", code="no_features", port="dataset")
        if dataset.empty:
            raise ModuleError("the table has no rows to score features on", code="empty_table", port="dataset")
        ranked = ranked_features(dataset, label, candidates, params.method)
        kept = [name for name, _ in ranked[: params.features]]
        if params.features > len(ranked):
            ctx.warn(f"{params.features} features were asked for; the table has {len(ranked)}, all kept")
        ctx.log("scores: " + ", ".join(f"{name}={score:.4g}" for name, score in ranked))
        roles = {**roles_of(dataset), label: "label"}
        filtered = set_roles(dataset[[label, *kept]], roles)
        scores = pd.DataFrame([[1.0, *(score for _, score in ranked)]], columns=[label, *(name for name, _ in ranked)])
        return {"dataset": filtered, "features": scores}


# --- Permutation Feature Importance ------------------------------------------------------

# Metric choices and whether a higher value is better.
_PERMUTATION_METRICS: dict[str, bool] = {
    "accuracy": True, "precision": True, "recall": True, "log_loss": False,
    "mean_absolute_error": False, "root_mean_squared_error": False, "relative_absolute_error": False,
    "relative_squared_error": False, "coefficient_of_determination": True,
}
_CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "log_loss")
# Evaluate Model's metric key for a choice, for multiclass models.
_MULTICLASS_KEYS = {"precision": "macro_precision", "recall": "macro_recall"}


def metric_key(task: str, metric: str) -> str:
    """The Evaluate Model metric a choice names for a task, or a ModuleError if it does not fit."""
    if (task == REGRESSION) == (metric in _CLASSIFICATION_METRICS):
        kind = "a regression" if task == REGRESSION else "a classification"
        raise ModuleError(
            f"{metric} does not measure {kind} model; choose one of "
            + ", ".join(m for m in _PERMUTATION_METRICS if (m in _CLASSIFICATION_METRICS) != (task == REGRESSION)),
            code="bad_metric", param="metric",
        )
    return _MULTICLASS_KEYS.get(metric, metric) if task == MULTICLASS else metric


@register
class PermutationFeatureImportance(Module):
    """How much a trained model's performance drops when each feature's values are shuffled."""

    id = "permutation_feature_importance"
    name = "Permutation Feature Importance"
    keywords = ("feature importance", "explain model", "which features matter")
    category = CATEGORY
    help = (
        "Scores the labelled table with the trained model and measures `metric` (as Evaluate "
        "Model does); then, one feature at a time, shuffles that feature's values across the "
        "rows and measures again. A feature's importance is how much worse the metric got: "
        "base − shuffled for metrics where higher is better (accuracy, precision, recall, "
        "coefficient of determination), shuffled − base for errors and log loss. Near 0: the "
        "model does not rely on it; negative: shuffling it happened to help.\n\n"
        "All features are shuffled with the same permutation of the rows, drawn with NumPy's "
        "`RandomState(seed)` as in the designer. Precision and recall are the positive class's "
        "for two-class models and macro averages for multiclass ones. Rows without a label "
        "are left out.\n\n"
        "Output: `Feature` and `Score` columns, most important first."
    )
    example_params = {"metric": "coefficient_of_determination"}

    class Inputs:
        model = Input(type=PortType.TRAINED_MODEL, help="A model from Train Model")
        dataset = Input(type=PortType.DATAFRAME, help="Labelled test data")

    class Outputs:
        importance = Output(type=PortType.DATAFRAME, help="Feature and Score, most important first")

    class Params:
        seed = Int(default=0, min=0, max=2**32 - 1, help="Random seed of the permutation")
        metric = Choice(choices=tuple(_PERMUTATION_METRICS), default="accuracy", help="The metric whose drop is measured")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        task = supervised_task(model)
        key = metric_key(task, params.metric)
        label = model.meta["label"]
        if label not in dataset.columns:
            raise ModuleError(
                f"the table lacks the label column {label!r}: importance is measured against the true values",
                code="no_label", port="dataset",
            )
        if dataset.empty:
            raise ModuleError("the table has no rows", code="empty_table", port="dataset")
        rows = labelled_rows(ctx, dataset, label).reset_index(drop=True)
        higher_is_better = _PERMUTATION_METRICS[params.metric]

        def measure(table: pd.DataFrame) -> float:
            metrics = evaluate_scored(score_table(model, table, append=True), port="dataset").metrics
            return metrics[key]

        base = measure(rows)
        order = np.random.RandomState(params.seed).permutation(len(rows))
        features: list[str] = model.meta["features"]
        scores = []
        for i, name in enumerate(features):
            shuffled = rows.assign(**{name: rows[name].iloc[order].to_numpy()})
            drop = base - measure(shuffled)
            scores.append((name, drop if higher_is_better else -drop))
            ctx.progress((i + 1) / len(features), f"feature {i + 1} of {len(features)}")
        ctx.log(f"{key} on the unshuffled table: {base:.6g}")
        importance = pd.DataFrame(scores, columns=["Feature", "Score"])
        return {"importance": importance.sort_values("Score", ascending=False, kind="stable").reset_index(drop=True)}
