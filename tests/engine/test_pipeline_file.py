import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.engine.errors import PipelineInvalid
from designer.engine.pipeline_file import dump_pipeline, load_pipeline, pipeline_from_data
from designer.samples import sample_pipeline_files


def errors_of(text):
    with pytest.raises(PipelineInvalid) as info:
        load_pipeline(text)
    return [e.to_json() for e in info.value.errors]


@pytest.mark.parametrize("path", sample_pipeline_files(), ids=lambda p: p.stem)
def test_samples_round_trip_through_yaml_and_json(path):
    doc = load_pipeline(path.read_text())
    assert load_pipeline(dump_pipeline(doc, "json")) == doc
    assert load_pipeline(dump_pipeline(doc, "yaml")) == doc


def test_json_and_yaml_carry_the_same_structure(pipeline_text):
    text = pipeline_text({"a": {"module": "import_data", "params": {"name": "iris"}}})
    doc = load_pipeline(text)
    assert load_pipeline(json.dumps(doc.to_data())) == doc
    assert json.loads(dump_pipeline(doc, "json"))["format"] == "atelier/pipeline@1"


def test_unknown_key_in_a_node_names_the_node_and_the_key(pipeline_text):
    errors = errors_of(pipeline_text({"cars": {"module": "import_data", "parms": {}}}))
    assert errors == [{"code": "unknown_key", "message": "unknown key 'parms' in nodes.cars", "node": "cars"}]


def test_unknown_top_level_key_is_an_error(pipeline_text):
    errors = errors_of(pipeline_text({}, colour="blue"))
    assert errors[0]["code"] == "unknown_key" and "colour" in errors[0]["message"]


def test_two_edges_into_one_input_are_reported_on_that_input():
    text = """
format: atelier/pipeline@1
name: t
nodes:
  a: {module: import_data}
  b: {module: import_data}
  s:
    module: select_columns
    inputs:
      dataset: a.dataset
      dataset: b.dataset
"""
    errors = errors_of(text)
    assert errors == [{
        "code": "duplicate_input_edge",
        "message": "input 'dataset' has two edges; an input takes one, or a list of two when one of them is a Web "
                   "Service Input",
        "node": "s", "port": "dataset",
    }]


def test_duplicate_json_keys_are_caught_too():
    text = '{"format": "atelier/pipeline@1", "name": "t", "nodes": {"a": {"module": "x"}, "a": {"module": "y"}}}'
    assert errors_of(text)[0]["code"] == "duplicate_key"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("this is plain prose, not a pipeline", "must hold a mapping"),
        ("nodes: [unclosed", "not valid YAML at line 1"),
        ('{"format": "atelier/pipeline@1", "name": ', "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
        ("format: atelier/pipeline@9\nname: x\n", "format must be"),
    ],
)
def test_files_that_are_not_pipelines_get_a_clear_message(text, fragment):
    errors = errors_of(text)
    assert fragment in errors[0]["message"]


def test_bad_node_id_is_rejected(pipeline_text):
    errors = errors_of(pipeline_text({"has space": {"module": "import_data"}}))
    assert "node id 'has space'" in errors[0]["message"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_arbitrary_text_never_raises_anything_but_pipeline_invalid(data):
    try:
        load_pipeline(data)
    except PipelineInvalid as exc:
        assert exc.errors and all(e.message for e in exc.errors)


def test_yaml_aliases_are_refused_so_a_small_file_cannot_explode():
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n'
    assert "aliases (*name) are not allowed" in errors_of(bomb)[0]["message"]


@pytest.mark.parametrize("text", ["[" * 100_000, "a:\n" + "".join(" " * i + "- \n" for i in range(3000))])
def test_deeply_nested_files_are_refused_not_crashed(text):
    errors = errors_of(text)
    assert errors[0]["code"] == "not_a_pipeline_file"


def test_deeply_nested_data_from_an_api_body_is_refused_not_crashed():
    data = {"format": "atelier/pipeline@1", "name": "x", "nodes": {"a": {"module": "m", "params": {}}}}
    deep = data["nodes"]["a"]["params"]
    for _ in range(5000):
        deep["p"] = {}
        deep = deep["p"]
    with pytest.raises(PipelineInvalid) as info:
        pipeline_from_data(data)
    assert info.value.errors[0].message == "the pipeline is nested too deeply"
