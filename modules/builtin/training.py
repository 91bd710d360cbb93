"""Training and scoring: Train Model, Score Model, Cross Validate Model, clustering, and
Train Anomaly Detection Model (whose models Score Model scores too).

A trained model is an `Estimator` whose object is a scikit-learn Pipeline: a
ColumnTransformer (one-hot encoding of text columns, where a missing value is a category
of its own, and the learner's scaling of numeric ones) followed by the learner's
estimator. Its meta adds to the learner's meta the `label`, the `features` with their
kinds, and for classifiers the `classes`.

As in the designer, rows without a label are left out of training (the step says how
many), and missing numeric values are refused only by learners that can't take them.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

from modules.sdk import (
    Bool, Columns, Estimator, Input, Int, Module, ModuleError, Output, ParamValues, PortType, StepContext,
    register, resolve_columns, roles_of, set_roles,
)
from modules.sdk.schema import column_kind
from modules.sdk.types import ColumnKind

from .evaluation import (
    ASSIGNMENTS, CLASS_PROBABILITY_PREFIX, DISTANCE_PREFIX, SCORED_LABELS, SCORED_PROBABILITIES,
    evaluate_scored,
)
from .learners import (
    ANOMALY_CATEGORY, ANOMALY_DETECTION, BINARY, CLUSTERING, MINMAX_SCALING, MULTICLASS, QUANTILE_PREFIX, REGRESSION, STANDARD_SCALING,
)
from .parameter_ranges import PARAMETER_RANGE
from .python_model import PYTHON_MODEL, fit_python_model, predict_python_model

TRAINING = "Model Training"
SCORING = "Model Scoring and Evaluation"
SUPERVISED_TASKS = (REGRESSION, BINARY, MULTICLASS)
FOLD = "Fold"

# Feature kinds recorded in model meta, checked again when scoring.
NUMERIC = "numeric"
CATEGORICAL = "categorical"

_SCALERS = {STANDARD_SCALING: StandardScaler, MINMAX_SCALING: MinMaxScaler}
_LABEL_HELP = "The column to predict; may be left empty when a column has the label role"


# --- choosing columns -------------------------------------------------------------------


def label_column(df: pd.DataFrame, selector: dict[str, Any] | None) -> str:
    """The label: the column `label_column` names, else the one with the label role."""
    if selector is not None:
        return resolve_columns(selector, df, param="label_column")[0]
    marked = [c for c, r in roles_of(df).items() if r == "label"]
    if len(marked) == 1:
        return marked[0]
    problem = f"several columns have the label role ({', '.join(marked)})" if marked else "no label column is set"
    raise ModuleError(
        f"{problem}: set label_column to the column to predict, or mark one as label with Edit Metadata",
        code="no_label", param="label_column",
    )


def feature_columns(df: pd.DataFrame, label: str) -> list[str]:
    """Every column except the label and score columns (earlier predictions)."""
    roles = roles_of(df)
    features = [c for c in df.columns if c != label and roles.get(c) != "score"]
    if not features:
        raise ModuleError("the table has no feature columns besides the label", code="no_features", port="dataset")
    return features


def cluster_columns(df: pd.DataFrame, selector: dict[str, Any] | None) -> list[str]:
    """The selected columns; by default every numeric column but label and score columns."""
    picked = resolve_columns(selector, df, param="columns", kinds={ColumnKind.NUMERIC.value})
    if selector is None or selector["include"] == "all":
        roles = roles_of(df)
        picked = [c for c in picked if roles.get(c) not in ("label", "score")]
    if not picked:
        raise ModuleError("there are no columns to cluster on; choose some in columns", code="no_features", param="columns")
    return picked


# --- checks that turn scikit-learn failures into messages --------------------------------


def require_rows(df: pd.DataFrame, *, port: str = "dataset") -> None:
    if df.empty:
        raise ModuleError("the table has no rows", code="empty_table", port=port)


def labelled_rows(ctx: StepContext, df: pd.DataFrame, label: str) -> pd.DataFrame:
    """The rows that have a label: a model learns nothing from the others (the designer
    leaves them out too). Says how many were left out."""
    unlabelled = df[label].isna()
    if unlabelled.all():
        raise ModuleError(
            f"no row has a label: {label!r} is missing in all {len(df)} rows",
            code="no_labelled_rows", param="label_column",
        )
    if unlabelled.any():
        ctx.warn(
            f"{int(unlabelled.sum())} of {len(df)} rows have no label ({label!r} is missing) and were "
            "left out of training"
        )
    return df[~unlabelled]


def refuse_missing(df: pd.DataFrame, columns: list[str], *, port: str = "dataset") -> None:
    counts = df[columns].isna().sum()
    counts = counts[counts > 0]
    if not counts.empty:
        listed = ", ".join(f"{name!r} ({n} row{'s' if n > 1 else ''})" for name, n in counts.items())
        raise ModuleError(
            f"missing values in {listed}; the model can't use them. Remove or replace them "
            "first with Clean Missing Data",
            code="missing_values", port=port, details={str(k): int(v) for k, v in counts.items()},
        )


def feature_kinds(df: pd.DataFrame, features: list[str]) -> dict[str, str]:
    kinds = {c: column_kind(df[c]) for c in features}
    dates = [c for c, k in kinds.items() if k is ColumnKind.DATETIME]
    if dates:
        raise ModuleError(
            f"date/time columns can't be features: {', '.join(dates)}; convert them with Edit "
            "Metadata or leave them out with Select Columns",
            code="unsupported_column", port="dataset",
        )
    return {c: NUMERIC if k is ColumnKind.NUMERIC else CATEGORICAL for c, k in kinds.items()}


def check_label(y: pd.Series, task: str) -> None:
    if task == REGRESSION:
        if column_kind(y) is not ColumnKind.NUMERIC:
            raise ModuleError(
                f"the label {y.name!r} is not numeric, but a regression model predicts numbers; "
                "use a classification learner, or convert the column with Edit Metadata",
                code="label_type", param="label_column",
            )
        return
    values = sorted(y.unique())
    if task == BINARY and len(values) != 2:
        raise ModuleError(
            f"a two-class model needs a label with exactly two values; {y.name!r} has "
            f"{len(values)}: {', '.join(map(str, values[:10]))}{' …' if len(values) > 10 else ''}. "
            "Use a multiclass learner for more",
            code="label_classes", param="label_column",
        )
    if len(values) < 2:
        raise ModuleError(
            f"the label {y.name!r} has a single value ({values[0]!r}); there is nothing to learn",
            code="label_classes", param="label_column",
        )


def refuse_negative_label(model: Estimator, y: pd.Series) -> None:
    """Learners of counts (Poisson regression) need a label that is not negative."""
    if not model.meta.get("nonnegative_label"):
        return
    negative = y < 0
    if negative.any():
        raise ModuleError(
            f"{model.meta.get('algorithm')} predicts counts, but the label {y.name!r} is negative in "
            f"{int(negative.sum())} rows (e.g. {y[negative].iloc[0]!r}); use a learner for any number, "
            "such as Linear Regression",
            code="label_range", param="label_column",
        )


def refuse_missing_numbers(model: Estimator, df: pd.DataFrame, kinds: dict[str, str]) -> None:
    """Missing numeric values are refused unless the learner takes them (boosted trees);
    missing text values are a category of their own."""
    if not model.meta.get("missing_numeric"):
        refuse_missing(df, [c for c, kind in kinds.items() if kind == NUMERIC])


def categories_as_text(X: pd.DataFrame) -> np.ndarray:
    """Categorical features as text, with NaN where a value is missing: one-hot encoding then
    gives missing values a category of their own, and mixes of types (booleans with missing
    values, categories of numbers) encode alike in training and scoring.

    A module-level function (not a lambda) so that model files can name it."""
    frame = pd.DataFrame(X)
    out = np.empty(frame.shape, dtype=object)
    for i, name in enumerate(frame.columns):
        column = frame[name]
        text = column.to_numpy(dtype=object).astype(str).astype(object)
        text[column.isna().to_numpy()] = np.nan
        out[:, i] = text
    return out


def numbers_as_floats(X: pd.DataFrame) -> np.ndarray:
    """Numeric features as floats, NaN where missing (nullable integer columns hold pd.NA,
    which estimators don't take)."""
    return pd.DataFrame(X).astype("float64").to_numpy()


def _model_input(model: Estimator, df: pd.DataFrame) -> pd.DataFrame:
    """The model's feature columns of `df`, checked against what it was trained on."""
    features: dict[str, str] = model.meta["feature_kinds"]
    absent = [c for c in features if c not in df.columns]
    if absent:
        raise ModuleError(
            f"the table lacks columns the model was trained on: {', '.join(absent)}",
            code="unknown_column", port="dataset", details={"missing": absent},
        )
    changed = [c for c, kind in features.items() if feature_kinds(df, [c])[c] != kind]
    if changed:
        raise ModuleError(
            "columns changed type since training (numeric vs text): " + ", ".join(changed)
            + "; convert them back with Edit Metadata",
            code="column_type", port="dataset",
        )
    refuse_missing_numbers(model, df, features)
    return df[list(features)]


@contextmanager
def _relaying_convergence_warnings(ctx: StepContext, algorithm: str) -> Iterator[None]:
    """Show scikit-learn's convergence warnings to the user; let other warnings through."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    relayed = set()
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            relayed.add(str(w.message).strip().splitlines()[0])
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for message in sorted(relayed):
        ctx.warn(f"{algorithm}: {message}")


# --- fitting and scoring -----------------------------------------------------------------


def model_pipeline(model: Estimator, kinds: dict[str, str]) -> Pipeline:
    categorical = [c for c, k in kinds.items() if k == CATEGORICAL]
    numeric = [c for c, k in kinds.items() if k == NUMERIC]
    scaling = model.meta.get("scaling")
    to_floats = FunctionTransformer(numbers_as_floats)
    steps = [
        ("categorical", Pipeline([
            ("text", FunctionTransformer(categories_as_text)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]), categorical),
        ("numeric", Pipeline([("floats", to_floats), ("scale", _SCALERS[scaling]())]) if scaling else to_floats, numeric),
    ]
    encode = ColumnTransformer([step for step in steps if step[2]], remainder="drop")
    return Pipeline([("features", encode), ("model", clone(model.obj))])


def supervised_task(model: Estimator) -> str:
    task = model.meta.get("task")
    if task not in SUPERVISED_TASKS:
        hint = {
            CLUSTERING: "; use Train Clustering Model and Assign Data to Clusters",
            ANOMALY_DETECTION: "; use Train Anomaly Detection Model, then Score Model",
        }.get(str(task), "")
        raise ModuleError(
            f"this module needs a regression or classification model, got a {task} model{hint}",
            code="model_type", port="model",
        )
    return str(task)


def refuse_parameter_ranges(model: Estimator) -> None:
    if model.meta.get("params", {}).get("trainer_mode") == PARAMETER_RANGE:
        raise ModuleError(
            f"the {model.meta.get('algorithm')} model is in parameter_range mode, which Tune Model "
            "Hyperparameters sweeps; set its trainer_mode to single_parameter to train it here",
            code="trainer_mode", port="model",
        )


def fit_supervised(ctx: StepContext, model: Estimator, df: pd.DataFrame, label: str, features: list[str]) -> Estimator:
    """Fit `model` on the rows of `df` (which all have a label: see labelled_rows)."""
    if model.meta.get("task") == PYTHON_MODEL:
        return fit_python_model(ctx, model, df, label, features)
    task = supervised_task(model)
    refuse_parameter_ranges(model)
    require_rows(df)
    refuse_missing(df, [label])
    check_label(df[label], task)
    refuse_negative_label(model, df[label])
    kinds = feature_kinds(df, features)
    refuse_missing_numbers(model, df, kinds)
    pipeline = model_pipeline(model, kinds)
    with _relaying_convergence_warnings(ctx, model.meta.get("algorithm", "training")):
        pipeline.fit(df[features], df[label])
    meta = {**model.meta, "label": label, "features": features, "feature_kinds": kinds}
    if task != REGRESSION:
        meta["classes"] = pipeline.classes_.tolist()
    if task == BINARY:
        meta["positive_class"] = meta["classes"][1]
    return Estimator(pipeline, meta)


def fit_clusters(ctx: StepContext, model: Estimator, df: pd.DataFrame, features: list[str]) -> Estimator:
    if model.meta.get("task") != CLUSTERING:
        raise ModuleError("Train Clustering Model needs a clustering model such as K-Means", code="model_type", port="model")
    require_rows(df)
    kinds = feature_kinds(df, features)
    refuse_missing_numbers(model, df, kinds)
    n_clusters = int(model.obj.n_clusters)
    if len(df) < n_clusters:
        raise ModuleError(
            f"{n_clusters} clusters need at least {n_clusters} rows; the table has {len(df)}",
            code="too_few_rows", port="dataset",
        )
    pipeline = model_pipeline(model, kinds)
    with _relaying_convergence_warnings(ctx, model.meta.get("algorithm", "clustering")):
        pipeline.fit(df[features])
    return Estimator(pipeline, {**model.meta, "features": features, "feature_kinds": kinds, "n_clusters": n_clusters})


def _attach(df: pd.DataFrame, scores: pd.DataFrame, *, append: bool, label: str | None) -> pd.DataFrame:
    """`scores` (score role) next to `df`, or next to its label only when not appending.

    Score columns of an earlier scoring are dropped, so that Evaluate Model sees one set.
    """
    roles = roles_of(df)
    if append:
        stale = {c for c, r in roles.items() if r == "score"} | set(scores.columns)
        kept = df.drop(columns=[c for c in df.columns if c in stale])
    else:
        kept = df[[label]] if label in df.columns else df.iloc[:, :0]
    out = pd.concat([kept, scores], axis=1)
    new_roles = {c: r for c, r in roles.items() if c in kept.columns and r != "score"}
    if label is not None and label in kept.columns:
        new_roles[label] = "label"
    new_roles.update({c: "score" for c in scores.columns})
    return set_roles(out, new_roles)


def score_table(model: Estimator, df: pd.DataFrame, *, append: bool) -> pd.DataFrame:
    if model.meta.get("task") == PYTHON_MODEL:
        return _attach(df, predict_python_model(model, df), append=append, label=model.meta["label"])
    task = ANOMALY_DETECTION if model.meta.get("task") == ANOMALY_DETECTION else supervised_task(model)
    require_rows(df)
    X = _model_input(model, df)
    scores = pd.DataFrame({SCORED_LABELS: model.obj.predict(X)}, index=df.index)
    estimator = model.obj[-1]
    if callable(getattr(estimator, "predict_quantiles", None)):
        quantiles = estimator.predict_quantiles(model.obj[:-1].transform(X))
        for j, q in enumerate(estimator.quantiles):
            scores[f"{QUANTILE_PREFIX}{q:g}"] = quantiles[:, j]
    if task != REGRESSION:
        probabilities = model.obj.predict_proba(X)
        if task in (BINARY, ANOMALY_DETECTION):
            scores[SCORED_PROBABILITIES] = probabilities[:, 1]
        else:
            for i, cls in enumerate(model.meta["classes"]):
                scores[f"{CLASS_PROBABILITY_PREFIX}{cls}"] = probabilities[:, i]
    return _attach(df, scores, append=append, label=model.meta.get("label"))


def assign_table(model: Estimator, df: pd.DataFrame, *, append: bool) -> pd.DataFrame:
    if model.meta.get("task") != CLUSTERING:
        raise ModuleError("this module needs a trained clustering model", code="model_type", port="model")
    require_rows(df)
    X = _model_input(model, df)
    scores = pd.DataFrame({ASSIGNMENTS: model.obj.predict(X)}, index=df.index)
    # Distances are measured where the clusters were found: after normalization.
    distances = model.obj.transform(X)
    for k in range(distances.shape[1]):
        scores[f"{DISTANCE_PREFIX}{k}"] = distances[:, k]
    return _attach(df, scores, append=append, label=None)


# --- modules -----------------------------------------------------------------------------


@register
class TrainModel(Module):
    """Train a classification or regression model on a labelled table."""

    id = "train_model"
    name = "Train Model"
    keywords = ("fit", "learn", "training")
    category = TRAINING
    help = (
        "Fits the untrained model from an algorithm module to the table.\n\n"
        "- **label_column**: the column to predict; when empty, the column with the label "
        "role is used. Every other column is a feature, except score columns of an earlier "
        "scoring.\n"
        "- Rows without a label are left out (the step says how many), as in the designer.\n"
        "- Text, categorical and boolean features are one-hot encoded, a missing value being a "
        "category of its own (values not seen in training are ignored when scoring); linear and "
        "logistic models also standardize numeric features. This is part of the trained model, "
        "so Score Model applies it.\n"
        "- Missing numeric values are taken by the boosted decision trees; the other learners "
        "refuse them: remove or replace them with Clean Missing Data first.\n"
        "- Regression needs a numeric label; two-class models a label with exactly two "
        "values, the second in sorted order being the positive class.\n"
        "- A learner in parameter_range mode is for Tune Model Hyperparameters, and refused here."
    )
    # Version 2: rows without a label are left out, and missing feature values taken where
    # the learner can (version 1 refused both); what version 1 trained, version 2 trains alike.
    version = 2
    example_params = {"label_column": "target"}

    class Inputs:
        model = Input(type=PortType.UNTRAINED_MODEL, help="An untrained model from an algorithm module")
        dataset = Input(type=PortType.DATAFRAME, help="The training table")

    class Outputs:
        model = Output(type=PortType.TRAINED_MODEL, help="The trained model")

    class Params:
        label_column = Columns(multiple=False, help=_LABEL_HELP)

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        require_rows(dataset)
        label = label_column(dataset, params.label_column)
        refuse_parameter_ranges(model)
        rows = labelled_rows(ctx, dataset, label)
        trained = fit_supervised(ctx, model, rows, label, feature_columns(dataset, label))
        ctx.log(f"trained {trained.meta.get('algorithm')} on {len(rows)} rows, {len(trained.meta['features'])} features")
        return {"model": trained}


@register
class TrainAnomalyDetectionModel(Module):
    """Train an anomaly detection model on a table of (mostly) normal rows."""

    id = "train_anomaly_detection_model"
    name = "Train Anomaly Detection Model"
    keywords = ("outliers", "fraud", "anomalies")
    category = ANOMALY_CATEGORY
    help = (
        "Fits an anomaly detector (PCA-Based Anomaly Detection) to the table; no label is "
        "needed. Score Model then gives every row `Scored Probabilities` (how likely it is an "
        "anomaly) and `Scored Labels` (1: anomaly, 0: normal).\n\n"
        "- Every column is a feature except `label_column`, columns with the label role and "
        "score columns. A known anomaly flag kept as the label is left out of training and "
        "kept by Score Model, so Evaluate Model can measure the detector (label 1: anomaly).\n"
        "- Text features are one-hot encoded (a missing text value is a category of its own); "
        "missing numbers are refused: use Clean Missing Data first."
    )

    class Inputs:
        model = Input(type=PortType.UNTRAINED_MODEL, help="An untrained anomaly detector")
        dataset = Input(type=PortType.DATAFRAME, help="The training table, mostly normal rows")

    class Outputs:
        model = Output(type=PortType.TRAINED_MODEL, help="The trained anomaly detector; connect it to Score Model")

    class Params:
        label_column = Columns(
            multiple=False, help="A column to leave out of training (e.g. a known anomaly flag); by "
            "default the column with the label role, if any",
        )

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        if model.meta.get("task") != ANOMALY_DETECTION:
            raise ModuleError(
                f"Train Anomaly Detection Model needs an anomaly detector such as PCA-Based Anomaly "
                f"Detection, got a {model.meta.get('task')} model; use Train Model for it",
                code="model_type", port="model",
            )
        require_rows(dataset)
        label = self._label(dataset, params.label_column)
        roles = roles_of(dataset)
        features = [c for c in dataset.columns if c != label and roles.get(c) not in ("label", "score")]
        if not features:
            raise ModuleError("the table has no feature columns", code="no_features", port="dataset")
        kinds = feature_kinds(dataset, features)
        refuse_missing_numbers(model, dataset, kinds)
        pipeline = model_pipeline(model, kinds)
        pipeline.fit(dataset[features])
        ctx.log(
            f"trained {model.meta.get('algorithm')} on {len(dataset)} rows, {len(features)} features; "
            f"{pipeline[-1].n_components_} components kept"
        )
        meta = {
            **model.meta, "label": label, "features": features, "feature_kinds": kinds, "classes": [0, 1],
            "positive_class": 1,
        }
        return {"model": Estimator(pipeline, meta)}

    @staticmethod
    def _label(df: pd.DataFrame, selector: dict[str, Any] | None) -> str | None:
        if selector is not None:
            return resolve_columns(selector, df, param="label_column")[0]
        marked = [c for c, r in roles_of(df).items() if r == "label"]
        return marked[0] if len(marked) == 1 else None


@register
class ScoreModel(Module):
    """Predict with a trained model: adds the scored labels (and probabilities) to a table."""

    id = "score_model"
    name = "Score Model"
    keywords = ("predict", "predictions", "inference", "apply model")
    category = SCORING
    help = (
        "Adds the model's predictions to the table, with the score role:\n\n"
        f"- `{SCORED_LABELS}`: the predicted value or class;\n"
        f"- two-class models: `{SCORED_PROBABILITIES}`, the probability of the positive class "
        "(the second label value in sorted order); the label is that class when it is above 0.5;\n"
        f"- multiclass models: one `{CLASS_PROBABILITY_PREFIX}<class>` column per class;\n"
        f"- quantile regression: one `{QUANTILE_PREFIX}<q>` column per quantile, `{SCORED_LABELS}` "
        "being the median;\n"
        f"- anomaly detectors: `{SCORED_PROBABILITIES}`, how likely the row is an anomaly, and "
        f"`{SCORED_LABELS}` 1 (anomaly) or 0.\n\n"
        "The table needs the model's feature columns; a missing text value is a category of its "
        "own, and missing numbers are refused unless the model takes them (boosted trees). The "
        "label may be absent. When present it keeps the label role, so Evaluate Model finds it. Score columns "
        "of an earlier scoring are replaced. With `append_score_columns` off, the output holds "
        "only the score columns (and the label)."
    )

    # Version 2 scores rows with missing text values (a category of their own), and missing
    # numbers where the model takes them; version 1 refused them.
    version = 2

    class Inputs:
        model = Input(type=PortType.TRAINED_MODEL, help="A model from Train Model")
        dataset = Input(type=PortType.DATAFRAME, help="The table to score")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The scored table")

    class Params:
        append_score_columns = Bool(default=True, help="Keep the input columns next to the scores")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        return {"dataset": score_table(model, dataset, append=params.append_score_columns)}


@register
class CrossValidateModel(Module):
    """Estimate how well a model generalizes: train and score it on k folds of the table."""

    id = "cross_validate_model"
    name = "Cross Validate Model"
    keywords = ("k-fold", "cross validation", "folds", "generalization")
    category = SCORING
    help = (
        "Splits the rows at random into `folds` parts (stratified by class for classifiers, so "
        "each fold has about the same class mix). For each part, the model is trained on all "
        "the other parts and scores that one; the label, features and checks are those of "
        "Train Model (rows without a label are left out).\n\n"
        f"- **scored**: every row, scored by the model that did not see it, with a `{FOLD}` "
        "column (0 to folds - 1);\n"
        "- **folds**: the metrics of Evaluate Model for each fold, then their mean and "
        "standard deviation; the means and deviations are also recorded as run metrics "
        "(`mean.<metric>`, `std.<metric>`)."
    )
    example_params = {"label_column": "target", "folds": 4}
    # Version 2 leaves out rows without a label and takes missing values as Train Model 2 does.
    version = 2

    class Inputs:
        model = Input(type=PortType.UNTRAINED_MODEL, help="An untrained model from an algorithm module")
        dataset = Input(type=PortType.DATAFRAME, help="The labelled table")

    class Outputs:
        scored = Output(type=PortType.DATAFRAME, help="Every row scored by its fold's model")
        folds = Output(type=PortType.DATAFRAME, help="Metrics per fold, with mean and std rows")

    class Params:
        label_column = Columns(multiple=False, help=_LABEL_HELP)
        folds = Int(default=10, min=2, help="Number of folds")
        seed = Int(default=0, min=0, help="Random seed for the split into folds")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        task = supervised_task(model)
        refuse_parameter_ranges(model)
        require_rows(dataset)
        label = label_column(dataset, params.label_column)
        features = feature_columns(dataset, label)
        dataset = labelled_rows(ctx, dataset, label)
        # Checked once on the whole table, so messages count all rows, not one fold's.
        refuse_missing_numbers(model, dataset, feature_kinds(dataset, features))
        check_label(dataset[label], task)
        data = dataset.reset_index(drop=True)
        splits = self._splitter(ctx, params, task, data[label]).split(data, data[label])

        scored_parts, fold_rows = [], []
        for fold, (train_rows, test_rows) in enumerate(splits):
            trained = fit_supervised(ctx, model, data.iloc[train_rows], label, features)
            part = score_table(trained, data.iloc[test_rows], append=True)
            fold_rows.append({FOLD: str(fold), "Rows": len(test_rows), **evaluate_scored(part).metrics})
            part[FOLD] = fold
            scored_parts.append(part)
            ctx.progress((fold + 1) / params.folds, f"fold {fold + 1} of {params.folds}")

        scored = pd.concat(scored_parts).sort_index()
        roles = {c: r for part in scored_parts for c, r in roles_of(part).items()}
        # A fold's model may not have seen a rare class: it gave that class no probability.
        class_columns = [c for c in scored.columns if c.startswith(CLASS_PROBABILITY_PREFIX)]
        scored[class_columns] = scored[class_columns].fillna(0.0)

        folds = pd.DataFrame(fold_rows)
        metric_names = [c for c in folds.columns if c not in (FOLD, "Rows")]
        mean, std = folds[metric_names].mean(), folds[metric_names].std()
        for name in metric_names:
            ctx.metric(f"mean.{name}", mean[name])
            ctx.metric(f"std.{name}", std[name])
        folds = pd.concat(
            [folds, pd.DataFrame([{FOLD: "mean", **mean}, {FOLD: "std", **std}])], ignore_index=True
        ).astype({"Rows": "Int64"})
        return {"scored": set_roles(scored, roles), "folds": folds}

    @staticmethod
    def _splitter(ctx: StepContext, params: ParamValues, task: str, y: pd.Series) -> KFold | StratifiedKFold:
        if params.folds > len(y):
            raise ModuleError(
                f"{params.folds} folds need at least {params.folds} rows; the table has {len(y)}",
                code="too_few_rows", param="folds",
            )
        if task == REGRESSION:
            return KFold(n_splits=params.folds, shuffle=True, random_state=params.seed)
        counts = y.value_counts()
        if counts.max() < params.folds:
            raise ModuleError(
                f"every class has fewer rows than the {params.folds} folds; use fewer folds",
                code="too_few_rows", param="folds",
            )
        if counts.min() < params.folds:
            ctx.warn(
                f"class {counts.idxmin()!r} has only {counts.min()} rows, fewer than the "
                f"{params.folds} folds: some folds will not contain it"
            )
        return StratifiedKFold(n_splits=params.folds, shuffle=True, random_state=params.seed)


@register
class TrainClusteringModel(Module):
    """Find clusters in a table and assign every row to one."""

    id = "train_clustering_model"
    name = "Train Clustering Model"
    keywords = ("clusters", "segmentation", "unsupervised")
    category = TRAINING
    help = (
        "Fits a clustering model (such as K-Means) to the selected columns, by default every "
        "numeric column except the label and score columns. Text columns you select are "
        "one-hot encoded (a missing text value is a category of its own); missing numbers are "
        "refused (use Clean Missing Data first).\n\n"
        f"The output table gets `{ASSIGNMENTS}` (the cluster number, from 0) and one "
        f"`{DISTANCE_PREFIX}<k>` column per cluster (the distance to each center, measured "
        "after the model's normalization), all with the score role; with `append` off it "
        "holds only those columns."
    )

    class Inputs:
        model = Input(type=PortType.UNTRAINED_CLUSTER_MODEL, help="An untrained clustering model")
        dataset = Input(type=PortType.DATAFRAME, help="The table to cluster")

    class Outputs:
        model = Output(type=PortType.TRAINED_CLUSTER_MODEL, help="The trained clustering model")
        dataset = Output(type=PortType.DATAFRAME, help="The table with cluster assignments")

    class Params:
        columns = Columns(kinds=("numeric",), help="Columns to cluster on (all numeric by default)")
        append = Bool(default=True, help="Keep the input columns next to the assignments")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        require_rows(dataset)
        trained = fit_clusters(ctx, model, dataset, cluster_columns(dataset, params.columns))
        return {"model": trained, "dataset": assign_table(trained, dataset, append=params.append)}


@register
class AssignDataToClusters(Module):
    """Assign each row of a table to the nearest cluster of a trained clustering model."""

    id = "assign_data_to_clusters"
    name = "Assign Data to Clusters"
    category = SCORING
    help = (
        "Assigns each row to the cluster with the nearest center. The table needs the columns "
        f"the model was trained on, without missing values. Adds `{ASSIGNMENTS}` and one "
        f"`{DISTANCE_PREFIX}<k>` column per cluster, with the score role; with `append` off the "
        "output holds only those columns."
    )

    class Inputs:
        model = Input(type=PortType.TRAINED_CLUSTER_MODEL, help="A model from Train Clustering Model")
        dataset = Input(type=PortType.DATAFRAME, help="The table to assign")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with cluster assignments")

    class Params:
        append = Bool(default=True, help="Keep the input columns next to the assignments")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        return {"dataset": assign_table(model, dataset, append=params.append)}
