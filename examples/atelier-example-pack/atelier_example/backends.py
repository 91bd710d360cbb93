"""The pack's compute backend kind: a target of the local machine that runs one step at a
time, sandboxed like Atelier's own local target (e.g. for steps that need the whole
machine). A kind builds a backend from its target's settings; Atelier's executor needs only
the backend protocol (designer.engine.backends.ComputeBackend)."""
from __future__ import annotations

from designer.engine.backends import ComputeBackend, DefaultTarget, TargetSettings
from designer.engine.local_backend import LocalBackend, StepLimits


class OneAtATime:
    name = "example.one_at_a_time"
    label = "Local processes, one step at a time"
    default_targets: tuple[DefaultTarget, ...] = (
        DefaultTarget("one-at-a-time", "This machine, one step at a time (example pack)."),
    )

    def __init__(self) -> None:
        self._backends: dict[tuple[str, int | None], LocalBackend] = {}

    def unavailable(self) -> str | None:
        return None

    def build(self, target: TargetSettings) -> ComputeBackend:
        # One backend per target's settings: its step servers then serve every run.
        key = (target.name, target.memory_mb)
        if key not in self._backends:
            limits = StepLimits(memory_mb=target.memory_mb or int(target.defaults.get("LOCAL_MEMORY_MB", 4096)))
            self._backends[key] = LocalBackend(capacity=1, limits=limits)
        return self._backends[key]


def kinds() -> list[OneAtATime]:
    return [OneAtATime()]
