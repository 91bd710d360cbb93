"""Evaluate Model, and the scored-table contract it shares with Score Model.

A scored table carries its score columns with the `score` role and the true values with
the `label` role; which score columns are present says what was scored:

- `Scored Labels` alone, numeric label: regression;
- `Scored Labels` + `Scored Probabilities` (of the positive class): two-class;
- `Scored Labels` + one `Scored Probabilities_<class>` per class: multiclass;
- `Assignments` + `DistancesToClusterCenter no.<k>`: clustering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from modules.sdk import (
    Choice, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, register, roles_of,
)
from modules.sdk.schema import column_kind
from modules.sdk.types import ColumnKind

SCORED_LABELS = "Scored Labels"
SCORED_PROBABILITIES = "Scored Probabilities"
CLASS_PROBABILITY_PREFIX = SCORED_PROBABILITIES + "_"
ASSIGNMENTS = "Assignments"
DISTANCE_PREFIX = "DistancesToClusterCenter no."

# The designer's column names for the metrics in Evaluate Model's results table, so that
# scripts and Select Columns written for the designer work downstream of it. Metrics not
# named here get their key's words capitalized (cluster_0.points -> Cluster_0.Points).
DESIGNER_COLUMNS = {
    "mean_absolute_error": "Mean_Absolute_Error",
    "root_mean_squared_error": "Root_Mean_Squared_Error",
    "relative_absolute_error": "Relative_Absolute_Error",
    "relative_squared_error": "Relative_Squared_Error",
    "coefficient_of_determination": "Coefficient_of_Determination",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1_score": "F1_Score",
    "auc": "AUC",
    "log_loss": "Log_Loss",
    "macro_precision": "Macro_Precision",
    "macro_recall": "Macro_Recall",
    "macro_f1": "Macro_F1_Score",
    "points": "Number_of_Points",
    "mean_distance_to_center": "Average_Distance_to_Cluster_Center",
    "max_distance_to_center": "Maximal_Distance_to_Cluster_Center",
    "mean_distance_to_other_centers": "Average_Distance_to_Other_Centers",
}
DESIGNER_TASK_COLUMNS = {"dataset": "Scored_Dataset", "task": "Task"}
DESIGNER_NAMES = "designer"
METRIC_KEYS = "metric_keys"


def designer_column(metric: str) -> str:
    """The designer's name for a metric key."""
    return ".".join(
        DESIGNER_COLUMNS.get(part) or "_".join(word.capitalize() for word in part.split("_"))
        for part in metric.split(".")
    )


REGRESSION_POINTS = 2000  # scatter points sent to the canvas; more only slows the chart
CURVE_POINTS = 1000
COMPARE_PREFIX = "compare."


@dataclass
class Evaluation:
    task: str
    metrics: dict[str, float]
    visuals: dict[str, Any] = field(default_factory=dict)


def evaluate_scored(df: pd.DataFrame, *, port: str = "scored") -> Evaluation:
    """Metrics and chart data of one scored table, for the task its score columns reveal."""
    roles = roles_of(df)
    scores = [c for c, r in roles.items() if r == "score"]
    if not scores:
        raise ModuleError(
            "the table has no score columns to evaluate; connect the output of Score Model, "
            "Train Clustering Model or Assign Data to Clusters",
            code="no_scores", port=port,
        )
    if df.empty:
        raise ModuleError("the scored table has no rows", code="empty_table", port=port)
    if ASSIGNMENTS in scores:
        return _clustering(df, scores, port)
    if SCORED_LABELS not in scores:
        raise ModuleError(
            f"the table has no {SCORED_LABELS!r} column; connect the output of Score Model",
            code="no_scores", port=port,
        )
    label = _label_column(df, roles, port)
    actual, predicted = df[label], df[SCORED_LABELS]
    if SCORED_PROBABILITIES in scores:
        return _binary(actual, predicted, df[SCORED_PROBABILITIES], port)
    class_columns = [c for c in scores if c.startswith(CLASS_PROBABILITY_PREFIX)]
    if class_columns:
        return _multiclass(actual, predicted, df[class_columns])
    if column_kind(actual) is not ColumnKind.NUMERIC:
        raise ModuleError(
            f"the label {label!r} is not numeric, but the scores are a regression model's "
            "predictions; score with a model trained on this label",
            code="label_type", port=port,
        )
    return _regression(actual.astype(float), predicted.astype(float))


