"""What a step leaves in its output folder is untrusted: the host reads it through the
contract's model and refuses links, strange files, unknown ports and paths that leave."""
from __future__ import annotations

import json
import os

import pytest

from designer.engine.step_results import (
    ResultRefused, check_output_folder, check_outputs, export_folder, read_manifest,
)
from modules.sdk.contract import ExportRequest, ResultManifest

COMPLETED = {"status": "completed", "outputs": {"dataset": {"type": "DataFrame", "rows": 3, "schema": []}}}


def write(out, manifest) -> None:
    out.mkdir(exist_ok=True)
    (out / "result.json").write_text(json.dumps(manifest))


def test_a_manifest_of_the_contract_is_read(tmp_path):
    write(tmp_path, {**COMPLETED, "metrics": {"auc": 0.9}, "warnings": ["careful"]})
    manifest = read_manifest(tmp_path)
    assert manifest.outputs["dataset"].rows == 3 and manifest.metrics == {"auc": 0.9}


def test_no_manifest_is_none(tmp_path):
    assert read_manifest(tmp_path) is None


@pytest.mark.parametrize("manifest, problem", [
    ({**COMPLETED, "artifact": "f00d"}, "artifact: Extra inputs are not permitted"),
    ({"status": "failed"}, "a failed step must say why"),
    ({"status": "completed", "outputs": {"dataset": {"type": "Pickle"}}}, "outputs.dataset.type"),
    ({**COMPLETED, "exports": [{"name": "x", "format": "parquet", "path": "../../etc"}]}, "exports.0.path"),
    ({**COMPLETED, "exports": [{"name": "x", "format": "parquet", "path": "/etc"}]}, "exports.0.path"),
    ({**COMPLETED, "exports": [{"name": "../x", "format": "parquet", "path": "_exports/x"}]}, "exports.0.name"),
    ({**COMPLETED, "images": ["../../passwd.png"]}, "images.0"),
    ({**COMPLETED, "error": {"code": "x", "message": "m", "origin": "user"}}, "error.origin"),
    ({**COMPLETED, "metrics": {"auc": "high"}}, "metrics.auc"),
])
def test_a_manifest_outside_the_contract_is_refused_saying_where(tmp_path, manifest, problem):
    write(tmp_path, manifest)
    with pytest.raises(ResultRefused, match="does not fit the step contract") as refused:
        read_manifest(tmp_path)
    assert problem in str(refused.value)


def test_a_manifest_that_is_a_link_or_too_large_is_refused(tmp_path):
    (tmp_path / "elsewhere.json").write_text(json.dumps(COMPLETED))
    os.symlink(tmp_path / "elsewhere.json", tmp_path / "result.json")
    with pytest.raises(ResultRefused, match="cannot be read"):
        read_manifest(tmp_path)
    (tmp_path / "result.json").unlink()
    (tmp_path / "result.json").write_bytes(b" " * (16 * 1024 * 1024 + 1))
    with pytest.raises(ResultRefused, match="larger than 16 MB"):
        read_manifest(tmp_path)


def test_links_and_special_files_in_the_outputs_are_refused(tmp_path):
    out = tmp_path / "out"
    (out / "dataset").mkdir(parents=True)
    (out / "dataset" / "table.parquet").write_bytes(b"data")
    check_output_folder(out)
    os.symlink("/etc", out / "dataset" / "etc")
    with pytest.raises(ResultRefused, match="'dataset/etc' is a symbolic link"):
        check_output_folder(out)
    (out / "dataset" / "etc").unlink()
    os.mkfifo(out / "dataset" / "pipe")
    with pytest.raises(ResultRefused, match="not a plain file"):
        check_output_folder(out)


def test_outputs_beyond_the_bounds_are_refused(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "b").write_bytes(b"x" * 10)
    with pytest.raises(ResultRefused, match="exceed the limit"):
        check_output_folder(tmp_path, max_bytes=15)
    with pytest.raises(ResultRefused, match="exceed the limit"):
        check_output_folder(tmp_path, max_files=1)


def test_outputs_must_be_the_modules_ports_of_their_types(tmp_path):
    (tmp_path / "dataset").mkdir()
    manifest = ResultManifest.model_validate(COMPLETED)
    check_outputs(manifest, {"dataset": "DataFrame"}, tmp_path)
    with pytest.raises(ResultRefused, match=r"reported the outputs \['dataset'\], but its module has \['model'\]"):
        check_outputs(manifest, {"model": "TrainedModel"}, tmp_path)
    with pytest.raises(ResultRefused, match="as DataFrame, but the port is TrainedModel"):
        check_outputs(manifest, {"dataset": "TrainedModel"}, tmp_path)
    (tmp_path / "dataset").rmdir()
    with pytest.raises(ResultRefused, match="'dataset' was not written"):
        check_outputs(manifest, {"dataset": "DataFrame"}, tmp_path)


def test_an_export_names_a_table_under_the_exports_folder(tmp_path):
    (tmp_path / "_exports" / "cars").mkdir(parents=True)
    assert export_folder(tmp_path, ExportRequest(name="cars", format="parquet", path="_exports/cars")) == (
        tmp_path / "_exports" / "cars"
    ).resolve()
    (tmp_path / "dataset").mkdir()
    for path in ("dataset", "_exports", "_exports/missing"):
        with pytest.raises(ResultRefused, match="which is not a table it wrote"):
            export_folder(tmp_path, ExportRequest(name="cars", format="parquet", path=path))
