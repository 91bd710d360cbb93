"""The declarative `Module` base class and its immutable spec.

A module declares its ports and params in three nested classes, Orange style::

    @register
    class SplitData(Module):
        id = "split_data"
        name = "Split Data"
        category = "Data Transformation"

        class Inputs:
            dataset = Input(type=PortType.DATAFRAME)

        class Outputs:
            first = Output(type=PortType.DATAFRAME)
            second = Output(type=PortType.DATAFRAME)

        class Params:
            fraction = Float(default=0.5, min=0, max=1)

        def run(self, ctx, params, dataset):
            ...
            return {"first": a, "second": b}

Inputs and outputs live in separate namespaces because many modules have an input and an
output of the same name (`dataset` in, `dataset` out).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from .params import Choice, Param, ParamError
from .ports import Input, Output

if TYPE_CHECKING:
    from .context import StepContext
    from .schema import Schema


@dataclass(frozen=True)
class ModuleSpec:
    id: str
    version: int
    name: str
    category: str
    description: str
    help: str
    deterministic: bool
    replaces: tuple[str, ...]
    inputs: Mapping[str, Input]
    outputs: Mapping[str, Output]
    params: Mapping[str, Param]
    runs_user_code: bool = False
    runtimes: tuple[str, ...] = ()
    request_input: bool = False
    keywords: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "help": self.help,
            "deterministic": self.deterministic,
            "replaces": list(self.replaces),
            "inputs": [p.to_json() for p in self.inputs.values()],
            "outputs": [p.to_json() for p in self.outputs.values()],
            "params": [p.to_json() for p in self.params.values()],
            "runs_user_code": self.runs_user_code,
            "runtimes": list(self.runtimes),
            "request_input": self.request_input,
            "keywords": list(self.keywords),
        }

    def clean_params(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Validate raw params against the declarations.

        Returns (cleaned values for every declared param, {param: error message}).
        Unknown params are errors too: a typo must not be silently ignored.
        """
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in raw:
            if name not in self.params:
                errors[name] = f"is not a param of {self.id} (known: {', '.join(self.params) or 'none'})"
        for name, decl in self.params.items():
            try:
                cleaned[name] = decl.clean(raw.get(name, decl.default))
            except ParamError as exc:
                errors[name] = str(exc)
        return cleaned, errors


