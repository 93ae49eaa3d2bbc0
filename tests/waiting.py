"""Waiting in tests on the local cloud's virtual clock: a condition is looked at whenever the cloud is idle."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sandbox import virtual_time

T = TypeVar("T")

DAY = 24 * 3600.0


def until(predicate: Callable[[], T], message: str, timeout: float = DAY) -> T:
    """The predicate's first true value; fails the test with `message` when `timeout` simulated seconds pass first.

    The predicate is checked again each time every thread of the local cloud waits, before time moves on: the
    result does not depend on how fast the machine is, and no polling interval is guessed.
    """
    clock = virtual_time.current()
    assert clock is not None, "no local cloud is running"
    value: T | None = clock.wait_until(predicate, timeout)
    if not value:
        raise AssertionError(f"{message} (within {timeout:g} simulated seconds)")
    return value


def now() -> float:
    """Simulated seconds of the running local cloud."""
    clock = virtual_time.current()
    assert clock is not None, "no local cloud is running"
    return clock.now()
