"""The scheduling rule, on plain step states (no executor, no database)."""
from __future__ import annotations

from designer.engine.events import Status
from designer.engine.scheduler import decide

from .test_executor import IRIS, plan_of, script

Q, R, C, F, S, X, U = (Status.QUEUED, Status.RUNNING, Status.COMPLETED, Status.FAILED, Status.SKIPPED,
                       Status.CANCELLED, Status.REUSED)
# iris -> a -> b, iris -> c (a and c independent)
NODES = {"iris": IRIS, "a": script("return dataframe1,"), "b": script("return dataframe1,", inputs="a.dataset1"),
         "c": script("return dataframe1,")}


def states(**given: Status) -> dict[str, Status]:
    return {"iris": Q, "a": Q, "b": Q, "c": Q, **given}


def test_a_step_is_ready_once_its_upstream_succeeded():
    plan = plan_of(NODES)
    assert decide(plan, states()).ready == ("iris",)
    assert decide(plan, states(iris=U)).ready == ("a", "c")
    assert decide(plan, states(iris=C, a=R, c=C)).ready == ()
    assert decide(plan, states(iris=C, a=C, c=R)).ready == ("b",)


def test_a_failure_halts_the_run_unless_it_goes_on_after_failures():
    halted = decide(plan_of(NODES), states(iris=C, a=F, c=Q))
    assert halted.ready == () and halted.ended == {"b": S, "c": S} and halted.final is Status.FAILED
    going = decide(plan_of(NODES, continue_on_step_failure=True), states(iris=C, a=F, c=Q))
    assert going.ready == ("c",) and going.ended == {"b": S} and going.final is None


def test_a_skip_propagates_downstream_in_one_decision():
    plan = plan_of(NODES, continue_on_step_failure=True)
    decision = decide(plan, states(iris=F))
    assert decision.ended == {"a": S, "b": S, "c": S} and decision.final is Status.FAILED


def test_cancelling_ends_every_step_not_started_as_cancelled_and_the_run_too():
    decision = decide(plan_of(NODES), states(iris=C, a=R), cancelled=True)
    assert decision.ended == {"b": X, "c": X} and decision.final is None  # `a` is the caller's to stop
    assert decide(plan_of(NODES), states(iris=C, a=X, b=X, c=X), cancelled=True).final is Status.CANCELLED


def test_a_run_of_reused_and_completed_steps_completes():
    assert decide(plan_of(NODES), states(iris=U, a=C, b=C, c=U)).final is Status.COMPLETED