class ParamValues(dict[str, Any]):
    """Cleaned param values with attribute access (`params.fraction`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _collect(holder: type | None, kind: type) -> dict[str, Any]:
    if holder is None:
        return {}
    found = {}
    for attr, value in vars(holder).items():
        if isinstance(value, kind):
            found[attr] = dataclasses.replace(value, name=attr)  # type: ignore[type-var]
    return found


def _check_param_declarations(module_id: str, params: Mapping[str, Param]) -> None:
    """A module's `when` and `labels` name params and choices it has (a typo would hide a
    field for good, or label nothing)."""
    for param in params.values():
        for other, values in param.when.items():
            target = params.get(other)
            if target is None or other == param.name:
                raise TypeError(f"{module_id}: param {param.name!r} applies `when` {other!r}, which is not another param")
            if isinstance(target, Choice) and not set(values) <= set(target.choices):
                raise TypeError(f"{module_id}: param {param.name!r} applies `when` {other!r} is {values}, not among its choices")
        if isinstance(param, Choice) and not set(param.labels) <= set(param.choices):
            raise TypeError(f"{module_id}: param {param.name!r} labels {sorted(set(param.labels) - set(param.choices))}, not choices")


class Module:
    """Base class of every module. Subclasses declare; `run` does the work.

    Class attributes: `id`, `version`, `name`, `category`, `description`, `help`
    (markdown shown in the palette), `deterministic` (False disables output reuse),
    `replaces` (ids this module supersedes, so old pipelines keep loading); `version` with
    `migrate_params` upgrades pipelines saved with an older version; `runs_user_code`
    (True: it runs code its user wrote, which only a sandbox may run for anyone but staff);
    `keywords`: what people search for when they want what it does in other words than its
    name ("drop column", "one-hot"), which the palette's search finds it by.
    """

    id: ClassVar[str] = ""
    version: ClassVar[int] = 1
    name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    description: ClassVar[str] = ""
    help: ClassVar[str] = ""
    deterministic: ClassVar[bool] = True
    replaces: ClassVar[tuple[str, ...]] = ()
    runs_user_code: ClassVar[bool] = False
    # Programs besides Python its steps run (e.g. "R"): validation refuses the node on a
    # compute target that does not provide one of them.
    runtimes: ClassVar[tuple[str, ...]] = ()
    # True: the module marks where a request's table enters the pipeline when it serves
    # requests (Web Service Input). It is never a step: in a pipeline run its edges are
    # inactive, and when the pipeline serves, the request's table is bound to the inputs it
    # feeds. It declares no inputs and one table output, and does not implement `run`.
    request_input: ClassVar[bool] = False
    keywords: ClassVar[tuple[str, ...]] = ()
    # The distribution ("name==version") of the pack that registered it; None: built in.
    pack: ClassVar[str | None] = None
    # ParamValues with which the conformance check runs this module on `example_table()`
    # (see modules.sdk.conformance); only needed where defaults can't run there.
    example_params: ClassVar[dict[str, Any]] = {}
    spec: ClassVar[ModuleSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.id:
            return  # an abstract intermediate base
        cls.spec = ModuleSpec(
            id=cls.id,
            version=cls.version,
            name=cls.name or cls.id.replace("_", " ").title(),
            category=cls.category or "Other",
            description=cls.description or (cls.__doc__ or "").strip().split("\n")[0],
            help=cls.help or (cls.__doc__ or "").strip(),
            deterministic=cls.deterministic,
            replaces=tuple(cls.replaces),
            inputs=MappingProxyType(_collect(getattr(cls, "Inputs", None), Input)),
            outputs=MappingProxyType(_collect(getattr(cls, "Outputs", None), Output)),
            params=MappingProxyType(_collect(getattr(cls, "Params", None), Param)),
            runs_user_code=cls.runs_user_code,
            runtimes=tuple(cls.runtimes),
            request_input=cls.request_input,
            keywords=tuple(cls.keywords),
        )
        _check_param_declarations(cls.id, cls.spec.params)

    # Called as run(ctx: StepContext, params: ParamValues, <one keyword per input port>);
    # declared untyped past self so that each module's own signature, which names its
    # ports, is a valid override.
    def run(self, *args: Any, **inputs: Any) -> dict[str, Any]:
        """Do the work. Inputs arrive by port name (None for an unconnected optional input);
        return a dict of outputs by port name."""
        raise NotImplementedError

    @classmethod
    def infer_schema(
        cls, params: ParamValues, inputs: Mapping[str, "Schema | None"]
    ) -> Mapping[str, "Schema | None"]:
        """Output table schemas computed from input schemas, before anything runs.

        Used by column pickers; return None for a port whose columns can't be known.
        Raise ModuleError for a problem visible from the schemas alone (a column that does
        not exist): validation then reports it on the node before anything runs.
        """
        return {}

    @classmethod
    def migrate_params(cls, from_version: int, params: dict[str, Any]) -> dict[str, Any]:
        """Turn params saved with `from_version` of this module (or of a module it `replaces`,
        whose version numbers it continues) into params for `version`.

        Orange's `migrate_settings` is the model: one method for every older version, each
        step guarded by `if from_version < N:`, so a version-1 node goes through them all.
        `params` is the node's own copy, as saved: params left at their defaults are absent,
        and values may still be `${{parameters.x}}` references, to pass through untouched.
        Only bump `version` (and migrate here) when a change would alter what a saved
        pipeline does or refuse its params.
        """
        return params

    @classmethod
    def example_resources(cls, folder: Path) -> dict[str, Any]:
        """The step resources the conformance check runs this module with (e.g. a dataset
        catalog it makes in `folder`); most modules need none."""
        return {}

    @classmethod
    def fetches(cls, params: ParamValues) -> Mapping[str, str]:
        """URLs the host downloads before the step runs (steps have no network), by name;
        the step finds each file at `ctx.fetched[name]`."""
        return {}

    @classmethod
    def bound_inputs(cls, params: ParamValues) -> Mapping[str, str]:
        """Input ports fed from an artifact already in the store (sha256 digest, by port)
        rather than by an upstream node, e.g. a job's code snapshot; the step reads them as
        it reads any input, and they count in its cache key."""
        return {}

    @classmethod
    def fingerprint(cls, params: ParamValues, resources: Mapping[str, Any]) -> str | None:
        """Extra cache-key material for what the inputs don't capture (e.g. a file read).

        Return None when nothing outside the inputs and params matters.
        """
        return None
