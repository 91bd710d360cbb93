"""Data transformation modules, each checked against plain pandas / scikit-learn doing the same work."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
import scipy.special
import scipy.stats
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from modules.builtin.samples import load_sample
from modules.sdk import Column, ColumnKind, ModuleError, ParamValues, PortType, Schema, roles_of, schema_of, set_roles
from modules.sdk.artifacts import read_value, write_value
from modules.sdk.conformance import example_table
from modules.sdk.registry import default_registry
from modules.sdk.testing import call_module, run_through_runner


@pytest.fixture
def cars() -> pd.DataFrame:
    return load_sample("automobile-price-raw")


@pytest.fixture
def table() -> pd.DataFrame:
    return set_roles(example_table(), {"target": "label", "x1": "feature"})


@pytest.fixture
def holes() -> pd.DataFrame:
    """A small table with missing values of every kind."""
    return set_roles(
        pd.DataFrame(
            {
                "a": [1.0, np.nan, 3.0, 4.0, np.nan],
                "b": pd.array([1, 2, None, 2, 5], dtype="Int64"),
                "c": ["x", None, "y", "x", "z"],
                "d": [10.0, 20.0, 30.0, 40.0, 50.0],
            }
        ),
        {"d": "label"},
    )


def run(module_id: str, params: dict | None = None, **inputs: object) -> dict:
    return call_module(module_id, params, **inputs).outputs


def infer(module_id: str, params: dict, **inputs: Schema | None) -> dict:
    cls = default_registry().get(module_id)
    assert cls is not None
    cleaned, _ = cls.spec.clean_params(params)
    return dict(cls.infer_schema(ParamValues(cleaned), inputs))


def round_trip(value: object, port_type: PortType, tmp_path: Path) -> object:
    write_value(port_type, value, tmp_path / "artifact")
    return read_value(port_type, tmp_path / "artifact")


# --- select_columns ------------------------------------------------------------------------------


def test_select_columns_excludes_like_drop(cars: pd.DataFrame) -> None:
    out = run("select_columns", {"columns": {"include": "all", "exclude": ["normalized-losses"]}}, dataset=cars)
    pdt.assert_frame_equal(out["dataset"], cars.drop(columns=["normalized-losses"]))


def test_select_columns_keeps_listed_order_and_roles(table: pd.DataFrame) -> None:
    out = run("select_columns", {"columns": ["target", "x1", "color"]}, dataset=table)["dataset"]
    pdt.assert_frame_equal(out, table[["target", "x1", "color"]])
    assert roles_of(out) == {"target": "label", "x1": "feature"}


def test_select_columns_by_type_keeps_table_order(table: pd.DataFrame) -> None:
    out = run("select_columns", {"columns": {"include": {"types": ["numeric"]}}}, dataset=table)["dataset"]
    assert list(out.columns) == list(table.select_dtypes("number").columns)


def test_select_columns_names_unknown_column(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'nope'") as err:
        run("select_columns", {"columns": ["x1", "nope"]}, dataset=table)
    assert err.value.param == "columns"


def test_select_columns_refuses_empty_selection(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="no column"):
        run("select_columns", {"columns": {"include": "all", "exclude": list(table.columns)}}, dataset=table)


def test_select_columns_infers_schema(table: pd.DataFrame) -> None:
    schema = schema_of(table)
    out = infer("select_columns", {"columns": ["target", "x1"]}, dataset=schema)["dataset"]
    assert out == Schema([Column("target", ColumnKind.NUMERIC, "label"), Column("x1", ColumnKind.NUMERIC, "feature")])
    # A problem visible from the schema alone is raised, so validation reports it on the node.
    with pytest.raises(ModuleError, match="column 'nope' not found"):
        infer("select_columns", {"columns": ["nope"]}, dataset=schema)
    assert infer("select_columns", {"columns": ["x1"]}, dataset=None) == {"dataset": None}


# --- edit_metadata -------------------------------------------------------------------------------


def test_edit_metadata_label_role_replaces_old_label(table: pd.DataFrame) -> None:
    out = run("edit_metadata", {"columns": ["klass"], "role": "label"}, dataset=table)["dataset"]
    assert roles_of(out) == {"klass": "label", "x1": "feature"}
    pdt.assert_frame_equal(out, table)  # the data itself is untouched


def test_edit_metadata_label_needs_one_column(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="exactly one column"):
        run("edit_metadata", {"columns": ["klass", "grade"], "role": "label"}, dataset=table)


def test_edit_metadata_clear_role(table: pd.DataFrame) -> None:
    out = run("edit_metadata", {"columns": {"include": "all"}, "role": "clear_feature"}, dataset=table)["dataset"]
    assert roles_of(out) == {"target": "label"}


def test_edit_metadata_renames_in_listed_order_and_carries_roles(table: pd.DataFrame) -> None:
    out = run("edit_metadata", {"columns": ["target", "x1"], "new_names": "price, size"}, dataset=table)["dataset"]
    pdt.assert_frame_equal(out, table.rename(columns={"target": "price", "x1": "size"}))
    assert roles_of(out) == {"price": "label", "size": "feature"}


def test_edit_metadata_rename_count_must_match(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="1 name for 2 selected columns") as err:
        run("edit_metadata", {"columns": ["x1", "x2"], "new_names": "a"}, dataset=table)
    assert err.value.param == "new_names"


def test_edit_metadata_rename_refuses_duplicates(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'x2'"):
        run("edit_metadata", {"columns": ["x1"], "new_names": "x2"}, dataset=table)


def test_edit_metadata_float_matches_to_numeric(cars: pd.DataFrame) -> None:
    text = cars.assign(bore=cars["bore"].astype("str"))
    out = run("edit_metadata", {"columns": ["bore"], "data_type": "float"}, dataset=text)["dataset"]
    pdt.assert_series_equal(out["bore"], pd.to_numeric(text["bore"]).astype("float64"))


def test_edit_metadata_integer_and_boolean_keep_missing_values() -> None:
    df = pd.DataFrame({"n": ["1", None, "3"], "b": ["Yes", "no", None]})
    out = run("edit_metadata", {"columns": ["n"], "data_type": "integer"}, dataset=df)["dataset"]
    pdt.assert_series_equal(out["n"], pd.Series([1, None, 3], dtype="Int64", name="n"))
    out = run("edit_metadata", {"columns": ["b"], "data_type": "boolean"}, dataset=df)["dataset"]
    pdt.assert_series_equal(out["b"], pd.Series([True, False, None], dtype="boolean", name="b"))


def test_edit_metadata_datetime_matches_to_datetime() -> None:
    df = pd.DataFrame({"when": ["2024-01-31", "2024-02-29", None]})
    out = run("edit_metadata", {"columns": ["when"], "data_type": "datetime"}, dataset=df)["dataset"]
    pdt.assert_series_equal(out["when"], pd.to_datetime(df["when"]))


def test_edit_metadata_names_column_and_row_of_bad_value() -> None:
    df = pd.DataFrame({"n": ["1", "2", "lots"]})
    with pytest.raises(ModuleError, match=r"column 'n' .*row 3 holds 'lots'"):
        run("edit_metadata", {"columns": ["n"], "data_type": "float"}, dataset=df)
    with pytest.raises(ModuleError, match=r"row 2 holds 2.5"):
        run("edit_metadata", {"columns": ["n"], "data_type": "integer"}, dataset=pd.DataFrame({"n": [1.0, 2.5]}))


def test_edit_metadata_categorical_round_trip(table: pd.DataFrame) -> None:
    out = run("edit_metadata", {"columns": ["color"], "categorical": "make_categorical"}, dataset=table)["dataset"]
    pdt.assert_series_equal(out["color"], table["color"].astype("category"))
    back = run("edit_metadata", {"columns": ["color"], "categorical": "make_non_categorical"}, dataset=out)["dataset"]
    pdt.assert_series_equal(back["color"], table["color"])


def test_edit_metadata_infers_schema(table: pd.DataFrame) -> None:
    params = {"columns": ["x2", "klass"], "data_type": "string", "role": "clear_label", "new_names": "n,k"}
    out = infer("edit_metadata", params, dataset=schema_of(table))["dataset"]
    actual = schema_of(run("edit_metadata", params, dataset=table)["dataset"])
    assert out == actual
    with pytest.raises(ModuleError, match="new_names gives 2 names for 1 selected column"):
        infer("edit_metadata", {"columns": ["x1"], "new_names": "a,b"}, dataset=schema_of(table))


# --- clean_missing_data --------------------------------------------------------------------------


def test_clean_remove_row_matches_dropna(cars: pd.DataFrame) -> None:
    selected = cars.drop(columns=["normalized-losses"])
    out = run("clean_missing_data", {"columns": {"include": "all"}, "mode": "remove_row"}, dataset=selected)
    pdt.assert_frame_equal(out["dataset"], selected.dropna())
    assert len(out["dataset"]) == 193


@pytest.mark.parametrize("mode, strategy", [("mean", "mean"), ("median", "median"), ("mode", "most_frequent")])
def test_clean_statistics_match_simple_imputer(holes: pd.DataFrame, mode: str, strategy: str) -> None:
    out = run("clean_missing_data", {"columns": ["a", "b"], "mode": mode}, dataset=holes)["dataset"]
    imputed = SimpleImputer(strategy=strategy).fit_transform(holes[["a", "b"]].astype("float64"))
    np.testing.assert_allclose(out[["a", "b"]].astype("float64").to_numpy(), imputed)
    pdt.assert_frame_equal(out[["c", "d"]], holes[["c", "d"]])
    assert roles_of(out) == {"d": "label"}


def test_clean_mode_on_text_matches_simple_imputer(holes: pd.DataFrame) -> None:
    out = run("clean_missing_data", {"columns": ["c"], "mode": "mode"}, dataset=holes)["dataset"]
    imputed = SimpleImputer(strategy="most_frequent").fit_transform(holes[["c"]].astype(object))
    assert out["c"].tolist() == imputed[:, 0].tolist()


def test_clean_custom_value_fits_each_column(holes: pd.DataFrame) -> None:
    out = run("clean_missing_data", {"replacement_value": "7"}, dataset=holes)["dataset"]
    pdt.assert_frame_equal(out, holes.fillna({"a": 7.0, "b": 7, "c": "7"}))


def test_clean_custom_value_that_does_not_fit_names_column(holes: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'a'") as err:
        run("clean_missing_data", {"columns": ["a", "c"], "replacement_value": "none"}, dataset=holes)
    assert err.value.param == "replacement_value"


def test_clean_mean_refuses_text_column_with_missing_values(holes: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'c' is not numeric"):
        run("clean_missing_data", {"mode": "mean"}, dataset=holes)


def test_clean_ratio_filter_and_remove_column(holes: pd.DataFrame) -> None:
    # a: 40% missing, b and c: 20%, d: none
    out = run(
        "clean_missing_data", {"mode": "remove_column", "min_missing_ratio": 0.3}, dataset=holes
    )["dataset"]
    assert list(out.columns) == ["b", "c", "d"]
    out = run("clean_missing_data", {"mode": "remove_column"}, dataset=holes)["dataset"]
    assert list(out.columns) == ["d"]
    assert roles_of(out) == {"d": "label"}


def test_clean_indicator_matches_isna(holes: pd.DataFrame) -> None:
    out = run("clean_missing_data", {"columns": ["a", "c"], "mode": "mode", "add_indicator": True}, dataset=holes)
    dataset = out["dataset"]
    assert list(dataset.columns) == ["a", "b", "c", "d", "a_is_missing", "c_is_missing"]
    pdt.assert_series_equal(dataset["a_is_missing"], holes["a"].isna(), check_names=False)
    expected = infer("clean_missing_data", {"columns": ["a", "c"], "mode": "mode", "add_indicator": True},
                     dataset=schema_of(holes))
    assert expected["dataset"] == schema_of(dataset)


def test_clean_refuses_empty_table(holes: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="no rows") as err:
        run("clean_missing_data", {"mode": "mean"}, dataset=holes.iloc[:0])
    assert err.value.code == "empty_table"


def test_clean_transform_reapplies_learned_values(holes: pd.DataFrame, tmp_path: Path) -> None:
    out = run("clean_missing_data", {"columns": ["a", "b"], "mode": "mean"}, dataset=holes)
    transform = round_trip(out["transform"], PortType.TRANSFORM, tmp_path)
    new = pd.DataFrame({"a": [np.nan, 0.0], "b": pd.array([None, 1], dtype="Int64"), "c": ["q", None], "d": [1.0, 2.0]})
    applied = run("apply_transformation", transform=transform, dataset=new)["dataset"]
    imputer = SimpleImputer(strategy="mean").fit(holes[["a", "b"]].astype("float64"))
    np.testing.assert_allclose(applied[["a", "b"]].to_numpy(dtype="float64"), imputer.transform(new[["a", "b"]].astype("float64")))
    assert applied["c"].isna().tolist() == [False, True]  # not a cleaned column


def test_apply_transformation_names_missing_columns(holes: pd.DataFrame) -> None:
    out = run("clean_missing_data", {"columns": ["a", "b"], "mode": "mean"}, dataset=holes)
    with pytest.raises(ModuleError, match="'b'"):
        run("apply_transformation", transform=out["transform"], dataset=holes.drop(columns=["b"]))


# --- normalize_data ------------------------------------------------------------------------------

NUMERIC = ["x1", "x2", "target"]


@pytest.mark.parametrize("method, scaler", [("zscore", StandardScaler), ("minmax", MinMaxScaler)])
def test_normalize_matches_sklearn_scalers(table: pd.DataFrame, method: str, scaler: type) -> None:
    out = run("normalize_data", {"method": method}, dataset=table)["dataset"]
    expected = scaler().fit_transform(table[NUMERIC])
    np.testing.assert_allclose(out[NUMERIC].to_numpy(), expected)
    pdt.assert_frame_equal(out.drop(columns=NUMERIC), table.drop(columns=NUMERIC))
    assert roles_of(out) == roles_of(table)


@pytest.mark.parametrize("method, function", [("logistic", scipy.special.expit), ("tanh", np.tanh)])
def test_normalize_elementwise_methods(table: pd.DataFrame, method: str, function: object) -> None:
    out = run("normalize_data", {"method": method, "columns": ["x1"]}, dataset=table)["dataset"]
    np.testing.assert_allclose(out["x1"], function(table["x1"]))


def test_normalize_lognormal_is_fitted_cdf(table: pd.DataFrame) -> None:
    positive = table.assign(x1=np.exp(table["x1"]))
    out = run("normalize_data", {"method": "lognormal", "columns": ["x1"]}, dataset=positive)["dataset"]
    logs = np.log(positive["x1"])
    expected = scipy.stats.norm.cdf(logs, loc=logs.mean(), scale=logs.std(ddof=0))
    np.testing.assert_allclose(out["x1"], expected, rtol=1e-6)


def test_normalize_lognormal_refuses_non_positive(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match=r"column 'x1' holds .* in row \d+"):
        run("normalize_data", {"method": "lognormal", "columns": ["x1"]}, dataset=table)


def test_normalize_constant_columns(table: pd.DataFrame) -> None:
    df = table.assign(x2=5)
    out = run("normalize_data", {"columns": ["x1", "x2"]}, dataset=df)["dataset"]
    assert (out["x2"] == 0).all()
    out = run("normalize_data", {"columns": ["x1", "x2"], "constant_columns_to_zero": False}, dataset=df)["dataset"]
    pdt.assert_series_equal(out["x2"], df["x2"])


def test_normalize_keeps_missing_values(holes: pd.DataFrame) -> None:
    out = run("normalize_data", {"columns": ["a"]}, dataset=holes)["dataset"]
    expected = StandardScaler().fit_transform(holes[["a"]])[:, 0]
    np.testing.assert_allclose(out["a"], expected)  # NaN where the input was missing


def test_normalize_refuses_named_text_column(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'color' is not numeric"):
        run("normalize_data", {"columns": ["x1", "color"]}, dataset=table)


def test_normalize_transform_round_trip(table: pd.DataFrame, tmp_path: Path) -> None:
    train, test = table.iloc[:30], table.iloc[30:]
    out = run("normalize_data", {"method": "zscore"}, dataset=train)
    transform = round_trip(out["transform"], PortType.TRANSFORM, tmp_path)
    applied = run("apply_transformation", transform=transform, dataset=test)["dataset"]
    expected = StandardScaler().fit(train[NUMERIC]).transform(test[NUMERIC])
    np.testing.assert_allclose(applied[NUMERIC].to_numpy(), expected)
    assert roles_of(applied) == roles_of(table)


# --- split_data ----------------------------------------------------------------------------------


def test_split_rows_randomized_matches_train_test_split(cars: pd.DataFrame) -> None:
    """Equivalence: first/second are exactly train_test_split(df, train_size=fraction,
    random_state=seed, shuffle=True)'s train/test parts, rows and order included."""
    clean = cars.drop(columns=["normalized-losses"]).dropna()
    out = run("split_data", {"fraction": 0.7, "randomize": True, "seed": 0}, dataset=clean)
    train, test = train_test_split(clean, train_size=0.7, random_state=0, shuffle=True)
    pdt.assert_frame_equal(out["first"], train)
    pdt.assert_frame_equal(out["second"], test)
    assert len(out["first"]) == 135  # ⌊0.7 × 193⌋


