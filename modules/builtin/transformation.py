"""Data transformation: select, edit metadata, clean, normalize, split, join, apply a transform."""
from __future__ import annotations

import ast
import math
import re
import warnings
from typing import Any, Literal, Mapping, cast

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats
from pandas.api import types as pdt
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from modules.sdk import (
    Bool, Choice, Column, ColumnKind, Columns, Estimator, Float, Input, Int, Module, ModuleError,
    Output, ParamValues, PortType, Schema, StepContext, String, Struct, register, resolve_columns,
    roles_of, schema_of, set_roles,
)

CATEGORY = "Data Transformation"
SchemaMap = Mapping[str, Schema | None]


# --- helpers shared by the modules below -------------------------------------------------------


def selected_columns(selector: dict[str, Any], table: pd.DataFrame | Schema, *, param: str) -> list[str]:
    """The columns a selector picks. Columns named one by one keep the order the user listed
    them in (that order pairs them with new names or with the other table's keys); columns
    picked by a rule keep the table's order."""
    picked = resolve_columns(selector, table, param=param)
    include = selector["include"]
    if isinstance(include, list):
        chosen = set(picked)
        return [name for name in dict.fromkeys(include) if name in chosen]
    return picked


def require_rows(df: pd.DataFrame, why: str) -> None:
    if len(df) == 0:
        raise ModuleError(f"the input table has no rows; {why}", code="empty_table", port="dataset")


def require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    """A fitted transform only applies to tables that still have the columns it was fitted on."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ModuleError(
            f"the table lacks column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} that the transform was fitted on",
            code="unknown_column",
            port="dataset",
            details={"missing": missing},
        )


def first_row(mask: pd.Series) -> int:
    """1-based position of the first flagged row: how people count rows in the table view."""
    return int(np.argmax(mask.to_numpy(dtype=bool))) + 1


def storable(value: Any) -> Any:
    """A value as a builtin (or numpy datetime): what skops stores safely, and what reads well
    in a message (2.5, not np.float64(2.5))."""
    if isinstance(value, pd.Timestamp):
        return value.to_datetime64()
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        return value.item()
    return value


# --- Select Columns ------------------------------------------------------------------------------


@register
class SelectColumns(Module):
    """Keep only the chosen columns of a table."""

    id = "select_columns"
    name = "Select Columns in Dataset"
    keywords = ("drop column", "remove column", "delete column", "keep columns", "choose columns", "subset columns", "project")
    category = CATEGORY
    help = (
        "Keeps the columns picked by the selector and drops the others.\n\n"
        "- Columns named one by one come out in the order you list them; columns picked by a "
        "rule (all, by type, by role) keep the table's order.\n"
        "- `exclude` removes columns from what `include` picked, e.g. "
        "`{include: all, exclude: [normalized-losses]}`.\n"
        "- Column roles (label, feature, score) stay with their columns.\n"
        "- Naming a column the table lacks is an error that names it; so is a selection that "
        "keeps no column."
    )
    example_params = {"columns": ["x1", "target"]}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with the selected columns only")

    class Params:
        columns = Columns(required=True, help="The columns to keep")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = selected_columns(params.columns, dataset, param="columns")
        if not columns:
            raise ModuleError("the selection keeps no column", code="no_columns", param="columns")
        return {"dataset": set_roles(dataset[columns], roles_of(dataset))}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None}
        by_name = {c.name: c for c in schema}
        return {"dataset": Schema(by_name[n] for n in selected_columns(params.columns, schema, param="columns"))}


# --- Edit Metadata -------------------------------------------------------------------------------

_TRUTH_WORDS = {
    "true": True, "t": True, "yes": True, "y": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "0": False,
}
_TYPE_KINDS = {
    "string": ColumnKind.STRING,
    "integer": ColumnKind.NUMERIC,
    "float": ColumnKind.NUMERIC,
    "boolean": ColumnKind.BOOLEAN,
    "datetime": ColumnKind.DATETIME,
}


def _refuse_unreadable(original: pd.Series, converted: pd.Series, name: str, what: str) -> None:
    bad = original.notna() & converted.isna()
    if bad.any():
        row = first_row(bad)
        raise ModuleError(
            f"column {name!r} cannot be converted to {what}: row {row} holds "
            f"{storable(original.iloc[row - 1])!r}",
            code="bad_value",
            param="data_type",
            details={"column": name, "row": row},
        )


def convert_column(series: pd.Series, data_type: str, name: str) -> pd.Series:
    """One column converted to `data_type`; values that don't fit are an error naming the row.

    Integers and booleans use pandas' nullable dtypes so that missing values survive.
    """
    if data_type == "string":
        return series.astype("str")
    is_datetime = pdt.is_datetime64_any_dtype(series.dtype)
    is_text = not (is_datetime or pdt.is_numeric_dtype(series.dtype) or pdt.is_bool_dtype(series.dtype))
    if data_type == "datetime":
        if is_datetime:
            return series
        if not is_text:
            raise ModuleError(
                f"column {name!r} holds numbers; only text columns can be read as dates",
                code="bad_type", param="data_type",
            )
        converted = pd.to_datetime(series, errors="coerce", format="mixed")
        _refuse_unreadable(series, converted, name, "dates")
        return converted
    if is_datetime:
        raise ModuleError(
            f"column {name!r} holds dates; dates can only be converted to string",
            code="bad_type", param="data_type",
        )
    if data_type == "boolean":
        if pdt.is_bool_dtype(series.dtype):
            return series.astype("boolean")
        if is_text:
            converted = series.astype("str").str.strip().str.lower().map(_TRUTH_WORDS)
        else:
            converted = series.map({1: True, 0: False})
        _refuse_unreadable(series, converted, name, "booleans (true/false, yes/no, 1/0)")
        return converted.astype("boolean")
    numbers = pd.to_numeric(series.astype("str"), errors="coerce") if is_text else series.astype("float64")
    _refuse_unreadable(series, numbers, name, "numbers")
    if data_type == "float":
        return numbers.astype("float64")
    fractional = numbers.notna() & (numbers % 1 != 0)
    if fractional.any():
        row = first_row(fractional)
        raise ModuleError(
            f"column {name!r} cannot be converted to integers: row {row} holds "
            f"{storable(numbers.iloc[row - 1])!r}; round it first (Apply Math Operation) or use float",
            code="bad_value", param="data_type", details={"column": name, "row": row},
        )
    return numbers.astype("Int64")


def edited_roles(roles: dict[str, str], columns: list[str], role: str) -> dict[str, str]:
    """Roles after Edit Metadata's `role` param is applied to `columns`."""
    roles = dict(roles)
    if role in ("feature", "label"):
        if role == "label":
            if len(columns) != 1:
                raise ModuleError(
                    f"a table has a single label column; select exactly one column to make it "
                    f"the label (the selection has {len(columns)})",
                    code="bad_selection", param="columns",
                )
            # The new label replaces the old one, so learners never see two.
            roles = {c: r for c, r in roles.items() if r != "label"}
        roles.update(dict.fromkeys(columns, role))
    elif role.startswith("clear_"):
        cleared = role.removeprefix("clear_")
        roles = {c: r for c, r in roles.items() if not (c in columns and r == cleared)}
    return roles


