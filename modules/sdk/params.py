"""Param declarations: each declares its type, default, constraints and help once.

`Param.clean(value)` is the single place a value is checked and normalized; the engine
calls it during validation (errors as data) and the runner calls it again before `run`
so that a step handed a hand-written STEP.json is just as safe.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from .types import ColumnKind, ColumnRole


class ParamError(ValueError):
    """A value does not fit its declaration; the message says why, without the param name."""


_MISSING: Any = object()


@dataclass(frozen=True, kw_only=True)
class Param:
    """`when` says when the param applies, for the canvas to show only the fields that do:
    `when={"source": ("url",)}` applies while the param `source` is "url"; every entry must
    hold. It changes nothing in validation or `run`."""

    kind: ClassVar[str] = "any"
    default: Any = None
    required: bool = False
    help: str = ""
    label: str = ""
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict, hash=False)
    name: str = ""  # filled in from the attribute name by the Module declaration

    def clean(self, value: Any) -> Any:
        """Return the normalized value, or raise ParamError. `None` means unset."""
        if value is None:
            if self.required:
                raise ParamError(f"is required: {self._how_to_set()}")
            return None
        return self._clean(value)

    @property
    def display_label(self) -> str:
        """What people read for this param: its label, or its name in words."""
        return self.label or self.name.replace("_", " ").capitalize()

    def _how_to_set(self) -> str:
        """What to do when the param is required and unset."""
        return "give it a value"

    def _clean(self, value: Any) -> Any:
        return value

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "label": self.display_label,
            "required": self.required,
            "default": self.default,
            "help": self.help,
        }
        if self.when:
            out["when"] = {param: list(values) for param, values in self.when.items()}
        out.update(self._json_extra())
        return out

    def _json_extra(self) -> dict[str, Any]:
        return {}


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "text"}.get(
        type(value), f"a {type(value).__name__}"
    )


@dataclass(frozen=True, kw_only=True)
class _Bounded(Param):
    min: float | None = None
    max: float | None = None

    def _check_range(self, value: float) -> None:
        if self.min is not None and value < self.min:
            raise ParamError(f"must be at least {self.min}, got {value}")
        if self.max is not None and value > self.max:
            raise ParamError(f"must be at most {self.max}, got {value}")

    def _json_extra(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True, kw_only=True)
class Int(_Bounded):
    kind: ClassVar[str] = "int"

    def _clean(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"must be an integer, got {_type_name(value)} {value!r}")
        if isinstance(value, float) and not value.is_integer():
            raise ParamError(f"must be an integer, got {value}")
        value = int(value)
        self._check_range(value)
        return value


@dataclass(frozen=True, kw_only=True)
class Float(_Bounded):
    kind: ClassVar[str] = "float"

    def _clean(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"must be a number, got {_type_name(value)} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ParamError(f"must be a finite number, got {value}")
        self._check_range(value)
        return value


@dataclass(frozen=True, kw_only=True)
class Bool(Param):
    kind: ClassVar[str] = "bool"

    def _clean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParamError(f"must be true or false, got {_type_name(value)} {value!r}")
        return value


@dataclass(frozen=True, kw_only=True)
class String(Param):
    """Short text. Numbers are accepted and kept as their text (YAML `0` for `"0"`)."""

    kind: ClassVar[str] = "string"
    max_length: int = 10_000
    # Values the canvas offers to pick from (any text is still accepted): the samples' names.
    suggestions: tuple[str, ...] = ()

    def _json_extra(self) -> dict[str, Any]:
        return {"suggestions": list(self.suggestions)} if self.suggestions else {}

    def _clean(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ParamError(f"must be text, got {_type_name(value)}")
        value = str(value)
        if len(value) > self.max_length:
            raise ParamError(f"must be at most {self.max_length} characters long")
        return value


@dataclass(frozen=True, kw_only=True)
class Code(String):
    """Source code edited with highlighting for `language` (python, sql)."""

    kind: ClassVar[str] = "code"
    language: str = "python"
    max_length: int = 1_000_000

    def _json_extra(self) -> dict[str, Any]:
        return {"language": self.language}


def choice_label(value: str) -> str:
    """A choice's words when its module gives none: "remove_row" -> "Remove row"."""
    return value.replace("_", " ").capitalize()


