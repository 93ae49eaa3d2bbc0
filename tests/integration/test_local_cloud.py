"""A process runs local clouds one after another, as a test run does: what one leaves behind stays out of the next."""

from __future__ import annotations

import threading
import time

from sandbox.cloud import LocalCloud
from sandbox.moto_ext import clock, core


def on_every_pool_thread(work: object) -> list[object]:
    """Run `work` once on each of the pool's threads (all are held until each has run it once)."""
    threads = core.POOL._max_workers
    barrier = threading.Barrier(threads)

    def held() -> object:
        try:
            return work()  # type: ignore[operator]
        except Exception as error:
            return error
        finally:
            barrier.wait(timeout=10)

    futures = [core.POOL.submit(held) for _ in range(threads)]
    return [future.result(timeout=20) for future in futures]


def test_a_pool_thread_that_made_a_client_between_two_clouds_still_delivers_in_the_next():
    # Given every delivery thread made its clients after one local cloud stopped (no credentials in the environment)
    first = LocalCloud(time_scale=0.001)
    first.start()
    first.stop()
    on_every_pool_thread(lambda: core.client("sts"))

    # When the next local cloud runs
    second = LocalCloud(time_scale=0.001)
    second.start()
    try:
        # Then every delivery thread's client works in it (they used to fail with NoCredentialsError for good)
        answers = on_every_pool_thread(lambda: core.client("sts").get_caller_identity()["Account"])
    finally:
        second.stop()
    assert answers == [core.ACCOUNT] * len(answers)


def test_work_a_stopped_cloud_scheduled_does_not_run_in_the_next(bare_cloud):
    ran: list[str] = []
    clock.submit_later(60, ran.append, "kept")  # 60 ms here
    clock.submit_later(60, ran.append, "dropped")
    core.REGISTRY.retire()  # as LocalCloud.stop does, before the next cloud starts
    clock.submit_later(60, ran.append, "after")

    time.sleep(0.5)

    assert ran == ["after"]
