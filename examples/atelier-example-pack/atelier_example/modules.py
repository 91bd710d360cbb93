"""The pack's modules: declared like Atelier's own, with namespaced ids."""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from modules.sdk import Input, Int, Module, ModuleError, Output, ParamValues, PortType, Schema, StepContext, String
from modules.sdk.schema import Column
from modules.sdk.types import ColumnKind


class AddRowNumbers(Module):
    """Number the rows of a table, in their order."""

    id = "example.add_row_numbers"
    name = "Add Row Numbers"
    category = "Example Pack"
    help = (
        "Adds a column holding each row's number, counting from `start` in the table's order "
        "(e.g. to keep track of rows through a shuffle)."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME)

    class Params:
        column = String(default="row_number", help="Name of the new column")
        start = Int(default=1, help="Number of the first row")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        if params.column in dataset.columns:
            raise ModuleError(f"the table already has a column {params.column!r}", code="name_clash", param="column")
        numbered = dataset.copy()
        numbered[params.column] = range(params.start, params.start + len(dataset))
        ctx.log(f"numbered {len(dataset)} rows from {params.start}")
        return {"dataset": numbered}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: Mapping[str, Schema | None]) -> Mapping[str, Schema | None]:
        source = inputs.get("dataset")
        if source is None:
            return {"dataset": None}
        return {"dataset": Schema((*source, Column(params.column, ColumnKind.NUMERIC)))}
