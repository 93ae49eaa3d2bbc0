"""The blue-green scenario end to end: SageMaker deploys, monitoring finds drift, SageMaker rolls back natively."""

from __future__ import annotations

import pytest

from sandbox.scenarios import run

pytestmark = pytest.mark.e2e


def test_drift_during_sagemakers_canary_trips_the_abort_switch_and_sagemaker_rolls_back() -> None:
    # Unpaced: the monitoring execution reads the captured data while SageMaker bakes the canary, and the simulated
    # clock stands still while it runs, so it ends inside the bake however slow the machine
    result = run("blue-green", out=lambda line: None, time_scale=None)

    assert result.result_line == "RESULT blue-green rolled back DataQuality-violations:age,income"
    rollout = result.rollout
    assert rollout["status"] == "RolledBack"
    messages = [d["message"] for d in rollout["decisions"]]
    kinds = [d["kind"] for d in rollout["decisions"]]
    # No alarm fired: only the rollout's abort switch could make SageMaker roll back, and it did
    assert any(m.startswith("Abort switch") for m in messages)
    assert kinds.index("Deployment Rolled Back") < kinds.index("Rollout Rolled Back")
    assert "churn-predictor-v1" in rollout["reason"]
    assert "reported the rollback" in result.summary


def test_a_rolling_update_whose_candidate_errs_is_rolled_back_by_sagemaker_and_reported() -> None:
    # Unpaced: SageMaker's batches, bakes and rollback run on the simulated clock
    result = run("rolling", out=lambda line: None, time_scale=None)

    assert result.result_line == "RESULT rolling rolled back alarm:5xx-rate"
    rollout = result.rollout
    assert rollout["status"] == "RolledBack"
    kinds = [d["kind"] for d in rollout["decisions"]]
    assert kinds.index("Guardrail Breached") < kinds.index("Deployment Rolled Back")
    assert kinds.index("Deployment Rolled Back") < kinds.index("Rollout Rolled Back")
    assert any(d["message"].startswith("Abort switch") for d in rollout["decisions"])
    prepared = next(d for d in rollout["decisions"] if d["kind"] == "Variants Prepared")
    assert "rolling, 1 instance(s) of the fleet a batch" in prepared["message"]


def test_a_components_rolling_update_whose_candidate_errs_is_rolled_back_on_its_own_metrics() -> None:
    # Unpaced: SageMaker's batches of copies, its bakes and its rollback run on the simulated clock
    result = run("rolling-component", out=lambda line: None, time_scale=None)

    assert result.result_line == "RESULT rolling-component rolled back alarm:5xx-rate"
    rollout = result.rollout
    kinds = [d["kind"] for d in rollout["decisions"]]
    assert (
        kinds.index("Guardrail Breached") < kinds.index("Deployment Rolled Back") < kinds.index("Rollout Rolled Back")
    )
    assert any(d["message"].startswith("Abort switch") for d in rollout["decisions"])
    reported = next(d for d in rollout["decisions"] if d["kind"] == "Deployment Rolled Back")
    assert "inference component 'churn-ic' is InService on model 'churn-xgb-v1'" in reported["message"]
    assert "SageMaker moved the component's copies back by itself" in result.summary
    assert rollout["decisions"][-1]["message"].startswith(
        "Rolled back: inference component 'churn-ic' of endpoint 'churn-shared' serves baseline model 'churn-xgb-v1'"
    )