def _label_column(df: pd.DataFrame, roles: dict[str, str], port: str) -> str:
    labels = [c for c, r in roles.items() if r == "label"]
    if len(labels) != 1:
        found = f"several ({', '.join(labels)})" if labels else "none"
        raise ModuleError(
            f"evaluation needs exactly one column with the label role, found {found}; "
            "score a table that still has the label column, or mark it with Edit Metadata",
            code="no_label", port=port,
        )
    missing = int(df[labels[0]].isna().sum())
    if missing:
        raise ModuleError(
            f"the label column {labels[0]!r} has {missing} missing values; remove those rows "
            "with Clean Missing Data before scoring",
            code="missing_values", port=port, details={labels[0]: missing},
        )
    return labels[0]


def _regression(actual: pd.Series, predicted: pd.Series) -> Evaluation:
    # Relative errors compare the model with always predicting the mean of the label.
    baseline = np.full(len(actual), actual.mean())
    metrics = {
        "mean_absolute_error": skm.mean_absolute_error(actual, predicted),
        "root_mean_squared_error": skm.root_mean_squared_error(actual, predicted),
        "relative_absolute_error": _ratio(
            skm.mean_absolute_error(actual, predicted), skm.mean_absolute_error(actual, baseline)
        ),
        "relative_squared_error": _ratio(
            skm.mean_squared_error(actual, predicted), skm.mean_squared_error(actual, baseline)
        ),
        "coefficient_of_determination": skm.r2_score(actual, predicted),
    }
    rows = np.arange(len(actual))
    if len(rows) > REGRESSION_POINTS:
        rows = np.sort(np.random.default_rng(0).choice(rows, REGRESSION_POINTS, replace=False))
    shown_actual, shown_predicted = actual.to_numpy()[rows], predicted.to_numpy()[rows]
    visuals = {
        "predicted_vs_actual": {"actual": _floats(shown_actual), "predicted": _floats(shown_predicted)},
        "residuals": {"predicted": _floats(shown_predicted), "residual": _floats(shown_actual - shown_predicted)},
    }
    return Evaluation("regression", _plain(metrics), visuals)


def _binary(actual: pd.Series, predicted: pd.Series, probability: pd.Series, port: str) -> Evaluation:
    classes = sorted(set(actual) | set(predicted))
    if len(classes) != 2:
        raise ModuleError(
            f"two-class scores need a label with two values; the label and the scored labels "
            f"have {len(classes)}: {', '.join(map(str, classes[:10]))}",
            code="label_classes", port=port,
        )
    negative, positive = classes  # Score Model's rule: the positive class sorts second
    is_positive, said_positive = (actual == positive).to_numpy(), (predicted == positive).to_numpy()
    both_present = len(set(is_positive)) == 2
    metrics = {
        "accuracy": skm.accuracy_score(is_positive, said_positive),
        "precision": skm.precision_score(is_positive, said_positive, zero_division=0),
        "recall": skm.recall_score(is_positive, said_positive, zero_division=0),
        "f1_score": skm.f1_score(is_positive, said_positive, zero_division=0),
        # AUC is undefined when the evaluated rows hold one class only.
        "auc": skm.roc_auc_score(is_positive, probability) if both_present else float("nan"),
        "log_loss": skm.log_loss(is_positive, probability, labels=[False, True]),
    }
    fpr, tpr, roc_thresholds = skm.roc_curve(is_positive, probability) if both_present else ([], [], [])
    precision, recall, pr_thresholds = skm.precision_recall_curve(
        is_positive, probability, drop_intermediate=True
    )
    roc_rows, pr_rows = _thinned(len(fpr)), _thinned(len(pr_thresholds))
    visuals = {
        "roc": {
            "false_positive_rate": _floats(np.asarray(fpr)[roc_rows]),
            "true_positive_rate": _floats(np.asarray(tpr)[roc_rows]),
            "threshold": _floats(np.asarray(roc_thresholds)[roc_rows]),
        },
        "precision_recall": {
            "precision": _floats(precision[pr_rows]),
            "recall": _floats(recall[pr_rows]),
            "threshold": _floats(pr_thresholds[pr_rows]),
        },
        "confusion_matrix": _confusion(actual, predicted, [negative, positive]),
    }
    return Evaluation("binary", _plain(metrics), visuals)


