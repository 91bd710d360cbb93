"""Columns known before anything runs, and column errors found at validation."""
from designer.engine.pipeline_file import load_pipeline
from designer.engine.schema_propagation import propagate_schemas
from designer.engine.validation import validate_pipeline
from designer.samples import SAMPLES_DIR
from modules.builtin.samples import load_sample
from modules.sdk import default_registry
from modules.sdk.schema import Schema


def resolved(text):
    return validate_pipeline(load_pipeline(text), registry=default_registry()).require()


def test_automobile_columns_flow_through_select_clean_and_split():
    schemas, errors = propagate_schemas(resolved((SAMPLES_DIR / "automobile-price-regression.yaml").read_text()))
    assert errors == []
    raw = list(load_sample("automobile-price-raw").columns)
    assert schemas["cars"]["dataset"].names == raw
    expected = [c for c in raw if c != "normalized-losses"]
    for node, port in [("select", "dataset"), ("clean", "dataset"), ("split", "first"), ("split", "second")]:
        assert schemas[node][port].names == expected, (node, port)
    assert schemas["train"] == {"model": None}


def test_a_missing_column_is_named_before_running(pipeline_text):
    text = pipeline_text({
        "cars": {"module": "import_data", "params": {"source": "sample", "name": "automobile-price-raw"}},
        "pick": {"module": "select_columns", "inputs": {"dataset": "cars.dataset"}, "params": {"columns": ["make", "wheels"]}},
    })
    _, errors = propagate_schemas(resolved(text))
    assert [(e.code, e.node, e.param) for e in errors] == [("unknown_column", "pick", "columns")]
    assert "'wheels' not found" in errors[0].message


def test_schemas_seen_on_earlier_runs_fill_what_inference_cannot(pipeline_text):
    text = pipeline_text({
        "cars": {"module": "import_data", "params": {"source": "sample", "name": "iris"}},
        "py": {"module": "execute_python_script", "inputs": {"dataset1": "cars.dataset"}},
        "pick": {"module": "select_columns", "inputs": {"dataset": "py.dataset1"}, "params": {"columns": ["class"]}},
    })
    graph = resolved(text)
    schemas, _ = propagate_schemas(graph)
    assert schemas["py"]["dataset1"] is None and schemas["pick"]["dataset"] is None
    seen = Schema.from_json([{"name": "class", "kind": "string"}, {"name": "petal", "kind": "numeric"}])
    schemas, _ = propagate_schemas(graph, known={("py", "dataset1"): seen})
    assert schemas["pick"]["dataset"].names == ["class"]
