"""Which compute targets can run steps here now, and where whose code may run."""
from __future__ import annotations

from typing import Any

from modules.builtin.r_script import R

from .backends import backend_of, compute_target_available, compute_target_unavailable, environment_id_of
from .selectors import compute_target_list


def compute_targets() -> list[str]:
    """The compute targets pipelines may name here: those that can run steps now."""
    return [t.name for t in compute_target_list() if compute_target_available(t)]


def unavailable_compute_targets() -> dict[str, str]:
    """The compute targets that exist but cannot run steps here now, with the reason."""
    return {
        t.name: reason for t in compute_target_list() if (reason := compute_target_unavailable(t)) is not None
    }


def compute_runtimes() -> dict[str, tuple[str, ...]]:
    """The programs besides Python each compute target provides: R on a docker target whose
    environment includes it."""
    return {
        t.name: (R,) for t in compute_target_list().select_related("environment")
        if t.backend == "docker" and t.environment is not None and t.environment.with_r
    }


def environment_of(compute: str) -> str:
    """The environment a compute target runs steps in, for cache keys."""
    return environment_id_of(compute_target_list().filter(name=compute).first())


def trusted_with_code(user: Any) -> bool:
    """Whether `user`'s code may run where no sandbox confines it: staff, or the operator at
    the command line (no user)."""
    return user is None or bool(user.is_staff)


def code_refused(user: Any) -> dict[str, str]:
    """The compute targets where `user` may not run modules that run users' code, and why."""
    if trusted_with_code(user):
        return {}
    return {
        t.name: "has no sandbox on this server, so only staff may run code there: choose a docker compute "
                "target, or ask an administrator to install bubblewrap"
        for t in compute_target_list() if not backend_of(t).sandboxed
    }
