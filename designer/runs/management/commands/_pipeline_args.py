"""Argument handling shared by the pipeline commands."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError


def read_pipeline_file(path: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    return file.read_bytes()


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CommandError(f"--param takes NAME=VALUE, got {pair!r}")
        params[name.strip()] = value
    return params
