"""The simulated data plane: it leaves simulated time to the handlers' threads, and captures as SageMaker does."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime

from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import BASELINE_MODEL, ENDPOINT, create_endpoint
from tests.waiting import now


class Rests(threading.Event):
    """The plane's stop event, which notes each rest the plane takes and stops it after `steps` of them."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps
        self.rests: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.rests.append(timeout or 0.0)
        if len(self.rests) >= self.steps:
            self.set()
        return self.is_set()


def test_a_step_that_takes_long_costs_no_simulated_time_and_is_followed_by_a_whole_tick(bare_cloud):
    # Given a data plane whose steps take 50 ms of real time, five times its 10 ms tick (a slow machine)
    plane = DataPlane(bare_cloud, ENDPOINT, {}, tick_seconds=0.01)
    clock_during_steps: list[tuple[float, float]] = []

    def slow_step(sim_seconds: float | None = None) -> None:
        began = now()
        busy_until = time.monotonic() + 0.05
        while time.monotonic() < busy_until:
            pass
        clock_during_steps.append((began, now()))

    plane.step = slow_step  # type: ignore[method-assign]
    plane._stop = rests = Rests(steps=3)

    # When it runs
    plane._run()

    # Then the simulated clock stood still while each step ran, and each step is followed by a whole tick: however
    # slow the machine, the handlers' threads get the simulated time between two steps of traffic. (Under a scaled
    # real clock, a step that held the interpreter left them none, and a scenario's first API call took 29 s.)
    assert len(clock_during_steps) == 3
    assert all(began == ended for began, ended in clock_during_steps)
    assert rests.rests == [0.01] * 3


def test_a_quick_step_rests_for_a_whole_tick(bare_cloud):
    plane = DataPlane(bare_cloud, ENDPOINT, {}, tick_seconds=1.0)
    plane.step = lambda sim_seconds=None: None  # type: ignore[method-assign]
    plane._stop = rests = Rests(steps=2)

    plane._run()

    assert rests.rests == [1.0, 1.0]


def test_capture_records_have_their_own_uuids_and_their_requests_second(bare_cloud):
    # Given the endpoint serving a model that always answers
    create_endpoint(bare_cloud)
    plane = DataPlane(bare_cloud, ENDPOINT, {BASELINE_MODEL: ModelBehaviour(error_rate=0.0)})

    # When ten simulated seconds of traffic are served
    plane.step(sim_seconds=10)

    # Then every record has its own version-4 event and inference ids, and the time of its simulated second
    records = [json.loads(line) for line in plane.capture["v1"]]
    assert len(records) == plane.sent["v1"] > 0
    ids = [r["eventMetadata"][key] for r in records for key in ("eventId", "inferenceId")]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 4 for value in ids)
    times = [datetime.strptime(r["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ") for r in records]
    assert times == sorted(times)
    began = plane.started.replace(tzinfo=None, microsecond=0)
    assert all(0 <= (when - began).total_seconds() <= 10 for when in times)
