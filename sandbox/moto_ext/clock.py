"""The local cloud's clock: simulated time that runs `1 / time_scale` times faster than the real one.

Everything in the sandbox that waits for simulated time or reads it goes through this module: the Step Functions
waits, task timeouts and retry intervals (moto's, replaced by `install`), the metrics' timestamps (CloudWatch's and
the control plane's `rollouts.clock.now`), the SageMaker endpoint's update, the blue/green deployments, and the
retries of asynchronous deliveries. The data plane's and the users' own pacing loops read the real clock.

A duration given here is in simulated seconds unless its name says `real`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sandbox.moto_ext import core


@dataclass
class _Scale:
    time_scale: float = 1.0
    # The simulated clock's start: (simulated wall time, real time.monotonic()) at the same instant.
    origin: tuple[datetime, float] = field(default_factory=lambda: (datetime.now(UTC), time.monotonic()))


_SCALE = _Scale()


def set_time_scale(time_scale: float) -> None:
    """Scale waits by `time_scale`; the simulated clock starts again from the wall clock's now."""
    _SCALE.time_scale = time_scale
    _SCALE.origin = (datetime.now(UTC), time.monotonic())


def scaled(seconds: float) -> float:
    """The real seconds that `seconds` of simulated time last."""
    return max(0.0, float(seconds) * _SCALE.time_scale)


def simulated(real_seconds: float) -> float:
    """The simulated seconds that pass in `real_seconds`."""
    return real_seconds / _SCALE.time_scale


def monotonic() -> float:
    """Simulated seconds since the clock started: for deadlines and durations."""
    return simulated(time.monotonic() - _SCALE.origin[1])


def now() -> datetime:
    """The simulated wall clock."""
    wall, _ = _SCALE.origin
    return wall + timedelta(seconds=monotonic())


def wall_now() -> datetime:
    """The real wall clock, for the times SageMaker and CloudWatch stamp on resources and events (as moto stamps its
    own), unlike the metrics' timestamps."""
    return datetime.now(UTC)


def sleep(seconds: float) -> None:
    """Let `seconds` of simulated time pass on this thread."""
    time.sleep(scaled(seconds))


def wait(event: threading.Event, seconds: float) -> bool:
    """Wait for `event` at most `seconds` of simulated time; say whether it was set."""
    return event.wait(scaled(seconds))


def wait_real(event: threading.Event, real_seconds: float | None) -> bool:
    """Wait for `event` at most `real_seconds`: a timeout moto computed from a TimeoutSeconds that `install` already
    scaled (None: no timeout)."""
    return event.wait(timeout=real_seconds)


def call_later(seconds: float, work: Callable[..., Any], *args: Any) -> None:
    """Run `work(*args)` on a thread of its own after `seconds`, unless the local cloud has stopped meanwhile."""
    generation = core.REGISTRY.generation

    def due() -> None:
        if core.REGISTRY.generation == generation:
            work(*args)

    timer = threading.Timer(scaled(seconds), due)
    timer.daemon = True
    timer.start()


def submit_later(seconds: float, work: Callable[..., Any], *args: Any) -> None:
    """`core.submit` after `seconds`, without holding one of the pool's threads meanwhile."""
    call_later(seconds, core.submit, work, *args)


def install() -> None:
    """Step Functions' waits, task timeouts and retry intervals, and the metrics' clocks, on this clock.

    With waits scaled, a 10-minute bake lasts a fraction of a second; the data plane stamps its metrics with the
    simulated clock, CloudWatch stamps data points that carry no timestamp with it, and the control plane's
    `rollouts.clock.now` (the ends of its metric windows) reads it too. Per-minute periods then exist as on AWS.
    """
    import moto.cloudwatch.models as cloudwatch_models
    import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    import rollouts.clock

    def timeout_eval_body(self: Any, env: Any) -> None:
        # Every timeout of a state (TimeoutSeconds, HeartbeatSeconds, ...) in real seconds from here on.
        env.stack.append(scaled(self._eval_seconds(env=env)))

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        if wait_seconds > 0:
            wait(env.program_state_event, wait_seconds)

    # The `time` module as moto's retrier sees it: a Retry's IntervalSeconds pass on this clock.
    retrier_time = SimpleNamespace(time=time.time, sleep=sleep)

    core.replace(Timeout, "_eval_body", timeout_eval_body)
    core.replace(WaitFunction, "_wait_interval", wait_interval)
    core.replace(retrier, "time", retrier_time)
    core.replace(rollouts.clock, "now", now)
    core.replace(cloudwatch_models, "utcnow", lambda: now().replace(tzinfo=None))
