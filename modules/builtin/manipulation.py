"""Table manipulation: Add Rows, Add Columns, Remove Duplicate Rows, Select Columns Transform,
Convert to Indicator Values."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from modules.sdk import (
    Bool, Column, ColumnKind, Columns, Estimator, Input, Module, ModuleError, Output, ParamValues, PortType,
    Schema, StepContext, register, resolve_columns, roles_of, schema_of, set_roles,
)

from .transformation import CATEGORY, require_columns, selected_columns, value_type

SchemaMap = Mapping[str, Schema | None]


# --- Add Rows ------------------------------------------------------------------------------------


def _kind_group(kind: ColumnKind) -> str:
    # Text and categories of text append to each other; so do numbers of any width.
    return "text" if kind in (ColumnKind.STRING, ColumnKind.CATEGORICAL) else kind.value


def _check_same_columns(first: Schema, second: Schema) -> None:
    if sorted(first.names) != sorted(second.names):
        only_first = [n for n in first.names if n not in second.names]
        only_second = [n for n in second.names if n not in first.names]
        raise ModuleError(
            "both tables need the same columns; "
            + "; ".join(part for part in (
                f"only dataset1 has {', '.join(map(repr, only_first))}" if only_first else "",
                f"only dataset2 has {', '.join(map(repr, only_second))}" if only_second else "",
            ) if part),
            code="column_mismatch", port="dataset2", details={"only_dataset1": only_first, "only_dataset2": only_second},
        )
    kinds = {c.name: c.kind for c in second}
    clashes = [c.name for c in first if _kind_group(c.kind) != _kind_group(kinds[c.name])]
    if clashes:
        listed = ", ".join(f"{n!r} ({next(c.kind.value for c in first if c.name == n)} and {kinds[n].value})" for n in clashes)
        raise ModuleError(
            f"columns hold different kinds of values in the two tables: {listed}; convert one with Edit Metadata",
            code="column_type", port="dataset2", details={"columns": clashes},
        )


@register
class AddRows(Module):
    """Append the rows of a second table below the first one."""

    id = "add_rows"
    name = "Add Rows"
    keywords = ("append", "concatenate", "union", "stack tables")
    category = CATEGORY
    help = (
        "Puts the rows of `dataset2` below those of `dataset1`. Both tables need the same "
        "column names (in any order: the output has `dataset1`'s order) holding the same kinds "
        "of values (numbers with numbers, text with text or categories…); a difference is an "
        "error that names the columns. Roles are those of `dataset1`."
    )

    class Inputs:
        dataset1 = Input(type=PortType.DATAFRAME, help="The first rows")
        dataset2 = Input(type=PortType.DATAFRAME, help="The rows to append")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The rows of both tables")

    def run(self, ctx: StepContext, params: ParamValues, dataset1: pd.DataFrame, dataset2: pd.DataFrame) -> dict[str, Any]:
        _check_same_columns(schema_of(dataset1), schema_of(dataset2))
        out = pd.concat([dataset1, dataset2[list(dataset1.columns)]], ignore_index=True)
        for name in dataset1.columns:
            if isinstance(dataset1[name].dtype, pd.CategoricalDtype) and not isinstance(out[name].dtype, pd.CategoricalDtype):
                out[name] = out[name].astype("category")  # concat drops the category type when categories differ
        ctx.log(f"{len(dataset1)} + {len(dataset2)} = {len(out)} rows")
        return {"dataset": set_roles(out, roles_of(dataset1))}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        first, second = inputs.get("dataset1"), inputs.get("dataset2")
        if first is not None and second is not None:
            _check_same_columns(first, second)
        return {"dataset": first}


# --- Add Columns ---------------------------------------------------------------------------------


def side_by_side_names(left: list[str], right: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """New names for columns both tables have: `name_1` on the left, `name_2` on the right
    (the next free number when those are taken), as the designer names them."""
    taken = set(left) | set(right)
    left_names, right_names = {}, {}
    for name in [n for n in left if n in set(right)]:
        suffix = 1
        while f"{name}_{suffix}" in taken:
            suffix += 1
        left_names[name] = f"{name}_{suffix}"
        taken.add(left_names[name])
        while f"{name}_{suffix}" in taken:
            suffix += 1
        right_names[name] = f"{name}_{suffix}"
        taken.add(right_names[name])
    return left_names, right_names


@register
class AddColumns(Module):
    """Put the columns of a second table beside the first one, row by row."""

    id = "add_columns"
    name = "Add Columns"
    keywords = ("combine columns", "side by side", "concatenate columns", "stack horizontally")
    category = CATEGORY
    help = (
        "Joins two tables side by side: row 1 with row 1, row 2 with row 2… Both need the same "
        "number of rows. A column name both tables use gets `_1` on the left and `_2` on the "
        "right (or the next free numbers), as in the designer. Roles are kept; a label on the "
        "right loses its role when the left table has one."
    )

    class Inputs:
        left = Input(type=PortType.DATAFRAME, help="The left table")
        right = Input(type=PortType.DATAFRAME, help="The table whose columns are added")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The columns of both tables")

    def run(self, ctx: StepContext, params: ParamValues, left: pd.DataFrame, right: pd.DataFrame) -> dict[str, Any]:
        if len(left) != len(right):
            raise ModuleError(
                f"both tables need the same number of rows; left has {len(left)}, right has {len(right)}",
                code="row_count", port="right",
            )
        left_names, right_names = side_by_side_names(list(left.columns), list(right.columns))
        out = pd.concat(
            [left.reset_index(drop=True).rename(columns=left_names), right.reset_index(drop=True).rename(columns=right_names)],
            axis=1,
        )
        return {"dataset": set_roles(out, self._roles(roles_of(left), roles_of(right), left_names, right_names))}

    @staticmethod
    def _roles(left: dict[str, str], right: dict[str, str], left_names: dict[str, str], right_names: dict[str, str]) -> dict[str, str]:
        has_label = "label" in left.values()
        roles = {right_names.get(c, c): r for c, r in right.items() if not (has_label and r == "label")}
        roles.update({left_names.get(c, c): r for c, r in left.items()})
        return roles

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        left, right = inputs.get("left"), inputs.get("right")
        if left is None or right is None:
            return {"dataset": None}
        left_names, right_names = side_by_side_names(left.names, right.names)
        roles = cls._roles(
            {c.name: c.role for c in left if c.role}, {c.name: c.role for c in right if c.role}, left_names, right_names
        )
        columns = [Column(left_names.get(c.name, c.name), c.kind) for c in left]
        columns += [Column(right_names.get(c.name, c.name), c.kind) for c in right]
        return {"dataset": Schema(Column(c.name, c.kind, roles.get(c.name)) for c in columns)}


# --- Remove Duplicate Rows -----------------------------------------------------------------------


@register
class RemoveDuplicateRows(Module):
    """Keep one row of each group of rows with equal values in the key columns."""

    id = "remove_duplicate_rows"
    name = "Remove Duplicate Rows"
    keywords = ("remove duplicates", "deduplicate", "dedupe", "distinct", "unique rows", "drop duplicates")
    category = CATEGORY
    help = (
        "Rows whose values in every key column are equal are duplicates; one of each group is "
        "kept: the first (in table order) with `retain_first`, else the last. Missing values are "
        "equal to each other here. Select all columns to remove rows that are wholly equal. The "
        "kept rows stay in table order, with their roles."
    )
    example_params = {"key_columns": ["color"]}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table without duplicates")

    class Params:
        key_columns = Columns(required=True, help="The columns whose values make rows duplicates")
        retain_first = Bool(default=True, help="Keep the first row of each duplicate group (else the last)")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        keys = resolve_columns(params.key_columns, dataset, param="key_columns")
        if not keys:
            raise ModuleError("the selection names no key column", code="no_columns", param="key_columns")
        duplicated = dataset.duplicated(subset=keys, keep="first" if params.retain_first else "last")
        ctx.log(f"removed {int(duplicated.sum())} duplicate rows of {len(dataset)}")
        return {"dataset": set_roles(dataset[~duplicated.to_numpy()], roles_of(dataset))}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is not None:
            resolve_columns(params.key_columns, schema, param="key_columns")
        return {"dataset": schema}


# --- Select Columns Transform ---------------------------------------------------------------------


class ColumnSelection:
    """The columns of a table, with their roles, re-selected from other tables."""

    def __init__(self, *, columns: list[str], roles: dict[str, str]) -> None:
        self.columns = columns
        self.roles = roles

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        # A label the model never needs may be absent from new data (scoring a web request):
        # keep the columns there are, but every other column is required.
        present = [c for c in self.columns if c in df.columns or self.roles.get(c) != "label"]
        require_columns(df, present)
        return set_roles(df[present], {**roles_of(df), **{c: r for c, r in self.roles.items() if c in present}})


@register
class SelectColumnsTransform(Module):
    """Remember a table's columns, to select the same ones from other tables."""

    id = "select_columns_transform"
    name = "Select Columns Transform"
    keywords = ("same columns", "column list", "reuse selection")
    category = CATEGORY
    help = (
        "Outputs a transform that selects, from any table given to Apply Transformation, the "
        "columns this table has, in its order and with its roles: e.g. the columns Filter Based "
        "Feature Selection kept on the training data, selected from the test data. A table "
        "lacking one of those columns is an error naming it, except the label column, which may "
        "be absent (new data to score has none)."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with the columns to select")

    class Outputs:
        transform = Output(type=PortType.TRANSFORM, help="The column selection, for Apply Transformation")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = [str(c) for c in dataset.columns]
        selection = ColumnSelection(columns=columns, roles=roles_of(dataset))
        return {"transform": Estimator(selection, {"transform": self.id, "columns": columns})}


# --- Convert to Indicator Values ----------------------------------------------------------------

INDICATOR_SEPARATOR = "-"


class IndicatorEncoder:
    """Fitted Convert to Indicator Values: one 0/1 column per value seen when fitted."""

    def __init__(self, *, values: dict[str, list[str]], overwrite: bool) -> None:
        self.values = values
        self.overwrite = overwrite

    def names(self, column: str) -> list[str]:
        return [f"{column}{INDICATOR_SEPARATOR}{value}" for value in self.values[column]]

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, list(self.values))
        roles = roles_of(df)
        names: list[str] = []
        columns: list[pd.Series] = []
        for name in df.columns:
            if name not in self.values or not self.overwrite:
                names.append(name)
                columns.append(df[name])
            if name in self.values:
                text = df[name].astype("object").where(df[name].isna(), df[name].astype("str"))
                for new, value in zip(self.names(name), self.values[name]):
                    names.append(new)
                    columns.append((text == value).astype("int64"))
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ModuleError(
                f"indicator columns would take names the table already uses: {', '.join(map(repr, clashes))}",
                code="name_clash", port="dataset",
            )
        out = pd.DataFrame(dict(zip(names, columns)), index=df.index)
        return set_roles(out, {c: r for c, r in roles.items() if not (self.overwrite and c in self.values)})