def test_split_rows_in_order_is_head_and_tail(table: pd.DataFrame) -> None:
    out = run("split_data", {"fraction": 0.25, "randomize": False}, dataset=table)
    pdt.assert_frame_equal(out["first"], table.head(10))
    pdt.assert_frame_equal(out["second"], table.tail(30))
    assert roles_of(out["first"]) == roles_of(out["second"]) == roles_of(table)


def test_split_fraction_rounding_and_edges(table: pd.DataFrame) -> None:
    df = pd.DataFrame({"v": range(100)})
    assert len(run("split_data", {"fraction": 0.57}, dataset=df)["first"]) == 57
    out = run("split_data", {"fraction": 1.0}, dataset=table)
    assert len(out["first"]) == 40 and len(out["second"]) == 0
    assert len(run("split_data", {"fraction": 0.0}, dataset=table)["first"]) == 0


def test_split_stratified_matches_train_test_split(table: pd.DataFrame) -> None:
    params = {"fraction": 0.5, "seed": 3, "stratify": True, "stratify_column": ["grade"]}
    out = run("split_data", params, dataset=table)
    train, test = train_test_split(table, train_size=0.5, random_state=3, stratify=table["grade"])
    pdt.assert_frame_equal(out["first"], train)
    pdt.assert_frame_equal(out["second"], test)