def new_column_names(columns: list[str], all_columns: list[str], new_names: str) -> dict[str, str]:
    """The rename map for Edit Metadata's `new_names` (comma-separated, one per column)."""
    if not new_names.strip():
        return {}
    names = [n.strip() for n in new_names.split(",")]
    if len(names) != len(columns):
        raise ModuleError(
            f"new_names gives {len(names)} name{'s' if len(names) != 1 else ''} for "
            f"{len(columns)} selected column{'s' if len(columns) != 1 else ''} ({', '.join(columns)})",
            code="bad_names", param="new_names",
        )
    if "" in names:
        raise ModuleError("new_names has an empty name", code="bad_names", param="new_names")
    renames = dict(zip(columns, names))
    result = [renames.get(c, c) for c in all_columns]
    dupes = sorted({n for n in result if result.count(n) > 1})
    if dupes:
        raise ModuleError(
            f"renaming would give several columns the name {', '.join(map(repr, dupes))}",
            code="bad_names", param="new_names",
        )
    return renames


@register
class EditMetadata(Module):
    """Change the type, categorical flag, role or name of columns."""

    id = "edit_metadata"
    name = "Edit Metadata"
    keywords = ("rename column", "change type", "cast", "categorical", "label column", "feature column", "column role")
    category = CATEGORY
    help = (
        "Changes how the selected columns are typed and used, without touching other columns.\n\n"
        "- **data_type**: `string`, `integer`, `float`, `boolean` or `datetime`. Values that "
        "cannot be converted are an error naming the column and row (nothing is silently "
        "turned into a missing value). Integers must be whole numbers. Booleans are read "
        "from true/false, yes/no, t/f, y/n or 1/0 (any case). Dates are read from text in any "
        "common format; numbers are not taken as dates. Missing values stay missing (integer "
        "and boolean columns use nullable types for that).\n"
        "- **categorical**: `make_categorical` stores the column as a category (after any type "
        "change); `make_non_categorical` turns it back into plain values.\n"
        "- **role**: `label` marks the single label column (the previous label loses its role); "
        "`feature` marks features; `clear_*` removes that role.\n"
        "- **new_names**: comma-separated new names, one per selected column, in the order the "
        "columns are listed. Roles follow renamed columns."
    )
    example_params = {"columns": ["target"], "role": "label", "new_names": "price"}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME)

    class Params:
        columns = Columns(required=True, help="The columns to edit")
        data_type = Choice(
            choices=("unchanged", "string", "integer", "float", "boolean", "datetime"), default="unchanged"
        )
        categorical = Choice(choices=("unchanged", "make_categorical", "make_non_categorical"), default="unchanged")
        role = Choice(
            choices=("unchanged", "feature", "label", "clear_feature", "clear_label", "clear_score"),
            default="unchanged",
        )
        new_names = String(default="", help="Comma-separated new names, one per selected column")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = selected_columns(params.columns, dataset, param="columns")
        if not columns:
            raise ModuleError("the selection has no column to edit", code="no_columns", param="columns")
        renames = new_column_names(columns, list(dataset.columns), params.new_names)
        roles = edited_roles(roles_of(dataset), columns, params.role)
        out = dataset.copy()
        for name in columns:
            series = out[name]
            if params.data_type != "unchanged":
                series = convert_column(series, params.data_type, name)
            if params.categorical == "make_categorical":
                series = series.astype("category")
            elif params.categorical == "make_non_categorical" and isinstance(series.dtype, pd.CategoricalDtype):
                series = series.astype(series.cat.categories.dtype)
            out[name] = series
        out = out.rename(columns=renames)
        return {"dataset": set_roles(out, {renames.get(c, c): r for c, r in roles.items()})}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None}
        columns = selected_columns(params.columns, schema, param="columns")
        renames = new_column_names(columns, schema.names, params.new_names)
        roles = edited_roles({c.name: c.role for c in schema if c.role}, columns, params.role)
        out = []
        for column in schema:
            kind = column.kind
            if column.name in columns:
                kind = _TYPE_KINDS.get(params.data_type, kind)
                if params.categorical == "make_categorical":
                    kind = ColumnKind.CATEGORICAL
                elif params.categorical == "make_non_categorical" and kind is ColumnKind.CATEGORICAL:
                    # The categories' own type isn't in the schema; categories are text far more often.
                    kind = ColumnKind.STRING
            out.append(Column(renames.get(column.name, column.name), kind, roles.get(column.name)))
        return {"dataset": Schema(out)}


# --- Clean Missing Data --------------------------------------------------------------------------

