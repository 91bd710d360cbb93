"""Data output: Export Data and Convert to CSV."""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

from modules.sdk import (
    Bool, Choice, Input, Module, ModuleError, Output, ParamValues, PortType, StepContext, String, register,
)

from .tabular_io import FORMULA_START, csv_write

CATEGORY = "Data Input and Output"
CSV_FILE = "data.csv"
_ESCAPE_HELP = (
    "Text cells starting with " + ", ".join(f"`{c}`" for c in FORMULA_START[:4]) + ", a tab or a carriage "
    "return get a leading `'`, so that a spreadsheet opening the CSV shows them as text instead of running "
    "them as formulas (CSV injection). Numbers are never changed. Turn off only for CSV read by programs."
)
# Dataset names become folder names in the catalog: no path separators, no hidden names.
_DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@register
class ExportData(Module):
    """Save a table as a new version of a named dataset."""

    id = "export_data"
    name = "Export Data"
    keywords = ("save table", "write dataset", "output", "store result")
    category = CATEGORY
    help = (
        "Registers the table as a new version of the dataset `name` (created on first export), "
        "so that Import Data (source: dataset) and other pipelines can read it. Column roles "
        "are saved with it. `format` is the file format the version is recorded in; its table "
        "downloads as Parquet, or as CSV on request, and `escape_formulas` says how such CSV "
        "downloads treat text cells: " + _ESCAPE_HELP[0].lower() + _ESCAPE_HELP[1:] + "\n\n"
        "Names use letters, digits, `-`, `_` and `.`, starting with a letter or digit. The step "
        "runs on every pipeline run, even when its input is unchanged, so that each run "
        "registers its version."
    )
    # Registering a version is the point of the step: a cached result would register nothing.
    deterministic = False
    example_params = {"name": "conformance-check"}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Params:
        name = String(required=True, max_length=128, help="The dataset to add a version to")
        format = Choice(choices=("csv", "parquet"), default="parquet")
        escape_formulas = Bool(default=True, help="CSV downloads keep spreadsheets from running text cells as formulas")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        if not _DATASET_NAME.fullmatch(params.name):
            raise ModuleError(
                f"{params.name!r} is not a valid dataset name: use letters, digits, '-', '_' and '.', "
                "starting with a letter or digit",
                code="bad_name",
                param="name",
            )
        ctx.export_dataset(params.name, dataset, fmt=params.format, escape_formulas=params.escape_formulas)
        ctx.log(f"exported {len(dataset)} rows x {dataset.shape[1]} columns as dataset {params.name!r}")
        return {}


@register
class ConvertToCsv(Module):
    """Turn a table into a CSV file."""

    id = "convert_to_csv"
    name = "Convert to CSV"
    keywords = ("download csv", "csv file", "export csv")
    category = CATEGORY
    help = (
        f"Writes the table as `{CSV_FILE}` (UTF-8, comma-separated, a header line with the column "
        "names, no index column, lines ending in CRLF as RFC 4180 says) into a folder output, for download or for modules that take "
        "files. Missing values are empty fields; dates are written in ISO 8601 form. Column "
        "roles are not kept: CSV has no place for them.\n\n" + _ESCAPE_HELP
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        file = Output(type=PortType.FILES, help=f"A folder holding {CSV_FILE}")

    class Params:
        escape_formulas = Bool(default=True, help="Keep spreadsheets from running text cells as formulas")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        folder = ctx.work_dir / "csv"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / CSV_FILE).open("w", encoding="utf-8", newline="") as out:
            csv_write([dataset], out, escape_formulas=params.escape_formulas)
        return {"file": folder}
