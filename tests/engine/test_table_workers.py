"""Table workers: work runs in other processes, not forked from the caller, each held to its
memory limit; a worker that runs out of memory, or dies, costs that one call only."""
from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator

import pytest

from designer.engine.table_workers import TableWorkerOutOfMemory, TableWorkers
from modules.sdk import ModuleError

MEMORY_MB = 1536


@pytest.fixture(scope="module")
def workers() -> Iterator[TableWorkers]:
    pool = TableWorkers(workers=1, memory_mb=MEMORY_MB)
    yield pool
    pool.close()


def where_am_i() -> dict[str, int]:
    return {"pid": os.getpid(), "parent": os.getppid(), "memory": resource.getrlimit(resource.RLIMIT_DATA)[0]}


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes << 20))


def refuse() -> None:
    raise ModuleError("the table is wrong", code="bad_file", param="encoding", details={"line": 3})


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_work_runs_in_a_limited_process_that_the_caller_did_not_fork(workers):
    found = workers.run(where_am_i)
    assert found["pid"] != os.getpid()
    assert found["parent"] != os.getpid(), "forked from the caller, whose memory it would share"
    assert found["memory"] == MEMORY_MB << 20


def test_errors_come_back_as_raised(workers):
    with pytest.raises(ModuleError) as caught:
        workers.run(refuse)
    assert (caught.value.message, caught.value.code, caught.value.param, caught.value.details) == (
        "the table is wrong", "bad_file", "encoding", {"line": 3},
    )


def test_work_needing_more_memory_than_a_worker_has_is_refused(workers):
    with pytest.raises(TableWorkerOutOfMemory) as caught:
        workers.run(allocate, MEMORY_MB)
    assert caught.value.message == "the table needs more memory than the 1,536 MB a table worker may use"
    assert workers.run(allocate, 100) == 100 << 20


def test_a_worker_that_dies_is_replaced(workers):
    with pytest.raises(TableWorkerOutOfMemory):
        workers.run(die)
    assert workers.run(allocate, 1) == 1 << 20
