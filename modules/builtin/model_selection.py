"""Tune Model Hyperparameters: sweep a learner's parameter ranges and keep the best model."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from modules.sdk import (
    Choice, Columns, Estimator, Input, Int, Module, ModuleError, Output, ParamValues, PortType, StepContext,
    default_registry, register,
)

from .evaluation import designer_column, evaluate_scored
from .learners import MULTICLASS, REGRESSION, wrapped_for_strategy
from .parameter_ranges import PARAMETER_RANGE, SINGLE_PARAMETER, candidates, range_params
from .training import (
    TRAINING, check_label, feature_columns, feature_kinds, fit_supervised, label_column, labelled_rows,
    refuse_missing_numbers, require_rows, score_table, supervised_task,
)

RANDOM_SWEEP = "random"
GRID_SWEEP = "grid"
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1_score", "auc", "log_loss")
REGRESSION_METRICS = (
    "mean_absolute_error", "root_mean_squared_error", "relative_absolute_error", "relative_squared_error",
    "coefficient_of_determination",
)
# Metrics where a lower value is the better model.
LOWER_IS_BETTER = frozenset({
    "log_loss", "mean_absolute_error", "root_mean_squared_error", "relative_absolute_error", "relative_squared_error",
})
_MULTICLASS_KEYS = {"precision": "macro_precision", "recall": "macro_recall", "f1_score": "macro_f1"}


def sweep_metric(task: str, params: ParamValues) -> str:
    """Evaluate Model's key of the metric that ranks the candidates."""
    if task == REGRESSION:
        return str(params.regression_metric)
    metric = str(params.classification_metric)
    if task == MULTICLASS:
        if metric == "auc":
            raise ModuleError(
                "AUC measures two-class models; choose another classification_metric for a multiclass one",
                code="bad_metric", param="classification_metric",
            )
        return _MULTICLASS_KEYS.get(metric, metric)
    return metric


def _rank_value(value: float, metric: str) -> float:
    """Larger is better; a metric that could not be computed ranks last."""
    if value is None or math.isnan(value):
        return -math.inf
    return -value if metric in LOWER_IS_BETTER else value


