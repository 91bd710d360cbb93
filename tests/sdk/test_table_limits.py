"""Table limits: tables that would cost too much are refused before they are read, with a
message that says what is over which limit; steps name the port, Import Data its source."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from modules.builtin.tabular_io import read_table_file
from modules.sdk import ModuleError
from modules.sdk.artifacts import TABLE_FILE, read_table, write_table
from modules.sdk.table_limits import RESOURCE_KEY, TableLimits, TableTooLarge, parquet_check
from modules.sdk.testing import call_module, run_through_runner
from tests.large_tables import BOMB_ROWS, bomb_parquet, repeated_parquet, wide_csv, wide_parquet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    bomb_parquet(folder / TABLE_FILE)
    return folder


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wide")
    wide_parquet(folder / TABLE_FILE)
    return folder


def test_the_bomb_is_small_on_disk_and_declares_200_million_rows(bomb):
    assert (bomb / TABLE_FILE).stat().st_size < 1 << 20
    assert parquet_check(bomb / TABLE_FILE, TableLimits(max_cells=10**12)).num_rows == BOMB_ROWS


def test_a_declared_row_count_over_the_cell_limit_is_refused_before_reading(bomb):
    with pytest.raises(TableTooLarge) as caught:
        read_table(bomb)
    assert caught.value.code == "table_too_large"
    assert caught.value.message == (
        "the table has 200,000,000 rows x 1 column = 200,000,000 cells; the limit is 100,000,000 cells"
    )


def test_refusing_the_bomb_costs_no_memory(bomb):
    """In a process of its own, so that its peak memory is the refusal's alone."""
    probe = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from modules.sdk.artifacts import read_table\n"
        "from modules.sdk.table_limits import TableTooLarge\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    read_table(Path(sys.argv[1]))\nexcept TableTooLarge:\n    pass\n"
        "else:\n    raise SystemExit('not refused')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(bomb)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(done.stdout) < 50 * 1024, "the refusal took more than 50 MB"  # ru_maxrss is in KiB


def test_too_many_columns_are_refused_from_the_footer_length_alone(wide):
    with pytest.raises(TableTooLarge) as caught:
        read_table(wide)
    assert "metadata alone is" in caught.value.message and "10,000 columns" in caught.value.message


def test_too_many_columns_are_refused_by_count_when_the_footer_is_small(tmp_path):
    write_table(pd.DataFrame({f"c{i}": [1] for i in range(30)}), tmp_path)
    with pytest.raises(TableTooLarge) as caught:
        read_table(tmp_path, TableLimits(max_columns=20))
    assert caught.value.message == "the table has 30 columns; the limit is 20 columns"


def test_a_declared_uncompressed_size_over_the_limit_is_refused(tmp_path):
    write_table(pd.DataFrame({"text": [f"{i:04d}" + "x" * 1000 for i in range(2000)]}), tmp_path)
    with pytest.raises(TableTooLarge) as caught:
        read_table(tmp_path, TableLimits(max_bytes=1 << 20))
    assert "of data uncompressed; the limit is 1.0 MiB" in caught.value.message


def test_a_table_within_the_limits_is_read(tmp_path):
    df = pd.DataFrame({"a": range(10), "b": list("abcdefghij")})
    write_table(df, tmp_path)
    pd.testing.assert_frame_equal(read_table(tmp_path, TableLimits(max_columns=2, max_cells=20)), df)


def test_a_file_that_is_not_parquet_says_so(tmp_path):
    (tmp_path / TABLE_FILE).write_bytes(b"PAR1" + b"\0" * 100)
    with pytest.raises(ModuleError) as caught:
        read_table(tmp_path)
    assert caught.value.code == "bad_file"


# Text tables


def test_a_csv_with_too_many_columns_is_refused_from_its_first_line(tmp_path):
    with pytest.raises(TableTooLarge) as caught:
        read_table_file(wide_csv(tmp_path / "wide.csv"))
    assert caught.value.message == "the file has 100,000 columns; the limit is 10,000 columns"


