"""Data input: Import Data and Enter Data Manually."""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any, Mapping


from modules.sdk import (
    Bool, Choice, Code, Module, ModuleError, Output, ParamValues, PortType, StepContext,
    String, register,
)
from modules.sdk.artifacts import read_table
from modules.sdk.schema import Schema
from modules.sdk.table_limits import TableLimits

from .samples import SAMPLE_NAMES, load_sample, sample_fingerprint, sample_schema
from .tabular_io import FORMATS, read_table_file

CATEGORY = "Data Input and Output"
# The file a file dataset's version folder holds (an uploaded zip), where a table's holds
# table.parquet.
FILE_DATASET_ZIP = "files.zip"


def dataset_version_dir(datasets_dir: str | None, name: str, version: str) -> Path:
    """The folder of a registered dataset version: `<datasets_dir>/<name>/v<N>/`."""
    if not datasets_dir:
        raise ModuleError("no dataset catalog is configured on this compute", param="source")
    root = Path(datasets_dir) / name
    versions = sorted(
        (int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()), reverse=True
    ) if name and root.is_dir() and "/" not in name and not name.startswith(".") else []
    if not versions:
        raise ModuleError(f"there is no dataset named {name!r}", code="unknown_dataset", param="name")
    if version in ("", "latest"):
        return root / f"v{versions[0]}"
    if not version.isdigit() or int(version) not in versions:
        raise ModuleError(
            f"dataset {name!r} has no version {version!r} (it has {', '.join(map(str, sorted(versions)))})",
            code="unknown_dataset",
            param="version",
        )
    return root / f"v{int(version)}"


def resolve_data_path(path: str, data_roots: list[str]) -> Path:
    """A path the user gave, allowed only inside one of the configured data roots."""
    if not data_roots:
        raise ModuleError("reading files by path is not enabled here (no data roots are configured)", param="path")
    for root in data_roots:
        resolved = Path(os.path.realpath(Path(root) / path))
        if resolved.is_relative_to(os.path.realpath(root)) and resolved.is_file():
            return resolved
    raise ModuleError(
        f"{path!r} is not a file under the configured data roots", code="bad_path", param="path"
    )


@register
class ImportData(Module):
    """Load a table: a shipped sample, a registered dataset, a URL, or a file under a data root."""

    id = "import_data"
    name = "Import Data"
    keywords = ("load data", "read csv", "open file", "dataset", "url", "sample data", "input")
    category = CATEGORY
    help = (
        "Loads a table into the pipeline.\n\n"
        f"- **sample**: a dataset shipped with Atelier ({', '.join(SAMPLE_NAMES)});\n"
        "- **dataset**: a dataset uploaded or exported earlier (`name`, `version`);\n"
        "- **url**: an http(s) address of a CSV, TSV, Parquet or JSON file;\n"
        "- **path**: a file under one of the data roots the operator configured.\n\n"
        "CSV delimiters are detected unless given; `?` and empty fields are read as missing."
    )

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The loaded table")

    class Params:
        source = Choice(
            choices=("sample", "dataset", "url", "path"), default="sample",
            labels={"sample": "A sample dataset", "dataset": "One of your datasets", "url": "A web address (URL)",
                    "path": "A file on the server"},
        )
        name = String(default="automobile-price-raw", help="Sample or registered dataset name",
                      when={"source": ("sample", "dataset")}, suggestions=SAMPLE_NAMES)
        version = String(default="latest", help="Dataset version number, or latest", when={"source": ("dataset",)})
        url = String(default="", help="http(s) address of the file", when={"source": ("url",)})
        path = String(default="", help="File path relative to a configured data root", when={"source": ("path",)})
        # How a file is read: a sample or a dataset was read when it was registered.
        format = Choice(choices=FORMATS, default="auto", labels={"auto": "Detect from the file"},
                        when={"source": ("url", "path")})
        delimiter = String(default="auto", help="Field separator for CSV (auto-detected by default)",
                           when={"source": ("url", "path")})
        has_header = Bool(default=True, help="The first line holds the column names", when={"source": ("url", "path")})
        encoding = String(default="utf-8", when={"source": ("url", "path")})

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        limits = TableLimits.from_resources(ctx.resources)
        options = dict(
            fmt=params.format, delimiter=params.delimiter, has_header=params.has_header,
            encoding=params.encoding, limits=limits,
        )
        if params.source == "sample":
            if params.name not in SAMPLE_NAMES:
                raise ModuleError(
                    f"there is no sample named {params.name!r}; samples: {', '.join(SAMPLE_NAMES)}",
                    code="unknown_sample",
                    param="name",
                )
            df = load_sample(params.name)
        elif params.source == "dataset":
            folder = dataset_version_dir(ctx.resources.get("datasets_dir"), params.name, params.version)
            if (folder / FILE_DATASET_ZIP).is_file():
                raise ModuleError(
                    f"dataset {params.name!r} holds files (a zip), not a table: use Import File Dataset, e.g. "
                    "for Execute Python Script's Script Bundle",
                    code="not_a_table", param="name",
                )
            df = read_table(folder, limits)
        elif params.source == "path":
            path = resolve_data_path(params.path, list(ctx.resources.get("data_roots") or []))
            df = read_table_file(path, filename=path.name, **options)
        else:
            fetched = ctx.fetched.get("url")
            if fetched is None:
                raise ModuleError("the URL was not downloaded for this step (it runs without a host)", param="url")
            df = read_table_file(fetched, filename=params.url, **options)
        if df.shape[1] == 0:
            raise ModuleError("the imported table has no columns", code="empty_table")
        ctx.log(f"imported {len(df)} rows x {df.shape[1]} columns")
        return {"dataset": df}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: Mapping[str, Schema | None]) -> Mapping[str, Schema | None]:
        if params.source == "sample" and params.name in SAMPLE_NAMES:
            return {"dataset": sample_schema(params.name)}
        return {"dataset": None}

    @classmethod
    def fetches(cls, params: ParamValues) -> Mapping[str, str]:
        return {"url": params.url} if params.source == "url" else {}

    @classmethod
    def fingerprint(cls, params: ParamValues, resources: Mapping[str, Any]) -> str | None:
        if params.source == "sample":
            return sample_fingerprint(params.name) if params.name in SAMPLE_NAMES else None
        try:
            if params.source == "dataset":
                folder = dataset_version_dir(resources.get("datasets_dir"), params.name, params.version)
                if not (folder / "table.parquet").is_file():
                    return None  # a file dataset: the step says so
                return f"{folder.name}:{_file_digest(folder / 'table.parquet')}"
            if params.source == "path":
                return _file_digest(resolve_data_path(params.path, list(resources.get("data_roots") or [])))
        except ModuleError:
            return None  # the step itself reports the problem
        # A URL's content can change at any time: never reuse an old download.
        return uuid.uuid4().hex