def test_split_stratify_errors(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError) as err:
        run("split_data", {"stratify": True}, dataset=table)
    assert err.value.param == "stratify_column"
    lonely = table.assign(grade=["only"] + ["a"] * 39)
    with pytest.raises(ModuleError, match="cannot stratify on 'grade'"):
        run("split_data", {"stratify": True, "stratify_column": ["grade"]}, dataset=lonely)
    with pytest.raises(ModuleError, match="'nope'"):
        run("split_data", {"stratify": True, "stratify_column": ["nope"]}, dataset=table)


def test_split_regex_matches_str_contains(cars: pd.DataFrame) -> None:
    out = run("split_data", {"mode": "regex", "regex": {"column": "make", "pattern": "^(audi|bmw)$"}}, dataset=cars)
    mask = cars["make"].isin(["audi", "bmw"])
    pdt.assert_frame_equal(out["first"], cars[mask])
    pdt.assert_frame_equal(out["second"], cars[~mask])


def test_split_regex_errors(cars: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="'brand'"):
        run("split_data", {"mode": "regex", "regex": {"column": "brand", "pattern": "a"}}, dataset=cars)
    with pytest.raises(ModuleError, match="not a valid regular expression"):
        run("split_data", {"mode": "regex", "regex": {"column": "make", "pattern": "(a"}}, dataset=cars)
    with pytest.raises(ModuleError, match="needs both"):
        run("split_data", {"mode": "regex"}, dataset=cars)


