"""Execute Python Script: the azureml_main contract, script-relative errors, bundles."""
from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modules.builtin.python_script import DEFAULT_SCRIPT
from modules.sdk import ModuleError, roles_of, set_roles
from modules.sdk.conformance import example_table
from modules.sdk.testing import call_module, run_through_runner

MODULE = "execute_python_script"


def run_script(script: str, **inputs: Any) -> dict[str, pd.DataFrame]:
    return call_module(MODULE, {"script": textwrap.dedent(script)}, **inputs).outputs


def make_bundle(folder: Path, files: dict[str, str], *, zipped: bool = True) -> Path:
    """A Files input: a folder holding `bundle.zip` of `files`, or the files themselves."""
    folder.mkdir(parents=True)
    if zipped:
        with zipfile.ZipFile(folder / "bundle.zip", "w") as archive:
            for name, text in files.items():
                archive.writestr(name, text)
    else:
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    return folder


def test_the_default_script_passes_the_first_table_through() -> None:
    df = example_table()
    outputs = call_module(MODULE, {}, dataset1=df).outputs
    pd.testing.assert_frame_equal(outputs["dataset1"], df)
    assert outputs["dataset2"].empty
    assert "def azureml_main(dataframe1 = None, dataframe2 = None):" in DEFAULT_SCRIPT


def test_results_match_plain_pandas() -> None:
    df, other = example_table(), example_table(seed=1)
    outputs = run_script(
        """
        import pandas as pd

        def azureml_main(dataframe1=None, dataframe2=None):
            means = dataframe1.groupby("color")[["x1", "target"]].mean()
            stacked = pd.concat([dataframe1, dataframe2], ignore_index=True)
            return means, stacked[stacked["flag"]]
        """,
        dataset1=df,
        dataset2=other,
    )
    # A named index (the groupby keys) comes back as columns rather than being dropped.
    expected_means = df.groupby("color")[["x1", "target"]].mean().reset_index()
    stacked = pd.concat([df, other], ignore_index=True)
    pd.testing.assert_frame_equal(outputs["dataset1"], expected_means)
    pd.testing.assert_frame_equal(outputs["dataset2"], stacked[stacked["flag"]])


@pytest.mark.parametrize(
    ("returns", "first_rows", "second_empty"),
    [
        ("dataframe1", 40, True),
        ("[dataframe1, dataframe1.head(3)]", 40, False),
        ("None", 0, True),
        ("(None, dataframe1)", 0, False),
    ],
)
def test_return_forms(returns: str, first_rows: int, second_empty: bool) -> None:
    outputs = run_script(
        f"def azureml_main(dataframe1=None, dataframe2=None):\n    return {returns}\n", dataset1=example_table()
    )
    assert len(outputs["dataset1"]) == first_rows
    assert outputs["dataset2"].empty is second_empty


def test_unconnected_inputs_arrive_as_none() -> None:
    outputs = run_script(
        """
        import pandas as pd

        def azureml_main(dataframe1=None, dataframe2=None):
            return pd.DataFrame({"first_is_none": [dataframe1 is None], "second_is_none": [dataframe2 is None]}),
        """,
        dataset2=example_table(),
    )
    assert outputs["dataset1"].to_dict("records") == [{"first_is_none": True, "second_is_none": False}]


def test_roles_travel_with_a_returned_input() -> None:
    df = set_roles(example_table(), {"target": "label"})
    outputs = run_script(
        "def azureml_main(dataframe1=None, dataframe2=None):\n    return dataframe1[dataframe1.x2 > 3],\n", dataset1=df
    )
    assert roles_of(outputs["dataset1"]) == {"target": "label"}


def test_print_output_is_the_step_log(capsys: pytest.CaptureFixture[str]) -> None:
    run_script("def azureml_main(dataframe1=None, dataframe2=None):\n    print('hello from the script')\n")
    assert "hello from the script" in capsys.readouterr().out


