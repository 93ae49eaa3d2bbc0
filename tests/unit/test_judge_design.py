"""Sizing a group-sequential design for the benchmark: power, the maximum sample, the fixed-horizon sample."""

from __future__ import annotations

from statistics import NormalDist

import pytest

from bench.judge_design import (
    crossing_probabilities,
    drift_for_power,
    fixed_horizon_sample_size,
    normal_theory_inflation,
)
from rollouts.judge.sequential import GroupSequentialDesign

NORMAL = NormalDist()


def test_power_of_a_single_look_is_the_closed_form_and_the_inflation_of_one_look_is_one() -> None:
    bound = NORMAL.inv_cdf(0.95)
    (power,) = crossing_probabilities([bound], (1.0,), drift=2.0)
    assert power == pytest.approx(1 - NORMAL.cdf(bound - 2.0), abs=1e-12)
    assert drift_for_power([bound], (1.0,), 0.8) == pytest.approx(bound + NORMAL.inv_cdf(0.8), abs=1e-6)
    assert normal_theory_inflation(GroupSequentialDesign(fractions=(1.0,)), 0.8)[0] == pytest.approx(1.0, abs=1e-6)


def test_five_obrien_fleming_looks_cost_a_few_percent_more_maximum_sample() -> None:
    inflation, _ = normal_theory_inflation(GroupSequentialDesign(), 0.8)
    assert 1.0 < inflation < 1.06


def test_fixed_horizon_sample_size_matches_the_closed_form_anchors() -> None:
    # performance-anchors.md 2.3: one-sided 1 % -> 2 %, alpha 0.05, power 0.8: 1,826 per arm at 50/50; at 10 %
    # canary traffic 912 canary requests (and 9 times as many on the baseline).
    assert fixed_horizon_sample_size(0.01, 0.02, 0.05, 0.8) == (1826, 1826)
    candidate, baseline = fixed_horizon_sample_size(0.01, 0.02, 0.05, 0.8, baseline_per_candidate=9)
    assert candidate == 912
    assert baseline == pytest.approx(9 * 912, abs=9)
