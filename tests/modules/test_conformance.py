"""Every registered module passes the conformance check; the check itself catches what it should."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modules.sdk import (
    Choice,
    Input,
    Int,
    Module,
    ModuleError,
    Output,
    ParamValues,
    PortType,
    Schema,
    StepContext,
    String,
    conformance,
    runner,
)
from modules.sdk.conformance import ExampleInputs, check_module, check_spec
from modules.sdk.registry import Registry, default_registry


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> ExampleInputs:
    # Shared, so the example models are trained once for the whole session.
    return ExampleInputs(tmp_path_factory.mktemp("conformance"))


@pytest.mark.parametrize("module_cls", list(default_registry()), ids=lambda cls: cls.id)
def test_registered_module_conforms(module_cls: type[Module], examples: ExampleInputs) -> None:
    problems = check_module(module_cls, examples=examples)
    assert not problems, "\n".join(problems)


# The check on modules made to break it. They live outside modules.builtin, so they are
# held to the namespaced id form of module packs.


class Doubler(Module):
    id = "testpack.doubler"
    name = "Doubler"
    category = "Test"
    help = "Doubles x1."

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME)

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        return {"dataset": dataset.assign(x1=dataset["x1"] * 2)}


class FirstRow(Doubler):
    """Crashes on an empty table instead of saying what is wrong."""

    id = "testpack.first_row"

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        return {"dataset": dataset.iloc[[0]].assign(first=dataset["x1"].iloc[0])}


class ForgetsOutput(Doubler):
    id = "testpack.forgets_output"

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        return {}


class AlwaysRefuses(Doubler):
    id = "testpack.always_refuses"

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        raise ModuleError("no, never", code="refused")


class ColumnsLie(Doubler):
    id = "testpack.columns_lie"

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: Any) -> dict[str, Any]:
        return {"dataset": Schema(inputs["dataset"][:2])}


@pytest.fixture
def with_test_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ExampleInputs:
    """The real registry plus the modules above, seen by the runner and the check."""
    registry = Registry()
    for cls in [*default_registry(), Doubler, FirstRow, ForgetsOutput, AlwaysRefuses, ColumnsLie]:
        registry.add(cls)
    registry.freeze()
    monkeypatch.setattr(runner, "default_registry", lambda: registry)
    monkeypatch.setattr(conformance, "default_registry", lambda: registry)
    return ExampleInputs(tmp_path)


def test_a_conforming_module_has_no_problems(with_test_modules: ExampleInputs) -> None:
    assert check_module(Doubler, examples=with_test_modules) == []


def test_a_crash_on_an_empty_table_is_reported(with_test_modules: ExampleInputs) -> None:
    [problem] = check_module(FirstRow, examples=with_test_modules)
    assert "0-row" in problem and "internal error" in problem and "IndexError" in problem


def test_a_missing_output_is_reported(with_test_modules: ExampleInputs) -> None:
    problems = check_module(ForgetsOutput, examples=with_test_modules)
    assert any("did not produce output 'dataset'" in p for p in problems)


def test_a_module_that_never_completes_names_the_first_error(with_test_modules: ExampleInputs) -> None:
    [problem] = check_module(AlwaysRefuses, examples=with_test_modules)
    assert "did not complete" in problem and "example_table()" in problem and "refused: no, never" in problem


def test_infer_schema_must_match_the_real_output(with_test_modules: ExampleInputs) -> None:
    [problem] = check_module(ColumnsLie, examples=with_test_modules)
    assert "infer_schema says output 'dataset' has columns ['x1', 'x2']" in problem


def test_spec_problems_are_found_without_running() -> None:
    class Sloppy(Module):
        id = "NotNamespaced"
        category = "Test"

        class Inputs:
            params = Input(type=PortType.DATAFRAME)

        class Outputs:
            dataset = Output(type=PortType.DATAFRAME)

        class Params:
            size = Int(default=0, min=1)
            mode = Choice(choices=("a", "b"), default="c")
            needed = String(required=True, default="x")
            items = String(default="")

        def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
            return {}

    problems = "\n".join(check_spec(Sloppy))
    assert "id 'NotNamespaced' is not namespaced" in problems
    assert "declares no name" in problems
    assert "has no help" in problems
    assert "input port name 'params'" in problems
    assert "param 'size': the default 0 must be at least 1" in problems
    assert "param 'mode': the default 'c' must be one of a, b" in problems
    assert "param 'needed' is required but has a default" in problems
    assert "param name 'items' is hidden by a dict method" in problems
    assert "does not fit its signature" in problems


def test_keywords_must_be_a_tuple_of_lowercase_phrases() -> None:
    class Searchable(Doubler):
        id = "testpack.searchable"
        keywords = ("drop column", "remove duplicates")

    class Spelled(Doubler):
        id = "testpack.spelled"
        keywords = "drop column"  # type: ignore[assignment]  # a string, not a tuple of them

    class Shouted(Doubler):
        id = "testpack.shouted"
        keywords = ("Drop Column",)

    assert check_spec(Searchable) == []
    assert check_spec(Spelled) == ["keywords 'drop column' are not a tuple of lowercase phrases"]
    assert check_spec(Shouted) == ["keywords ('Drop Column',) are not a tuple of lowercase phrases"]


def test_example_params_must_be_valid_and_cover_required_params() -> None:
    class NeedsText(Doubler):
        id = "testpack.needs_text"

        class Params:
            text = String(required=True)
            count = Int(default=1)

    assert check_spec(NeedsText) == ["required param 'text' needs a value in example_params"]
    NeedsText.example_params = {"text": "hi", "count": "many", "typo": 1}
    problems = check_spec(NeedsText)
    assert "example_params['count'] must be an integer, got text 'many'" in problems
    assert any(p.startswith("example_params['typo'] is not a param") for p in problems)


def test_a_request_input_takes_no_input_has_one_table_output_and_is_never_run() -> None:
    class TakesInput(Doubler):
        id = "testpack.takes_input"
        request_input = True

    assert check_spec(TakesInput) == ["is a request input, so it takes no input and has one table output"]

    class Request(Module):
        id = "testpack.request"
        name = "Request"
        category = "Test"
        help = "Where a request's table enters."
        request_input = True

        class Outputs:
            dataset = Output(type=PortType.DATAFRAME)

    # It has no run: checking it runs nothing, so it has no problems.
    assert check_module(Request) == []
