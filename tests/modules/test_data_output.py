"""Export Data and Convert to CSV, checked against what pandas writes and reads."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.artifacts import read_table
from modules.sdk.testing import call_module, run_through_runner


@pytest.fixture
def table() -> pd.DataFrame:
    return set_roles(
        pd.DataFrame(
            {
                "city": ["Lyon", "Paris, 75", None, 'Say "hi"'],
                "price": [1.5, np.nan, 3.0, 4.25],
                "rooms": [1, 2, 3, 4],
                "new": [True, False, True, False],
            }
        ),
        {"price": "label"},
    )


def test_export_registers_table_with_roles(table: pd.DataFrame, tmp_path: Path) -> None:
    run = call_module("export_data", {"name": "flats", "format": "csv"}, work_dir=tmp_path, dataset=table)
    assert run.outputs == {}
    [export] = run.ctx.exports
    assert (export["name"], export["format"]) == ("flats", "csv")
    exported = read_table(tmp_path / "out" / export["path"])
    pdt.assert_frame_equal(exported, table)
    assert roles_of(exported) == {"price": "label"}


def test_export_through_runner_records_export(table: pd.DataFrame, tmp_path: Path) -> None:
    manifest, outputs = run_through_runner("export_data", {"name": "flats"}, tmp_path, dataset=table)
    assert manifest["status"] == "completed", manifest["error"]
    assert outputs == {} and manifest["outputs"] == {}
    assert [(e["name"], e["format"]) for e in manifest["exports"]] == [("flats", "parquet")]
    pdt.assert_frame_equal(read_table(tmp_path / "out" / manifest["exports"][0]["path"]), table)


@pytest.mark.parametrize("name", ["../etc", ".hidden", "a/b", "with space", "-dash-first"])
def test_export_refuses_unsafe_names(table: pd.DataFrame, name: str) -> None:
    with pytest.raises(ModuleError, match="not a valid dataset name") as err:
        call_module("export_data", {"name": name}, dataset=table)
    assert err.value.param == "name"


def test_export_needs_a_name(table: pd.DataFrame) -> None:
    with pytest.raises(ModuleError, match="required") as err:
        call_module("export_data", {}, dataset=table)
    assert err.value.param == "name"


def test_export_is_never_reused_from_cache() -> None:
    from modules.sdk.registry import default_registry

    assert default_registry().get("export_data").spec.deterministic is False


def test_convert_to_csv_matches_to_csv(table: pd.DataFrame, tmp_path: Path) -> None:
    folder = call_module("convert_to_csv", work_dir=tmp_path, dataset=table).outputs["file"]
    assert [p.name for p in Path(folder).iterdir()] == ["data.csv"]
    text = (Path(folder) / "data.csv").read_bytes().decode("utf-8")
    assert text == table.to_csv(index=False, lineterminator="\r\n")
    pdt.assert_frame_equal(pd.read_csv(io.StringIO(text)), table, check_dtype=False)


def test_convert_to_csv_through_runner(table: pd.DataFrame, tmp_path: Path) -> None:
    manifest, outputs = run_through_runner("convert_to_csv", None, tmp_path, dataset=table)
    assert manifest["status"] == "completed", manifest["error"]
    assert manifest["outputs"]["file"] == {"type": "Files", "files": 1}
    pdt.assert_frame_equal(pd.read_csv(outputs["file"] / "data.csv"), table, check_dtype=False)


def test_convert_empty_table_writes_header_only(table: pd.DataFrame, tmp_path: Path) -> None:
    folder = call_module("convert_to_csv", work_dir=tmp_path, dataset=table.iloc[:0]).outputs["file"]
    assert (Path(folder) / "data.csv").read_bytes().decode() == "city,price,rooms,new\r\n"


# Formulas in CSV (OWASP "CSV Injection")


@pytest.fixture
def hostile() -> pd.DataFrame:
    return pd.DataFrame({
        "note": ["=HYPERLINK(\"http://evil\")", "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "plain", None, "a=b"],
        "change": [-1.5, 2.0, -3.0, 0.0, 1.0, -0.25, 4.0, 5.0, 6.0],
        "when": pd.date_range("2024-01-01", periods=9, freq="D"),
        "kind": pd.Categorical(["=x", "y", "=x", "y", "y", "y", "y", "y", "y"]),
    }).rename(columns={"kind": "=kind"})


def test_text_cells_that_spreadsheets_would_run_are_escaped(hostile: pd.DataFrame, tmp_path: Path) -> None:
    folder = call_module("convert_to_csv", work_dir=tmp_path, dataset=hostile).outputs["file"]
    back = pd.read_csv(Path(folder) / "data.csv", keep_default_na=False)
    assert back["note"].tolist() == [
        "'=HYPERLINK(\"http://evil\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR", "plain", "", "a=b",
    ]
    assert back["'=kind"].tolist()[:2] == ["'=x", "y"], "categories and column names are text too"
    # Numbers are not text: a negative number stays a number a spreadsheet can add up.
    assert back["change"].tolist() == hostile["change"].tolist()
    assert back["when"].tolist()[0] == "2024-01-01"


def test_escaping_can_be_turned_off(hostile: pd.DataFrame, tmp_path: Path) -> None:
    folder = call_module(
        "convert_to_csv", {"escape_formulas": False}, work_dir=tmp_path, dataset=hostile,
    ).outputs["file"]
    assert (Path(folder) / "data.csv").read_bytes().decode("utf-8") == hostile.to_csv(
        index=False, lineterminator="\r\n",
    )


def test_export_records_how_its_csv_downloads_escape(table: pd.DataFrame, tmp_path: Path) -> None:
    from modules.sdk.artifacts import EXPORT_FILE

    for escape in (True, False):
        run = call_module(
            "export_data", {"name": "flats", "format": "csv", "escape_formulas": escape},
            work_dir=tmp_path / str(escape), dataset=table,
        )
        [export] = run.ctx.exports
        options = json.loads((tmp_path / str(escape) / "out" / export["path"] / EXPORT_FILE).read_text())
        assert options == {"format": "csv", "escape_formulas": escape}