def test_a_syntax_error_reports_the_script_line() -> None:
    with pytest.raises(ModuleError) as caught:
        run_script(
            "import pandas as pd\n\ndef azureml_main(dataframe1=None, dataframe2=None)\n    return dataframe1,\n"
        )
    error = caught.value
    assert error.message.startswith("line 3: SyntaxError: ")
    assert (error.code, error.param, error.details["line"]) == ("script_error", "script", 3)


def test_an_exception_reports_the_script_line_and_a_script_only_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ModuleError) as caught:
        run_script("def azureml_main(dataframe1=None, dataframe2=None):\n    x = 1\n    return x / 0\n")
    assert caught.value.message == "line 3: ZeroDivisionError: division by zero"
    assert caught.value.details == {"line": 3, "exception": "ZeroDivisionError"}
    log = capsys.readouterr().err
    assert 'File "script.py", line 3, in azureml_main' in log and "return x / 0" in log
    assert "python_script.py" not in log and "testing.py" not in log


def test_the_innermost_script_line_is_reported() -> None:
    script = """\
        def check(df):
            if "price" not in df:
                raise KeyError("price")

        def azureml_main(dataframe1=None, dataframe2=None):
            check(dataframe1)
            return dataframe1,
        """
    with pytest.raises(ModuleError, match=r"^line 3: KeyError: 'price'$"):
        run_script(script, dataset1=example_table())


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("x = 1\n", "the script must define a function azureml_main(dataframe1=None, dataframe2=None)"),
        ("azureml_main = 3\n", "the script must define a function azureml_main"),
        (
            "def azureml_main(a, b):\n    return 'done'\n",
            "must return a DataFrame or a tuple of up to two DataFrames, got str",
        ),
        ("def azureml_main(a, b):\n    return a, a, a\n", "got tuple of 3 values"),
        (
            "def azureml_main(a, b):\n    return a, a['x1']\n",
            "value 2 returned by azureml_main has type Series, not pandas DataFrame",
        ),
        ("import sys\nsys.exit(3)\n", "line 2: SystemExit: 3"),
    ],
)
def test_contract_violations_are_clear(script: str, message: str) -> None:
    with pytest.raises(ModuleError) as caught:
        run_script(script, dataset1=example_table())
    assert message in caught.value.message
    assert (caught.value.code, caught.value.param) == ("script_error", "script")


def test_a_failure_through_the_runner_is_a_user_error(tmp_path: Path) -> None:
    manifest, _ = run_through_runner(
        MODULE,
        {"script": "def azureml_main(a=None, b=None):\n    return a.nope,\n"},
        tmp_path,
        dataset1=example_table(),
    )
    assert manifest["status"] == "failed"
    assert manifest["error"]["code"] == "script_error"
    assert manifest["error"]["message"] == "line 2: AttributeError: 'DataFrame' object has no attribute 'nope'"


@pytest.mark.parametrize("zipped", [True, False])
def test_bundled_modules_and_files_are_under_script_bundle(tmp_path: Path, zipped: bool) -> None:
    bundle = make_bundle(
        tmp_path / "bundle",
        {
            "pricing.py": "def with_tax(x):\n    return x * 1.2\n",
            "data/rates.csv": "color,rate\nred,1\ngreen,2\nblue,3\n",
        },
        zipped=zipped,
    )
    outputs = run_script(
        """
        import pandas as pd
        import pricing

        def azureml_main(dataframe1=None, dataframe2=None):
            rates = pd.read_csv("./Script Bundle/data/rates.csv")
            out = dataframe1.merge(rates, on="color")
            out["taxed"] = pricing.with_tax(out["target"])
            return out,
        """,
        dataset1=example_table(),
        bundle=bundle,
    )
    expected = example_table().merge(pd.DataFrame({"color": ["red", "green", "blue"], "rate": [1, 2, 3]}), on="color")
    expected["taxed"] = expected["target"] * 1.2
    pd.testing.assert_frame_equal(outputs["dataset1"], expected)


