"""Trainer modes: a learner trains with single param values, or offers ranges to sweep.

Every learner declares `trainer_mode` (TRAINER_MODE) and, next to each param worth tuning,
a `<param>_range` (a `ValueRange` of that param's declaration). In `single_parameter` mode
Train Model fits the single values; in `parameter_range` mode Tune Model Hyperparameters
sweeps the ranges (every combination, or a random sample of them) and keeps the best
model. A learner gets both by declaring the params, nothing else: `range_params` finds the
pairs, and `candidates` turns a learner's cleaned params into the combinations to try, each
a full set of single values for the learner's own `build`.

A range is written as the designer writes it, values separated by `;` (or `,`):
`2; 8; 32; 128`, or as a range to spread `count` values over: `min:max:count` (evenly) or
`min:max:count:log` (evenly on a log scale), e.g. `0.01:1:5:log`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np
from sklearn.model_selection import ParameterGrid, ParameterSampler

from modules.sdk import Choice, Float, Int, ModuleSpec, Param
from modules.sdk.params import ParamError

SINGLE_PARAMETER = "single_parameter"
PARAMETER_RANGE = "parameter_range"
RANGE_SUFFIX = "_range"

TRAINER_MODE = Choice(
    choices=(SINGLE_PARAMETER, PARAMETER_RANGE), default=SINGLE_PARAMETER,
    help="single_parameter: train with the values set here (Train Model); parameter_range: "
    "let Tune Model Hyperparameters try the *_range values and keep the best model",
)
MAX_VALUES = 1000  # per range: a sweep over more is a mistake, not a plan


@dataclass(frozen=True, kw_only=True)
class ValueRange(Param):
    """The values to try for one param in `parameter_range` mode, each checked against `of`,
    that param's own declaration (its type and bounds)."""

    kind: ClassVar[str] = "range"
    of: Int | Float
    # A range is only read in parameter_range mode; its module has a trainer_mode param.
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=lambda: {"trainer_mode": (PARAMETER_RANGE,)}, hash=False)

    def _clean(self, value: Any) -> list[int | float]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values: list[Any] = [value]
        elif isinstance(value, list):
            values = value
        elif isinstance(value, str) and ":" in value:
            values = _spread(value)
            if isinstance(self.of, Int):  # spread over a whole-number param: nearest whole numbers
                values = [int(round(v)) for v in values]
        elif isinstance(value, str):
            values = _parse(value)
        else:
            raise ParamError("must be values separated by ';' (e.g. 2; 8; 32) or min:max:count[:log]")
        if not values:
            raise ParamError("holds no value")
        if len(values) > MAX_VALUES:
            raise ParamError(f"holds {len(values)} values; at most {MAX_VALUES}")
        cleaned = []
        for item in values:
            try:
                cleaned.append(self.of.clean(item))
            except ParamError as exc:
                raise ParamError(f"value {item!r} {exc}") from None
        return list(dict.fromkeys(cleaned))

    def _json_extra(self) -> dict[str, Any]:
        return {"value_type": self.of.kind, "min": self.of.min, "max": self.of.max}


def _parse(text: str) -> list[Any]:
    values: list[Any] = []
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(float(part) if any(c in part for c in ".eE") else int(part))
        except ValueError:
            raise ParamError(f"{part!r} is not a number") from None
    return values


def _spread(text: str) -> list[float]:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "linear")):
        raise ParamError(f"{text!r} is not min:max:count or min:max:count:log")
    try:
        low, high, count = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ParamError(f"{text!r} needs numbers for min and max and a whole count") from None
    if count < 1 or count > MAX_VALUES:
        raise ParamError(f"count must be from 1 to {MAX_VALUES}, got {count}")
    if low > high:
        raise ParamError(f"min {low} is above max {high}")
    if len(parts) == 4 and parts[3] == "log":
        if low <= 0:
            raise ParamError("a log scale needs a positive min")
        spread = np.geomspace(low, high, count)
    else:
        spread = np.linspace(low, high, count)
    return [float(v) for v in spread]


def range_params(spec: ModuleSpec) -> dict[str, str]:
    """{param: its range param} for every param a learner offers a range for."""
    return {
        name[: -len(RANGE_SUFFIX)]: name
        for name, decl in spec.params.items()
        if isinstance(decl, ValueRange) and name[: -len(RANGE_SUFFIX)] in spec.params
    }


def grid(spec: ModuleSpec, params: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The values to try for each ranged param."""
    return {name: list(params[range_name]) for name, range_name in range_params(spec).items()}


def candidates(
    spec: ModuleSpec, params: Mapping[str, Any], *, sweep: str, max_runs: int, seed: int
) -> list[dict[str, Any]]:
    """Full single-value param sets to train, one per combination to try.

    `sweep = "grid"` tries every combination; `"random"` draws `max_runs` of them without
    repeats (all of them when there are fewer), with `seed`.
    """
    values = grid(spec, params)
    size = math.prod(len(v) for v in values.values())
    if sweep == "grid" or size <= max_runs:
        chosen = list(ParameterGrid(values))
    else:
        chosen = list(ParameterSampler(values, n_iter=max_runs, random_state=seed))
    base = {name: value for name, value in params.items() if not name.endswith(RANGE_SUFFIX)}
    return [{**base, **combination, "trainer_mode": SINGLE_PARAMETER} for combination in chosen]
