"""Graph errors as data: what the CLI prints, the API returns and the canvas marks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GraphError:
    """One problem with a pipeline. `code` is stable; `message` is for people."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    param: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "node": self.node}
        if self.port is not None:
            out["port"] = self.port
        if self.param is not None:
            out["param"] = self.param
        if self.details:
            out["details"] = self.details
        return out

    def describe(self) -> str:
        """One line for a terminal: where, then what."""
        where = []
        if self.node:
            where.append(f"node {self.node!r}")
        if self.port:
            where.append(f"port {self.port!r}")
        if self.param:
            where.append(f"param {self.param!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class PipelineInvalid(Exception):
    """Raised by entry points that need a valid pipeline (compile, run)."""

    def __init__(self, errors: list[GraphError]) -> None:
        super().__init__("; ".join(e.describe() for e in errors))
        self.errors = errors
