"""The module registry: built-ins registered by decorator, packs found by entry point.

The registry is frozen once loaded; a pack that fails to import is logged and skipped,
never fatal (one broken plugin must not take the product down).
"""
from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass
import importlib.util
import json
import os
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Iterable, Iterator, Mapping

from .artifacts import trust_types_from
from .module import Module

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "atelier.modules"
# JSON list of {"name", "value"} entry points: the packs a host's steps load where no pack
# is installed (their code is mounted, their metadata is not).
PACKS_ENV = "ATELIER_PACKS"
_builtin: list[type[Module]] = []


def register(cls: type[Module]) -> type[Module]:
    """Class decorator for built-in modules."""
    _builtin.append(cls)
    return cls


class RegistryFrozen(RuntimeError):
    pass


class UnknownModule(LookupError):
    """No module has this id, nor replaces it."""


class UnknownVersion(LookupError):
    """The module exists, but not in this version nor in any older one it could upgrade from."""

    def __init__(self, module_id: str, version: int, known: list[int]) -> None:
        newer = bool(known) and version > max(known)
        super().__init__(
            f"module {module_id!r} has no version {version} (it has {', '.join(map(str, known))})"
            + ("; the pipeline was saved by a newer Atelier or module pack" if newer else "")
        )
        self.version = version
        self.known = known


class MigrationFailed(Exception):
    """A module's `migrate_params` could not turn old params into current ones."""


@dataclass(frozen=True)
class Resolution:
    """What a node naming `from_id` at `from_version` runs as: `module`, with `params` migrated
    to its version. `from_version` is None for a node that names no version (the latest)."""

    module: type[Module]
    params: dict[str, Any]
    from_id: str
    from_version: int | None

    @property
    def upgraded(self) -> bool:
        """The node named another id (one the module replaces) or an older version."""
        return self.from_id != self.module.id or (
            self.from_version is not None and self.from_version != self.module.version
        )


class Registry:
    def __init__(self) -> None:
        self._by_id: dict[str, dict[int, type[Module]]] = {}
        self._replaced: dict[str, str] = {}
        self._frozen = False
        self.load_errors: list[str] = []
        self.packs: list[Pack] = []

    def add(self, cls: type[Module]) -> None:
        if self._frozen:
            raise RegistryFrozen(f"cannot register {cls.id}: the registry is frozen")
        versions = self._by_id.setdefault(cls.id, {})
        if cls.version in versions and versions[cls.version] is not cls:
            raise ValueError(f"module {cls.id} version {cls.version} is registered twice")
        versions[cls.version] = cls
        for old in cls.replaces:
            self._replaced[old] = cls.id

    def freeze(self) -> "Registry":
        self._frozen = True
        return self

    def canonical_id(self, module_id: str) -> str:
        return self._replaced.get(module_id, module_id) if module_id not in self._by_id else module_id

    def get(self, module_id: str, version: int | None = None) -> type[Module] | None:
        versions = self._by_id.get(self.canonical_id(module_id))
        if not versions:
            return None
        if version is None:
            return versions[max(versions)]
        return versions.get(version)

    def resolve(self, module_id: str, version: int | None, params: Mapping[str, Any]) -> Resolution:
        """The module a pipeline node runs, with its params for that module's version.

        A registered version is used as is. A node naming an older version that is no longer
        registered (or an id that another module `replaces`) runs the newest version, its
        params passed through that module's `migrate_params`, as Orange migrates a widget's
        settings: last year's pipelines keep loading after the module changed.

        Raises UnknownModule, UnknownVersion (a version newer than any registered, or not a
        positive number) or MigrationFailed.
        """
        canonical = self.canonical_id(module_id)
        versions = self._by_id.get(canonical)
        if not versions:
            raise UnknownModule(f"there is no module {module_id!r}")
        latest = versions[max(versions)]
        if version is None:
            return Resolution(latest, dict(params), module_id, None)
        if version < 1 or version > latest.version:
            raise UnknownVersion(module_id, version, sorted(versions))
        if canonical == module_id and version in versions:
            return Resolution(versions[version], dict(params), module_id, version)
        migrated: Any = dict(params)
        if version < latest.version:
            try:
                migrated = latest.migrate_params(version, migrated)
            except Exception as exc:  # a pack's migration is its code: whatever it raises is reported
                raise MigrationFailed(
                    f"{latest.id} could not migrate the params of version {version} to version "
                    f"{latest.version}: {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(migrated, dict):
                raise MigrationFailed(
                    f"{latest.id}.migrate_params returned a {type(migrated).__name__}, not a mapping of params"
                )
        return Resolution(latest, migrated, module_id, version)

    def versions(self, module_id: str) -> list[int]:
        return sorted(self._by_id.get(self.canonical_id(module_id), {}))

    def __iter__(self) -> Iterator[type[Module]]:
        for module_id in sorted(self._by_id):
            versions = self._by_id[module_id]
            yield versions[max(versions)]

    def __contains__(self, module_id: object) -> bool:
        return isinstance(module_id, str) and self.get(module_id) is not None

    def load_pack(self, name: str, loaded: object, *, pack: "Pack | None" = None) -> None:
        for cls in _module_classes(loaded):
            if "." not in cls.id:
                raise ValueError(f"pack module id {cls.id!r} must be namespaced, e.g. 'acme.{cls.id}'")
            self.add(cls)
            trust_types_from(cls.__module__.split(".")[0] + ".")
            if pack is not None and pack.distribution:
                # Part of the module's cache keys: a new release of the pack reruns its steps.
                cls.pack = pack.distribution
        if pack is not None:
            self.packs.append(pack)


@dataclass(frozen=True)
class Pack:
    """An installed module pack: its entry point, its distribution (name==version) and where
    its top-level packages are (to mount them where its steps run: sandboxes, containers)."""

    name: str
    value: str
    distribution: str
    code: tuple[tuple[str, str], ...]  # (top-level name, file or folder)

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value}


