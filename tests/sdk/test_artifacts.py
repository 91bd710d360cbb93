"""Artifact files: tables keep roles and dtypes; model files load only trusted types."""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression

from modules.sdk import Estimator, ModuleError, PortType, artifacts, roles_of, set_roles
from modules.sdk.artifacts import (
    MODEL_FILE,
    read_estimator,
    read_table,
    read_value,
    trust_types_from,
    write_estimator,
    write_table,
    write_value,
)


def mixed_table() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype="int64"),
            "i32": np.array([1, 2, 3], dtype="int32"),
            "f": [1.5, np.nan, 3.0],
            "b": [True, False, True],
            "s": pd.Series(["a", None, "c"], dtype="str"),
            "cat": pd.Categorical(["x", "y", "x"]),
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
            "n": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    return set_roles(df, {"f": "label", "s": "feature", "cat": "feature", "gone": "score"})


def test_a_table_round_trip_keeps_values_dtypes_and_roles(tmp_path: Path) -> None:
    df = mixed_table()
    meta = write_table(df, tmp_path)
    back = read_table(tmp_path)
    pd.testing.assert_frame_equal(back, df)
    assert roles_of(back) == {"f": "label", "s": "feature", "cat": "feature"}
    assert meta["type"] == "DataFrame" and meta["rows"] == 3
    assert [c["kind"] for c in meta["schema"]] == [
        "numeric",
        "numeric",
        "numeric",
        "boolean",
        "string",
        "categorical",
        "datetime",
        "numeric",
    ]
    assert meta["schema"][2] == {"name": "f", "kind": "numeric", "role": "label"}


def test_an_empty_table_round_trips(tmp_path: Path) -> None:
    # Parquet keeps no categories for a column without values, so that one is left out.
    df = mixed_table().drop(columns="cat").iloc[0:0]
    write_table(df, tmp_path)
    pd.testing.assert_frame_equal(read_table(tmp_path), df)


def test_column_names_become_text(tmp_path: Path) -> None:
    write_table(set_roles(pd.DataFrame({0: [1], 1: [2]}), {1: "label"}), tmp_path)  # type: ignore[dict-item]
    back = read_table(tmp_path)
    assert list(back.columns) == ["0", "1"] and roles_of(back) == {"1": "label"}


def test_duplicate_column_names_are_a_user_error(tmp_path: Path) -> None:
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"])
    with pytest.raises(ModuleError, match="duplicate column names: a"):
        write_table(df, tmp_path)


def test_roles_live_under_atelier_metadata_only(tmp_path: Path) -> None:
    write_table(mixed_table(), tmp_path)
    metadata = pq.read_schema(tmp_path / "table.parquet").metadata
    assert json.loads(metadata[b"atelier"]) == {"roles": {"f": "label", "s": "feature", "cat": "feature"}}
    assert b"PANDAS_ATTRS" not in metadata


def test_a_model_round_trips_with_its_meta(tmp_path: Path) -> None:
    x = np.arange(10, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(x, 2 * x.ravel() + 1)
    write_estimator(Estimator(model, {"task": "regression", "label": "y", "features": ["x"]}), tmp_path)
    back = read_estimator(tmp_path)
    np.testing.assert_allclose(back.obj.predict(x), model.predict(x))
    assert back.meta == {"task": "regression", "label": "y", "features": ["x"]}


class Payload:
    """A type outside every trusted package, as a crafted file would carry."""

    def __init__(self) -> None:
        self.command = "rm -rf /"


@pytest.mark.parametrize(
    ("obj", "refused"),
    [
        (Payload(), f"{__name__}.Payload"),
        (functools.partial(os.system, "echo pwned"), "posix.system"),
        ({"callback": os.system}, "posix.system"),
    ],
)
def test_a_model_file_with_an_untrusted_type_is_refused(tmp_path: Path, obj: object, refused: str) -> None:
    sio.dump(obj, tmp_path / MODEL_FILE)
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(ModuleError) as caught:
        read_estimator(tmp_path)
    assert caught.value.code == "untrusted_artifact"
    assert refused in caught.value.message


def test_a_pack_can_trust_its_own_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "TRUSTED_TYPE_PREFIXES", list(artifacts.TRUSTED_TYPE_PREFIXES))
    write_estimator(Estimator(Payload(), {}), tmp_path)
    trust_types_from(f"{__name__}.")
    assert read_estimator(tmp_path).obj.command == "rm -rf /"


def test_values_are_written_and_read_by_port_type(tmp_path: Path) -> None:
    files = tmp_path / "files"
    (files / "sub").mkdir(parents=True)
    (files / "sub" / "a.csv").write_text("a\n1\n")
    assert write_value(PortType.FILES, files, tmp_path / "out") == {"type": "Files", "files": 1}
    assert read_value(PortType.FILES, tmp_path / "out") == tmp_path / "out"
    assert (tmp_path / "out" / "sub" / "a.csv").read_text() == "a\n1\n"

    meta = write_value(PortType.TRANSFORM, Estimator({"fill": 0.0}, {"columns": ["x"]}), tmp_path / "t")
    assert meta == {"type": "Transform", "meta": {"columns": ["x"]}}
    assert read_value(PortType.TRANSFORM, tmp_path / "t").obj == {"fill": 0.0}


@pytest.mark.parametrize(
    ("port_type", "value"),
    [(PortType.DATAFRAME, {"a": [1]}), (PortType.TRAINED_MODEL, LinearRegression())],
)
def test_a_value_of_the_wrong_kind_is_a_programming_error(tmp_path: Path, port_type: PortType, value: object) -> None:
    with pytest.raises(TypeError, match="expected an? "):
        write_value(port_type, value, tmp_path)