INDICATOR_SUFFIX = "_is_missing"
_VALUE_TYPES = {
    "integer": "number", "floating": "number", "mixed-integer-float": "number", "decimal": "number",
    "boolean": "boolean", "datetime64": "datetime", "datetime": "datetime", "date": "datetime",
}
_KIND_VALUE_TYPES = {ColumnKind.NUMERIC: "number", ColumnKind.BOOLEAN: "boolean", ColumnKind.DATETIME: "datetime"}


def value_type(series: pd.Series) -> str:
    """What a column's values are: number, boolean, datetime or text (a bool column with
    missing values is stored as objects, so look at the values, not the dtype)."""
    values = series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else series
    return _VALUE_TYPES.get(pdt.infer_dtype(values, skipna=True), "text")


def parse_replacement(text: str, target: str) -> Any:
    """`replacement_value` read as a value of type `target`, or None if it isn't one.

    Values are builtins or numpy datetimes so that the fitted transform serializes with skops.
    """
    text = text.strip() if target != "text" else text
    if target == "number":
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if target == "boolean":
        return _TRUTH_WORDS.get(text.lower())
    if target == "datetime":
        try:
            return pd.Timestamp(text).to_datetime64()
        except ValueError:
            return None
    return text


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "datetime" if isinstance(value, np.datetime64) else "text"


def fill_missing(series: pd.Series, value: Any) -> pd.Series:
    if not series.isna().any():
        return series
    if value_type(series) != _type_of(value):
        # pandas would quietly make a mixed column, which no learner (nor Parquet) takes.
        raise ModuleError(
            f"column {series.name!r} holds {value_type(series)} values, but the transform fills "
            f"its missing values with {storable(value)!r}",
            code="bad_type", port="dataset", details={"column": series.name},
        )
    if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
        series = series.cat.add_categories([value])
    elif pdt.is_integer_dtype(series.dtype) and isinstance(value, float) and not value.is_integer():
        series = series.astype("float64")  # a fractional mean does not fit an integer column
    return series.fillna(value)


class MissingValueCleaner:
    """A fitted Clean Missing Data step, re-appliable to other tables with the same columns."""

    def __init__(self, *, mode: str, columns: list[str], replacements: dict[str, Any], add_indicator: bool) -> None:
        self.mode = mode
        self.columns = columns
        self.replacements = replacements
        self.add_indicator = add_indicator

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, self.columns)
        if self.mode == "remove_row":
            out = df.dropna(subset=self.columns)
        elif self.mode == "remove_column":
            out = df.drop(columns=self.columns)
        else:
            filled = {c: fill_missing(df[c], v) for c, v in self.replacements.items()}
            indicators = (
                {c + INDICATOR_SUFFIX: df[c].isna() for c in self.replacements} if self.add_indicator else {}
            )
            clashes = [n for n in indicators if n in df.columns]
            if clashes:
                raise ModuleError(
                    f"the table already has column{'s' if len(clashes) > 1 else ''} "
                    f"{', '.join(map(repr, clashes))}; rename it or turn add_indicator off",
                    code="name_clash", param="add_indicator",
                )
            out = df.assign(**filled, **indicators)
        return set_roles(out, roles_of(df))


