"""What every strategy's state machine must do alike, on the local ASL engine with the real handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.statemachines.helpers import (
    ab_spec,
    assert_failed_before_any_change,
    bandit_spec,
    blue_green_spec,
    shadow_spec,
    start,
    view,
)
from tests.waiting import until

pytestmark = pytest.mark.statemachine

STRATEGIES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "canary": lambda spec: spec,
    "bandit": bandit_spec,
    "blue-green": blue_green_spec,
    "ab-test": ab_spec,
    "shadow": shadow_spec,
}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("operation", ["DescribeEndpoint", "DescribeEndpointConfig"])
def test_a_failing_read_of_the_endpoint_ends_in_a_safe_state(cloud, endpoint, canary_spec, strategy, operation):
    # The API checked the endpoint; the state machine's first read of it fails
    started = start(cloud, STRATEGIES[strategy](canary_spec))
    cloud.inject_fault(operation, f"ThrottlingException ({operation})")

    execution = cloud.wait_for_execution(started["execution_arn"])

    assert execution["status"] == "FAILED"
    assert_failed_before_any_change(cloud, view(cloud, started["rollout_id"]), f"ThrottlingException ({operation})")


@pytest.mark.parametrize("strategy", ["canary", "bandit", "ab-test", "shadow"])
def test_an_operator_promote_is_judged_successful_by_the_operator_in_every_strategy(
    cloud, endpoint, canary_spec, strategy
):
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    started = start(cloud, STRATEGIES[strategy](canary_spec))
    rollout_id = started["rollout_id"]
    until(lambda: view(cloud, rollout_id)["status"] == "Progressing", "the rollout is under way")

    assert cloud.api("POST", f"/rollouts/{rollout_id}/promote", {"reason": "ship it"}).status == 202
    assert cloud.wait_for_execution(started["execution_arn"])["status"] == "SUCCEEDED"

    rollout = view(cloud, rollout_id)
    assert rollout["status"] == "Promoted"
    judged = [d for d in rollout["decisions"] if d["kind"] in ("Step Judged", "A/B Test Judged")]
    assert (judged[-1]["evidence"]["outcome"], judged[-1]["evidence"]["rule"]) == ("Successful", "operator promote")
