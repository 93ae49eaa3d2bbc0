"""The mixture SPRT: its likelihood ratio against Johari et al.'s closed form, its verdicts and its validity."""

from __future__ import annotations

import math
import random
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.judge.msprt import MsprtDesign, judge_msprt, log_likelihood_ratio
from rollouts.judge.outcome import Outcome, Rule
from rollouts.judge.sequential import compare_rates

NORMAL = NormalDist()
DESIGN = MsprtDesign(mixing_sd=0.01)


@pytest.mark.parametrize(("difference", "n"), [(0.01, 2_000), (0.004, 500), (-0.003, 3_000), (0.0, 1_000)])
def test_likelihood_ratio_is_johari_two_sided_form_times_the_one_sided_factor(difference: float, n: int) -> None:
    # Johari et al. (KDD 2017): Lambda_n = sqrt(V / (V + n tau²)) exp(n² tau² theta² / (2 V (V + n tau²))), V the
    # per-pair variance. The half-normal mixture multiplies it by 2 Phi(theta tau / (sigma sqrt(sigma² + tau²))).
    per_pair, tau = 0.0295, 0.01
    sigma2 = per_pair / n
    johari = math.sqrt(per_pair / (per_pair + n * tau**2)) * math.exp(
        n**2 * tau**2 * difference**2 / (2 * per_pair * (per_pair + n * tau**2))
    )
    factor = 2 * NORMAL.cdf(difference * tau / math.sqrt(sigma2 * (sigma2 + tau**2)))
    assert math.exp(log_likelihood_ratio(difference, sigma2, tau)) == pytest.approx(johari * factor, rel=1e-9)


def test_likelihood_ratio_is_the_half_normal_mixture_by_independent_quadrature() -> None:
    # Lambda = ∫_0^inf exp(theta x / s² - theta² / (2 s²)) 2 phi(theta / tau) / tau dtheta, by the trapezoid rule.
    estimate, sigma2, tau = 0.006, 0.0295 / 1_500, 0.01
    steps, top = 20_000, 12 * tau
    width = top / steps
    total = 0.0
    for i in range(steps + 1):
        theta = i * width
        term = math.exp(theta * estimate / sigma2 - theta**2 / (2 * sigma2)) * 2 * NORMAL.pdf(theta / tau) / tau
        total += term * (0.5 if i in (0, steps) else 1.0)
    assert math.exp(log_likelihood_ratio(estimate, sigma2, tau)) == pytest.approx(total * width, rel=1e-6)


def test_a_doubled_error_rate_fails_with_an_always_valid_p_value() -> None:
    verdict = judge_msprt("5XX rate", DESIGN, 50, 5_000, 100, 5_000)
    assert verdict.outcome is Outcome.FAILED
    evidence = verdict.evidence
    assert evidence.rule is Rule.LIKELIHOOD_RATIO_CROSSED
    assert evidence.boundary == pytest.approx(20.0)
    assert evidence.statistic is not None and evidence.statistic >= 20.0
    assert evidence.p_value == pytest.approx(1 / evidence.statistic)
    assert evidence.explanation.startswith(
        "5XX rate 2.0 % on the candidate vs 1.0 % on the baseline over 5,000 / 5,000"
    )
    assert evidence.explanation.endswith(": Failed")


def test_an_equal_candidate_is_inconclusive_until_the_maximum_sample_then_successful() -> None:
    capped = MsprtDesign(mixing_sd=0.01, maximum_samples_per_arm=10_000)
    during = judge_msprt("5XX rate", capped, 50, 5_000, 50, 5_000)
    at_the_end = judge_msprt("5XX rate", capped, 100, 10_000, 100, 10_000)
    assert (during.outcome, during.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.LIKELIHOOD_RATIO_NOT_CROSSED)
    assert (at_the_end.outcome, at_the_end.evidence.rule) == (Outcome.SUCCESSFUL, Rule.MAXIMUM_SAMPLE_REACHED)


def test_the_p_value_carries_over_looks_so_a_crossing_stays_a_failure() -> None:
    calm = judge_msprt("5XX rate", DESIGN, 50, 5_000, 50, 5_000, previous_p_value=0.01)
    assert calm.outcome is Outcome.FAILED
    assert calm.evidence.p_value == pytest.approx(0.01)


def test_no_errors_anywhere_is_no_evidence() -> None:
    verdict = judge_msprt("5XX rate", DESIGN, 0, 5_000, 0, 5_000)
    assert verdict.outcome is Outcome.INCONCLUSIVE
    assert verdict.evidence.statistic == 0.0
    assert verdict.evidence.p_value == 1.0


def test_the_allowed_change_tolerates_a_small_increase() -> None:
    tolerant_design = MsprtDesign(mixing_sd=0.01, allowed_relative_change=0.3)
    strict = judge_msprt("5XX rate", DESIGN, 1_000, 100_000, 1_250, 100_000)
    tolerant = judge_msprt("5XX rate", tolerant_design, 1_000, 100_000, 1_250, 100_000)
    assert strict.outcome is Outcome.FAILED
    assert tolerant.outcome is Outcome.INCONCLUSIVE


def test_false_alarms_stay_below_alpha_when_looked_at_every_50_requests() -> None:
    # Always valid: 2,000 equal-rate streams judged 80 times each (every 50 requests per arm up to 4,000); Ville's
    # inequality bounds the fraction that ever crosses by alpha = 0.05. Normal increments keep the test fast.
    rng = random.Random(7)
    rate, per_look, looks, streams = 0.01, 50, 80, 2_000
    sd = math.sqrt(2 * rate * (1 - rate) * per_look)
    alarms = 0
    for _ in range(streams):
        excess = 0.0  # candidate errors minus baseline errors
        for look in range(1, looks + 1):
            excess += rng.gauss(0.0, sd)
            n = look * per_look
            if log_likelihood_ratio(excess / n, 2 * rate * (1 - rate) / n, 0.01) >= math.log(20):
                alarms += 1
                break
    assert alarms / streams < 0.05 + 3 * math.sqrt(0.05 * 0.95 / streams)


def test_fewer_requests_than_the_minimum_is_inconclusive() -> None:
    verdict = judge_msprt("5XX rate", DESIGN, 0, 99, 50, 99)
    assert (verdict.outcome, verdict.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.BELOW_MINIMUM_SAMPLE)


counts = st.integers(100, 20_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=300, deadline=None)
@given(baseline=counts, candidate=counts, change=st.sampled_from([0.0, 0.1]))
def test_more_candidate_errors_never_make_the_candidate_look_better(
    baseline: tuple[int, int], candidate: tuple[int, int], change: float
) -> None:
    (xb, nb), (xc, nc) = baseline, candidate
    if xc == nc:
        return
    design = MsprtDesign(mixing_sd=0.01, allowed_relative_change=change)
    before = judge_msprt("errors", design, xb, nb, xc, nc)
    after = judge_msprt("errors", design, xb, nb, xc + 1, nc)
    if before.outcome is Outcome.FAILED:
        assert after.outcome is Outcome.FAILED
    if compare_rates(xb, nb, xc, nc, change).difference >= 0:
        # Where the candidate is no better than allowed, the evidence against it only grows with its errors.
        assert before.evidence.statistic is not None and after.evidence.statistic is not None
        assert after.evidence.statistic >= before.evidence.statistic * (1 - 1e-12)
