"""Non-stationary rewards: discounting, the change detector, and updates that combine them."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable

import pytest

from rollouts.bandit.drift import change_test, combine, discount, update
from rollouts.bandit.models import ArmStatistics, BanditDesign, RewardKind
from rollouts.bandit.posterior import probability_best
from tests.unit.bandit_arms import arm


def real(variant: str, rewards: list[float]) -> ArmStatistics:
    return ArmStatistics(
        variant=variant,
        count=len(rewards),
        reward_sum=sum(rewards),
        reward_sum_of_squares=sum(r * r for r in rewards),
    )


def test_discount_multiplies_every_sum_and_keeps_the_mean() -> None:
    stats = ArmStatistics(variant="v", count=1_000, reward_sum=100, reward_sum_of_squares=100)
    discounted = discount(stats, 0.9)
    assert (discounted.count, discounted.reward_sum, discounted.reward_sum_of_squares) == pytest.approx((900, 90, 90))
    assert discounted.mean == pytest.approx(stats.mean)
    assert discount(stats, 1.0) is stats


def test_a_discount_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        discount(arm("v", 10, 1), 1.5)


def test_update_discounts_then_adds_the_batch() -> None:
    design = BanditDesign(discount=0.5, change_threshold=None)
    result = update([arm("v1", 1_000, 100), arm("v2", 200, 30)], [arm("v1", 100, 10)], design)
    first, second = result.arms
    assert (first.count, first.reward_sum) == pytest.approx((600, 60))
    # An arm without traffic in the batch is only discounted.
    assert (second.count, second.reward_sum) == pytest.approx((100, 15))
    assert result.tests == ()


def test_update_adds_a_new_variant_after_the_known_ones() -> None:
    result = update([arm("v1", 10, 1)], [arm("v2", 5, 2), arm("v1", 5, 1)])
    assert [a.variant for a in result.arms] == ["v1", "v2"]
    assert result.arms[0].count == 15
    assert result.arms[1].count == 5


def test_update_rejects_two_entries_for_one_variant() -> None:
    with pytest.raises(ValueError, match="one entry per variant"):
        update([arm("v1", 10, 1)], [arm("v1", 5, 2), arm("v1", 5, 1)])


def test_an_unchanged_rate_is_not_a_change() -> None:
    test = change_test(arm("v", 20_000, 2_000), arm("v", 2_000, 210))
    assert test.tested
    assert test.z is not None and abs(test.z) < 1
    assert not test.changed


def test_the_z_is_the_beta_binomial_standardised_sum() -> None:
    # History Beta(101, 901): mean 101/1002; a batch of 500 with 80 successes.
    a, b, n = 101.0, 901.0, 500.0
    mean = a / (a + b)
    sd = math.sqrt(n * mean * (1 - mean) * (a + b + n) / (a + b + 1))
    test = change_test(arm("v", 1_000, 100), arm("v", 500, 80))
    assert test.z == pytest.approx((80 - n * mean) / sd)


def test_a_halved_rate_resets_the_arm_to_its_latest_batch() -> None:
    # Given an arm that converted 20 % over 50,000 requests and 10 % in its latest batch of 1,000
    history = [arm("winner", 50_000, 10_000), arm("loser", 500, 50)]
    batch = [arm("winner", 1_000, 100), arm("loser", 20, 2)]
    # When updated with the default design
    result = update(history, batch)
    # Then the winner's history is dropped and the small batch on the loser is not tested
    assert result.reset == ("winner",)
    winner, loser = result.arms
    assert (winner.count, winner.reward_sum) == (1_000, 100)
    assert (loser.count, loser.reward_sum) == (520, 52)
    assert [t.tested for t in result.tests] == [True, False]
    # And the two arms are close again, so the loser gets traffic back
    assert probability_best(result.arms)[1] > 0.3


def test_the_detector_can_be_switched_off() -> None:
    result = update([arm("v", 50_000, 10_000)], [arm("v", 1_000, 100)], BanditDesign(change_threshold=None))
    assert result.reset == ()
    assert result.arms[0].count == 51_000


def binomial(n: int, p: float, rng: random.Random) -> Callable[[], int]:
    """Exact Binomial(n, p) draws by inverting its distribution function, tabulated once."""
    cumulative, total = [], 0.0
    for k in range(n + 1):
        log_pmf = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        total += math.exp(log_pmf + k * math.log(p) + (n - k) * math.log1p(-p))
        cumulative.append(total)
    return lambda: bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


def test_false_alarms_are_rare_on_stationary_batches() -> None:
    # 3,000 batches of 1,000 requests at 5 %, each tested against 20,000 earlier requests of the same rate.
    rng = random.Random(7)
    history, batch = binomial(20_000, 0.05, rng), binomial(1_000, 0.05, rng)
    alarms = sum(change_test(arm("v", 20_000, history()), arm("v", 1_000, batch())).changed for _ in range(3_000))
    assert alarms <= 3  # two-sided 6e-5 per test under the normal approximation: about 0.2 expected


def test_real_rewards_are_tested_with_welchs_z() -> None:
    history = real("v", [1.0, 2.0, 3.0, 4.0] * 25)
    shifted = real("v", [3.0, 4.0, 5.0, 6.0] * 5)
    test = change_test(history, shifted, RewardKind.REAL)
    expected = 2.0 / math.sqrt(history_variance(history) / 100 + history_variance(shifted) / 20)
    assert test.z == pytest.approx(expected)
    assert test.changed
    assert not change_test(history, real("v", [2.0, 3.0] * 4), RewardKind.REAL).tested  # 8 < 10 rewards


def history_variance(stats: ArmStatistics) -> float:
    mean = stats.reward_sum / stats.count
    return (stats.reward_sum_of_squares - stats.count * mean * mean) / (stats.count - 1)


def test_a_starved_arm_regains_probability_as_its_history_is_discounted() -> None:
    # Given a loser with 2,000 requests at 4 % against a winner at 5 %, and batches that all go to the winner
    arms = [arm("winner", 20_000, 1_000), arm("loser", 2_000, 80)]
    design = BanditDesign(discount=0.8, change_threshold=None)
    before = probability_best(arms)[1]
    for _ in range(15):
        arms = list(update(arms, [arm("winner", 1_000, 50)], design).arms)
    # Then the loser's counts shrink and its P(best) rises: it will be explored again
    assert arms[1].count == pytest.approx(2_000 * 0.8**15)
    assert probability_best(arms)[1] > before + 0.05


def test_combine_adds_the_sums() -> None:
    total = combine(arm("v", 10, 2), arm("v", 5, 1))
    assert (total.count, total.reward_sum) == (15, 3)
