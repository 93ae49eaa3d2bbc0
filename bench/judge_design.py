"""Sizing a group-sequential design, for the judge's benchmark: crossing probabilities, power, maximum samples.

A rollout only needs the boundaries (`rollouts.judge.sequential.boundaries`); planning how many requests a design
needs for a given power is the benchmark's. The crossing probabilities come from the layer's own recursive
integration of the z process (`_Process`), so that they are computed exactly as the boundaries are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from rollouts.judge.sequential import GroupSequentialDesign, _check_fractions, _Process, _solve_decreasing

NORMAL = NormalDist()


def crossing_probabilities(bounds: Sequence[float], fractions: Sequence[float], drift: float = 0.0) -> list[float]:
    """P(first crossing at look k) for each look, when E[Z_k] = drift * sqrt(t_k) (drift 0: the null)."""
    _check_fractions(fractions)
    process = _Process(drift)
    probabilities: list[float] = []
    for bound, fraction in zip(bounds, fractions, strict=True):
        probabilities.append(process.exit_probability(bound, fraction))
        process.advance(bound, fraction)
    return probabilities


def drift_for_power(bounds: Sequence[float], fractions: Sequence[float], power: float) -> float:
    """The drift (E[Z] at the last look) at which the design crosses with probability `power`."""
    # The power grows with the drift; bisection wants a decreasing function, so solve in x = -drift.
    return -_solve_decreasing(lambda x: sum(crossing_probabilities(bounds, fractions, -x)), power, -20.0, 0.0)


def normal_theory_inflation(design: GroupSequentialDesign, power: float) -> tuple[float, float]:
    """The design's maximum sample over the fixed-horizon sample for the same alpha and power, and the drift it has.

    Normal theory: right for the pooled z with many errors. With few errors the exact conditional statistic needs
    more (bench/judge.py sizes the maximum by simulation and reports the factor it found).
    """
    drift = drift_for_power(design.boundaries, design.fractions, power)
    return (drift / (NORMAL.inv_cdf(1 - design.alpha) + NORMAL.inv_cdf(power))) ** 2, drift


def fixed_horizon_sample_size(
    baseline_rate: float, candidate_rate: float, alpha: float, power: float, baseline_per_candidate: float = 1.0
) -> tuple[int, int]:
    """Requests (candidate, baseline) for a one-sided fixed-horizon pooled z test to detect `candidate_rate`.

    The closed form n_c = (z_{1-alpha} sqrt(p̄ q̄ (1 + 1/k)) + z_power sqrt(p1 q1 + p0 q0 / k))² / (p1 - p0)², with
    k baseline requests per candidate request and p̄ = (p1 + k p0) / (1 + k); at k = 1 it is the textbook
    (z_a sqrt(2 p̄ q̄) + z_b sqrt(p0 q0 + p1 q1))² / Δ².
    """
    k = baseline_per_candidate
    pooled = (candidate_rate + k * baseline_rate) / (1 + k)
    z_alpha, z_power = NORMAL.inv_cdf(1 - alpha), NORMAL.inv_cdf(power)
    spread = z_alpha * math.sqrt(pooled * (1 - pooled) * (1 + 1 / k)) + z_power * math.sqrt(
        candidate_rate * (1 - candidate_rate) + baseline_rate * (1 - baseline_rate) / k
    )
    candidate = spread**2 / (candidate_rate - baseline_rate) ** 2
    return math.ceil(candidate), math.ceil(k * candidate)
