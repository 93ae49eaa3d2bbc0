"""Plain threshold rules: a value against a limit, failing when the comparison holds, as a CloudWatch alarm does."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule
from rollouts.models.spec import Comparison

_WORDS = {
    Comparison.GREATER_THAN: "above",
    Comparison.GREATER_THAN_OR_EQUAL: "at or above",
    Comparison.LESS_THAN: "below",
    Comparison.LESS_THAN_OR_EQUAL: "at or below",
}


class ThresholdRule(BaseModel):
    """Fail when `value <comparison> threshold`: `GreaterThanThreshold` 0.01 fails a 5XX rate above 1 %."""

    model_config = ConfigDict(frozen=True)

    threshold: float
    comparison: Comparison = Comparison.GREATER_THAN
    minimum_samples: int = Field(default=0, ge=0, description="Below this many samples behind the value: Inconclusive")


def breaches(value: float, threshold: float, comparison: Comparison) -> bool:
    if comparison is Comparison.GREATER_THAN:
        return value > threshold
    if comparison is Comparison.GREATER_THAN_OR_EQUAL:
        return value >= threshold
    if comparison is Comparison.LESS_THAN:
        return value < threshold
    return value <= threshold


def judge_threshold(
    metric: str, rule: ThresholdRule, value: float | None, samples: int | None = None, critical: bool = False
) -> MetricVerdict:
    """The verdict on the candidate's `value` (None: no data in the window), computed over `samples` if known."""
    words = _WORDS[rule.comparison]
    over = f" over {samples:,} samples" if samples is not None else ""
    if value is None:
        outcome, fired = Outcome.INCONCLUSIVE, Rule.NO_DATA
        explanation = f"{metric} has no data in the window: Inconclusive"
    elif samples is not None and samples < rule.minimum_samples:
        outcome, fired = Outcome.INCONCLUSIVE, Rule.BELOW_MINIMUM_SAMPLE
        explanation = f"{metric} = {value:,.6g}{over}, fewer than the minimum {rule.minimum_samples:,}: Inconclusive"
    elif breaches(value, rule.threshold, rule.comparison):
        outcome, fired = Outcome.FAILED, Rule.THRESHOLD_BREACHED
        explanation = f"{metric} = {value:,.6g}{over} is {words} the limit {rule.threshold:,.6g}: Failed"
    else:
        outcome, fired = Outcome.SUCCESSFUL, Rule.THRESHOLD_MET
        explanation = f"{metric} = {value:,.6g}{over} is not {words} the limit {rule.threshold:,.6g}: Successful"
    return MetricVerdict(
        metric=metric,
        outcome=outcome,
        critical=critical,
        evidence=Evidence(
            candidate_samples=samples,
            candidate_estimate=value,
            statistic_name="value",
            statistic=value,
            boundary=rule.threshold,
            rule=fired,
            explanation=explanation,
        ),
    )
