from __future__ import annotations

from typing import Any

import pytest

from designer.pipelines import services
from designer.pipelines.models import Pipeline

DATA = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(10))


def document(name: str = "regression", **nodes: Any) -> dict[str, Any]:
    """A pipeline file as data; a valid two-node graph unless `nodes` are given."""
    return {
        "format": "atelier/pipeline@1",
        "name": name,
        "parameters": {"fraction": {"type": "float", "default": 0.7}},
        "nodes": nodes or {
            "typed": {"module": "enter_data_manually", "params": {"data": DATA}},
            "split": {
                "module": "split_data", "inputs": {"dataset": "typed.dataset"},
                "params": {"fraction": "${{parameters.fraction}}"},
            },
        },
        "layout": {"typed": {"x": 40, "y": 40}, "split": {"x": 40, "y": 160}},
    }


@pytest.fixture
def pipeline(user) -> Pipeline:
    return services.pipeline_create(user=user, document=document())
