"""User-facing errors raised by modules.

A `ModuleError` is the module saying "your data or settings are wrong": its message is
shown to the user as is, next to the node (and param/port) it names. Any other exception
escaping a module is a bug and is reported as an internal error.
"""
from __future__ import annotations

from typing import Any

# The code of a module's refusal to run where a program it needs besides Python (its
# `runtimes`, e.g. R) is absent.
RUNTIME_UNAVAILABLE = "runtime_unavailable"


class ModuleError(Exception):
    """A failure the user can fix: bad data, bad params, a user script that raised."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "module_error",
        param: str | None = None,
        port: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.port = port
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param:
            out["param"] = self.param
        if self.port:
            out["port"] = self.port
        if self.details:
            out["details"] = self.details
        return out