@pytest.mark.parametrize(
    "expression, query",
    [
        ('"price" > 10000', "price > 10000"),
        ('"price" > 10000 & "make" == \'audi\'', "price > 10000 and make == 'audi'"),
        ('\\"horsepower" <= 100 | "num-of-doors" != \'four\'', "horsepower <= 100 or `num-of-doors` != 'four'"),
        ('("city-mpg" + "highway-mpg") / 2 >= 30', "(`city-mpg` + `highway-mpg`) / 2 >= 30"),
    ],
)
def test_split_expression_matches_query(cars: pd.DataFrame, expression: str, query: str) -> None:
    out = run("split_data", {"mode": "expression", "expression": expression}, dataset=cars)
    pdt.assert_frame_equal(out["first"], cars.query(query))
    pdt.assert_frame_equal(out["second"], cars.drop(index=cars.query(query).index))


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os').system('true')", "not allowed"),
        ('"price" > 0 & __import__(\'os\')', "not allowed"),
        ('"price".__class__', "not allowed"),
        ('@os', "not a valid expression"),
        ("price > 1", "put column names in double quotes"),
        ('"cost" > 1', "'cost'"),
        ("1 > 0", "names no column"),
        ('"price" + 1', "not a condition"),
        ('"make" > 3', "could not evaluate"),
    ],
)
def test_split_expression_is_checked(cars: pd.DataFrame, expression: str, message: str) -> None:
    with pytest.raises(ModuleError, match=message) as err:
        run("split_data", {"mode": "expression", "expression": expression}, dataset=cars)
    assert err.value.param == "expression"