def _pack_of(ep: EntryPoint) -> Pack:
    dist = ep.dist
    top = ep.value.split(":")[0].split(".")[0]
    spec = importlib.util.find_spec(top)
    where = ""
    if spec is not None:
        where = (list(spec.submodule_search_locations or []) or [spec.origin or ""])[0]
    return Pack(
        name=ep.name, value=ep.value, distribution=f"{dist.name}=={dist.version}" if dist else "",
        code=((top, where),) if where else (),
    )


def _pack_entry_points() -> list[EntryPoint]:
    """The installed packs' entry points, and those a host passes to where its steps run
    (a container or sandbox without the packs' metadata: PACKS_ENV)."""
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    known = {ep.name for ep in found}
    for item in json.loads(os.environ.get(PACKS_ENV) or "[]"):
        if item["name"] not in known:
            found.append(EntryPoint(item["name"], item["value"], ENTRY_POINT_GROUP))
    return found


def _module_classes(loaded: object) -> Iterable[type[Module]]:
    if inspect.isclass(loaded) and issubclass(loaded, Module):
        return [loaded]
    if isinstance(loaded, ModuleType):
        return [
            v for v in vars(loaded).values()
            if inspect.isclass(v) and issubclass(v, Module) and v.id and v.__module__ == loaded.__name__
        ]
    if callable(loaded):
        return list(loaded())
    return list(loaded)  # type: ignore[call-overload]


def load_registry(*, with_packs: bool = True) -> Registry:
    importlib.import_module("modules.builtin")
    registry = Registry()
    for cls in _builtin:
        registry.add(cls)
    if with_packs:
        for ep in _pack_entry_points():
            try:
                registry.load_pack(ep.name, ep.load(), pack=_pack_of(ep))
            except Exception as exc:  # a broken pack is skipped, whatever it raised
                message = f"module pack {ep.name!r} ({ep.value}) could not be loaded: {exc}"
                logger.warning(message)
                registry.load_errors.append(message)
    return registry.freeze()


_default: Registry | None = None


def default_registry() -> Registry:
    global _default
    if _default is None:
        _default = load_registry()
    return _default