@register
class TuneModelHyperparameters(Module):
    """Try a learner's parameter ranges and output the best trained model."""

    id = "tune_model_hyperparameters"
    name = "Tune Model Hyperparameters"
    keywords = ("grid search", "random search", "hyperparameter tuning", "parameter sweep", "optimize")
    category = TRAINING
    help = (
        "Trains the learner with each combination of its `*_range` values (set its trainer_mode "
        "to parameter_range) and keeps the one that scores best on `classification_metric` or "
        "`regression_metric`, as Evaluate Model measures them.\n\n"
        "- **sweep**: `grid` tries every combination; `random` tries `max_runs` of them drawn "
        "without repeats with `seed` (all of them when there are fewer).\n"
        "- Each combination is measured on the `validation` table when one is connected (trained "
        "on the training table, scored on the validation table); otherwise by `folds`-fold cross "
        "validation of the training table (stratified by class for classifiers), the metrics "
        "averaged over the folds.\n"
        "- The label, features, rows without a label and missing values are handled as Train "
        "Model does. Precision, recall and F1 are macro averages for multiclass models; AUC is "
        "for two-class ones.\n\n"
        "Outputs: **results**, one row per combination tried, best first, with the ranged params "
        "and every metric (named as in Evaluate Model's results); and **model**, the best "
        "combination trained on the whole training table. A learner left in single_parameter "
        "mode is trained and measured once, with a warning."
    )
    example_params = {"label_column": "target", "max_runs": 2, "folds": 2, "regression_metric": "coefficient_of_determination"}

    class Inputs:
        model = Input(type=PortType.UNTRAINED_MODEL, help="A learner, in parameter_range mode")
        dataset = Input(type=PortType.DATAFRAME, help="The training table")
        validation = Input(type=PortType.DATAFRAME, optional=True, help="A table to measure each combination on")

    class Outputs:
        results = Output(type=PortType.DATAFRAME, help="Each combination tried and its metrics, best first")
        model = Output(type=PortType.TRAINED_MODEL, help="The best combination, trained")

    class Params:
        sweep = Choice(choices=(RANDOM_SWEEP, GRID_SWEEP), default=RANDOM_SWEEP, help="Try every combination, or a random sample")
        max_runs = Int(default=5, min=1, max=10_000, help="Combinations tried by a random sweep")
        seed = Int(default=0, min=0, max=2**32 - 1, help="Random seed of the sweep and of the folds")
        label_column = Columns(multiple=False, help="The column to predict; may be left empty when a column has the label role")
        classification_metric = Choice(choices=CLASSIFICATION_METRICS, default="accuracy", help="What ranks classifiers")
        regression_metric = Choice(choices=REGRESSION_METRICS, default="mean_absolute_error", help="What ranks regressors")
        folds = Int(default=3, min=2, help="Cross-validation folds, when no validation table is connected")

    def run(
        self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame,
        validation: pd.DataFrame | None = None,
    ) -> dict[str, Any]:
        task = supervised_task(model)
        metric = sweep_metric(task, params)
        require_rows(dataset)
        label = label_column(dataset, params.label_column)
        features = feature_columns(dataset, label)
        training = labelled_rows(ctx, dataset, label)
        refuse_missing_numbers(model, training, feature_kinds(training, features))
        check_label(training[label], task)
        if validation is not None:
            require_rows(validation, port="validation")
            if label not in validation.columns:
                raise ModuleError(
                    f"the validation table lacks the label column {label!r}", code="no_label", port="validation"
                )
            validation = labelled_rows(ctx, validation, label)

        learner = self._learner(model)
        tried = self._candidates(ctx, learner, model, params)
        rows = []
        for i, values in enumerate(tried):
            untrained = self._rebuilt(learner, model, values)
            metrics = self._measure(ctx, params, task, untrained, training, validation, label, features)
            rows.append((values, metrics))
            ctx.progress((i + 1) / (len(tried) + 1), f"combination {i + 1} of {len(tried)}")
        rows.sort(key=lambda row: -_rank_value(row[1].get(metric, math.nan), metric))
        best_values, best_metrics = rows[0]
        if math.isnan(best_metrics.get(metric, math.nan)):
            raise ModuleError(
                f"{metric} could not be measured for any combination (e.g. AUC on folds holding one class)",
                code="no_metric", param="classification_metric" if task != REGRESSION else "regression_metric",
            )
        ctx.metric(metric, best_metrics[metric])
        ctx.log(f"best of {len(rows)}: {metric}={best_metrics[metric]:.6g} with {self._shown(learner, best_values)}")
        trained = fit_supervised(ctx, self._rebuilt(learner, model, best_values), training, label, features)
        ranged = list(range_params(learner.spec))
        results = pd.DataFrame([
            {**{name: values[name] for name in ranged}, **{designer_column(k): v for k, v in metrics.items()}}
            for values, metrics in rows
        ])
        return {"results": results, "model": trained}

    @staticmethod
    def _learner(model: Estimator) -> type[Module]:
        learner = default_registry().get(str(model.meta.get("algorithm")), model.meta.get("version"))
        if learner is None or not callable(getattr(learner, "build", None)):
            raise ModuleError(
                f"the model's learner {model.meta.get('algorithm')!r} is not installed here, so its ranges "
                "cannot be rebuilt", code="model_type", port="model",
            )
        return learner

    @staticmethod
    def _candidates(ctx: StepContext, learner: type[Module], model: Estimator, params: ParamValues) -> list[dict[str, Any]]:
        values = dict(model.meta.get("params") or {})
        if values.get("trainer_mode") != PARAMETER_RANGE or not range_params(learner.spec):
            ctx.warn(
                f"the {learner.id} learner is in single_parameter mode: its values were trained once; set its "
                "trainer_mode to parameter_range to sweep its *_range values"
            )
            return [{**values, "trainer_mode": SINGLE_PARAMETER}]
        return candidates(learner.spec, values, sweep=params.sweep, max_runs=params.max_runs, seed=params.seed)

    @staticmethod
    def _rebuilt(learner: type[Module], model: Estimator, values: dict[str, Any]) -> Estimator:
        """The learner's untrained model for one combination, as the learner itself builds it."""
        instance: Any = learner()
        cleaned = ParamValues(values)
        meta = {**model.meta, "params": values, "scaling": instance.scaling_for(cleaned)}
        return Estimator(wrapped_for_strategy(meta, instance.build(cleaned)), meta)

    @staticmethod
    def _shown(learner: type[Module], values: dict[str, Any]) -> str:
        return ", ".join(f"{name}={values[name]}" for name in range_params(learner.spec)) or "its single values"

    def _measure(
        self, ctx: StepContext, params: ParamValues, task: str, untrained: Estimator, training: pd.DataFrame,
        validation: pd.DataFrame | None, label: str, features: list[str],
    ) -> dict[str, float]:
        if validation is not None:
            trained = fit_supervised(ctx, untrained, training, label, features)
            return evaluate_scored(score_table(trained, validation, append=True), port="validation").metrics
        data = training.reset_index(drop=True)
        if params.folds > len(data):
            raise ModuleError(
                f"{params.folds} folds need at least {params.folds} labelled rows; the table has {len(data)}",
                code="too_few_rows", param="folds",
            )
        splitter: KFold | StratifiedKFold = KFold(n_splits=params.folds, shuffle=True, random_state=params.seed)
        if task != REGRESSION and data[label].value_counts().min() >= params.folds:
            splitter = StratifiedKFold(n_splits=params.folds, shuffle=True, random_state=params.seed)
        per_fold = []
        for train_rows, test_rows in splitter.split(data, data[label]):
            fold_training = data.iloc[train_rows]
            if fold_training[label].nunique() < 2 and task != REGRESSION:
                continue  # a fold without both classes can't train a classifier
            trained = fit_supervised(ctx, untrained, fold_training, label, features)
            per_fold.append(evaluate_scored(score_table(trained, data.iloc[test_rows], append=True)).metrics)
        if not per_fold:
            raise ModuleError("no fold held every class; use fewer folds or a validation table", code="too_few_rows", param="folds")
        return {str(k): float(v) for k, v in pd.DataFrame(per_fold).mean().items()}