def test_split_refuses_empty_table(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="no rows"):
        run("split_data", {}, dataset=table.iloc[:0])


def test_split_infers_schema(table: pd.DataFrame) -> None:
    schema = schema_of(table)
    assert infer("split_data", {}, dataset=schema) == {"first": schema, "second": schema}


# --- join_data -----------------------------------------------------------------------------------


@pytest.fixture
def people() -> pd.DataFrame:
    return set_roles(pd.DataFrame({"id": [1, 2, 3, 4], "name": ["Ann", "Bob", "Cy", "Di"]}), {"name": "feature"})


@pytest.fixture
def orders() -> pd.DataFrame:
    return set_roles(
        pd.DataFrame({"id": [2, 2, 4, 9], "name": ["x", "y", "z", "w"], "total": [5.0, 6.0, 7.0, 8.0]}),
        {"total": "label"},
    )


@pytest.mark.parametrize("join_type, how", [("inner", "inner"), ("left_outer", "left"), ("full_outer", "outer")])
def test_join_matches_merge(people: pd.DataFrame, orders: pd.DataFrame, join_type: str, how: str) -> None:
    params = {"left_keys": ["id"], "right_keys": ["id"], "join_type": join_type}
    out = run("join_data", params, left=people, right=orders)["dataset"]
    expected = people.merge(orders.rename(columns={"id": "id_right", "name": "name_right"}),
                            left_on="id", right_on="id_right", how=how)
    pdt.assert_frame_equal(out, expected, check_dtype=False)
    assert roles_of(out) == {"name": "feature", "total": "label"}


