"""The simulated data plane: it leaves the interpreter to the handlers' threads, and captures as SageMaker does."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime

from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import BASELINE_MODEL, ENDPOINT, create_endpoint


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


def test_a_step_longer_than_a_tick_is_followed_by_a_rest_as_long(bare_cloud):
    # Given a data plane whose steps take 50 ms, five times its 10 ms tick (a slow machine, a fast time scale)
    plane = DataPlane(bare_cloud, ENDPOINT, {}, tick_seconds=0.01)
    plane.step = lambda sim_seconds=None: time.sleep(0.05)  # type: ignore[method-assign]
    plane._stop = rests = Rests(steps=3)

    # When it runs
    plane._run()

    # Then it rests at least as long as each step took: the handlers' threads get half the time or more. (Resting
    # for the rest of the tick only, it would never rest, and a scenario's first API call took 29 s.)
    assert len(rests.rests) == 3
    assert all(rest >= 0.05 for rest in rests.rests)


def test_a_quick_step_rests_for_the_rest_of_its_tick(bare_cloud):
    plane = DataPlane(bare_cloud, ENDPOINT, {}, tick_seconds=1.0)
    plane.step = lambda sim_seconds=None: None  # type: ignore[method-assign]
    plane._stop = rests = Rests(steps=2)

    plane._run()

    assert all(0.9 < rest <= 1.0 for rest in rests.rests)


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
