"""How a canary's steps become the looks of the group-sequential test."""

from __future__ import annotations

import pytest

from rollouts.logic.judging import planned_fractions
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import spec


def rollout_with(steps: list[dict[str, object]]) -> Rollout:
    body = spec(judged=True)
    body["strategy"]["steps"] = steps
    return Rollout(rollout_id="r-0123456789ab", spec=RolloutSpec.model_validate(body), baseline_variant="v1")


def test_each_look_sits_at_the_share_of_candidate_requests_planned_so_far():
    rollout = rollout_with([{"weight": 10, "bake": "5m"}, {"weight": 25, "bake": "5m"}, {"weight": 50, "bake": "5m"}])

    assert planned_fractions(rollout) == pytest.approx((10 / 85, 35 / 85, 1.0))


def test_a_longer_bake_carries_more_of_the_information():
    rollout = rollout_with([{"weight": 10, "bake": "30m"}, {"weight": 50, "bake": "5m"}])

    assert planned_fractions(rollout) == pytest.approx((300 / 550, 1.0))


def test_rate_check_names_must_be_unique():
    body = spec(judged=True)
    body["guardrails"]["rate_checks"].append(dict(body["guardrails"]["rate_checks"][0]))

    with pytest.raises(ValueError, match="rate_checks, metric_checks and feedback_checks names must be unique"):
        RolloutSpec.model_validate(body)


def test_a_metric_check_may_not_reuse_a_rate_check_name():
    body = spec(judged=True)
    body["guardrails"]["metric_checks"] = [{"name": body["guardrails"]["rate_checks"][0]["name"]}]

    with pytest.raises(ValueError, match="rate_checks, metric_checks and feedback_checks names must be unique"):
        RolloutSpec.model_validate(body)