def _multiclass(actual: pd.Series, predicted: pd.Series, probabilities: pd.DataFrame) -> Evaluation:
    # Class names come back from the probability column names, so compare as text.
    classes = [c[len(CLASS_PROBABILITY_PREFIX):] for c in probabilities.columns]
    actual, predicted = actual.astype(str), predicted.astype(str)
    unseen = sorted(set(actual) - set(classes))
    if unseen:
        log_loss = float("nan")  # the model gave no probability to these classes
    else:
        # log_loss expects probability columns in sorted label order.
        order = np.argsort(classes)
        log_loss = skm.log_loss(
            actual, probabilities.to_numpy()[:, order], labels=[classes[i] for i in order]
        )
    metrics = {
        "accuracy": skm.accuracy_score(actual, predicted),
        "macro_precision": skm.precision_score(actual, predicted, average="macro", zero_division=0),
        "macro_recall": skm.recall_score(actual, predicted, average="macro", zero_division=0),
        "macro_f1": skm.f1_score(actual, predicted, average="macro", zero_division=0),
        "log_loss": log_loss,
    }
    visuals = {"confusion_matrix": _confusion(actual, predicted, classes + unseen)}
    return Evaluation("multiclass", _plain(metrics), visuals)


def _clustering(df: pd.DataFrame, scores: list[str], port: str) -> Evaluation:
    distance_columns = {
        int(c[len(DISTANCE_PREFIX):]): c
        for c in scores
        if c.startswith(DISTANCE_PREFIX) and c[len(DISTANCE_PREFIX):].isdigit()
    }
    if not distance_columns:
        raise ModuleError(
            f"the table has cluster assignments but no {DISTANCE_PREFIX}<k> columns to measure "
            "distances; connect the output of Train Clustering Model or Assign Data to Clusters",
            code="no_scores", port=port,
        )
    clusters = sorted(distance_columns)
    distances = df[[distance_columns[k] for k in clusters]].to_numpy(dtype=float)
    assigned = df[ASSIGNMENTS].to_numpy(dtype=int)
    is_own = np.array(clusters)[None, :] == assigned[:, None]  # row i's own center, as a mask

    def summary(rows: np.ndarray) -> dict[str, float]:
        to_center = distances[rows][is_own[rows]]
        to_others = distances[rows][~is_own[rows]]
        return {
            "points": float(rows.sum()),
            "mean_distance_to_center": _mean(to_center),
            "max_distance_to_center": float(to_center.max()) if to_center.size else float("nan"),
            "mean_distance_to_other_centers": _mean(to_others),
        }

    per_cluster = {k: summary(assigned == k) for k in clusters}
    metrics = summary(np.ones(len(df), dtype=bool))
    for k, values in per_cluster.items():
        metrics.update({f"cluster_{k}.{name}": value for name, value in values.items()})
    visuals = {
        "clusters": [
            {"cluster": k, **{name: _json_number(v) for name, v in values.items()}}
            for k, values in per_cluster.items()
        ]
    }
    return Evaluation("clustering", metrics, visuals)


def _confusion(actual: pd.Series, predicted: pd.Series, labels: list[Any]) -> dict[str, Any]:
    """Rows are the true classes, columns the predicted ones, in `labels` order."""
    matrix = skm.confusion_matrix(actual, predicted, labels=labels)
    return {"labels": [str(v) for v in labels], "matrix": matrix.tolist()}


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _thinned(count: int) -> np.ndarray:
    """At most CURVE_POINTS evenly spread positions of a curve, both ends included."""
    if count <= CURVE_POINTS:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, CURVE_POINTS).round().astype(int))


def _json_number(value: Any) -> float | None:
    """Infinities and NaN (e.g. ROC's first threshold) are not JSON: they become null."""
    return float(value) if np.isfinite(value) else None


def _floats(values: Iterable[Any]) -> list[float | None]:
    return [_json_number(v) for v in values]


def _plain(metrics: dict[str, Any]) -> dict[str, float]:
    """Metrics as plain floats (scikit-learn returns numpy scalars)."""
    return {name: float(value) for name, value in metrics.items()}


