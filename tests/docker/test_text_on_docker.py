"""Word vectors train in a step container as they do locally: gensim is in the default
environment, pinned like the other runtime packages."""
from __future__ import annotations

import pandas as pd

from designer.engine.events import Status
from designer.engine.executor import Executor
from designer.engine.local_backend import LocalBackend
from modules.sdk.artifacts import read_table

from .conftest import plan_of

NODES = {
    "reviews": {"module": "import_data", "params": {"source": "sample", "name": "product-reviews"}},
    "clean": {"module": "preprocess_text", "inputs": {"dataset": "reviews.dataset"}, "params": {"text_column": "review"}},
    "vectors": {
        "module": "convert_word_to_vector", "inputs": {"dataset": "clean.dataset"},
        "params": {"text_column": "Preprocessed review", "embedding_length": 16, "epochs": 3, "seed": 1},
    },
}


def test_word_vectors_are_the_same_on_docker_as_on_local(make_backend, store):
    backends = {"local": LocalBackend(capacity=1), "docker": make_backend(capacity=1)}
    tables = {}
    for compute in ("local", "docker"):
        plan = plan_of(NODES, computes=("local", "docker"), default_compute=compute)
        result = Executor(store=store, backends=backends).run(plan, force_rerun=True)
        assert result.status is Status.COMPLETED, {n: s.error for n, s in result.steps.items() if s.error}
        tables[compute] = read_table(store.path(result.steps["vectors"].outputs["vocabulary"]["artifact"]))
    assert len(tables["local"]) > 20
    pd.testing.assert_frame_equal(tables["docker"], tables["local"])