@register
class ImportFileDataset(Module):
    """Bring a file dataset (an uploaded zip) into the pipeline, e.g. as a Script Bundle."""

    id = "import_file_dataset"
    name = "Import File Dataset"
    category = CATEGORY
    help = (
        "Outputs a file dataset: a zip uploaded on the Datasets page (or dropped on the "
        "palette), by `name` and `version`. Connect it to Execute Python Script's `bundle` "
        "(Script Bundle) port: the zip is unpacked under `./Script Bundle/` for the script, "
        "which imports its modules and reads its files. Tables are imported with Import Data."
    )

    class Outputs:
        files = Output(type=PortType.FILES, help="The dataset's zip")

    class Params:
        name = String(required=True, help="The file dataset's name")
        version = String(default="latest", help="Dataset version number, or latest")

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        archive = _file_dataset_zip(ctx.resources, params)
        out = ctx.work_dir / "files"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, out / FILE_DATASET_ZIP)
        ctx.log(f"imported {params.name} ({archive.stat().st_size:,} bytes)")
        return {"files": out}

    example_params = {"name": "conformance-check"}

    @classmethod
    def example_resources(cls, folder: Path) -> dict[str, Any]:
        """A catalog holding a file dataset named as example_params says."""
        version = folder / "datasets" / "conformance-check" / "v1"
        version.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(version / FILE_DATASET_ZIP, "w") as archive:
            archive.writestr("helper.py", "VALUE = 1\n")
        return {"datasets_dir": str(folder / "datasets")}

    @classmethod
    def fingerprint(cls, params: ParamValues, resources: Mapping[str, Any]) -> str | None:
        try:
            archive = _file_dataset_zip(resources, params)
        except ModuleError:
            return None  # the step itself reports the problem
        return f"{archive.parent.name}:{_file_digest(archive)}"


def _file_dataset_zip(resources: Mapping[str, Any], params: ParamValues) -> Path:
    folder = dataset_version_dir(resources.get("datasets_dir"), params.name, params.version)
    if not (folder / FILE_DATASET_ZIP).is_file():
        raise ModuleError(
            f"dataset {params.name!r} is a table, not files: use Import Data", code="not_files", param="name"
        )
    return folder / FILE_DATASET_ZIP


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@register
class EnterDataManually(Module):
    """Type or paste a small table as CSV or TSV text."""

    id = "enter_data_manually"
    name = "Enter Data Manually"
    keywords = ("type data", "paste data", "small table", "manual input")
    category = CATEGORY
    example_params = {"data": "x,label\n1.5,yes\n2.5,no\n"}

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME)

    class Params:
        data = Code(required=True, language="csv", help="The table as text, one row per line")
        format = Choice(choices=("csv", "tsv"), default="csv")
        has_header = Bool(default=True)

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        df = read_table_file(
            io.BytesIO(params.data.encode()), fmt=params.format, delimiter="," if params.format == "csv" else "\t",
            has_header=params.has_header,
        )
        return {"dataset": df}