@dataclass(frozen=True, kw_only=True)
class Choice(Param):
    """One of `choices`, the values a pipeline file holds; `labels` are what people read
    ("remove_row": "Remove entire row"), the value's own words where none is given."""

    kind: ClassVar[str] = "choice"
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def _how_to_set(self) -> str:
        return f"choose one of {', '.join(self.labels.get(c) or choice_label(c) for c in self.choices)}"

    def _clean(self, value: Any) -> str:
        if value not in self.choices:
            raise ParamError(f"must be one of {', '.join(self.choices)}; got {value!r}")
        return str(value)

    def _json_extra(self) -> dict[str, Any]:
        return {
            "choices": list(self.choices),
            "labels": {choice: self.labels.get(choice) or choice_label(choice) for choice in self.choices},
        }


_KINDS = {k.value for k in ColumnKind}
_ROLES = {r.value for r in ColumnRole}


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ParamError(f"{where} must be a list of column names")
    return list(value)


@dataclass(frozen=True, kw_only=True)
class Columns(Param):
    """A column selector: `{include: all | [names] | {types: [...], roles: [...]}, exclude: [names]}`.

    A plain list of names, or a comma-separated string of names, means `{include: [names]}`.
    The normalized form always has both keys.
    """

    kind: ClassVar[str] = "columns"
    # Only meaningful for the canvas: which kinds of column make sense here.
    kinds: tuple[str, ...] = ()
    multiple: bool = True

    def _how_to_set(self) -> str:
        return "choose its columns" if self.multiple else "choose a column"

    def _clean(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            value = {"include": value}
        if not isinstance(value, dict):
            raise ParamError("must be a column selector: a list of names or {include, exclude}")
        unknown = set(value) - {"include", "exclude"}
        if unknown:
            raise ParamError(f"has unknown keys {sorted(unknown)}; use include and exclude")
        include = value.get("include", "all")
        if include != "all":
            if isinstance(include, dict):
                bad = set(include) - {"types", "roles"}
                if bad:
                    raise ParamError(f"include has unknown keys {sorted(bad)}; use types and roles")
                types = _names(include.get("types", []), "include.types")
                roles = _names(include.get("roles", []), "include.roles")
                if set(types) - _KINDS:
                    raise ParamError(
                        f"include.types has {sorted(set(types) - _KINDS)}; allowed: {sorted(_KINDS)}"
                    )
                if set(roles) - _ROLES:
                    raise ParamError(
                        f"include.roles has {sorted(set(roles) - _ROLES)}; allowed: {sorted(_ROLES)}"
                    )
                include = {"types": types, "roles": roles}
            else:
                include = _names(include, "include")
                if not include:
                    raise ParamError("selects no columns")
        exclude = _names(value.get("exclude", []), "exclude")
        if not self.multiple and not (isinstance(include, list) and len(include) == 1 and not exclude):
            raise ParamError("must name exactly one column")
        return {"include": include, "exclude": exclude}

    def _json_extra(self) -> dict[str, Any]:
        return {"kinds": list(self.kinds), "multiple": self.multiple}


@dataclass(frozen=True, kw_only=True)
class Struct(Param):
    """A small group of named sub-params, e.g. split_data's `regex: {column, pattern}`."""

    kind: ClassVar[str] = "struct"
    fields: tuple[Param, ...] = field(default_factory=tuple)

    def _clean(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ParamError(f"must be a mapping with keys {[f.name for f in self.fields]}")
        known = {f.name: f for f in self.fields}
        unknown = set(value) - set(known)
        if unknown:
            raise ParamError(f"has unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        out = {}
        for name, sub in known.items():
            try:
                out[name] = sub.clean(value.get(name, sub.default))
            except ParamError as exc:
                raise ParamError(f"{name} {exc}") from None
        return out

    def _json_extra(self) -> dict[str, Any]:
        return {"fields": [f.to_json() for f in self.fields]}