@register
class CleanMissingData(Module):
    """Replace or remove missing values."""

    id = "clean_missing_data"
    name = "Clean Missing Data"
    keywords = ("missing values", "null", "nan", "na", "empty cells", "impute", "fill missing", "drop missing rows", "remove rows with missing")
    category = CATEGORY
    help = (
        "Cleans missing values in the selected columns, and outputs the cleaning as a transform "
        "that Apply Transformation re-applies to other data (e.g. the test set) with the values "
        "learned here.\n\n"
        "Only selected columns whose share of missing values lies between `min_missing_ratio` "
        "and `max_missing_ratio` (inclusive) are cleaned; the others are left as they are.\n\n"
        "- **custom_value**: fill with `replacement_value`, read as a number, boolean "
        "(true/false, yes/no, 1/0) or date to match each column. A column the value doesn't fit "
        "is an error if it has missing values, and is skipped otherwise.\n"
        "- **mean** / **median**: fill numeric columns with their mean or median. A cleaned "
        "non-numeric column with missing values is an error (use mode or custom_value for it); "
        "a column with no value at all is an error too (remove it instead).\n"
        "- **mode**: fill with the most frequent value (the smallest one on a tie).\n"
        "- **remove_row**: drop every row with a missing value in any cleaned column.\n"
        "- **remove_column**: drop the cleaned columns that have missing values.\n\n"
        f"`add_indicator` adds a boolean column `<name>{INDICATOR_SUFFIX}` per filled column, "
        "true where the value was missing (only with the fill modes: removed rows and columns "
        "leave nothing to flag)."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The cleaned table")
        transform = Output(type=PortType.TRANSFORM, help="The cleaning, for Apply Transformation")

    class Params:
        columns = Columns(default={"include": "all", "exclude": []}, help="The columns to clean")
        min_missing_ratio = Float(default=0.0, min=0, max=1, help="Clean only columns with at least this share missing")
        max_missing_ratio = Float(default=1.0, min=0, max=1, help="Clean only columns with at most this share missing")
        mode = Choice(
            choices=("custom_value", "mean", "median", "mode", "remove_row", "remove_column"),
            default="custom_value",
            labels={"custom_value": "Custom substitution value", "mean": "Replace with mean",
                    "median": "Replace with median", "mode": "Replace with mode",
                    "remove_row": "Remove entire row", "remove_column": "Remove entire column"},
        )
        replacement_value = String(default="0", help="The value that replaces missing ones",
                                   when={"mode": ("custom_value",)})
        add_indicator = Bool(default=False, help="Add a column flagging which values were missing",
                             when={"mode": ("custom_value", "mean", "median", "mode")})

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        require_rows(dataset, "missing values are cleaned with what the rows hold")
        selected = resolve_columns(params.columns, dataset, param="columns")
        missing = dataset[selected].isna().sum()
        ratios = missing / len(dataset)
        columns = [c for c in selected if params.min_missing_ratio <= ratios[c] <= params.max_missing_ratio]
        replacements: dict[str, Any] = {}
        if params.mode == "remove_column":
            columns = [c for c in columns if missing[c] > 0]
        elif params.mode != "remove_row":
            replacements = self._replacements(dataset, columns, missing, params)
            columns = list(replacements)
        cleaner = MissingValueCleaner(
            mode=params.mode, columns=columns, replacements=replacements, add_indicator=params.add_indicator
        )
        out = cleaner.transform(dataset)
        ctx.log(f"cleaned {len(columns)} column(s); {len(out)} of {len(dataset)} rows kept")
        if len(out) == 0:
            ctx.warn("every row had a missing value in a cleaned column: the output table is empty")
        meta = {"transform": self.id, "mode": params.mode, "columns": columns}
        return {"dataset": out, "transform": Estimator(cleaner, meta)}

    @staticmethod
    def _replacements(df: pd.DataFrame, columns: list[str], missing: pd.Series, params: ParamValues) -> dict[str, Any]:
        """The fill value of every column that gets one."""
        mode = params.mode
        values: dict[str, Any] = {}
        for name in columns:
            series = df[name]
            kind = value_type(series)
            if mode == "custom_value":
                value = parse_replacement(params.replacement_value, kind)
                if value is None and missing[name]:
                    raise ModuleError(
                        f"replacement value {params.replacement_value!r} is not a {kind} value, "
                        f"which column {name!r} needs",
                        code="bad_value", param="replacement_value", details={"column": name},
                    )
            elif mode in ("mean", "median") and kind != "number":
                if missing[name]:
                    raise ModuleError(
                        f"column {name!r} is not numeric, so it has no {mode}; use mode or "
                        "custom_value for it, or leave it out of the columns",
                        code="bad_type", param="columns", details={"column": name},
                    )
                value = None
            elif missing[name] == len(series):
                raise ModuleError(
                    f"column {name!r} has no values to compute a {mode} from; remove it "
                    "(remove_column, or lower max_missing_ratio)",
                    code="no_values", param="mode", details={"column": name},
                )
            elif mode == "mode":
                value = series.mode(dropna=True).iloc[0]
            else:
                value = getattr(series, mode)()
            if value is not None:
                values[name] = storable(value)
        return values

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None or params.mode == "remove_column":
            return {"dataset": None, "transform": None}
        if params.mode == "remove_row" or not params.add_indicator:
            return {"dataset": schema, "transform": None}
        if (params.min_missing_ratio, params.max_missing_ratio) != (0.0, 1.0):
            return {"dataset": None, "transform": None}  # which columns get indicators depends on the data
        selected = set(resolve_columns(params.columns, schema, param="columns"))

        def gets_filled(column: Column) -> bool:
            if params.mode == "custom_value":
                target = _KIND_VALUE_TYPES.get(column.kind, "text")
                return parse_replacement(params.replacement_value, target) is not None
            return params.mode == "mode" or column.kind is ColumnKind.NUMERIC

        indicators = [
            Column(c.name + INDICATOR_SUFFIX, ColumnKind.BOOLEAN) for c in schema if c.name in selected and gets_filled(c)
        ]
        return {"dataset": Schema([*schema, *indicators]), "transform": None}


# --- Normalize Data ------------------------------------------------------------------------------


class Normalizer:
    """A fitted Normalize Data step, re-appliable to other tables with the same columns.

    `scaled` columns go through the method; `constant` ones (a single value when fitted)
    become 0 or are left alone.
    """

    def __init__(
        self,
        *,
        method: str,
        scaled: list[str],
        constant: list[str],
        zero_constants: bool,
        scaler: StandardScaler | MinMaxScaler | None = None,
        lognormal: dict[str, list[float]] | None = None,
    ) -> None:
        self.method = method
        self.scaled = scaled
        self.constant = constant
        self.zero_constants = zero_constants
        self.scaler = scaler
        self.lognormal = lognormal or {}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, self.scaled + self.constant)
        not_numeric = [c for c in self.scaled + self.constant if value_type(df[c]) != "number"]
        if not_numeric:
            raise ModuleError(
                f"the normalized column{'s' if len(not_numeric) > 1 else ''} "
                f"{', '.join(map(repr, not_numeric))} must hold numbers",
                code="bad_type", port="dataset", details={"columns": not_numeric},
            )
        out = df.assign(**self._scale(df[self.scaled].astype("float64"))) if self.scaled else df
        if self.zero_constants and self.constant:
            constant = df[self.constant].astype("float64")
            out = out.assign(**constant.mask(constant.notna(), 0.0))
        return set_roles(out, roles_of(df))

    def _scale(self, values: pd.DataFrame) -> pd.DataFrame:
        # Both are ufuncs, which keep the frame (the stubs say ndarray).
        if self.method == "logistic":
            return cast(pd.DataFrame, scipy.special.expit(values))
        if self.method == "tanh":
            return cast(pd.DataFrame, np.tanh(values))
        if self.method == "lognormal":
            return values.apply(lambda x: scipy.stats.lognorm.cdf(x, self.lognormal[x.name][0], scale=self.lognormal[x.name][1]))
        assert self.scaler is not None
        return pd.DataFrame(self.scaler.transform(values), index=values.index, columns=values.columns)