def test_a_csv_with_too_many_rows_is_refused_having_read_no_more_than_the_limit(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "1,2\n" * 51)
    with pytest.raises(TableTooLarge) as caught:
        read_table_file(path, limits=TableLimits(max_cells=100))
    assert caught.value.message == "the file has more than 50 rows of 2 columns; the limit is 100 cells"
    assert len(read_table_file(path, limits=TableLimits(max_cells=102))) == 51


def test_json_records_over_the_limit_are_refused(tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"a": i, "b": i} for i in range(60)]))
    with pytest.raises(TableTooLarge) as caught:
        read_table_file(path, limits=TableLimits(max_cells=100))
    assert caught.value.message == "the file has 60 rows x 2 columns = 120 cells; the limit is 100 cells"


def test_a_parquet_file_given_as_bytes_is_checked_too(bomb):
    with pytest.raises(TableTooLarge):
        read_table_file(io.BytesIO((bomb / TABLE_FILE).read_bytes()), fmt="parquet")


# Steps


def test_a_step_refuses_an_input_over_the_limits_naming_the_port(tmp_path):
    limits = TableLimits(max_cells=1000)
    manifest, _ = run_through_runner(
        "select_columns", {"columns": {"include": "all"}}, tmp_path,
        resources={RESOURCE_KEY: limits.to_json()}, dataset=pd.DataFrame({"a": range(600), "b": range(600)}),
    )
    assert manifest["status"] == "failed"
    assert manifest["error"]["code"] == "table_too_large" and manifest["error"]["port"] == "dataset"
    assert "1,200 cells; the limit is 1,000 cells" in manifest["error"]["message"]


def test_a_step_making_a_table_over_the_limits_fails_naming_its_output(tmp_path):
    script = "def azureml_main(dataframe1=None, dataframe2=None):\n    import pandas as pd\n    return pd.DataFrame({'x': range(2000)}),\n"
    manifest, _ = run_through_runner(
        "execute_python_script", {"script": script}, tmp_path,
        resources={RESOURCE_KEY: TableLimits(max_cells=1000).to_json()},
    )
    assert manifest["status"] == "failed"
    assert manifest["error"]["port"] == "dataset1"
    assert manifest["error"]["message"] == (
        "the output table has 2,000 rows x 1 column = 2,000 cells; the limit is 1,000 cells"
    )


def test_import_data_refuses_a_file_over_the_limits_under_a_data_root(tmp_path, bomb):
    (tmp_path / "bomb.parquet").write_bytes((bomb / TABLE_FILE).read_bytes())
    with pytest.raises(TableTooLarge):
        call_module("import_data", {"source": "path", "path": "bomb.parquet"}, resources={"data_roots": [str(tmp_path)]})


def test_import_data_holds_a_dataset_to_the_limits_the_host_passes(tmp_path):
    write_table(pd.DataFrame({"a": range(100)}), tmp_path / "cars" / "v1")
    resources = {"datasets_dir": str(tmp_path), RESOURCE_KEY: TableLimits(max_cells=50).to_json()}
    with pytest.raises(TableTooLarge):
        call_module("import_data", {"source": "dataset", "name": "cars"}, resources=resources)


def test_limits_cross_processes_as_json():
    limits = TableLimits(max_columns=3, max_cells=4, max_bytes=5)
    assert TableLimits.from_resources({RESOURCE_KEY: json.loads(json.dumps(limits.to_json()))}) == limits
    assert TableLimits.from_resources({}) == TableLimits()


def test_a_repeated_table_is_small_on_disk_but_large_in_memory(tmp_path):
    """The helper the server's tests use for a table within the limits but too large to
    preview in a small worker: what it writes is what it says."""
    repeated_parquet(tmp_path / TABLE_FILE, rows=2_500_000)
    metadata = parquet_check(tmp_path / TABLE_FILE, TableLimits())
    assert (metadata.num_rows, metadata.num_columns) == (2_500_000, 2)
    assert (tmp_path / TABLE_FILE).stat().st_size < 1 << 20
