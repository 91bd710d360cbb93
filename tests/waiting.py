"""Waiting for something another process or thread does: the one polling loop of the tests."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def eventually(condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    """Poll `condition` until it returns something true, and return that; fail the test
    when `timeout` seconds pass first (a patience for slow machines, not a speed check)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout:g} s: {what or condition}")
        time.sleep(interval)
