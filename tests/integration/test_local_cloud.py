"""A process runs local clouds one after another, as a test run does: what one leaves behind stays out of the next."""

from __future__ import annotations

import time

from sandbox.cloud import LocalCloud
from sandbox.moto_ext import clock, core


def test_a_thread_that_made_a_client_between_two_clouds_gets_a_working_one_in_the_next():
    # Given a thread that outlives the local clouds (as the delivery pool's threads once did) and made its client
    # after one local cloud stopped (no credentials in the environment)
    first = LocalCloud()
    first.start()
    first.stop()
    core.client("sts")

    # When the next local cloud runs
    second = LocalCloud()
    second.start()
    try:
        # Then the thread's client works in it (it used to fail with NoCredentialsError for good)
        account = core.client("sts").get_caller_identity()["Account"]
    finally:
        second.stop()
    assert account == core.ACCOUNT


def test_work_a_stopped_cloud_scheduled_does_not_run_in_the_next(bare_cloud):
    ran: list[str] = []
    clock.submit_later(60, ran.append, "kept")
    clock.submit_later(60, ran.append, "dropped")
    core.REGISTRY.retire()  # as LocalCloud.stop does, before the next cloud starts
    clock.submit_later(60, ran.append, "after")

    time.sleep(120)  # simulated seconds: each was due after 60

    assert ran == ["after"]