def test_join_left_semi_matches_isin(people: pd.DataFrame, orders: pd.DataFrame) -> None:
    params = {"left_keys": ["id"], "right_keys": ["id"], "join_type": "left_semi"}
    out = run("join_data", params, left=people, right=orders)["dataset"]
    pdt.assert_frame_equal(out, people[people["id"].isin(orders["id"])])


def test_join_missing_keys_never_match() -> None:
    left = pd.DataFrame({"k": ["a", None], "l": [1, 2]})
    right = pd.DataFrame({"k": ["a", None], "r": [3, 4]})
    params = {"left_keys": ["k"], "right_keys": ["k"], "keep_right_keys": False}
    inner = run("join_data", params, left=left, right=right)["dataset"]
    assert inner.to_dict("list") == {"k": ["a"], "l": [1], "r": [3]}
    full = run("join_data", {**params, "join_type": "full_outer"}, left=left, right=right)["dataset"]
    assert len(full) == 3  # a–a matched; each missing key stays on its own row


def test_join_match_case_and_dropped_right_keys(people: pd.DataFrame) -> None:
    right = pd.DataFrame({"who": ["ANN", "cy"], "age": [30, 40]})
    params = {"left_keys": ["name"], "right_keys": ["who"], "match_case": False, "keep_right_keys": False}
    out = run("join_data", params, left=people, right=right)["dataset"]
    assert out.to_dict("list") == {"id": [1, 3], "name": ["Ann", "Cy"], "age": [30, 40]}
    assert run("join_data", {**params, "match_case": True}, left=people, right=right)["dataset"].empty