@register
class NormalizeData(Module):
    """Rescale numeric columns (z-score, min-max, logistic, log-normal, tanh)."""

    id = "normalize_data"
    name = "Normalize Data"
    keywords = ("normalize", "normalise", "scale", "standardize", "rescale", "z-score", "min-max", "feature scaling")
    category = CATEGORY
    help = (
        "Rescales the selected numeric columns, and outputs the scaling as a transform that "
        "Apply Transformation re-applies to other data with the statistics learned here "
        "(fit on the training set, apply to the test set).\n\n"
        "- **zscore**: (x − mean) / standard deviation (population deviation, as scikit-learn's "
        "StandardScaler).\n"
        "- **minmax**: (x − min) / (max − min), into [0, 1] (MinMaxScaler).\n"
        "- **logistic**: 1 / (1 + e^−x).\n"
        "- **lognormal**: the cumulative distribution of a log-normal fitted to the column "
        "(maximum likelihood: μ and σ of ln x); needs positive values.\n"
        "- **tanh**: tanh(x).\n\n"
        "By default every numeric column is selected, the label included: exclude it if its "
        "scale must stay. A column holding a single value has no spread to scale by: with "
        "`constant_columns_to_zero` it becomes 0, otherwise it is left as it is. Missing values "
        "stay missing; normalized columns become floats; roles are kept."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with normalized columns")
        transform = Output(type=PortType.TRANSFORM, help="The normalization, for Apply Transformation")

    class Params:
        columns = Columns(
            default={"include": {"types": ["numeric"], "roles": []}, "exclude": []},
            kinds=("numeric",),
            help="The numeric columns to normalize",
        )
        method = Choice(choices=("zscore", "minmax", "logistic", "lognormal", "tanh"), default="zscore")
        constant_columns_to_zero = Bool(default=True, help="Set columns holding a single value to 0")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        require_rows(dataset, "normalization learns its scale from the rows")
        columns = self._numeric_columns(params.columns, dataset)
        values = dataset[columns].astype("float64")
        is_constant = values.nunique() <= 1
        constant = [c for c in columns if is_constant[c]]
        scaled = [c for c in columns if not is_constant[c]]
        normalizer = Normalizer(
            method=params.method, scaled=scaled, constant=constant,
            zero_constants=params.constant_columns_to_zero,
            **(self._fit(params.method, values[scaled]) if scaled else {}),
        )
        meta = {"transform": self.id, "method": params.method, "columns": columns}
        return {"dataset": normalizer.transform(dataset), "transform": Estimator(normalizer, meta)}

    @staticmethod
    def _numeric_columns(selector: dict[str, Any], table: pd.DataFrame | Schema) -> list[str]:
        schema = table if isinstance(table, Schema) else schema_of(table)
        columns = resolve_columns(selector, schema, param="columns", kinds={ColumnKind.NUMERIC.value})
        kinds = {c.name: c.kind for c in schema}
        not_numeric = [c for c in columns if kinds[c] is not ColumnKind.NUMERIC]
        if not_numeric:
            raise ModuleError(
                f"only numeric columns can be normalized; {', '.join(map(repr, not_numeric))} "
                f"{'is' if len(not_numeric) == 1 else 'are'} not numeric",
                code="bad_type", param="columns", details={"columns": not_numeric},
            )
        if not columns:
            raise ModuleError("the selection has no numeric column to normalize", code="no_columns", param="columns")
        return columns

    @classmethod
    def _fit(cls, method: str, values: pd.DataFrame) -> dict[str, Any]:
        """The statistics `method` learns from the (non-constant) columns: Normalizer's kwargs."""
        if method == "zscore":
            return {"scaler": StandardScaler().fit(values)}
        if method == "minmax":
            return {"scaler": MinMaxScaler().fit(values)}
        if method == "lognormal":
            return {"lognormal": {c: cls._fit_lognormal(values[c]) for c in values.columns}}
        return {}

    @staticmethod
    def _fit_lognormal(values: pd.Series) -> list[float]:
        """[σ, e^μ]: scipy's shape and scale for the log-normal fitted to the column."""
        not_positive = values.notna() & (values <= 0)
        if not_positive.any():
            row = first_row(not_positive)
            raise ModuleError(
                f"lognormal needs positive values, but column {values.name!r} holds "
                f"{storable(values.iloc[row - 1])!r} in row {row}",
                code="bad_value", param="method", details={"column": values.name, "row": row},
            )
        shape, _, scale = scipy.stats.lognorm.fit(values.dropna(), floc=0)
        return [float(shape), float(scale)]

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is not None:
            cls._numeric_columns(params.columns, schema)  # a selection the run would refuse has no output
        return {"dataset": schema, "transform": None}


# --- Split Data ----------------------------------------------------------------------------------

# A 'text' literal, or a "column name" (Azure's syntax also allows a backslash before it).
_EXPRESSION_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|\\?"([^"]*)\"""")
_EXPRESSION_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Invert, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple,
)


def expression_mask(df: pd.DataFrame, expression: str) -> pd.Series:
    """Which rows satisfy a relative expression such as `"price" > 10000 & "make" == 'audi'`.

    Column names in double quotes become placeholder names bound to the columns, the result
    is checked to be only comparisons, arithmetic and literals (no calls, attributes or
    subscripts, so nothing but the table is reachable), then pandas evaluates it.
    """
    bound: dict[str, pd.Series] = {}

    def bind(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in df.columns:
            raise ModuleError(
                f"the expression names column {name!r}, which the table lacks; it has: "
                f"{', '.join(map(str, df.columns[:30]))}",
                code="unknown_column", param="expression", details={"missing": [name]},
            )
        placeholder = f"column_{len(bound)}"
        bound[placeholder] = df[name]
        return placeholder

    translated = _EXPRESSION_TOKEN.sub(bind, expression)
    try:
        tree = ast.parse(translated.strip(), mode="eval")
    except SyntaxError:
        raise ModuleError(
            f"{expression!r} is not a valid expression; write e.g. \"price\" > 10000 & \"make\" == 'audi' "
            "(column names in double quotes, text in single quotes)",
            code="bad_expression", param="expression",
        ) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in bound:
            raise ModuleError(
                f"{node.id!r} in the expression is not a column: put column names in double quotes",
                code="bad_expression", param="expression",
            )
        if not isinstance(node, _EXPRESSION_NODES):
            raise ModuleError(
                "the expression may only compare columns with values (<, >, <=, >=, ==, !=, "
                "&, |, arithmetic); function calls, attributes and indexing are not allowed",
                code="bad_expression", param="expression",
            )
    if not bound:
        raise ModuleError(
            "the expression names no column; put column names in double quotes, e.g. \"price\" > 10000",
            code="bad_expression", param="expression",
        )
    try:
        result = pd.eval(
            translated, parser="pandas", engine="python", resolvers=[bound], local_dict={}, global_dict={}
        )
    except Exception as exc:  # the expression is user input: whatever it raises is theirs to fix
        raise ModuleError(f"could not evaluate {expression!r}: {exc}", code="bad_expression", param="expression") from None
    if not isinstance(result, pd.Series) or not pdt.is_bool_dtype(result.dtype):
        raise ModuleError(
            f"{expression!r} is not a condition: it must be true or false for each row",
            code="bad_expression", param="expression",
        )
    return result.fillna(False).astype(bool)


def regex_mask(df: pd.DataFrame, column: str, pattern: str) -> pd.Series:
    """Rows whose value in `column` contains a match of `pattern` (missing values never match)."""
    if not column or not pattern:
        raise ModuleError("regex mode needs both a column and a pattern", code="missing_param", param="regex")
    resolve_columns({"include": [column], "exclude": []}, df, param="regex")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ModuleError(f"the pattern {pattern!r} is not a valid regular expression: {exc}", param="regex") from None
    with warnings.catch_warnings():
        # pandas warns when a pattern has groups (in case str.extract was meant): here they're just grouping.
        warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression", UserWarning)
        return df[column].astype("str").str.contains(compiled, na=False)


def designer_split(
    rows: int, fraction: float, seed: int | None, strata: pd.Series | None = None
) -> tuple[list[int], list[int]]:
    """Row positions of the two outputs, drawn as the Azure designer's Split Data draws them,
    so that its published results reproduce.

    Per stratum (the whole table when `strata` is None; strata in sorted order): the rows
    are shuffled by pandas' `sample(frac=1)` with NumPy's legacy `RandomState(seed)`, and the
    first `round(n × fraction)` of them (Python's rounding, half to even) go to the first
    output. Each output's rows are then shuffled once more with the same generator. With
    `seed` None nothing is shuffled: each stratum's first rows go to the first output.
    """
    rand = np.random.RandomState(seed) if seed is not None else None
    positions = pd.Series(np.arange(rows))
    groups = [positions] if strata is None else [group for _, group in positions.groupby(strata.to_numpy(), sort=True)]
    first: list[int] = []
    second: list[int] = []
    for group in groups:
        ordered = group.sample(frac=1, random_state=rand).tolist() if rand is not None else group.tolist()
        cut = int(round(len(ordered) * fraction))
        first += ordered[:cut]
        second += ordered[cut:]
    if rand is not None:
        rand.shuffle(first)
        rand.shuffle(second)
    return first, second


@register
class SplitData(Module):
    """Split the rows of a table in two: by fraction, by regular expression, or by expression."""

    id = "split_data"
    name = "Split Data"
    keywords = ("train test split", "holdout", "partition", "filter rows", "subset rows", "where", "divide rows")
    category = CATEGORY
    help = (
        "Divides the rows of a table between two outputs.\n\n"
        "**rows**: `first` gets ⌊fraction × rows⌋ rows, `second` the rest. Without `randomize` "
        "they are the first rows in table order. With `randomize` the rows are drawn with "
        "scikit-learn's `train_test_split(train_size=…, random_state=seed, shuffle=True)`, so "
        "a seed always gives the same split, and both outputs come out shuffled. `stratify` "
        "(with `randomize`) keeps the share of each value of `stratify_column` equal in both "
        "outputs; that column must have no missing values and at least two rows per value.\n\n"
        "**regex**: rows whose value in `regex.column` contains a match of `regex.pattern` (a "
        "Python regular expression; use ^…$ to match whole values) go to `first`. Values are "
        "matched in their text form; missing values never match.\n\n"
        "**expression**: rows meeting a condition go to `first`, e.g. `\"price\" > 10000`. Column "
        "names go in double quotes, text values in single quotes; use <, >, <=, >=, ==, !=, "
        "& (and), | (or), parentheses and arithmetic. A comparison with a missing value is false.\n\n"
        "**designer_compatible** (rows mode): draw the rows as the Azure designer does, so that "
        "results published for its pipelines (e.g. the automobile price sample's R² of 0.868) "
        "reproduce: `first` gets round(fraction × rows) rows (half to even), picked by shuffling "
        "with pandas' `sample` and NumPy's legacy `RandomState(seed)`; with `stratify`, per value "
        "of `stratify_column` in sorted order, and `randomize` may then be off (each value's first "
        "rows). Pipelines converted from the designer's vocabulary turn it on.\n\n"
        "Roles are kept on both outputs."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        first = Output(type=PortType.DATAFRAME, help="The fraction of rows, or the matching rows")
        second = Output(type=PortType.DATAFRAME, help="The other rows")

    class Params:
        mode = Choice(choices=("rows", "regex", "expression"), default="rows")
        fraction = Float(default=0.5, min=0, max=1, help="Share of rows in the first output (rows mode)")
        randomize = Bool(default=True, help="Pick rows at random (rows mode)")
        seed = Int(default=0, min=0, max=2**32 - 1, help="Random seed (rows mode)")
        stratify = Bool(default=False, help="Keep the share of each value of stratify_column equal")
        stratify_column = Columns(default=None, multiple=False, help="The column to stratify on")
        regex = Struct(
            fields=(
                String(name="column", default="", help="The column to match"),
                String(name="pattern", default="", help="A regular expression"),
            ),
            default={"column": "", "pattern": ""},
            help="regex mode: rows whose column matches the pattern go to the first output",
        )
        expression = String(default="", help='expression mode: a condition such as "price" > 10000')
        designer_compatible = Bool(
            default=False, help="Draw the rows as the Azure designer does (rows mode), so its published results reproduce"
        )

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        require_rows(dataset, "there is nothing to split")
        if params.mode == "rows":
            first, second = self._split_rows(dataset, params)
        else:
            if params.mode == "regex":
                mask = regex_mask(dataset, params.regex["column"], params.regex["pattern"])
            else:
                mask = expression_mask(dataset, params.expression)
            first, second = dataset[mask], dataset[~mask]
        roles = roles_of(dataset)
        ctx.log(f"first: {len(first)} rows, second: {len(second)} rows")
        return {"first": set_roles(first, roles), "second": set_roles(second, roles)}

    @classmethod
    def _split_rows(cls, df: pd.DataFrame, params: ParamValues) -> tuple[pd.DataFrame, pd.DataFrame]:
        if params.designer_compatible:
            strata = cls._strata(df, params, needs_randomize=False) if params.stratify else None
            first_rows, second_rows = designer_split(len(df), params.fraction, params.seed if params.randomize else None, strata)
            return df.iloc[first_rows], df.iloc[second_rows]
        # Floored like scikit-learn does, after rounding away floating-point noise
        # (0.57 × 100 is 56.99999999999999 and must give 57 rows).
        n_first = math.floor(round(params.fraction * len(df), 9))
        strata = cls._strata(df, params) if params.stratify else None
        if n_first in (0, len(df)) or not params.randomize:
            return df.iloc[:n_first], df.iloc[n_first:]
        try:
            first, second = train_test_split(
                df, train_size=n_first, random_state=params.seed, shuffle=True, stratify=strata
            )
        except ValueError as exc:  # only stratification can fail here: too few rows of a value
            raise ModuleError(
                f"cannot stratify on {params.stratify_column['include'][0]!r}: {exc}",
                code="bad_stratify", param="stratify_column",
            ) from None
        return first, second

    @staticmethod
    def _strata(df: pd.DataFrame, params: ParamValues, *, needs_randomize: bool = True) -> pd.Series:
        if params.stratify_column is None:
            raise ModuleError("stratify needs a stratify_column", code="missing_param", param="stratify_column")
        if needs_randomize and not params.randomize:
            raise ModuleError("a stratified split draws rows at random: turn randomize on", param="randomize")
        [column] = resolve_columns(params.stratify_column, df, param="stratify_column")
        strata = df[column]
        if strata.isna().any():
            raise ModuleError(
                f"stratify column {column!r} has a missing value in row {first_row(strata.isna())}; clean it first",
                code="missing_values", param="stratify_column",
            )
        return strata

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        return {"first": schema, "second": schema}


# --- Join Data -----------------------------------------------------------------------------------

RIGHT_SUFFIX = "_right"
# Join Data's join types as merge calls them (left_semi is done without merge).
_MERGE_HOW: dict[str, Literal["inner", "left", "outer"]] = {"inner": "inner", "left_outer": "left", "full_outer": "outer"}


def right_output_names(left_columns: list[str], right_columns: list[str]) -> dict[str, str]:
    """Names of the right table's columns in the joined table: a name the left table (or an
    earlier renamed column) already uses gets `_right` appended until it is free."""
    used = set(left_columns)
    names = {}
    for name in right_columns:
        new = name
        while new in used:
            new += RIGHT_SUFFIX
        used.add(new)
        names[name] = new
    return names


def join_keys(
    left: pd.DataFrame | Schema, right: pd.DataFrame | Schema, params: ParamValues
) -> tuple[list[str], list[str]]:
    left_keys = selected_columns(params.left_keys, left, param="left_keys")
    right_keys = selected_columns(params.right_keys, right, param="right_keys")
    if not left_keys or len(left_keys) != len(right_keys):
        raise ModuleError(
            f"left_keys and right_keys must name the same number of columns, paired in order "
            f"(left: {', '.join(left_keys) or 'none'}; right: {', '.join(right_keys) or 'none'})",
            code="bad_keys", param="right_keys",
        )
    return left_keys, right_keys


def _key_frame(df: pd.DataFrame, keys: list[str], match_case: bool) -> pd.DataFrame:
    """The key columns under positional names, so both sides' keys line up; text keys are
    case-folded when case must not matter."""
    parts = {}
    for i, name in enumerate(keys):
        series = df[name]
        if not match_case and value_type(series) == "text":
            series = series.astype("str").str.casefold()
        parts[f"key{i}"] = series.reset_index(drop=True)
    return pd.DataFrame(parts)


@register
class JoinData(Module):
    """Join two tables on key columns (inner, left outer, full outer, left semi)."""

    id = "join_data"
    name = "Join Data"
    keywords = ("merge", "lookup", "combine tables", "match keys", "inner join", "left join", "vlookup")
    category = CATEGORY
    help = (
        "Joins the rows of two tables whose key columns hold equal values. `left_keys` and "
        "`right_keys` are paired in the order they are listed.\n\n"
        "- **inner**: pairs of matching rows.\n"
        "- **left_outer**: every left row, with the matching right rows or missing values.\n"
        "- **full_outer**: every row of both tables, matched where possible.\n"
        "- **left_semi**: the left rows that have a match, with the left columns only.\n\n"
        "As in SQL, a missing key value never matches anything (not even another missing "
        "value). With `match_case` off, text keys match regardless of case. Key columns must "
        "be of the same kind on both sides.\n\n"
        f"The output has the left columns, then the right ones; a right column whose name the "
        f"left table already uses gets the suffix `{RIGHT_SUFFIX}`. With `keep_right_keys` off "
        "the right key columns are dropped (for a full outer join, right rows without a match "
        "then show no key). Roles are kept from both sides, except that a right label loses "
        "its role when the left table has one."
    )
    example_params = {"left_keys": ["x1"], "right_keys": ["x1"]}

    class Inputs:
        left = Input(type=PortType.DATAFRAME)
        right = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The joined table")

    class Params:
        left_keys = Columns(required=True, help="Key columns of the left table")
        right_keys = Columns(required=True, help="Key columns of the right table, in the same order")
        join_type = Choice(choices=("inner", "left_outer", "full_outer", "left_semi"), default="inner")
        match_case = Bool(default=True, help="Text keys match only with the same case")
        keep_right_keys = Bool(default=True, help="Keep the right table's key columns in the output")

    def run(self, ctx: StepContext, params: ParamValues, left: pd.DataFrame, right: pd.DataFrame) -> dict[str, Any]:
        left_keys, right_keys = join_keys(left, right, params)
        self._check_key_kinds(left, right, left_keys, right_keys)
        lk = _key_frame(left, left_keys, params.match_case)
        rk = _key_frame(right, right_keys, params.match_case)
        matchable = rk.notna().all(axis=1)
        if params.join_type == "left_semi":
            found = pd.MultiIndex.from_frame(lk).isin(pd.MultiIndex.from_frame(rk[matchable]))
            out = left[found & lk.notna().all(axis=1).to_numpy()]
            return {"dataset": set_roles(out, roles_of(left))}

        how = _MERGE_HOW[params.join_type]
        # Join row numbers on the keys, then take the rows: the tables' own columns never go
        # through merge, so no name of theirs can clash with merge's bookkeeping.
        pairs = lk.assign(left_row=range(len(left))).merge(
            rk[matchable].assign(right_row=np.flatnonzero(matchable)), on=list(lk.columns), how=how
        )[["left_row", "right_row"]]
        if how == "outer":  # right rows with a missing key match nothing, but a full join keeps them
            pairs = pd.concat([pairs, pd.DataFrame({"right_row": np.flatnonzero(~matchable)})], ignore_index=True)

        kept_right = [c for c in right.columns if params.keep_right_keys or c not in right_keys]
        names = right_output_names(list(left.columns), kept_right)
        left_part = left.reset_index(drop=True).reindex(pairs["left_row"]).reset_index(drop=True)
        right_part = (
            right[kept_right].reset_index(drop=True).reindex(pairs["right_row"]).reset_index(drop=True)
        ).rename(columns=names)
        out = pd.concat([left_part, right_part], axis=1)
        ctx.log(f"joined {len(left)} and {len(right)} rows into {len(out)}")
        return {"dataset": set_roles(out, self._roles(roles_of(left), roles_of(right), names))}

    @staticmethod
    def _check_key_kinds(
        left: pd.DataFrame | Schema, right: pd.DataFrame | Schema, left_keys: list[str], right_keys: list[str]
    ) -> None:
        def kinds(table: pd.DataFrame | Schema) -> dict[str, ColumnKind]:
            schema = table if isinstance(table, Schema) else schema_of(table)
            # Categories of text join with text.
            return {c.name: ColumnKind.STRING if c.kind is ColumnKind.CATEGORICAL else c.kind for c in schema}

        left_kinds, right_kinds = kinds(left), kinds(right)
        for lkey, rkey in zip(left_keys, right_keys):
            if left_kinds[lkey] is not right_kinds[rkey]:
                raise ModuleError(
                    f"key {lkey!r} ({left_kinds[lkey].value}) cannot be matched with key {rkey!r} "
                    f"({right_kinds[rkey].value}); convert one with Edit Metadata",
                    code="bad_keys", param="right_keys",
                )

    @staticmethod
    def _roles(left_roles: dict[str, str], right_roles: dict[str, str], names: dict[str, str]) -> dict[str, str]:
        has_label = "label" in left_roles.values()
        right = {
            names[c]: r for c, r in right_roles.items() if c in names and not (has_label and r == "label")
        }
        return {**right, **left_roles}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        left, right = inputs.get("left"), inputs.get("right")
        if left is None or right is None:
            return {"dataset": None}
        left_keys, right_keys = join_keys(left, right, params)
        cls._check_key_kinds(left, right, left_keys, right_keys)
        if params.join_type == "left_semi":
            return {"dataset": left}
        kept_right = [c for c in right if params.keep_right_keys or c.name not in right_keys]
        names = right_output_names(left.names, [c.name for c in kept_right])
        roles = cls._roles(
            {c.name: c.role for c in left if c.role}, {c.name: c.role for c in kept_right if c.role}, names
        )
        columns = [*left, *(Column(names[c.name], c.kind) for c in kept_right)]
        return {"dataset": Schema(Column(c.name, c.kind, roles.get(c.name)) for c in columns)}


# --- Apply Transformation ------------------------------------------------------------------------


@register
class ApplyTransformation(Module):
    """Re-apply a fitted transform (cleaning, normalization…) to another table."""

    id = "apply_transformation"
    name = "Apply Transformation"
    keywords = ("reuse transform", "apply normalization", "apply cleaning", "transform test data")
    category = CATEGORY
    help = (
        "Applies a transform output by another module (Clean Missing Data, Normalize Data…) to "
        "a table, with the values learned when the transform was fitted: the usual way to "
        "prepare test or new data exactly as the training data was prepared.\n\n"
        "The table must have the columns the transform was fitted on; other columns pass "
        "through unchanged, and roles are kept."
    )

    class Inputs:
        transform = Input(type=PortType.TRANSFORM)
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The transformed table")

    def run(self, ctx: StepContext, params: ParamValues, transform: Estimator, dataset: pd.DataFrame) -> dict[str, Any]:
        if not callable(getattr(transform.obj, "transform", None)):
            raise ModuleError(
                f"the transform input holds a {type(transform.obj).__name__}, which cannot transform a table",
                code="bad_transform", port="transform",
            )
        return {"dataset": transform.obj.transform(dataset)}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        # What a transform does to the columns is only known once it has been fitted.
        return {"dataset": None}
