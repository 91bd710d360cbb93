"""Computing on numeric columns: Apply Math Operation, Clip Values, Group Data into Bins."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import scipy.special

from modules.sdk import (
    Bool, Choice, Column, ColumnKind, Columns, Estimator, Float, Input, Int, Module, ModuleError, Output,
    ParamValues, PortType, Schema, StepContext, String, register, resolve_columns, roles_of, schema_of, set_roles,
)

from .transformation import CATEGORY, require_columns

SchemaMap = Mapping[str, Schema | None]
APPEND = "append"
INPLACE = "inplace"
RESULT_ONLY = "result_only"
OUTPUT_MODES = (APPEND, INPLACE, RESULT_ONLY)
ALL_NUMERIC = {"include": {"types": ["numeric"], "roles": []}, "exclude": []}


def numeric_columns(selector: dict[str, Any], table: pd.DataFrame | Schema, *, param: str = "columns") -> list[str]:
    """The selected columns, all numeric: a text column named in the selection is an error."""
    schema = table if isinstance(table, Schema) else schema_of(table)
    columns = resolve_columns(selector, schema, param=param, kinds={ColumnKind.NUMERIC.value})
    kinds = {c.name: c.kind for c in schema}
    not_numeric = [c for c in columns if kinds[c] is not ColumnKind.NUMERIC]
    if not_numeric:
        raise ModuleError(
            f"only numeric columns can be used here; {', '.join(map(repr, not_numeric))} "
            f"{'is' if len(not_numeric) == 1 else 'are'} not numeric (convert with Edit Metadata)",
            code="bad_type", param=param, details={"columns": not_numeric},
        )
    if not columns:
        raise ModuleError("the selection has no numeric column", code="no_columns", param=param)
    return columns


def with_results(df: pd.DataFrame, results: dict[str, pd.Series], mode: str, *, names: dict[str, str]) -> pd.DataFrame:
    """The table after an operation on some columns: results replacing them (inplace), next to
    the table under their new `names` (append), or alone (result_only). Roles follow inplace
    columns; new columns have none."""
    roles = roles_of(df)
    if mode == INPLACE:
        return set_roles(df.assign(**results), roles)
    renamed = {names[column]: values for column, values in results.items()}
    if mode == RESULT_ONLY:
        return set_roles(pd.DataFrame(renamed, index=df.index), {})
    clashes = [n for n in renamed if n in df.columns]
    if clashes:
        raise ModuleError(
            f"the table already has column{'s' if len(clashes) > 1 else ''} {', '.join(map(repr, clashes))}; "
            "rename it, or use output_mode inplace",
            code="name_clash", param="output_mode",
        )
    return set_roles(df.assign(**renamed), roles)


def result_schema(schema: Schema, columns: list[str], mode: str, names: dict[str, str], kind: ColumnKind) -> Schema:
    if mode == INPLACE:
        return Schema(Column(c.name, kind if c.name in columns else c.kind, c.role) for c in schema)
    new = [Column(names[c], kind) for c in columns]
    return Schema(new if mode == RESULT_ONLY else [*schema, *new])


# --- Apply Math Operation ------------------------------------------------------------------------

_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs, "negate": np.negative, "sign": np.sign, "square": np.square, "sqrt": np.sqrt, "cube_root": np.cbrt,
    "exp": np.exp, "exp2": np.exp2, "exp10": lambda x: np.power(10.0, x), "exp_minus_1": np.expm1,
    "ln": np.log, "ln_plus_1": np.log1p, "log2": np.log2, "log10": np.log10,
    "ceiling": np.ceil, "floor": np.floor, "round": np.round, "truncate": np.trunc,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "degrees_to_radians": np.deg2rad, "radians_to_degrees": np.rad2deg,
    "erf": scipy.special.erf, "erfc": scipy.special.erfc, "gamma": scipy.special.gamma, "gamma_ln": scipy.special.gammaln,
}
_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide, "power": np.power,
    "mod": np.mod, "atan2": np.arctan2, "hypotenuse": np.hypot, "pair_max": np.fmax, "pair_min": np.fmin,
    "round_digits": lambda x, digits: np.round(x * 10.0 ** digits) / 10.0 ** digits,
}
_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "equal_to": np.equal, "not_equal_to": np.not_equal, "greater_than": np.greater,
    "greater_than_or_equal_to": np.greater_equal, "less_than": np.less, "less_than_or_equal_to": np.less_equal,
}
OPERATIONS = (*_UNARY, *_BINARY, *_COMPARE)


def _title(operation: str) -> str:
    return "".join(word.capitalize() for word in operation.split("_"))


def math_names(params: ParamValues, columns: list[str]) -> dict[str, str]:
    """Result column names, as the designer writes them: `Exp(price)`, `Add(price_5)`."""
    title = _title(params.operation)
    if params.operation in _UNARY:
        return {c: f"{title}({c})" for c in columns}
    if params.operand == "column":
        other = params.operand_column["include"][0] if params.operand_column else ""
        return {c: f"{title}({c}_{other})" for c in columns}
    return {c: f"{title}({c}_{params.constant:g})" for c in columns}


@register
class ApplyMathOperation(Module):
    """Compute a math function of numeric columns, or combine them with a constant or another column."""

    id = "apply_math_operation"
    name = "Apply Math Operation"
    keywords = ("math", "formula", "calculate", "compute column", "log", "multiply", "add constant", "new column")
    category = CATEGORY
    help = (
        "Applies `operation` to each selected numeric column.\n\n"
        "- One column: " + ", ".join(_UNARY) + ".\n"
        "- With a second argument (`operand`: the `constant`, or the `operand_column` of the same "
        "row): " + ", ".join(_BINARY) + " (round_digits rounds to that many decimals; pair_max "
        "and pair_min ignore a missing side).\n"
        "- Comparisons with the second argument, giving true/false: " + ", ".join(_COMPARE) + ".\n\n"
        "**output_mode**: `append` adds the results as new columns named as in the designer "
        "(`Exp(price)`, `Add(price_5)`, `Divide(price_horsepower)`); `inplace` replaces the "
        "columns; `result_only` outputs the results alone. Missing values stay missing; results "
        "that are not finite numbers (the log of 0, a division by 0) become missing values, and "
        "the step says how many."
    )
    example_params = {"columns": ["x1", "x2"], "operation": "multiply", "constant": 2.0}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with the results")

    class Params:
        columns = Columns(required=True, kinds=("numeric",), help="The numeric columns to compute on")
        operation = Choice(choices=OPERATIONS, default="abs", help="The function or operation")
        operand = Choice(choices=("constant", "column"), default="constant", help="The second argument: a constant or a column")
        constant = Float(default=1.0, help="The constant second argument")
        operand_column = Columns(default=None, multiple=False, kinds=("numeric",), help="The column giving the second argument")
        output_mode = Choice(choices=OUTPUT_MODES, default=APPEND, help="Add result columns, replace the columns, or output the results alone")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = numeric_columns(params.columns, dataset)
        second = self._second(params, dataset)
        results: dict[str, pd.Series] = {}
        made_missing = 0
        for name in columns:
            x = dataset[name].astype("float64").to_numpy()
            with np.errstate(all="ignore"):
                if params.operation in _UNARY:
                    values = _UNARY[params.operation](x)
                elif params.operation in _BINARY:
                    values = _BINARY[params.operation](x, second)
                else:
                    compared = pd.Series(pd.array(_COMPARE[params.operation](x, second), dtype="boolean"), index=dataset.index)
                    compared[np.isnan(x) | np.isnan(second)] = pd.NA  # unknown compared with anything is unknown
                    results[name] = compared
                    continue
            values = np.asarray(values, dtype="float64")
            bad = ~np.isfinite(values) & ~np.isnan(x) & ~np.isnan(second)
            made_missing += int(bad.sum())
            values[~np.isfinite(values)] = np.nan
            results[name] = pd.Series(values, index=dataset.index)
        if made_missing:
            ctx.warn(f"{made_missing} result{'s were' if made_missing > 1 else ' was'} not a finite number and became missing")
        return {"dataset": with_results(dataset, results, params.output_mode, names=math_names(params, columns))}

    @staticmethod
    def _second(params: ParamValues, df: pd.DataFrame | Schema) -> Any:
        if params.operation in _UNARY:
            return np.float64(0.0)
        if params.operand == "constant":
            return np.float64(params.constant)
        if params.operand_column is None:
            raise ModuleError("operand column needs an operand_column", code="missing_param", param="operand_column")
        [column] = numeric_columns(params.operand_column, df, param="operand_column")
        return df[column].astype("float64").to_numpy() if isinstance(df, pd.DataFrame) else None

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None}
        columns = numeric_columns(params.columns, schema)
        cls._second(params, schema)
        kind = ColumnKind.BOOLEAN if params.operation in _COMPARE else ColumnKind.NUMERIC
        return {"dataset": result_schema(schema, columns, params.output_mode, math_names(params, columns), kind)}


# --- Clip Values ---------------------------------------------------------------------------------

PEAKS = "peaks"
SUBPEAKS = "subpeaks"
BOTH = "peaks_and_subpeaks"
SUBSTITUTES = ("threshold", "mean", "median", "missing")
CLIPPED_SUFFIX = "_clipped"
FLAG_SUFFIX = "_clipped_flag"


@register
class ClipValues(Module):
    """Replace values above or below thresholds (outliers) with the threshold, the mean, the median or a missing value."""

    id = "clip_values"
    name = "Clip Values"
    keywords = ("outliers", "cap values", "winsorize", "threshold", "limit values")
    category = CATEGORY
    help = (
        "Finds the values of each selected numeric column above the upper threshold (peaks), "
        "below the lower one (subpeaks), or both (`clip`), and replaces them.\n\n"
        "- **threshold**: `constant` takes `upper` and `lower` as values; `percentile` as "
        "percentiles (0–100) of each column's values (linear interpolation, missing values left "
        "out).\n"
        "- **upper_substitute** / **lower_substitute**: the `threshold` itself, the column's "
        "`mean` or `median` (of all its values, before clipping), or a `missing` value.\n"
        f"- **overwrite**: replace the columns (else add `<column>{CLIPPED_SUFFIX}` columns); "
        f"**add_indicator** adds a `<column>{FLAG_SUFFIX}` column, true where a value was clipped.\n\n"
        "Missing values are left as they are."
    )
    example_params = {"columns": ["x1"], "threshold": "percentile", "upper": 90, "lower": 10, "clip": BOTH}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with clipped values")

    class Params:
        columns = Columns(default=ALL_NUMERIC, kinds=("numeric",), help="The numeric columns to clip")
        clip = Choice(choices=(PEAKS, SUBPEAKS, BOTH), default=PEAKS, help="Clip values above, below, or both")
        threshold = Choice(choices=("constant", "percentile"), default="constant", help="Thresholds as values or as percentiles")
        upper = Float(default=99.0, help="The upper threshold (a value, or a percentile)")
        lower = Float(default=1.0, help="The lower threshold (a value, or a percentile)")
        upper_substitute = Choice(choices=SUBSTITUTES, default="threshold", help="What replaces a peak")
        lower_substitute = Choice(choices=SUBSTITUTES, default="threshold", help="What replaces a subpeak")
        overwrite = Bool(default=True, help="Replace the columns (else add clipped copies)")
        add_indicator = Bool(default=False, help="Add a column flagging the clipped values")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = numeric_columns(params.columns, dataset)
        self._check(params)
        results: dict[str, pd.Series] = {}
        flags: dict[str, pd.Series] = {}
        clipped_count = 0
        for name in columns:
            x = dataset[name].astype("float64")
            upper, lower = self._thresholds(params, x)
            peaks = (x > upper) if params.clip in (PEAKS, BOTH) and upper is not None else pd.Series(False, index=x.index)
            subpeaks = (x < lower) if params.clip in (SUBPEAKS, BOTH) and lower is not None else pd.Series(False, index=x.index)
            out = x.copy()
            out[peaks] = self._substitute(params.upper_substitute, upper, x)
            out[subpeaks] = self._substitute(params.lower_substitute, lower, x)
            results[name] = out
            flags[name + FLAG_SUFFIX] = (peaks | subpeaks).astype(bool)
            clipped_count += int((peaks | subpeaks).sum())
        ctx.log(f"clipped {clipped_count} values")
        mode = INPLACE if params.overwrite else APPEND
        out_table = with_results(dataset, results, mode, names={c: c + CLIPPED_SUFFIX for c in columns})
        if params.add_indicator:
            clashes = [n for n in flags if n in out_table.columns]
            if clashes:
                raise ModuleError(
                    f"the table already has {', '.join(map(repr, clashes))}; rename it or turn add_indicator off",
                    code="name_clash", param="add_indicator",
                )
            out_table = set_roles(out_table.assign(**flags), roles_of(out_table))
        return {"dataset": out_table}

    @staticmethod
    def _check(params: ParamValues) -> None:
        if params.threshold == "percentile":
            for name in ("upper", "lower"):
                if not 0 <= params[name] <= 100:
                    raise ModuleError(f"a percentile is from 0 to 100, got {params[name]:g}", code="bad_value", param=name)
        if params.clip == BOTH and params.lower > params.upper:
            raise ModuleError(
                f"the lower threshold {params.lower:g} is above the upper one {params.upper:g}", code="bad_value", param="lower"
            )

    @staticmethod
    def _thresholds(params: ParamValues, x: pd.Series) -> tuple[float | None, float | None]:
        if params.threshold == "constant":
            return params.upper, params.lower
        values = x.dropna().to_numpy()
        if not len(values):
            return None, None
        return float(np.percentile(values, params.upper)), float(np.percentile(values, params.lower))

    @staticmethod
    def _substitute(how: str, threshold: float | None, x: pd.Series) -> float:
        if how == "mean":
            return float(x.mean())
        if how == "median":
            return float(x.median())
        if how == "missing":
            return float("nan")
        return float("nan") if threshold is None else threshold

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None}
        columns = numeric_columns(params.columns, schema)
        mode = INPLACE if params.overwrite else APPEND
        out = result_schema(schema, columns, mode, {c: c + CLIPPED_SUFFIX for c in columns}, ColumnKind.NUMERIC)
        if params.add_indicator:
            out = Schema([*out, *(Column(c + FLAG_SUFFIX, ColumnKind.BOOLEAN) for c in columns)])
        return {"dataset": out}


# --- Group Data into Bins ------------------------------------------------------------------------

QUANTILES = "quantiles"
EQUAL_WIDTH = "equal_width"
CUSTOM_EDGES = "custom_edges"
BIN_SUFFIX = "_quantized"


class Binning:
    """Fitted Group Data into Bins: each column's inner bin edges, re-appliable to other tables."""

    def __init__(self, *, edges: dict[str, list[float]], mode: str, categorical: bool) -> None:
        self.edges = edges
        self.mode = mode
        self.categorical = categorical

    def bins(self, x: pd.Series, edges: list[float]) -> pd.Series:
        numbers = x.astype("float64").to_numpy()
        index = np.digitize(numbers, edges, right=True) + 1
        out = pd.Series(pd.array(index, dtype="Int64"), index=x.index)
        out[np.isnan(numbers)] = pd.NA
        if self.categorical:
            return out.astype("category").cat.set_categories(list(range(1, len(edges) + 2)))
        return out

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        require_columns(df, list(self.edges))
        results = {c: self.bins(df[c], edges) for c, edges in self.edges.items()}
        return with_results(df, results, self.mode, names={c: c + BIN_SUFFIX for c in self.edges})