def test_join_pairs_multiple_keys_in_listed_order() -> None:
    left = pd.DataFrame({"a": [1, 1], "b": ["x", "y"]})
    right = pd.DataFrame({"bb": ["y", "x"], "aa": [1, 1], "v": [10, 20]})
    out = run("join_data", {"left_keys": ["a", "b"], "right_keys": ["aa", "bb"]}, left=left, right=right)["dataset"]
    assert out[["b", "v"]].to_dict("list") == {"b": ["x", "y"], "v": [20, 10]}


def test_join_key_errors(people: pd.DataFrame, orders: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="same number of columns"):
        run("join_data", {"left_keys": ["id"], "right_keys": ["id", "name"]}, left=people, right=orders)
    with pytest.raises(ModuleError, match="'id' \\(numeric\\) cannot be matched with key 'name' \\(string\\)"):
        run("join_data", {"left_keys": ["id"], "right_keys": ["name"]}, left=people, right=orders)
    with pytest.raises(ModuleError, match="'nope'") as err:
        run("join_data", {"left_keys": ["id"], "right_keys": ["nope"]}, left=people, right=orders)
    assert err.value.param == "right_keys"


def test_join_infers_schema(people: pd.DataFrame, orders: pd.DataFrame) -> None:
    params = {"left_keys": ["id"], "right_keys": ["id"], "join_type": "left_outer"}
    out = run("join_data", params, left=people, right=orders)["dataset"]
    inferred = infer("join_data", params, left=schema_of(people), right=schema_of(orders))["dataset"]
    assert inferred == schema_of(out)


# --- through the step runner ---------------------------------------------------------------------


def test_tutorial_chain_through_runner(cars: pd.DataFrame, tmp_path: Path) -> None:
    """Edit Metadata → Select → Clean → Normalize → Split as separate steps, each output
    read back from Parquet/skops: roles must survive every hop."""
    manifest, out = run_through_runner(
        "edit_metadata", {"columns": ["price"], "role": "label"}, tmp_path / "edit", dataset=cars
    )
    assert manifest["status"] == "completed", manifest["error"]
    manifest, out = run_through_runner(
        "select_columns", {"columns": {"include": "all", "exclude": ["normalized-losses"]}},
        tmp_path / "select", dataset=out["dataset"],
    )
    assert manifest["outputs"]["dataset"]["rows"] == 205
    manifest, out = run_through_runner(
        "clean_missing_data", {"columns": {"include": "all"}, "mode": "remove_row"},
        tmp_path / "clean", dataset=out["dataset"],
    )
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["outputs"]["dataset"]["rows"] == 193
    assert manifest["outputs"]["transform"]["type"] == "Transform"
    manifest, out = run_through_runner(
        "normalize_data", {"columns": ["horsepower", "engine-size"]}, tmp_path / "norm", dataset=out["dataset"]
    )
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["outputs"]["transform"]["meta"]["columns"] == ["engine-size", "horsepower"]
    manifest, out = run_through_runner(
        "split_data", {"fraction": 0.7, "randomize": True, "seed": 0}, tmp_path / "split", dataset=out["dataset"]
    )
    assert manifest["status"] == "completed", manifest["error"]
    assert (manifest["outputs"]["first"]["rows"], manifest["outputs"]["second"]["rows"]) == (135, 58)
    price = next(c for c in manifest["outputs"]["first"]["schema"] if c["name"] == "price")
    assert price["role"] == "label"
    assert roles_of(out["first"]) == roles_of(out["second"]) == {"price": "label"}


