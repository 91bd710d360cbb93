"""Port declarations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .types import PortType


@dataclass(frozen=True, kw_only=True)
class Input:
    type: PortType
    optional: bool = False
    help: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value, "optional": self.optional, "help": self.help}


@dataclass(frozen=True, kw_only=True)
class Output:
    type: PortType
    help: str = ""
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type.value, "help": self.help}
