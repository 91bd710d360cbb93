"""Table schemas: column names, kinds and roles, known with or without the data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd
from pandas.api import types as pdt

from .types import ColumnKind

ROLES_ATTR = "roles"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "role": self.role}


class Schema(tuple[Column, ...]):
    @property
    def names(self) -> list[str]:
        return [c.name for c in self]

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self]

    @classmethod
    def from_json(cls, data: Iterable[dict[str, Any]]) -> "Schema":
        return cls(Column(d["name"], ColumnKind(d["kind"]), d.get("role")) for d in data)


def column_kind(series: pd.Series) -> ColumnKind:
    dtype = series.dtype
    if pdt.is_bool_dtype(dtype):
        return ColumnKind.BOOLEAN
    if isinstance(dtype, pd.CategoricalDtype):
        return ColumnKind.CATEGORICAL
    if pdt.is_numeric_dtype(dtype):
        return ColumnKind.NUMERIC
    if pdt.is_datetime64_any_dtype(dtype):
        return ColumnKind.DATETIME
    return ColumnKind.STRING


def roles_of(df: pd.DataFrame) -> dict[str, str]:
    """Column roles carried by a table (only for columns it still has)."""
    roles = df.attrs.get(ROLES_ATTR) or {}
    return {c: r for c, r in roles.items() if c in df.columns}


def set_roles(df: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    df.attrs[ROLES_ATTR] = {c: r for c, r in roles.items() if c in df.columns}
    return df


def schema_of(df: pd.DataFrame) -> Schema:
    roles = roles_of(df)
    return Schema(Column(str(c), column_kind(df[c]), roles.get(c)) for c in df.columns)
