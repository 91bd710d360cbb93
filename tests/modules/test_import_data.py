"""Import Data and Enter Data Manually: samples, parsing errors that say where, safe paths."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modules.builtin.samples import SAMPLE_NAMES
from modules.builtin.tabular_io import read_table_file
from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.artifacts import write_table
from modules.sdk.testing import call_module

SAMPLE_SHAPES = {
    "automobile-price-raw": (205, 26),
    "adult-census-income": (32_561, 15),
    "product-reviews": (600, 2),
    "movie-ratings": (1_465, 3),
    "iris": (150, 5),
    "wine": (178, 14),
    "breast-cancer": (569, 31),
    "diabetes": (442, 11),
    "digits": (1797, 65),
}
SAMPLE_LABELS = {
    "automobile-price-raw": "price",
    "adult-census-income": "income",
    "product-reviews": "sentiment",
    "movie-ratings": "rating",
    "iris": "class",
    "wine": "class",
    "breast-cancer": "diagnosis",
    "diabetes": "progression",
    "digits": "digit",
}


def import_data(params: dict[str, object], **resources: object) -> pd.DataFrame:
    return call_module("import_data", params, resources=resources).outputs["dataset"]


def import_error(params: dict[str, object], **resources: object) -> ModuleError:
    with pytest.raises(ModuleError) as caught:
        import_data(params, **resources)
    return caught.value


def parse(raw: bytes, **options: object) -> pd.DataFrame:
    return read_table_file(io.BytesIO(raw), fmt="csv", **options)  # type: ignore[arg-type]


# Samples


def test_every_documented_sample_is_shipped() -> None:
    assert set(SAMPLE_SHAPES) <= set(SAMPLE_NAMES)


@pytest.mark.parametrize("name", sorted(SAMPLE_SHAPES))
def test_sample_loads_with_its_documented_shape(name: str) -> None:
    df = import_data({"source": "sample", "name": name})
    assert df.shape == SAMPLE_SHAPES[name]
    assert df.columns[-1] == SAMPLE_LABELS[name]
    assert roles_of(df) == {}  # the label is named at Train Model, not guessed here


def test_automobile_missing_values_are_missing() -> None:
    df = import_data({})  # the default source is the automobile sample
    assert df["normalized-losses"].isna().sum() == 41
    assert df["price"].isna().sum() == 4


def test_class_names_read_better_than_codes() -> None:
    assert sorted(import_data({"name": "iris"})["class"].unique()) == ["setosa", "versicolor", "virginica"]


def test_an_unknown_sample_names_the_param() -> None:
    error = import_error({"source": "sample", "name": "titanic"})
    assert (error.code, error.param) == ("unknown_sample", "name")
    assert "titanic" in error.message and "iris" in error.message


# Enter Data Manually


def test_enter_data_manually_matches_pandas() -> None:
    text = "city,temp,rainy\nOslo,4.5,true\nLima,19,false\n"
    df = call_module("enter_data_manually", {"data": text}).outputs["dataset"]
    pd.testing.assert_frame_equal(df, pd.read_csv(io.StringIO(text)))


def test_enter_data_manually_tsv_without_header() -> None:
    df = call_module("enter_data_manually", {"data": "a\t1\nb\t2\n", "format": "tsv", "has_header": False}).outputs[
        "dataset"
    ]
    assert df.to_dict("list") == {"Col1": ["a", "b"], "Col2": [1, 2]}


def test_enter_data_manually_requires_data() -> None:
    with pytest.raises(ModuleError) as caught:
        call_module("enter_data_manually", {})
    assert (caught.value.param, caught.value.message) == ("data", "param 'data' is required: give it a value")


# Parsing


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (b"a,b\n1,2\n3,4,5\n6,7\n", 3),
        (b"a,b\n\n1,2\n3,4,5\n", 4),
        # A quoted field spanning lines: the file line, not pandas' record count.
        (b'a,b\n"two\nlines",2\n3,4,5\n', 4),
        (b"a\tb\n1\t2\n3\t4\t5\n", 3),
    ],
)
def test_a_ragged_file_names_the_line(raw: bytes, line: int) -> None:
    with pytest.raises(ModuleError) as caught:
        parse(raw)
    assert caught.value.code == "bad_csv"
    assert caught.value.details == {"line": line}
    assert f"at line {line}: Expected 2 fields, saw 3" in caught.value.message


def test_latin1_read_as_utf8_names_the_line_and_the_encoding_param(tmp_path: Path) -> None:
    (tmp_path / "cities.csv").write_bytes("city,n\nOslo,1\nKøbenhavn,2\n".encode("latin-1"))
    error = import_error({"source": "path", "path": "cities.csv"}, data_roots=[str(tmp_path)])
    assert (error.code, error.param, error.details["line"]) == ("bad_encoding", "encoding", 3)
    assert "line 3" in error.message and "encoding" in error.message
    fixed = import_data({"source": "path", "path": "cities.csv", "encoding": "latin-1"}, data_roots=[str(tmp_path)])
    assert fixed["city"].tolist() == ["Oslo", "København"]


def test_an_unknown_encoding_names_the_param() -> None:
    with pytest.raises(ModuleError) as caught:
        parse(b"a\n1\n", encoding="klingon")
    assert caught.value.param == "encoding"


@pytest.mark.parametrize(("raw", "delimiter"), [(b"a;b\n1;2\n", ";"), (b"a|b\n1|2\n", "|"), (b"a\tb\n1\t2\n", "\t")])
def test_the_delimiter_is_detected(raw: bytes, delimiter: str) -> None:
    assert parse(raw).to_dict("list") == {"a": [1], "b": [2]}
    assert parse(raw, delimiter=delimiter).to_dict("list") == {"a": [1], "b": [2]}


def test_question_marks_and_empty_fields_are_missing() -> None:
    df = parse(b"a,b\n1,?\n,x\n")
    assert df["a"].isna().tolist() == [False, True]
    assert df["b"].isna().tolist() == [True, False]


@pytest.mark.parametrize("raw", [b"", b"   \n\n"])
def test_an_empty_file_is_a_clear_error(raw: bytes) -> None:
    with pytest.raises(ModuleError, match="the file is empty"):
        parse(raw)


# CSV text: letters, digits and every character CSV must quote. A leading letter keeps
# values from reading as numbers, booleans or missing markers, which is not what is tested.
_cell_text = st.text(alphabet=st.sampled_from(list("ab1 .,;|\t\"'\nè?")), max_size=8).map(lambda s: "v" + s)
_auto_text = st.text(alphabet=st.sampled_from(list("ab1 .\"'\nè?")), max_size=8).map(lambda s: "v" + s)


@st.composite
def small_tables(draw: st.DrawFn, text: st.SearchStrategy[str]) -> pd.DataFrame:
    names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4, unique=True))
    rows = draw(st.integers(min_value=1, max_value=6))
    cells = {
        "int": st.integers(min_value=-(10**9), max_value=10**9),
        "float": st.floats(min_value=-1e9, max_value=1e9).filter(lambda f: not f.is_integer()),
        "text": text,
    }
    return pd.DataFrame(
        {
            name: draw(st.lists(cells[draw(st.sampled_from(sorted(cells)))], min_size=rows, max_size=rows))
            for name in names
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables(_cell_text))
def test_csv_written_by_pandas_reads_back_equal(df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(parse(df.to_csv(index=False).encode(), delimiter=","), df, check_dtype=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables(_auto_text), st.sampled_from([",", "\t", ";", "|"]))
def test_csv_with_any_separator_reads_back_equal_when_detected(df: pd.DataFrame, separator: str) -> None:
    # The values hold no other separator, so detection has a single right answer.
    pd.testing.assert_frame_equal(parse(df.to_csv(index=False, sep=separator).encode()), df, check_dtype=False)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=60)
    | st.text(alphabet=st.sampled_from(list('ab1,;\t"\n\r? .\x00')), max_size=60).map(str.encode),
    st.sampled_from(["csv", "tsv", "json"]),
    st.booleans(),
)
def test_any_bytes_parse_or_fail_cleanly(raw: bytes, fmt: str, has_header: bool) -> None:
    try:
        read_table_file(io.BytesIO(raw), fmt=fmt, has_header=has_header)
    except ModuleError:
        pass


# Path source


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "cars.csv").write_text("make,price\nvw,100\nbmw,200\n")
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    return root


def test_a_path_under_a_data_root_is_read(data_root: Path) -> None:
    df = import_data({"source": "path", "path": "sub/cars.csv"}, data_roots=[str(data_root)])
    assert df.to_dict("list") == {"make": ["vw", "bmw"], "price": [100, 200]}


@pytest.mark.parametrize(
    "path", ["../secret.csv", "sub/../../secret.csv", "{tmp}/secret.csv", "/etc/passwd", "escape.csv", "sub", ""]
)
def test_a_path_outside_the_data_roots_is_refused(data_root: Path, path: str) -> None:
    os.symlink(data_root.parent / "secret.csv", data_root / "escape.csv")
    error = import_error({"source": "path", "path": path.format(tmp=data_root.parent)}, data_roots=[str(data_root)])
    assert (error.code, error.param) == ("bad_path", "path")


def test_a_symlink_staying_inside_the_root_is_followed(data_root: Path) -> None:
    os.symlink(data_root / "sub" / "cars.csv", data_root / "cars-link.csv")
    assert len(import_data({"source": "path", "path": "cars-link.csv"}, data_roots=[str(data_root)])) == 2


def test_paths_need_configured_data_roots(data_root: Path) -> None:
    error = import_error({"source": "path", "path": "sub/cars.csv"})
    assert error.param == "path" and "no data roots" in error.message


# Dataset source


@pytest.fixture
def datasets_dir(tmp_path: Path) -> Path:
    for version in (1, 2, 10):
        df = set_roles(pd.DataFrame({"x": [version] * version, "y": ["a"] * version}), {"y": "label"})
        write_table(df, tmp_path / "cars" / f"v{version}")
    (tmp_path / "cars" / "notes").mkdir()
    return tmp_path


@pytest.mark.parametrize(("version", "rows"), [("latest", 10), ("", 10), ("2", 2), (1, 1)])
def test_a_dataset_version_is_read(datasets_dir: Path, version: object, rows: int) -> None:
    df = import_data({"source": "dataset", "name": "cars", "version": version}, datasets_dir=str(datasets_dir))
    assert len(df) == rows and set(df["x"]) == {rows}
    assert roles_of(df) == {"y": "label"}


@pytest.mark.parametrize("name", ["trucks", "", "..", "cars/v1", "../cars"])
def test_an_unknown_dataset_names_the_param(datasets_dir: Path, name: str) -> None:
    # In this catalog, datasets are named v1, v2…: an empty name must not find them as versions.
    error = import_error({"source": "dataset", "name": name}, datasets_dir=str(datasets_dir / "cars"))
    assert (error.code, error.param) == ("unknown_dataset", "name")


def test_an_unknown_version_lists_the_versions(datasets_dir: Path) -> None:
    error = import_error({"source": "dataset", "name": "cars", "version": "3"}, datasets_dir=str(datasets_dir))
    assert (error.code, error.param) == ("unknown_dataset", "version")
    assert "1, 2, 10" in error.message


def test_datasets_need_a_catalog() -> None:
    assert import_error({"source": "dataset", "name": "cars"}).param == "source"
