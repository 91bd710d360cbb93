"""Reading and writing port values as files: the only place that knows artifact layouts.

Every output port is written to its own folder:

- DataFrame: `table.parquet`, column roles in the Parquet schema metadata (`atelier`);
- models and transforms: `model.skops` (skops, never pickle: artifacts can come from
  other users and machines) plus `meta.json` (task, label, features, classes…);
- Files: the folder's content as is.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ModuleError
from .schema import roles_of, schema_of, set_roles
from .table_limits import TableLimits, parquet_check, shape_check
from .types import ESTIMATOR_PORT_TYPES, PortType

TABLE_FILE = "table.parquet"
MODEL_FILE = "model.skops"
META_FILE = "meta.json"
# Beside an exported table: how the host registers it (format, CSV escaping).
EXPORT_FILE = "export.json"
_META_KEY = b"atelier"

# Types a model file may contain. Anything else in a file is refused, so a crafted
# artifact cannot make the loader build arbitrary objects.
TRUSTED_TYPE_PREFIXES: list[str] = [
    "sklearn.",
    "numpy.",
    "scipy.",
    "builtins.",
    "collections.",
    "pandas.",
    "modules.builtin.",
]


@dataclass
class Estimator:
    """A model or transform value: a Python object plus JSON metadata about it."""

    obj: Any
    meta: dict[str, Any] = field(default_factory=dict)


def trust_types_from(prefix: str) -> None:
    """Let model files contain types from a module pack's own package."""
    if prefix not in TRUSTED_TYPE_PREFIXES:
        TRUSTED_TYPE_PREFIXES.append(prefix)


def write_table(df: pd.DataFrame, folder: Path, limits: TableLimits = TableLimits()) -> dict[str, Any]:
    # Refused where it is made: the step that made it is the one to fix, and a table
    # within the limits is one every later step and preview may read.
    shape_check(len(df), df.shape[1], limits, what="the output table")
    folder.mkdir(parents=True, exist_ok=True)
    roles = roles_of(df)
    if not all(isinstance(c, str) for c in df.columns):
        df = df.rename(columns=str)
    if df.columns.has_duplicates:
        dupes = sorted(set(df.columns[df.columns.duplicated()]))
        raise ModuleError(f"the table has duplicate column names: {', '.join(dupes)}")
    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata.pop(b"PANDAS_ATTRS", None)  # roles live under our key only
    metadata[_META_KEY] = json.dumps({"roles": roles}).encode()
    pq.write_table(table.replace_schema_metadata(metadata), folder / TABLE_FILE)
    return {"type": PortType.DATAFRAME.value, "rows": len(df), "schema": schema_of(df).to_json()}


def read_table(folder: Path, limits: TableLimits = TableLimits()) -> pd.DataFrame:
    """The table stored in `folder`; TableTooLarge (a ModuleError) when its file declares
    more than `limits` allow, before any of it is read."""
    return table_frame(read_arrow_table(folder, limits))


def read_arrow_table(folder: Path, limits: TableLimits = TableLimits()) -> pa.Table:
    """The table stored in `folder` as Arrow, checked against `limits` like read_table."""
    parquet_check(folder / TABLE_FILE, limits)
    return pq.read_table(folder / TABLE_FILE)


def table_frame(table: pa.Table) -> pd.DataFrame:
    """A stored Arrow table (or a part of one) as a DataFrame with its column roles."""
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    return set_roles(table.to_pandas(), meta.get("roles", {}))


def write_estimator(value: Estimator, folder: Path) -> dict[str, Any]:
    import skops.io as sio  # 0.5 s of imports that validation and the CLI never need

    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(value.obj, folder / MODEL_FILE)
    (folder / META_FILE).write_text(json.dumps(value.meta, sort_keys=True, default=str))
    return {"meta": value.meta}


def read_estimator(folder: Path) -> Estimator:
    import skops.io as sio

    path = folder / MODEL_FILE
    types = sio.get_untrusted_types(file=path)
    refused = [t for t in types if not t.startswith(tuple(TRUSTED_TYPE_PREFIXES))]
    if refused:
        raise ModuleError(
            f"the model file contains types that are not trusted: {', '.join(refused)}",
            code="untrusted_artifact",
        )
    obj = sio.load(path, trusted=types)
    meta = json.loads((folder / META_FILE).read_text())
    return Estimator(obj, meta)


def write_value(
    port_type: PortType, value: Any, folder: Path, limits: TableLimits = TableLimits()
) -> dict[str, Any]:
    """Write one output value; returns the metadata recorded in the result manifest."""
    if port_type is PortType.DATAFRAME:
        if not isinstance(value, pd.DataFrame):
            raise TypeError(f"expected a DataFrame, got {type(value).__name__}")
        return write_table(value, folder, limits)
    if port_type in ESTIMATOR_PORT_TYPES:
        if not isinstance(value, Estimator):
            raise TypeError(f"expected an Estimator, got {type(value).__name__}")
        return {"type": port_type.value, **write_estimator(value, folder)}
    if port_type is PortType.FILES:
        shutil.copytree(Path(value), folder, dirs_exist_ok=True)
        return {"type": port_type.value, "files": sum(1 for p in folder.rglob("*") if p.is_file())}
    raise TypeError(f"no writer for port type {port_type}")


def read_value(port_type: PortType, folder: Path, limits: TableLimits = TableLimits()) -> Any:
    if port_type is PortType.DATAFRAME:
        return read_table(folder, limits)
    if port_type in ESTIMATOR_PORT_TYPES:
        return read_estimator(folder)
    if port_type is PortType.FILES:
        return folder
    raise TypeError(f"no reader for port type {port_type}")