def test_a_bundle_module_does_not_leak_into_the_next_script(tmp_path: Path) -> None:
    script = "import helper\n\ndef azureml_main(a=None, b=None):\n    return helper.table(),\n"
    for version in (1, 2):
        bundle = make_bundle(
            tmp_path / f"bundle{version}",
            {"helper.py": f"import pandas as pd\n\ndef table():\n    return pd.DataFrame({{'v': [{version}]}})\n"},
        )
        outputs = call_module(MODULE, {"script": script}, work_dir=tmp_path / f"work{version}", bundle=bundle).outputs
        assert outputs["dataset1"]["v"].tolist() == [version]


@pytest.mark.parametrize(
    "member", ["../escaped.py", "/tmp/atelier-escaped.py", "nested/../../escaped.py", "C:/escaped.py"]
)
def test_a_zip_member_outside_the_folder_is_refused(tmp_path: Path, member: str) -> None:
    bundle = make_bundle(tmp_path / "bundle", {"ok.py": "", member: "print('pwned')\n"})
    work = tmp_path / "work"
    with pytest.raises(ModuleError) as caught:
        call_module(MODULE, {}, work_dir=work, bundle=bundle)
    assert (caught.value.code, caught.value.port) == ("unsafe_bundle", "bundle")
    assert repr(member) in caught.value.message
    assert not (tmp_path / "escaped.py").exists() and not (work / "escaped.py").exists()
    assert not (work / "script" / "Script Bundle" / "ok.py").exists()  # nothing at all is extracted


def test_a_corrupt_zip_is_a_bundle_error(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "bundle.zip").write_bytes(b"not a zip")
    with pytest.raises(ModuleError, match="not a readable zip") as caught:
        call_module(MODULE, {}, bundle=bundle)
    assert caught.value.port == "bundle"


