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
