"""Resolving column selectors against a table or a schema."""
from __future__ import annotations

from typing import Any

import pandas as pd

from .errors import ModuleError
from .schema import Schema, schema_of


def resolve_columns(
    selector: dict[str, Any] | None,
    table: pd.DataFrame | Schema,
    *,
    param: str = "columns",
    kinds: set[str] | None = None,
) -> list[str]:
    """The column names a cleaned selector picks, in table order.

    Names that the table lacks are an error naming them. `kinds` narrows `include: all`
    (e.g. to numeric columns) without rejecting explicitly named columns.
    """
    schema = table if isinstance(table, Schema) else schema_of(table)
    if selector is None:
        selector = {"include": "all", "exclude": []}
    include = selector.get("include", "all")
    exclude = selector.get("exclude", [])
    available = schema.names
    named = (include if isinstance(include, list) else []) + list(exclude)
    missing = [n for n in named if n not in available]
    if missing:
        raise ModuleError(
            f"column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
            f"not found; the table has: {', '.join(available[:30])}"
            + (" …" if len(available) > 30 else ""),
            code="unknown_column",
            param=param,
            details={"missing": missing},
        )
    if include == "all":
        picked = [c.name for c in schema if kinds is None or c.kind.value in kinds]
    elif isinstance(include, dict):
        types, roles = set(include.get("types") or []), set(include.get("roles") or [])
        picked = [
            c.name
            for c in schema
            if (not types or c.kind.value in types) and (not roles or c.role in roles)
        ]
    else:
        wanted = set(include)
        picked = [n for n in available if n in wanted]
    excluded = set(exclude)
    return [n for n in picked if n not in excluded]
