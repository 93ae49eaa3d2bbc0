"""The local cloud's clock: simulated time on a virtual clock (`sandbox.virtual_time`), one per local cloud.

Everything in the sandbox that waits for simulated time or reads it goes through this module: the SageMaker
endpoint's update, the blue/green deployments, the retries of asynchronous deliveries, the metrics' timestamps
(CloudWatch's and the control plane's `rollouts.clock.now`). moto's own waits (Step Functions' Wait states, task
timeouts and retry intervals) need nothing: they use `time.sleep` and `Event.wait`, which the virtual clock turns
into simulated seconds for the threads of the local cloud.

A duration here is in simulated seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.moto_ext import core
from sandbox.virtual_time import VirtualClock


@dataclass
class _Clock:
    virtual: VirtualClock | None = None
    # The simulated wall clock at simulated second 0 of the running clock.
    origin: datetime = field(default_factory=lambda: datetime.now(UTC))


_CLOCK = _Clock()


def start(pace: float | None = None) -> VirtualClock:
    """Start the local cloud's virtual clock in the calling thread, paced to `pace` real seconds per simulated one
    (None: as fast as the work allows); the simulated wall clock starts from the real one."""
    _CLOCK.virtual = VirtualClock(pace=pace).start()
    _CLOCK.origin = datetime.now(UTC)
    return _CLOCK.virtual


def stop() -> None:
    """Stop the virtual clock: its waiters wake, later waits are real ones."""
    if _CLOCK.virtual is not None:
        _CLOCK.virtual.stop()
        _CLOCK.virtual = None


def virtual() -> VirtualClock:
    """The running virtual clock."""
    if _CLOCK.virtual is None:
        raise RuntimeError("the local cloud is not running")
    return _CLOCK.virtual


def monotonic() -> float:
    """Simulated seconds since the local cloud started: for deadlines and durations."""
    return _CLOCK.virtual.now() if _CLOCK.virtual is not None else 0.0


def now() -> datetime:
    """The simulated wall clock."""
    return _CLOCK.origin + timedelta(seconds=monotonic())


def wall_now() -> datetime:
    """The real wall clock, for the times SageMaker and CloudWatch stamp on resources and events (as moto stamps its
    own), unlike the metrics' timestamps."""
    return datetime.now(UTC)


def sleep(seconds: float) -> None:
    """Let `seconds` of simulated time pass on this thread."""
    virtual().sleep(seconds)


def wait(event: threading.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds` of simulated time; say whether it was set."""
    return event.wait(seconds)


def call_later(seconds: float, work: Callable[..., Any], *args: Any) -> None:
    """Run `work(*args)` on a thread of its own after `seconds`, unless the local cloud has stopped meanwhile."""
    generation = core.REGISTRY.generation

    def due() -> None:
        if core.REGISTRY.generation == generation:
            work(*args)

    timer = threading.Timer(seconds, due)
    timer.daemon = True
    timer.start()


def submit_later(seconds: float, work: Callable[..., Any], *args: Any) -> None:
    """`core.submit` after `seconds`."""
    call_later(seconds, core.submit, work, *args)


def install() -> None:
    """The metrics' clocks on this clock: the data plane stamps its metrics with the simulated clock, CloudWatch
    stamps data points that carry no timestamp with it, and the control plane's `rollouts.clock.now` (the ends of
    its metric windows) reads it too. Per-minute periods then exist as on AWS."""
    import moto.cloudwatch.models as cloudwatch_models

    import rollouts.clock

    core.replace(rollouts.clock, "now", now)
    core.replace(cloudwatch_models, "utcnow", lambda: now().replace(tzinfo=None))
