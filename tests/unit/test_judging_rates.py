"""Judge Step's rate checks on given CloudWatch sums: which test runs, on which counts, with what verdict."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rollouts.aws import metrics
from rollouts.logic.judging import judge_rates
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import spec

SUMS = {
    ("v1", "Invocations"): 20_000,
    ("v1", "Invocation5XXErrors"): 200,
    ("churn-xgb-v2", "Invocations"): 5_000,
}


def rollout(check: dict[str, Any], steps: int = 1) -> Rollout:
    body = spec(judged=True)
    body["strategy"]["steps"] = [{"weight": 10 * (i + 1), "bake": "5m"} for i in range(steps)]
    body["guardrails"]["rate_checks"] = [check]
    return Rollout(
        rollout_id="r-0123456789ab",
        spec=RolloutSpec.model_validate(body),
        baseline_variant="v1",
        started_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def candidate_errors(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    errors = {"count": 0}

    def variant_sum(endpoint: str, variant: str, metric: str, start: datetime, end: datetime) -> float:
        if (variant, metric) == ("churn-xgb-v2", "Invocation5XXErrors"):
            return float(errors["count"])
        return float(SUMS[(variant, metric)])

    monkeypatch.setattr(metrics, "variant_sum", variant_sum)
    return errors


def test_group_sequential_check_fails_a_clearly_worse_candidate(candidate_errors):
    candidate_errors["count"] = 250  # 5 % against 1 %

    [verdict] = judge_rates(rollout({"name": "5xx"}), step_index=0)

    assert verdict.outcome == "Failed"
    assert verdict.evidence.candidate_samples == 5_000
    assert "O'Brien-Fleming" in verdict.evidence.explanation


def test_msprt_check_carries_the_previous_steps_p_value(candidate_errors):
    # Given a two-step canary judged by the always-valid test, whose first step already saw a small p-value
    candidate_errors["count"] = 50  # 1 %, no evidence against the candidate now
    subject = rollout({"name": "5xx", "test": "msprt", "alpha": 0.05}, steps=2)
    subject.judgement = [{"metric": "5XX rate (5xx)", "evidence": {"p_value": 0.01}}]

    [verdict] = judge_rates(subject, step_index=0)

    # Then the p-value never rises again: the earlier evidence still fails the candidate
    assert verdict.evidence.p_value == pytest.approx(0.01)
    assert verdict.outcome == "Failed"


def test_msprt_check_passes_an_equal_candidate_at_the_last_step(candidate_errors):
    candidate_errors["count"] = 50  # 1 % like the baseline

    [verdict] = judge_rates(rollout({"name": "5xx", "test": "msprt"}), step_index=0)

    assert verdict.outcome == "Successful"
    assert verdict.evidence.statistic_name == "likelihood ratio"
