"""Compute backends: the kinds of compute targets, registered like modules.

A compute target (data: a name, a kind, limits, an environment) runs its steps through a
backend, which the target's *kind* builds. Atelier's own kinds (`local`: sandboxed
processes, `docker`: containers) are registered by the apps the same way a pack
registers its kinds: an object with a `name`, a `label`, `build(target)` and
`unavailable()`, added to the registry by `register_backend` or found through the
`atelier.compute_backends` entry-point group. A kind may name default targets, which a
deployment creates when it migrates (so a pack's target appears in /api/compute/). A
pack that fails to load is logged and skipped, never fatal; the registry is frozen once
loaded.

No Django here: a backend is plain Python, and a kind gets its target as plain data.
"""
from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol

from .environments import EnvironmentSpec
from .events import Waiting
from .step_errors import StepError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "atelier.compute_backends"


class StepHandle(Protocol):
    """A started step: its output stream, how it ended, and how to stop it."""

    output_fd: int
    sentinel: int  # readable when the step has ended
    placement: dict[str, Any]  # where it runs, recorded on its step run
    # Why the compute stopped the step, when it knows and the step could not say (its
    # memory limit, say); read once it has ended.
    stopped_for: StepError | None

    def read_output(self) -> bytes: ...
    def exit_code(self) -> int | None: ...
    def kill(self) -> None: ...
    def close(self) -> None: ...


class ComputeBackend(Protocol):
    """Runs steps, `capacity` at once. One whose `start` may take long (a container, an
    environment to build) says so with a true `starts_slowly`: its steps are started off the
    executor's thread and are "preparing" meanwhile, while the other steps go on and cancel
    is heard. Before something in `start` that makes the step wait (a server to start, an
    image to build), a backend may call `report_waiting`: the step's watchers learn why."""

    name: str
    capacity: int
    starts_slowly: bool
    # Whether a user's code is confined here (a sandbox, a container): where it is not,
    # only trusted users (staff) may run modules that run their code.
    sandboxed: bool

    def start(self, request: dict[str, Any], step_dir: Path) -> StepHandle: ...


# Who hears what the step being started waits for: set by the executor around `start`, on
# the thread that calls it (a context variable, so that the protocol's `start` keeps its
# signature and a pack's backend need not know of it).
_waiting_reporter: ContextVar[Callable[[Waiting], None] | None] = ContextVar("waiting_reporter", default=None)


def report_waiting(reason: Waiting) -> None:
    """Tell the watchers of the step being started what it waits for now (nothing outside
    a start)."""
    report = _waiting_reporter.get()
    if report is not None:
        report(reason)


@contextlib.contextmanager
def reporting_waits(report: Callable[[Waiting], None]) -> Iterator[None]:
    """`report` hears what `report_waiting` is told within the block, on this thread."""
    token = _waiting_reporter.set(report)
    try:
        yield
    finally:
        _waiting_reporter.reset(token)


@dataclass(frozen=True)
class TargetSettings:
    """A compute target as its kind sees it: its own settings, empty ones left to the
    deployment's defaults (`defaults`, e.g. DOCKER_MEMORY_MB)."""

    name: str
    capacity: int | None = None
    memory_mb: int | None = None
    cpus: float | None = None
    pids: int | None = None
    environment: EnvironmentSpec | None = None
    environment_id: int | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DefaultTarget:
    """A target a deployment creates for a kind when it migrates (kept as the admin leaves it)."""

    name: str
    description: str = ""
    needs_environment: bool = False  # given the default environment


class BackendKind(Protocol):
    name: str  # a pack's kinds are namespaced, e.g. "acme.slurm"
    label: str
    default_targets: tuple[DefaultTarget, ...]

    def build(self, target: TargetSettings) -> ComputeBackend: ...
    def unavailable(self) -> str | None:
        """Why targets of this kind cannot run steps here now (None: they can)."""


class BackendRegistryFrozen(RuntimeError):
    pass


class BackendRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, BackendKind] = {}
        self._frozen = False
        self.load_errors: list[str] = []

    def add(self, kind: BackendKind) -> None:
        if self._frozen:
            raise BackendRegistryFrozen(f"cannot register compute backend {kind.name}: the registry is frozen")
        if kind.name in self._kinds and self._kinds[kind.name] is not kind:
            raise ValueError(f"compute backend {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> BackendKind | None:
        return self._kinds.get(name)

    def __iter__(self) -> Iterator[BackendKind]:
        return iter(sorted(self._kinds.values(), key=lambda kind: kind.name))

    def load_packs(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
                kinds = loaded() if callable(loaded) and not hasattr(loaded, "build") else loaded
                for kind in kinds if isinstance(kinds, (list, tuple)) else [kinds]:
                    if "." not in kind.name:
                        raise ValueError(f"a pack's compute backend must be namespaced, e.g. 'acme.{kind.name}'")
                    self.add(kind)
            except Exception as exc:  # a broken pack is skipped, whatever it raised
                message = f"compute backend pack {ep.name!r} ({ep.value}) could not be loaded: {exc}"
                logger.warning(message)
                self.load_errors.append(message)

    def freeze(self) -> "BackendRegistry":
        self._frozen = True
        return self
