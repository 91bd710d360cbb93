"""Web Service Input and Web Service Output: where a request's table enters a pipeline that
serves requests, and where its response leaves."""
from __future__ import annotations

from typing import Any

import pandas as pd

from modules.sdk import Input, Module, Output, ParamValues, PortType, StepContext, String, register

CATEGORY = "Web Service"
INPUT_ID = "web_service_input"
OUTPUT_ID = "web_service_output"


@register
class WebServiceInput(Module):
    """Where a request's table enters the pipeline when it serves requests."""

    id = INPUT_ID
    name = "Web Service Input"
    category = CATEGORY
    request_input = True
    help = (
        "Marks where the table a request sends enters the pipeline. Wire its `dataset` to the "
        "input that takes the request's rows (Score Model's `dataset`, say) **beside** the data "
        "that input takes in a pipeline run, as in the designer: that input then has two "
        "connections, and\n\n"
        "- in a **pipeline run** the other connection feeds it: Web Service Input is not a step "
        "of the run (it shows as serving requests only);\n"
        "- when the pipeline **serves** a request, the request's table named `name` feeds it "
        "instead, and only the steps that lead to a Web Service Output run; those the request "
        "does not reach, such as training, reuse what the last run made (they run when it made "
        "nothing to reuse, e.g. after their params changed).\n\n"
        "Wired alone to an input, it leaves that input without data in a run: the pipeline is "
        "refused until the data the input uses in a run is wired too. Its columns are those of "
        "the data wired beside it. `name` is the key of the request's table in the request "
        "(`WebServiceInput0` as the designer names its first one); each Web Service Input of a "
        "pipeline has its own name."
    )

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The request's table, when the pipeline serves")

    class Params:
        name = String(default="WebServiceInput0", max_length=100, help="The request's table's name in a request")


@register
class WebServiceOutput(Module):
    """Where the response leaves the pipeline when it serves requests."""

    id = OUTPUT_ID
    name = "Web Service Output"
    category = CATEGORY
    help = (
        "Marks the table a served request answers with: the table wired to `dataset` is the "
        "response's table named `name` (`WebServiceOutput0` as the designer names its first "
        "one). In a pipeline run it is a step that records the table's size, so the run shows "
        "what a request would get back. Each Web Service Output of a pipeline has its own name."
    )

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="The table the response holds")

    class Params:
        name = String(default="WebServiceOutput0", max_length=100, help="The response's table's name")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        ctx.log(f"the response's table {params.name!r}: {len(dataset)} rows x {dataset.shape[1]} columns")
        return {}