def parse_edges(text: str) -> list[float]:
    try:
        edges = [float(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ModuleError(f"edges must be numbers separated by commas, e.g. 0, 10, 100; got {text!r}", code="bad_value", param="edges") from None
    if not edges:
        raise ModuleError("custom_edges needs edges, e.g. 0, 10, 100", code="missing_param", param="edges")
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ModuleError(f"edges must increase: {text!r}", code="bad_value", param="edges")
    return edges


@register
class GroupDataIntoBins(Module):
    """Replace numbers by the number of the range (bin) they fall in."""

    id = "group_data_into_bins"
    name = "Group Data into Bins"
    keywords = ("binning", "bucket", "discretize", "quantiles", "histogram")
    category = CATEGORY
    help = (
        "Puts each value of the selected numeric columns into a bin and writes the bin's number "
        "(1 for the lowest).\n\n"
        "- **quantiles**: `bins` bins holding about as many rows each (edges at the column's "
        "quantiles; bins that would be empty because of repeated values are merged).\n"
        "- **equal_width**: `bins` bins of equal width between the column's minimum and maximum.\n"
        "- **custom_edges**: the comma-separated `edges`, e.g. `0, 18, 65`: bin 1 up to 0, bin 2 "
        "above 0 up to 18, … the last above the last edge.\n\n"
        "A value on an edge goes to the bin below it (as pandas' `cut` and `qcut`). Values outside the range seen when fitting "
        "(new data) go to the first or last bin; missing values stay missing. With `categorical`, "
        "bin columns are categories (e.g. for Convert to Indicator Values or Chi-squared feature "
        "selection). **output_mode**: `append` adds `<column>_quantized` columns, `inplace` "
        "replaces the columns, `result_only` outputs the bins alone. The transform output bins "
        "other tables with the same edges."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with bin numbers")
        transform = Output(type=PortType.TRANSFORM, help="The binning, for Apply Transformation")

    class Params:
        columns = Columns(default=ALL_NUMERIC, kinds=("numeric",), help="The numeric columns to bin")
        method = Choice(choices=(QUANTILES, EQUAL_WIDTH, CUSTOM_EDGES), default=QUANTILES, help="How bin edges are chosen")
        bins = Int(default=10, min=1, max=10_000, help="How many bins (quantiles, equal_width)")
        edges = String(default="", help="custom_edges: increasing edges, e.g. 0, 18, 65")
        output_mode = Choice(choices=OUTPUT_MODES, default=APPEND, help="Add bin columns, replace the columns, or output the bins alone")
        categorical = Bool(default=True, help="Make the bin columns categorical")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = numeric_columns(params.columns, dataset)
        edges = {c: self._edges(params, dataset[c]) for c in columns}
        binning = Binning(edges=edges, mode=params.output_mode, categorical=params.categorical)
        meta = {"transform": self.id, "columns": columns, "edges": edges}
        return {"dataset": binning.transform(dataset), "transform": Estimator(binning, meta)}

    @staticmethod
    def _edges(params: ParamValues, x: pd.Series) -> list[float]:
        """Inner edges: a value above edges[i] (and up to the next) goes to bin i + 2."""
        if params.method == CUSTOM_EDGES:
            return parse_edges(params.edges)
        values = x.dropna().astype("float64").to_numpy()
        if not len(values):
            return []
        if params.method == EQUAL_WIDTH:
            inner = np.linspace(values.min(), values.max(), params.bins + 1)[1:-1]
        else:
            inner = np.quantile(values, np.linspace(0, 1, params.bins + 1)[1:-1])
        return [float(e) for e in np.unique(inner) if values.min() <= e < values.max()]

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None:
            return {"dataset": None, "transform": None}
        columns = numeric_columns(params.columns, schema)
        if params.method == CUSTOM_EDGES:
            parse_edges(params.edges)
        kind = ColumnKind.CATEGORICAL if params.categorical else ColumnKind.NUMERIC
        names = {c: c + BIN_SUFFIX for c in columns}
        return {"dataset": result_schema(schema, columns, params.output_mode, names, kind), "transform": None}
