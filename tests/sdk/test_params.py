"""Param declarations: cleaning (types, ranges, choices, column selectors, structs) and JSON."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import pandas as pd
import pytest

from modules.sdk import (
    Bool,
    Choice,
    Code,
    Columns,
    Float,
    Input,
    Int,
    Module,
    ModuleError,
    Output,
    PortType,
    String,
    Struct,
    resolve_columns,
    set_roles,
)
from modules.sdk.params import ParamError


def named(param: Any, name: str = "p") -> Any:
    """A declaration as the Module class gives it: with its attribute name filled in."""
    return dataclasses.replace(param, name=name)


@pytest.mark.parametrize(
    ("param", "value", "cleaned"),
    [
        (Int(), 3, 3),
        (Int(), 3.0, 3),  # YAML and JSON may write an integer as 3.0
        (Int(min=0, max=10), 10, 10),
        (Float(), 2, 2.0),
        (Float(min=0, max=1), 0.25, 0.25),
        (Bool(), False, False),
        (String(), "abc", "abc"),
        (String(), 0, "0"),  # YAML `replacement_value: 0` means the text "0"
        (String(), 1.5, "1.5"),
        (Code(), "select 1", "select 1"),
        (Choice(choices=("mean", "median")), "median", "median"),
    ],
)
def test_valid_values_are_normalized(param: Any, value: Any, cleaned: Any) -> None:
    result = param.clean(value)
    assert result == cleaned and type(result) is type(cleaned)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Int(), True, "must be an integer, got a boolean True"),
        (Int(), "3", "must be an integer, got text '3'"),
        (Int(), 2.5, "must be an integer, got 2.5"),
        (Int(min=1), 0, "must be at least 1, got 0"),
        (Int(max=5), 6, "must be at most 5, got 6"),
        (Float(), "x", "must be a number, got text 'x'"),
        (Float(), False, "must be a number, got a boolean False"),
        (Float(), float("nan"), "must be a finite number, got nan"),
        (Float(), float("inf"), "must be a finite number, got inf"),
        (Float(min=0, max=1), 1.5, "must be at most 1, got 1.5"),
        (Bool(), "true", "must be true or false, got text 'true'"),
        (Bool(), 1, "must be true or false, got an integer 1"),
        (String(), True, "must be text, got a boolean"),
        (String(), ["a"], "must be text, got a list"),
        (String(max_length=3), "abcd", "must be at most 3 characters long"),
        (Choice(choices=("a", "b")), "c", "must be one of a, b; got 'c'"),
    ],
)
def test_invalid_values_say_why(param: Any, value: Any, message: str) -> None:
    with pytest.raises(ParamError) as caught:
        param.clean(value)
    assert str(caught.value) == message


def test_none_means_unset() -> None:
    assert Int(default=3).clean(None) is None
    with pytest.raises(ParamError, match="is required"):
        String(required=True).clean(None)


def test_json_carries_each_kinds_constraints() -> None:
    assert named(Int(default=2, min=1, max=9, help="How many")).to_json() == {
        "name": "p",
        "type": "int",
        "label": "P",
        "required": False,
        "default": 2,
        "help": "How many",
        "min": 1,
        "max": 9,
    }
    assert named(Choice(choices=("a", "b"), default="a"), "join_type").to_json()["choices"] == ["a", "b"]
    assert named(Choice(choices=("a",)), "join_type").to_json()["label"] == "Join type"
    assert named(Code(language="sql")).to_json()["language"] == "sql"
    assert named(Columns(kinds=("numeric",), multiple=False)).to_json()["kinds"] == ["numeric"]


def test_choices_carry_labels_and_params_say_when_they_apply() -> None:
    mode = named(Choice(choices=("remove_row", "mean"), labels={"remove_row": "Remove entire row"}), "mode")
    # Every choice has words: the module's, or its value's own.
    assert mode.to_json()["labels"] == {"remove_row": "Remove entire row", "mean": "Mean"}
    value = named(String(when={"mode": ("mean",)}), "value")
    assert value.to_json()["when"] == {"mode": ["mean"]}
    # A param that always applies says nothing: older canvases read the same JSON.
    assert "when" not in named(String()).to_json() and "suggestions" not in named(String()).to_json()
    assert named(String(suggestions=("iris", "wine"))).to_json()["suggestions"] == ["iris", "wine"]
    # Only the canvas reads `when`: cleaning ignores it.
    assert value.clean("x") == "x"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"value": String(when={"modes": ("mean",)})}, "'value' applies `when` 'modes', which is not another param"),
        ({"value": String(when={"mode": ("median",)})}, "'value' applies `when` 'mode' is ('median',), not among its choices"),
        ({"other": Choice(choices=("a",), labels={"b": "B"})}, "'other' labels ['b'], not choices"),
    ],
)
def test_when_and_labels_must_name_what_the_module_has(params: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        type("Odd", (Module,), {"id": "odd", "Params": type("Params", (), {"mode": Choice(choices=("mean",)), **params})})


# Column selectors


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        (["a", "b"], {"include": ["a", "b"], "exclude": []}),
        ("a, b ,", {"include": ["a", "b"], "exclude": []}),
        ({}, {"include": "all", "exclude": []}),
        ({"include": "all", "exclude": ["id"]}, {"include": "all", "exclude": ["id"]}),
        ({"include": {"types": ["numeric"]}}, {"include": {"types": ["numeric"], "roles": []}, "exclude": []}),
        ({"include": {"roles": ["label"]}}, {"include": {"types": [], "roles": ["label"]}, "exclude": []}),
    ],
)
def test_column_selector_forms(value: Any, cleaned: dict[str, Any]) -> None:
    assert Columns().clean(value) == cleaned


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (Columns(), 5, "must be a column selector"),
        (Columns(), {"include": "all", "only": ["a"]}, "has unknown keys ['only']; use include and exclude"),
        (Columns(), {"include": {"kinds": ["numeric"]}}, "include has unknown keys ['kinds']"),
        (Columns(), {"include": {"types": ["number"]}}, "include.types has ['number']"),
        (Columns(), {"include": {"roles": ["target"]}}, "include.roles has ['target']"),
        (Columns(), {"include": "some"}, "include must be a list of column names"),
        (Columns(), {"include": [1, 2]}, "include must be a list of column names"),
        (Columns(), [], "selects no columns"),
        (Columns(), {"exclude": "id"}, "exclude must be a list of column names"),
        (Columns(multiple=False), ["a", "b"], "must name exactly one column"),
        (Columns(multiple=False), {"include": "all"}, "must name exactly one column"),
    ],
)
def test_bad_column_selectors_say_why(param: Columns, value: Any, message: str) -> None:
    with pytest.raises(ParamError) as caught:
        param.clean(value)
    assert str(caught.value).startswith(message)


def test_a_single_column_selector_accepts_one_name() -> None:
    assert Columns(multiple=False).clean("price") == {"include": ["price"], "exclude": []}


@pytest.fixture
def table() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "id": [1, 2],
            "name": ["a", "b"],
            "price": [1.5, 2.5],
            "flag": [True, False],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "kind": pd.Categorical(["x", "y"]),
        }
    )
    return set_roles(df, {"price": "label", "name": "feature"})


@pytest.mark.parametrize(
    ("selector", "picked"),
    [
        (None, ["id", "name", "price", "flag", "when", "kind"]),
        ({"include": ["price", "id"], "exclude": []}, ["id", "price"]),  # table order
        ({"include": "all", "exclude": ["id", "when"]}, ["name", "price", "flag", "kind"]),
        ({"include": {"types": ["numeric"], "roles": []}, "exclude": []}, ["id", "price"]),
        (
            {"include": {"types": ["boolean", "datetime", "categorical"], "roles": []}, "exclude": []},
            ["flag", "when", "kind"],
        ),
        ({"include": {"types": [], "roles": ["label"]}, "exclude": []}, ["price"]),
        ({"include": {"types": ["string"], "roles": ["feature"]}, "exclude": []}, ["name"]),
    ],
)
def test_selectors_resolve_against_a_table(table: pd.DataFrame, selector: Any, picked: list[str]) -> None:
    assert resolve_columns(selector, table) == picked


def test_kinds_narrow_all_but_not_named_columns(table: pd.DataFrame) -> None:
    assert resolve_columns({"include": "all", "exclude": []}, table, kinds={"numeric"}) == ["id", "price"]
    assert resolve_columns({"include": ["name"], "exclude": []}, table, kinds={"numeric"}) == ["name"]


def test_unknown_columns_are_named(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError) as caught:
        resolve_columns({"include": ["price", "colour"], "exclude": ["size"]}, table, param="features")
    error = caught.value
    assert (error.code, error.param, error.details) == ("unknown_column", "features", {"missing": ["colour", "size"]})
    assert "'colour', 'size' not found" in error.message and "id, name, price" in error.message


# Structs


def regex_param() -> Struct:
    return Struct(fields=(named(String(required=True), "column"), named(String(default=".*"), "pattern")))


def test_a_struct_cleans_each_field_and_fills_defaults() -> None:
    assert regex_param().clean({"column": "name"}) == {"column": "name", "pattern": ".*"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("name", "must be a mapping with keys ['column', 'pattern']"),
        ({"column": "a", "flags": "i"}, "has unknown keys ['flags']; allowed: ['column', 'pattern']"),
        ({"pattern": "x"}, "column is required: give it a value"),
        ({"column": ["a"]}, "column must be text, got a list"),
    ],
)
def test_a_struct_names_the_bad_field(value: Any, message: str) -> None:
    with pytest.raises(ParamError) as caught:
        regex_param().clean(value)
    assert str(caught.value) == message


def test_a_struct_lists_its_fields_in_json() -> None:
    assert [f["name"] for f in named(regex_param()).to_json()["fields"]] == ["column", "pattern"]


# Cleaning a module's params


class Split(Module):
    id = "split_for_params_test"

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME)

    class Outputs:
        first = Output(type=PortType.DATAFRAME)

    class Params:
        fraction = Float(default=0.5, min=0, max=1)
        seed = Int(default=0)
        column = Columns(required=True, multiple=False)


def test_module_params_get_names_and_defaults() -> None:
    cleaned, errors = Split.spec.clean_params({"column": "price"})
    assert errors == {}
    assert cleaned == {"fraction": 0.5, "seed": 0, "column": {"include": ["price"], "exclude": []}}
    assert [p.name for p in Split.spec.params.values()] == ["fraction", "seed", "column"]


def test_every_param_error_is_reported_and_typos_are_errors() -> None:
    _, errors = Split.spec.clean_params({"fraction": 2, "seeed": 1})
    assert errors == {
        "seeed": "is not a param of split_for_params_test (known: fraction, seed, column)",
        "fraction": "must be at most 1, got 2.0",
        "column": "is required: choose a column",
    }
