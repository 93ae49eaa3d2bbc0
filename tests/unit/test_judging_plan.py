"""How a canary's steps become the looks of the group-sequential test."""

from __future__ import annotations

import pytest

from rollouts.logic.judging import planned_fractions, planned_time_fractions
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import spec


def rollout_with(steps: list[dict[str, object]]) -> Rollout:
    body = spec(judged=True)
    body["strategy"]["steps"] = steps
    return Rollout(rollout_id="r-0123456789ab", spec=RolloutSpec.model_validate(body), baseline_variant="v1")


def information(candidate: float, baseline: float) -> float:
    """A two-sample comparison's information: 1 / (1 / C + 1 / B), up to the common variance."""
    return 1 / (1 / candidate + 1 / baseline)


def test_each_look_sits_at_the_two_sample_information_planned_so_far():
    # Given steps of 10, 25 and 50 %, 5 minutes each: cumulative planned requests (in weight-minutes) of the
    # candidate 50, 175, 425 and of the baseline 450, 825, 1075
    rollout = rollout_with([{"weight": 10, "bake": "5m"}, {"weight": 25, "bake": "5m"}, {"weight": 50, "bake": "5m"}])
    planned = [information(c, b) for c, b in ((50, 450), (175, 825), (425, 1075))]

    fractions = planned_fractions(rollout)

    # Then each look is at its share of the final information, ahead of the candidate's share of its requests
    assert fractions == pytest.approx(tuple(value / planned[-1] for value in planned))
    assert fractions[0] > 10 / 85 and fractions[1] > 35 / 85


def test_at_a_fixed_split_the_fractions_are_the_candidates_share_of_requests():
    rollout = rollout_with([{"weight": 20, "bake": "5m"}, {"weight": 20.5, "bake": "10m"}])
    planned = [information(100, 400), information(100 + 205, 400 + 795)]

    assert planned_fractions(rollout) == pytest.approx((planned[0] / planned[1], 1.0))
    assert planned_fractions(rollout)[0] == pytest.approx(100 / 305, rel=0.01)


def test_a_longer_bake_carries_more_of_the_information():
    rollout = rollout_with([{"weight": 10, "bake": "30m"}, {"weight": 50, "bake": "5m"}])
    first, last = information(300, 2700), information(550, 2950)

    assert planned_fractions(rollout) == pytest.approx((first / last, 1.0))


def test_a_rank_tests_looks_sit_at_the_share_of_the_planned_time():
    steps = [{"weight": 10, "bake": "30m"}, {"weight": 50, "bake": "10m"}, {"weight": 60, "bake": "20m"}]

    assert planned_time_fractions(rollout_with(steps)) == pytest.approx((0.5, 40 / 60, 1.0))


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
