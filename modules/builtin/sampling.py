"""Sampling: Partition and Sample, and SMOTE."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from modules.sdk import (
    Bool, Choice, Column, ColumnKind, Columns, Float, Input, Int, Module, ModuleError, Output, ParamValues,
    PortType, Schema, StepContext, String, register, resolve_columns, roles_of, set_roles,
)
from modules.sdk.schema import column_kind

from .training import label_column
from .transformation import CATEGORY, first_row

SchemaMap = Mapping[str, Schema | None]
FOLD = "Fold"

ASSIGN_TO_FOLDS = "assign_to_folds"
PICK_FOLD = "pick_fold"
SAMPLING = "sampling"
HEAD = "head"
EVENLY = "evenly"
PROPORTIONS = "proportions"


def _strata_groups(df: pd.DataFrame, params: ParamValues) -> list[np.ndarray]:
    """Row positions per stratum (values of stratify_column in sorted order, missing values
    last), or all rows as one group."""
    positions = np.arange(len(df))
    if not params.stratify:
        return [positions]
    if params.stratify_column is None:
        raise ModuleError("stratify needs a stratify_column", code="missing_param", param="stratify_column")
    [column] = resolve_columns(params.stratify_column, df, param="stratify_column")
    key = df[column]
    groups = [group.to_numpy() for _, group in pd.Series(positions).groupby(key.to_numpy(), sort=True, dropna=True)]
    if key.isna().any():
        groups.append(positions[key.isna().to_numpy()])
    return groups


def fold_sizes(rows: int, params: ParamValues, rand: np.random.RandomState | None) -> list[int]:
    """Rows per fold for a group of `rows`: even folds (the remainder spread over randomly
    chosen folds) or the given proportions (the last fold takes what is left)."""
    if params.partition == EVENLY:
        per_fold, left_over = divmod(rows, params.folds)
        sizes = [per_fold] * params.folds
        order = list(range(params.folds))
        if rand is not None:
            rand.shuffle(order)
        for fold in order[:left_over]:
            sizes[fold] += 1
        return sizes
    shares = proportions(params.proportions)
    sizes, used = [], 0
    for share in shares[:-1]:
        size = min(int(round(rows * share)), rows - used)
        sizes.append(size)
        used += size
    return [*sizes, rows - used]


def proportions(text: str) -> list[float]:
    """Comma-separated shares of the rows; what they leave below 1 is one more fold."""
    try:
        shares = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ModuleError(
            f"proportions must be numbers separated by commas, e.g. 0.5, 0.3; got {text!r}",
            code="bad_value", param="proportions",
        ) from None
    if not shares or any(not 0 <= s <= 1 for s in shares):
        raise ModuleError("proportions must each be between 0 and 1", code="bad_value", param="proportions")
    total = sum(shares)
    if total > 1 + 1e-9:
        raise ModuleError(f"proportions add up to {total:g}, more than 1", code="bad_value", param="proportions")
    return shares + [1 - total] if total < 1 - 1e-9 else shares


@register
class PartitionAndSample(Module):
    """Assign rows to folds, pick a fold, take a random sample, or take the first rows."""

    id = "partition_and_sample"
    name = "Partition and Sample"
    keywords = ("sample rows", "random sample", "folds", "head", "top rows", "first rows", "subset rows")
    category = CATEGORY
    help = (
        "**sampling** (the default): a random `rate` of the rows (round(rate × rows), drawn with "
        "NumPy's `RandomState(seed)`), kept in table order; with `stratify`, that share of each "
        "value of `stratify_column`.\n\n"
        f"**head**: the first `count` rows.\n\n"
        f"**assign_to_folds**: adds a `{FOLD}` column numbering each row's fold from 1: `folds` "
        "folds of even size (`partition: evenly`), or folds of the comma-separated `proportions` "
        "(e.g. `0.6, 0.2`; what they leave is one more fold). With `randomize` rows are drawn "
        "at random with `seed`, else in table order; with `stratify`, every fold gets its share of "
        "each value of `stratify_column`. With `replacement`, each fold draws from all the rows, "
        "so a row may be in several folds (it appears once per fold).\n\n"
        f"**pick_fold**: the rows of fold `fold` of a table from assign_to_folds (its `{FOLD}` "
        "column), or with `complement` all the other rows; the Fold column is dropped.\n\n"
        "Roles are kept."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The sample, the fold, or the table with its folds")

    class Params:
        mode = Choice(choices=(SAMPLING, HEAD, ASSIGN_TO_FOLDS, PICK_FOLD), default=SAMPLING)
        rate = Float(default=0.01, min=0, max=1, help="sampling: the share of rows to keep")
        count = Int(default=10, min=0, help="head: how many first rows to keep")
        seed = Int(default=0, min=0, max=2**32 - 1, help="Random seed (sampling, assign_to_folds)")
        stratify = Bool(default=False, help="Keep the share of each value of stratify_column (sampling, assign_to_folds)")
        stratify_column = Columns(default=None, multiple=False, help="The column to stratify on")
        partition = Choice(choices=(EVENLY, PROPORTIONS), default=EVENLY, help="assign_to_folds: even folds or given proportions")
        folds = Int(default=5, min=1, help="assign_to_folds: how many even folds")
        proportions = String(default="", help="assign_to_folds: shares of the rows per fold, e.g. 0.6, 0.2")
        randomize = Bool(default=True, help="assign_to_folds: draw rows at random (else in table order)")
        replacement = Bool(default=False, help="assign_to_folds: each fold draws from all rows")
        fold = Int(default=1, min=1, help="pick_fold: the fold to pick, from 1")
        complement = Bool(default=False, help="pick_fold: every row but that fold's")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        roles = roles_of(dataset)
        if params.mode == HEAD:
            out = dataset.iloc[: params.count]
        elif params.mode == SAMPLING:
            out = self._sample(dataset, params)
        elif params.mode == PICK_FOLD:
            out = self._pick(dataset, params)
        else:
            out = self._assign(dataset, params)
        ctx.log(f"{params.mode}: {len(out)} of {len(dataset)} rows")
        return {"dataset": set_roles(out, roles)}

    @staticmethod
    def _sample(df: pd.DataFrame, params: ParamValues) -> pd.DataFrame:
        rand = np.random.RandomState(params.seed)
        chosen: list[int] = []
        for group in _strata_groups(df, params):
            chosen += rand.permutation(group)[: int(round(len(group) * params.rate))].tolist()
        return df.iloc[sorted(chosen)]

    @staticmethod
    def _assign(df: pd.DataFrame, params: ParamValues) -> pd.DataFrame:
        if FOLD in df.columns:
            raise ModuleError(
                f"the table already has a {FOLD!r} column; drop or rename it to assign new folds",
                code="name_clash", port="dataset",
            )
        if params.partition == EVENLY and params.folds > len(df):
            raise ModuleError(
                f"{params.folds} folds need at least {params.folds} rows; the table has {len(df)}",
                code="too_few_rows", param="folds",
            )
        rand = np.random.RandomState(params.seed) if params.randomize else None
        members: dict[int, list[int]] = {}
        for group in _strata_groups(df, params):
            sizes = fold_sizes(len(group), params, rand)
            start = 0
            ordered = group
            for fold, size in enumerate(sizes, start=1):
                if params.replacement:
                    ordered = rand.permutation(group) if rand is not None else group
                    taken = ordered[:size]
                else:
                    if start == 0 and rand is not None:
                        ordered = rand.permutation(group)
                    taken = ordered[start:start + size]
                    start += size
                members.setdefault(fold, []).extend(taken.tolist())
        if params.replacement:
            parts = [df.iloc[rows].assign(**{FOLD: fold}) for fold, rows in sorted(members.items())]
            return pd.concat(parts, ignore_index=True) if parts else df.assign(**{FOLD: 0}).iloc[:0]
        fold_of = np.zeros(len(df), dtype="int64")
        for fold, rows in members.items():
            fold_of[rows] = fold
        return df.assign(**{FOLD: fold_of})

    @staticmethod
    def _pick(df: pd.DataFrame, params: ParamValues) -> pd.DataFrame:
        if FOLD not in df.columns:
            raise ModuleError(
                f"pick_fold needs a table with a {FOLD!r} column: connect the output of Partition and Sample "
                "in assign_to_folds mode",
                code="no_folds", port="dataset",
            )
        folds = df[FOLD]
        if len(df) and params.fold not in set(folds.dropna().astype("int64")):
            raise ModuleError(
                f"the table has no fold {params.fold} (it has {', '.join(map(str, sorted(set(folds.dropna().astype('int64')))))})",
                code="bad_value", param="fold",
            )
        chosen = (folds == params.fold).to_numpy()
        return df[~chosen if params.complement else chosen].drop(columns=FOLD)

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None}
        if params.mode == ASSIGN_TO_FOLDS:
            return {"dataset": Schema([*schema, Column(FOLD, ColumnKind.NUMERIC)])}
        if params.mode == PICK_FOLD:
            return {"dataset": Schema(c for c in schema if c.name != FOLD)}
        return {"dataset": schema}


# --- SMOTE ---------------------------------------------------------------------------------------


@register
class Smote(Module):
    """Add synthetic rows of the rarest class, made between its rows and their nearest neighbors."""

    id = "smote"
    name = "SMOTE"
    keywords = ("imbalanced", "oversample", "class imbalance", "minority class", "rebalance")
    category = CATEGORY
    help = (
        "Synthetic Minority Oversampling (imbalanced-learn's `SMOTE`, `SMOTENC` when there are "
        "text or categorical features): the class of `label_column` with the fewest rows gets "
        "`smote_percentage` % more rows (100: twice as many), each made between one of its rows "
        "and one of its `neighbors` nearest rows of the same class. Other classes are left as "
        "they are. The output is the input rows followed by the new ones.\n\n"
        "Every other column is a feature, numeric or text (a text column takes the value most "
        "frequent among the neighbors); missing values are refused (Clean Missing Data first). "
        "Roles are kept."
    )
    example_params = {"label_column": "klass"}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="The samples")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The samples and the synthetic minority rows")

    class Params:
        label_column = Columns(multiple=False, help="The class column; may be left empty when a column has the label role")
        smote_percentage = Int(default=100, min=0, help="How many new rows of the rarest class, in % of its rows (a multiple of 100)")
        neighbors = Int(default=1, min=1, help="Nearest neighbors to make new rows towards")
        seed = Int(default=0, min=0, max=2**32 - 1, help="Random seed")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC  # its import costs; only this module needs it

        if params.smote_percentage % 100:
            raise ModuleError(
                f"smote_percentage must be a multiple of 100 (100 doubles the rarest class), got {params.smote_percentage}",
                code="bad_value", param="smote_percentage",
            )
        if dataset.empty:
            raise ModuleError("the table has no rows", code="empty_table", port="dataset")
        label = label_column(dataset, params.label_column)
        features = [c for c in dataset.columns if c != label]
        if not features:
            raise ModuleError("the table has no feature columns besides the label", code="no_features", port="dataset")
        missing = dataset[[*features, label]].isna()
        if missing.any().any():
            column = str(missing.any()[missing.any()].index[0])
            raise ModuleError(
                f"column {column!r} has a missing value in row {first_row(missing[column])}; SMOTE can't use "
                "missing values: remove or replace them first with Clean Missing Data",
                code="missing_values", port="dataset",
            )
        counts = dataset[label].value_counts()
        if len(counts) < 2:
            raise ModuleError(f"the label {label!r} has a single class; there is no minority to oversample", code="label_classes", param="label_column")
        # The rarest class; on a tie, the first in sorted order.
        minority = sorted(counts.index[counts == counts.min()], key=str)[0]
        have = int(counts[minority])
        wanted = have * (1 + params.smote_percentage // 100)
        if params.smote_percentage == 0:
            return {"dataset": dataset}
        if have <= params.neighbors:
            raise ModuleError(
                f"class {minority!r} has {have} rows; {params.neighbors} neighbors need at least {params.neighbors + 1}",
                code="too_few_rows", param="neighbors",
            )
        categorical = [i for i, c in enumerate(features) if column_kind(dataset[c]) is not ColumnKind.NUMERIC]
        common: dict[str, Any] = {
            "sampling_strategy": {minority: wanted}, "k_neighbors": params.neighbors, "random_state": params.seed,
        }
        if not categorical:
            sampler: Any = SMOTE(**common)
        elif len(categorical) == len(features):
            sampler = SMOTEN(**common)
        else:
            sampler = SMOTENC(categorical_features=categorical, **common)
        X = dataset[features].astype({features[i]: "object" for i in categorical})
        X_new, y_new = sampler.fit_resample(X, dataset[label])
        synthetic = pd.DataFrame(np.asarray(X_new)[len(dataset):], columns=features)
        for name in features:
            if pd.api.types.is_integer_dtype(dataset[name].dtype):
                synthetic[name] = synthetic[name].astype("float64").round()  # interpolated counts stay whole
        synthetic[label] = np.asarray(y_new)[len(dataset):]
        synthetic = synthetic[list(dataset.columns)].astype(dataset.dtypes.to_dict())
        ctx.log(f"class {minority!r}: {have} rows, {len(synthetic)} synthetic rows added")
        out = pd.concat([dataset, synthetic], ignore_index=True)
        return {"dataset": set_roles(out, roles_of(dataset))}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        return {"dataset": inputs.get("dataset")}