def test_open_matplotlib_figures_are_saved_as_images(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    script = """\
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        def azureml_main(dataframe1=None, dataframe2=None):
            plt.figure()
            plt.plot(dataframe1["x1"])
            return dataframe1,
        """
    run = call_module(MODULE, {"script": textwrap.dedent(script)}, work_dir=tmp_path, dataset1=example_table())
    assert run.ctx.images == ["figure_1.png"]
    assert (tmp_path / "out" / "_images" / "figure_1.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("signature", "call", "expected"),
    [
        ("", "()", 0),
        ("dataframe1", "(dataframe1)", 1),
        ("df", "(df)", 1),
        ("dataframe1=None, dataframe2=None", "(dataframe1, dataframe2)", 2),
        ("*frames", "(*frames)", 2),
    ],
)
def test_azureml_main_gets_as_many_tables_as_it_declares(signature: str, call: str, expected: int) -> None:
    outputs = run_script(
        f"""
        import pandas as pd

        def count(*tables):
            return pd.DataFrame({{"tables": [len(tables)]}})

        def azureml_main({signature}):
            return count{call},
        """,
        dataset1=example_table(),
        dataset2=example_table(),
    )
    assert outputs["dataset1"]["tables"].tolist() == [expected]


def test_azureml_main_requiring_three_tables_is_refused() -> None:
    with pytest.raises(ModuleError, match="must take at most two tables .* requires a, b, c"):
        run_script("def azureml_main(a, b, c):\n    return a,\n", dataset1=example_table())


def test_a_designer_bundle_script_runs_unchanged(tmp_path: Path) -> None:
    """The designer's documented pattern: the bundle's module imported, its folder named."""
    bundle = make_bundle(tmp_path / "bundle", {"my_module.py": "def double(s):\n    return s * 2\n", "factors.csv": "f\n3\n"})
    outputs = run_script(
        """
        import sys
        import pandas as pd
        sys.path.insert(0, "./Script Bundle")
        from my_module import double

        def azureml_main(dataframe1=None, dataframe2=None):
            factor = pd.read_csv("./Script Bundle/factors.csv")["f"][0]
            return pd.DataFrame({"y": double(dataframe1["x1"]) * factor}),
        """,
        dataset1=example_table(),
        bundle=bundle,
    )
    pd.testing.assert_series_equal(outputs["dataset1"]["y"], example_table()["x1"] * 2 * 3, check_names=False)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    with zipfile.ZipFile(folder / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"zeros{i}.bin", b"\0" * (4 << 20))  # 12 MB that compress to a few KB
    assert (folder / "bomb.zip").stat().st_size < 100_000
    work = tmp_path / "work"
    with pytest.raises(ModuleError) as caught:
        call_module(MODULE, {}, work_dir=work, resources={"bundle_limits": {"max_mb": 10}}, bundle=folder)
    assert (caught.value.code, caught.value.port) == ("bundle_too_large", "bundle")
    assert "3 files and 12.0 MB" in caught.value.message and "at most 10,000 files and 10 MB" in caught.value.message
    assert not list((work / "script" / "Script Bundle").iterdir())


def test_a_bundle_of_too_many_files_is_refused(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle", {f"f{i}.txt": "" for i in range(6)})
    with pytest.raises(ModuleError, match="6 files .* at most 5 files"):
        call_module(MODULE, {}, resources={"bundle_limits": {"max_files": 5}}, bundle=bundle)


def test_an_unstorable_column_is_the_scripts_error_naming_it(tmp_path: Path) -> None:
    script = """\
        import pandas as pd

        def azureml_main(dataframe1=None, dataframe2=None):
            return dataframe1, pd.DataFrame({"fine": [1, 2], "mixed": [1, "two"]})
        """
    manifest, _ = run_through_runner(MODULE, {"script": textwrap.dedent(script)}, tmp_path, dataset1=example_table())
    assert manifest["status"] == "failed"
    error = manifest["error"]
    assert (error["code"], error["param"]) == ("script_error", "script")
    assert error["message"].startswith("column 'mixed' of table 2 returned by azureml_main cannot be stored: it holds int, str values")
    assert error["details"] == {"column": "mixed", "table": 2}


def test_an_interactive_backend_request_keeps_drawing_headless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    script = """\
        import matplotlib
        matplotlib.use("TkAgg")
        import matplotlib.pyplot as plt
        plt.switch_backend("QtAgg")

        def azureml_main(dataframe1=None, dataframe2=None):
            plt.plot(dataframe1["x1"])
            plt.show()
            return dataframe1,
        """
    run = call_module(MODULE, {"script": textwrap.dedent(script)}, work_dir=tmp_path, dataset1=example_table())
    assert run.ctx.images == ["figure_1.png"]
    assert "matplotlib backend 'TkAgg' needs a display" in capsys.readouterr().out
    import matplotlib

    assert matplotlib.use.__module__ == "matplotlib"  # the patch ends with the script


def test_the_azureml_run_logs_become_step_metrics_images_and_the_run_log(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    script = """\
        import io
        import matplotlib.pyplot as plt
        from azureml.core import Run
        from azureml.core.run import Run as SameRun

        def azureml_main(dataframe1=None, dataframe2=None):
            run = Run.get_context()
            assert SameRun is Run
            mean = float(dataframe1["x1"].mean())
            run.log("mean_x1", mean)
            run.parent.log("rows", len(dataframe1))
            run.log("stage", "cleaned")
            for loss in (0.9, 0.5, 0.25):
                run.log("loss", loss)
            run.log_list("accuracies", [0.5, 0.75])
            run.log_row("per_color", color="red", n=3)
            run.log_row("per_color", color="blue", n=4, note="late")
            run.log_table("summary", {"metric": ["a", "b"], "value": [1, 2]})
            run.tag("model", "baseline")
            fig = plt.figure()
            plt.plot([1, 2, 3])
            run.log_image("the plot", plot=fig)
            fig.savefig("chart.png")
            run.upload_file("outputs/chart.png", "chart.png")
            run.upload_file("outputs/notes.txt", io.BytesIO(b"hello"))
            plt.close("all")
            return dataframe1,
        """
    run = call_module(MODULE, {"script": textwrap.dedent(script)}, work_dir=tmp_path, dataset1=example_table())
    ctx = run.ctx
    assert ctx.metrics == {"mean_x1": pytest.approx(example_table()["x1"].mean()), "rows": 40.0, "loss": 0.25}
    log = ctx.visuals["run_log"]
    assert log["series"]["loss"] == [0.9, 0.5, 0.25]
    assert log["series"]["stage"] == ["cleaned"]
    assert log["series"]["accuracies"] == [0.5, 0.75]
    assert log["tables"]["per_color"] == {"color": ["red", "blue"], "n": [3.0, 4.0], "note": [None, "late"]}
    assert log["tables"]["summary"] == {"metric": ["a", "b"], "value": [1.0, 2.0]}
    assert log["tags"] == {"model": "baseline"}
    assert log["files"] == [{"name": "outputs/notes.txt", "bytes": 5}]
    assert ctx.images == ["the_plot.png", "chart.png"]
    for name in ctx.images:
        assert (tmp_path / "out" / "_images" / name).read_bytes().startswith(b"\x89PNG")


def test_the_run_log_reaches_the_manifest_through_the_runner(tmp_path: Path) -> None:
    script = """\
        from atelier import run

        def azureml_main(dataframe1=None, dataframe2=None):
            run.log("r2", 0.75)
            run.log_list("steps", [1, 2])
            return dataframe1,
        """
    manifest, _ = run_through_runner(MODULE, {"script": textwrap.dedent(script)}, tmp_path, dataset1=example_table())
    assert manifest["status"] == "completed"
    assert manifest["metrics"] == {"r2": 0.75}
    assert manifest["visuals"]["run_log"]["series"] == {"r2": [0.75], "steps": [1.0, 2.0]}


def test_dataset_get_by_name_points_to_import_data() -> None:
    script = """\
        from azureml.core import Dataset, Run

        def azureml_main(dataframe1=None, dataframe2=None):
            ws = Run.get_context().experiment.workspace
            return Dataset.get_by_name(ws, name="churn").to_pandas_dataframe(),
        """
    with pytest.raises(ModuleError) as caught:
        run_script(script)
    message = caught.value.message
    assert message.startswith("line 5: OfflineServiceError: Dataset.get_by_name('churn') needs the Azure ML service")
    assert "add an Import Data module (source: dataset, name: 'churn')" in message


def test_the_stand_in_is_gone_after_the_script() -> None:
    run_script("import azureml.core\n\ndef azureml_main(a=None, b=None):\n    return a,\n")
    import sys

    assert not [name for name in sys.modules if name.split(".")[0] in ("azureml", "atelier")]
    with pytest.raises(ModuleNotFoundError):
        import azureml.core  # noqa: F401


def test_a_run_log_flood_is_bounded() -> None:
    with pytest.raises(ModuleError, match="run log keeps at most 10,000 values"):
        run_script(
            "from azureml.core import Run\n\ndef azureml_main(a=None, b=None):\n"
            "    run = Run.get_context()\n    for i in range(20_000):\n        run.log('i', i)\n"
        )


def test_the_bundle_limits_count_all_its_zips_together(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for part in ("a", "b"):
        with zipfile.ZipFile(folder / f"{part}.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{part}.bin", b"\0" * (6 << 20))
    work = tmp_path / "work"
    with pytest.raises(ModuleError, match=r"b.zip unpacks with the bundle's other zips to 2 files and 12.0 MB"):
        call_module(MODULE, {}, work_dir=work, resources={"bundle_limits": {"max_mb": 10}}, bundle=folder)
    assert not (work / "script" / "Script Bundle" / "b.bin").exists()
