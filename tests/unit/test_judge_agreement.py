"""The shadow's one-sided tests: exact binomial agreement, mean score distance, Farrington-Manning rate difference."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.judge.agreement import label_agreement_test, mean_distance_test, rate_difference_test
from rollouts.judge.family import CheckAlpha, split_alpha
from rollouts.judge.sequential import binomial_upper_tail, compare_rate_difference, compare_rates
from rollouts.logic.shadow import TESTS, alpha_shares


def exact_upper_tail(x: int, n: int, share: float) -> float:
    return sum(math.comb(n, k) * share**k * (1 - share) ** (n - k) for k in range(x, n + 1))


@pytest.mark.parametrize(("x", "n", "share"), [(0, 10, 0.1), (3, 10, 0.1), (1, 50, 0.05), (30, 200, 0.05)])
def test_the_binomial_upper_tail_is_the_exact_sum(x, n, share):
    assert binomial_upper_tail(x, n, share) == pytest.approx(exact_upper_tail(x, n, share), rel=1e-12, abs=1e-300)


def test_the_binomial_upper_tail_holds_its_precision_far_out():
    # 200 disagreements of 1,000 where 5 % are allowed: about 1e-70, which 1 - cdf would round to 0
    tail = binomial_upper_tail(200, 1000, 0.05)

    assert 0 < tail < 1e-60
    assert tail == pytest.approx(exact_upper_tail(200, 1000, 0.05), rel=1e-9)


def test_the_agreement_test_rejects_at_most_alpha_of_challengers_that_just_meet_the_requirement():
    # At the null's boundary (agreement exactly 95 %) the exact test rejects with probability at most alpha: the
    # rejected outcomes are D >= some d, and P(D >= d) is computed here in exact rational arithmetic
    alpha = 0.05 / 3
    share = Fraction(1, 20)
    for pairs in (200, 1_000, 4_321):
        scanned = range(min(pairs, 2 * pairs // 20 + 60) + 1)  # well past the mean, 5 % of the pairs
        rejected = [d for d in scanned if label_agreement_test(pairs - d, pairs, 0.95, alpha).failed]
        first = rejected[0]
        assert rejected == list(range(first, scanned[-1] + 1))

        def at_least(d: int, pairs: int = pairs) -> Fraction:
            below = sum((math.comb(pairs, k) * share**k * (1 - share) ** (pairs - k) for k in range(d)), Fraction(0))
            return 1 - below

        assert at_least(first) <= alpha
        assert at_least(first - 1) > alpha  # and the test uses what it may: one more outcome would exceed alpha


def test_the_agreement_test_fails_a_challenger_clearly_below_and_passes_one_above():
    below = label_agreement_test(900, 1000, 0.95, 0.0167)  # 90 %
    just_below = label_agreement_test(945, 1000, 0.95, 0.0167)  # 94.5 %: not evidence of less than 95 %
    above = label_agreement_test(986, 1000, 0.95, 0.0167)

    assert below.failed and below.p_value < 1e-9 and below.z is not None and below.z > 5
    assert not just_below.failed
    assert not above.failed and above.z is not None and above.z < 0
    assert "exact binomial test of agreement >= 0.95 (100 disagreements)" in below.test
    assert below.sentence().endswith("<= alpha 0.0167")


def test_agreement_required_of_every_label_fails_on_one_disagreement():
    assert label_agreement_test(999, 1000, 1.0, 0.01).failed
    assert not label_agreement_test(1000, 1000, 1.0, 0.01).failed
    assert not label_agreement_test(0, 1000, 0.0, 0.01).failed


def test_the_mean_distance_test_is_a_one_sided_z_test():
    rng = np.random.default_rng(1)
    far = rng.uniform(0.0, 0.2, size=400).tolist()  # mean 0.1
    near = rng.uniform(0.0, 0.06, size=400).tolist()  # mean 0.03

    assert mean_distance_test(far, 0.05, 0.0167).failed
    assert not mean_distance_test(near, 0.05, 0.0167).failed
    assert mean_distance_test([0.2] * 10, 0.05, 0.01).p_value == 0.0  # no noise, above the limit
    assert not mean_distance_test([0.0] * 10, 0.05, 0.01).failed


def test_the_rate_difference_score_test_at_margin_zero_is_the_pooled_z():
    assert compare_rate_difference(10, 1000, 30, 1000).z == pytest.approx(compare_rates(10, 1000, 30, 1000).z)


@given(
    st.integers(1, 2000),
    st.integers(1, 2000),
    st.floats(0.0, 0.2),
    st.floats(0.0, 0.2),
    st.floats(0.001, 0.1),
)
def test_the_constrained_rates_maximise_the_likelihood_on_the_margin(n_b, n_c, rate_b, rate_c, margin):
    x_b, x_c = round(rate_b * n_b), round(rate_c * n_c)
    comparison = compare_rate_difference(x_b, n_b, x_c, n_c, margin)

    def log_likelihood(p_b: float) -> float:
        p_c = p_b + margin
        terms = ((x_c, p_c), (n_c - x_c, 1 - p_c), (x_b, p_b), (n_b - x_b, 1 - p_b))
        return sum(count * math.log(p) if count else 0.0 for count, p in terms)

    # The likelihood on the constraint p_c = p_b + margin is concave in p_b: a ternary search finds its maximum,
    # and the score test's standard error is the binomial one at that point.
    low, high = 0.0, 1.0 - margin
    for _ in range(200):
        left, right = low + (high - low) / 3, high - (high - low) / 3
        inner = [min(max(p, 1e-300), 1 - margin - 1e-15) for p in (left, right)]
        if log_likelihood(inner[0]) < log_likelihood(inner[1]):
            low = left
        else:
            high = right
    best = (low + high) / 2
    variance = (best + margin) * (1 - best - margin) / n_c + best * (1 - best) / n_b
    # The likelihood is flat at its maximum: the search's argmax is good to about 1e-6 of the standard error, not
    # better (a falsifying example differed by 1.9e-6), so the closed form is held to 1e-4.
    assert comparison.standard_error == pytest.approx(math.sqrt(variance), rel=1e-4, abs=1e-9)
    assert comparison.difference == pytest.approx(x_c / n_c - x_b / n_b - margin)


def test_the_rate_difference_test_fails_a_clearly_worse_challenger_only():
    worse = rate_difference_test(0, 3000, 90, 3000, 0.005, 0.0167)  # 3 % against 0 %, half a point allowed
    within = rate_difference_test(5, 3000, 15, 3000, 0.005, 0.0167)  # 0.5 % against 0.17 %

    assert worse.failed and worse.z is not None and worse.z > 5
    assert not within.failed
    assert "Farrington-Manning" in worse.test
    assert not rate_difference_test(0, 100, 100, 100, 1.0, 0.01).failed  # a margin of 100 points allows anything


def test_the_rate_difference_test_rejects_about_alpha_at_the_null_boundary():
    # Challenger 1.5 %, production 1 %, margin half a point: exactly on the null's boundary
    rng = np.random.default_rng(7)
    runs, alpha = 20_000, 0.05
    x_b, x_c = rng.binomial(5000, 0.01, size=runs), rng.binomial(5000, 0.015, size=runs)
    rejected = sum(
        rate_difference_test(int(b), 5000, int(c), 5000, 0.005, alpha).failed for b, c in zip(x_b, x_c, strict=True)
    )

    assert rejected / runs <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / runs)
    assert rejected / runs > alpha / 2


def test_the_shadows_three_tests_split_the_family_alpha():
    shares = alpha_shares(0.05)

    assert set(shares) == set(TESTS) == {"5xx-rate", "latency", "agreement"}
    assert all(share.alpha == pytest.approx(0.05 / 3) for share in shares.values())
    assert shares == split_alpha(0.05, [CheckAlpha(name, True, None) for name in TESTS])