@register
class ConvertToIndicatorValues(Module):
    """Turn each value of categorical columns into a 0/1 column of its own (one-hot encoding)."""

    id = "convert_to_indicator_values"
    name = "Convert to Indicator Values"
    keywords = ("one-hot", "one hot encoding", "dummy variables", "categorical to numeric", "encode")
    category = CATEGORY
    help = (
        "For each selected column (text, categories or booleans), adds one column per distinct "
        f"value, named `<column>{INDICATOR_SEPARATOR}<value>`, holding 1 in the rows with that "
        "value and 0 elsewhere, right after the column (values in sorted order; a missing value "
        "gets 0 in every indicator). With `overwrite`, the original column is dropped. Numeric "
        "columns are refused: make them categorical with Edit Metadata first, or bin them.\n\n"
        "The transform output applies the same indicators to other tables (Apply "
        "Transformation): a value not seen here gets 0 in every indicator."
    )
    example_params = {"columns": ["color"]}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with indicator columns")
        transform = Output(type=PortType.TRANSFORM, help="The conversion, for Apply Transformation")

    class Params:
        columns = Columns(required=True, kinds=("string", "categorical", "boolean"), help="The categorical columns to convert")
        overwrite = Bool(default=False, help="Drop the original columns")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = selected_columns(params.columns, dataset, param="columns")
        if not columns:
            raise ModuleError("the selection has no column to convert", code="no_columns", param="columns")
        numeric = [c for c in columns if value_type(dataset[c]) in ("number", "datetime")]
        if numeric:
            raise ModuleError(
                f"{', '.join(map(repr, numeric))} hold{'s' if len(numeric) == 1 else ''} numbers or dates, not "
                "categories; make them categorical with Edit Metadata, or bin them with Group Data into Bins",
                code="bad_type", param="columns", details={"columns": numeric},
            )
        values = {c: sorted(dataset[c].dropna().astype("str").unique().tolist()) for c in columns}
        encoder = IndicatorEncoder(values=values, overwrite=params.overwrite)
        meta = {"transform": self.id, "columns": columns}
        return {"dataset": encoder.transform(dataset), "transform": Estimator(encoder, meta)}
