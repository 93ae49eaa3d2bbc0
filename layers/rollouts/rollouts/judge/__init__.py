"""The statistical judge: candidate vs baseline metrics in, an outcome with its evidence out; pure code."""

from rollouts.judge.ab import AbDesign, AbVerdict, always_valid_interval, judge_ab, two_sided_log_likelihood_ratio
from rollouts.judge.means import MeanStats, judge_means, welch_z
from rollouts.judge.msprt import MsprtDesign, judge_msprt, log_likelihood_ratio
from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, overall
from rollouts.judge.rank import MannWhitney, RankDesign, judge_rank, mann_whitney_greater
from rollouts.judge.sequential import (
    NORMAL_APPROXIMATION_ABOVE,
    ConditionalComparison,
    GroupSequentialDesign,
    RateComparison,
    RateStatistic,
    Spending,
    boundaries,
    compare_rates,
    conditional_z,
    exact_conditional,
    judge_sequential,
    spent_alpha,
)
from rollouts.judge.threshold import ThresholdRule, judge_threshold

__all__ = [
    "NORMAL_APPROXIMATION_ABOVE",
    "AbDesign",
    "AbVerdict",
    "ConditionalComparison",
    "Evidence",
    "GroupSequentialDesign",
    "MannWhitney",
    "MeanStats",
    "MetricVerdict",
    "MsprtDesign",
    "Outcome",
    "RankDesign",
    "RateComparison",
    "RateStatistic",
    "Rule",
    "Spending",
    "ThresholdRule",
    "always_valid_interval",
    "boundaries",
    "compare_rates",
    "conditional_z",
    "exact_conditional",
    "judge_ab",
    "judge_means",
    "judge_msprt",
    "judge_rank",
    "judge_sequential",
    "judge_threshold",
    "log_likelihood_ratio",
    "mann_whitney_greater",
    "overall",
    "spent_alpha",
    "two_sided_log_likelihood_ratio",
    "welch_z",
]