@register
class EvaluateModel(Module):
    """Measure how well scored predictions match the truth, for one or two scored tables."""

    id = "evaluate_model"
    name = "Evaluate Model"
    keywords = ("accuracy", "metrics", "r2", "rmse", "auc", "roc", "confusion matrix", "precision", "recall", "performance")
    category = "Model Scoring and Evaluation"
    help = (
        "Computes metrics from the output of Score Model (or of a clustering module). The task "
        "is recognized from the score columns, and the true values from the column with the "
        "label role, so nothing needs setting.\n\n"
        "- **Regression**: mean absolute error, root mean squared error, relative absolute and "
        "relative squared error (against always predicting the label's mean), coefficient of "
        "determination (R²); charts of predicted against actual values and of residuals "
        "(at most 2,000 sampled points).\n"
        "- **Two-class**: accuracy, precision, recall, F1 score at the 0.5 threshold, AUC and "
        "log loss, for the positive class (the second label value in sorted order); ROC and "
        "precision-recall curves and the confusion matrix.\n"
        "- **Multiclass**: accuracy, macro-averaged precision, recall and F1, log loss (empty "
        "when the table holds classes the model never saw) and the confusion matrix.\n"
        "- **Clustering**: per cluster and overall, the number of points and the mean and "
        "largest distance to the assigned center, and the mean distance to the other centers.\n\n"
        "Connect a second scored table to `scored_compare` to compare two models: its metrics "
        "are recorded with the prefix `compare.` and it gets the second row of `results`.\n\n"
        "**column_names**: the `results` table names its columns as the designer does "
        "(`Mean_Absolute_Error`, `Root_Mean_Squared_Error`, `Relative_Absolute_Error`, "
        "`Relative_Squared_Error`, `Coefficient_of_Determination`; `Accuracy`, `Precision`, "
        "`Recall`, `F1_Score`, `AUC`, `Log_Loss`; multiclass `Overall_Accuracy`, "
        "`Macro_Precision`, `Macro_Recall`, `Macro_F1_Score`; clustering `Number_of_Points`, "
        "`Average_Distance_to_Cluster_Center`…, plus `Scored_Dataset` and `Task`), so that "
        "scripts and Select Columns written for the designer work on it; `metric_keys` names "
        "them by the run's metric keys (`coefficient_of_determination`…, `dataset`, `task`), "
        "as version 1 of this module did. The run's metrics always use the metric keys."
    )
    # Version 2 names the results columns as the designer does; version 1 used the metric keys.
    version = 2

    class Inputs:
        scored = Input(type=PortType.DATAFRAME, help="A scored table")
        scored_compare = Input(type=PortType.DATAFRAME, optional=True, help="A second scored table to compare")

    class Outputs:
        results = Output(type=PortType.DATAFRAME, help="One row of metrics per connected input")

    class Params:
        column_names = Choice(
            choices=(DESIGNER_NAMES, METRIC_KEYS), default=DESIGNER_NAMES,
            help="Name the results columns as the designer does (Coefficient_of_Determination…) "
            "or by the run's metric keys (coefficient_of_determination…)",
        )

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        if from_version < 2:
            # Pipelines made with version 1 may select its columns by their old names downstream.
            params.setdefault("column_names", METRIC_KEYS)
        return params

    def run(
        self, ctx: StepContext, params: ParamValues, scored: pd.DataFrame, scored_compare: pd.DataFrame | None = None
    ) -> dict[str, Any]:
        rows = []
        for port, prefix, table in (("scored", "", scored), ("scored_compare", COMPARE_PREFIX, scored_compare)):
            if table is None:
                continue
            evaluation = evaluate_scored(table, port=port)
            for name, value in evaluation.metrics.items():
                ctx.metric(prefix + name, value)
            for name, data in evaluation.visuals.items():
                ctx.visual(prefix + name, data)
            metrics = evaluation.metrics
            if params.column_names == DESIGNER_NAMES:
                metrics = {self._designer_column(evaluation.task, k): v for k, v in metrics.items()}
                rows.append({DESIGNER_TASK_COLUMNS["dataset"]: port, DESIGNER_TASK_COLUMNS["task"]: evaluation.task, **metrics})
            else:
                rows.append({"dataset": port, "task": evaluation.task, **metrics})
        return {"results": pd.DataFrame(rows)}

    @staticmethod
    def _designer_column(task: str, metric: str) -> str:
        if task == "multiclass" and metric == "accuracy":
            return "Overall_Accuracy"
        return designer_column(metric)
