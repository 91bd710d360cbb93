"""Fixtures shared by every test folder."""
from __future__ import annotations

import textwrap

import pytest
import yaml


@pytest.fixture
def pipeline_text():
    """Build a pipeline file's text from a nodes mapping (plus optional top-level keys)."""

    def build(nodes: dict, **top) -> str:
        data = {"format": "atelier/pipeline@1", "name": "test", **top, "nodes": nodes}
        return yaml.safe_dump(data, sort_keys=False)

    return build


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
