"""The model-approved scenario end to end: a policy, a version registered then approved in the local Model Registry,
its canary promoted, and the notifications a subscriber reads."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e


def test_an_approved_version_is_rolled_out_promoted_and_told_of() -> None:
    lines: list[str] = []

    result = run("model-approved", out=lines.append, time_scale=None)  # unpaced: simulated time only

    assert result.result_line == "RESULT model-approved promoted churn-models-v1-approved"
    assert result.rollout["status"] == "Promoted"
    assert any("PendingManualApproval: nothing starts" in line for line in lines)
    notified = [line.split("[notification] ")[1] for line in lines if "[notification] " in line]
    assert notified == [
        "Rollout started: churn-models-v1 on churn-predictor",
        "Rollout promoted: churn-models-v1 on churn-predictor",
    ]