def test_runner_reports_module_error(cars: pd.DataFrame, tmp_path: Path) -> None:
    manifest, _ = run_through_runner("select_columns", {"columns": ["nope"]}, tmp_path, dataset=cars)
    assert manifest["status"] == "failed"
    assert manifest["error"]["code"] == "unknown_column"
    assert "'nope'" in manifest["error"]["message"]


def test_apply_transformation_refuses_columns_of_another_type(holes: pd.DataFrame, table: pd.DataFrame) -> None:
    cleaning = run("clean_missing_data", {"columns": ["a"], "mode": "mean"}, dataset=holes)["transform"]
    with pytest.raises(ModuleError, match="column 'a' holds text values"):
        run("apply_transformation", transform=cleaning, dataset=holes.assign(a=["p", None, "q", "r", "s"]))
    scaling = run("normalize_data", {"columns": ["x1"]}, dataset=table)["transform"]
    with pytest.raises(ModuleError, match="'x1' must hold numbers"):
        run("apply_transformation", transform=scaling, dataset=table.assign(x1="n/a"))


# --- split_data: the designer's draw -------------------------------------------------------------


def designer_reference(df: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The designer's Split Data, written out with pandas and NumPy: shuffle the index with
    pandas' sample and a legacy RandomState, cut at round(n × fraction), shuffle each part again."""
    rand = np.random.RandomState(seed)
    order = list(pd.Series(df.index).sample(frac=1, random_state=rand))
    cut = int(round(len(df) * fraction))
    first, second = order[:cut], order[cut:]
    rand.shuffle(first)
    rand.shuffle(second)
    return df.loc[first], df.loc[second]


@pytest.mark.parametrize("fraction, seed", [(0.7, 0), (0.25, 123), (0.5, 7)])
def test_designer_compatible_split_draws_the_designers_rows(cars: pd.DataFrame, fraction: float, seed: int) -> None:
    out = run("split_data", {"fraction": fraction, "seed": seed, "designer_compatible": True}, dataset=cars)
    first, second = designer_reference(cars, fraction, seed)
    pdt.assert_frame_equal(out["first"], first)
    pdt.assert_frame_equal(out["second"], second)


def test_designer_compatible_split_rounds_half_to_even_and_stratifies_per_sorted_value(table: pd.DataFrame) -> None:
    five = table.head(5)
    assert len(run("split_data", {"fraction": 0.5, "designer_compatible": True}, dataset=five)["first"]) == 2
    out = run("split_data", {"fraction": 0.5, "designer_compatible": True, "stratify": True, "stratify_column": ["grade"]}, dataset=table)
    counts = table["grade"].value_counts()
    assert out["first"]["grade"].value_counts().to_dict() == {g: int(round(n * 0.5)) for g, n in counts.items()}
    ordered = run("split_data", {"fraction": 0.5, "randomize": False, "designer_compatible": True, "stratify": True,
                                 "stratify_column": ["grade"]}, dataset=table)["first"]
    expected = pd.concat([g.head(int(round(len(g) * 0.5))) for _, g in table.groupby("grade")])
    pdt.assert_frame_equal(ordered, expected)
