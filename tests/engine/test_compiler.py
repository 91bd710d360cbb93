"""Compilation: topological plans and cache keys that change exactly when they should."""
from designer.engine.cache_keys import cache_key
from designer.engine.compiler import Plan, compile_plan
from designer.engine.pipeline_file import load_pipeline
from designer.engine.validation import validate_pipeline
from designer.samples import SAMPLES_DIR
from modules.sdk import default_registry

AUTOMOBILE = (SAMPLES_DIR / "automobile-price-regression.yaml").read_text()


def plan_of(text, parameters=None):
    doc = load_pipeline(text)
    return compile_plan(validate_pipeline(doc, registry=default_registry(), parameters=parameters).require())


def test_steps_come_in_dependency_order():
    plan = plan_of(AUTOMOBILE)
    order = [s.node for s in plan.steps]
    assert order.index("cars") < order.index("select") < order.index("clean") < order.index("split")
    assert order.index("split") < order.index("train") and order.index("algorithm") < order.index("train")
    assert order[-1] == "evaluate"
    assert plan.step("train").inputs == {"model": ("algorithm", "model"), "dataset": ("split", "first")}


def test_signatures_are_stable_and_follow_params():
    first, again = plan_of(AUTOMOBILE), plan_of(AUTOMOBILE)
    assert [s.signature for s in first.steps] == [s.signature for s in again.steps]
    changed = plan_of(AUTOMOBILE, parameters={"train_fraction": "0.6"})
    assert changed.step("split").signature != first.step("split").signature
    assert changed.step("cars").signature == first.step("cars").signature


def test_equivalent_param_spellings_share_a_signature():
    # `columns: [a]` and `columns: {include: [a]}` are the same selector once normalized.
    base = AUTOMOBILE.replace("{columns: {include: all, exclude: [normalized-losses]}}",
                              "{columns: {exclude: [normalized-losses], include: all}}")
    assert plan_of(base).step("select").signature == plan_of(AUTOMOBILE).step("select").signature


def test_cache_key_depends_on_input_content():
    assert cache_key("sig", {"dataset": "aaa"}) != cache_key("sig", {"dataset": "bbb"})
    assert cache_key("sig", {"a": "1", "b": "2"}) == cache_key("sig", {"b": "2", "a": "1"})


def test_plan_survives_a_json_round_trip():
    plan = plan_of(AUTOMOBILE)
    assert Plan.from_json(plan.to_json()) == plan
