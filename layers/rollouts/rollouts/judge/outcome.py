"""Judge outcomes: the verdict on one metric, the evidence behind it, the verdict on a whole step and an A/B look."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class Outcome(StrEnum):
    """Argo Rollouts' analysis outcomes; Inconclusive means a person or a policy decides (bake longer, pause, fail)."""

    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


class Rule(StrEnum):
    """The rule that decided a verdict, so a decision can be filtered and counted without parsing sentences."""

    BELOW_MINIMUM_SAMPLE = "BelowMinimumSample"
    NO_DATA = "NoData"
    BOUNDARY_CROSSED = "BoundaryCrossed"
    BOUNDARY_NOT_CROSSED = "BoundaryNotCrossed"
    FINAL_LOOK_NOT_CROSSED = "FinalLookNotCrossed"
    LIKELIHOOD_RATIO_CROSSED = "LikelihoodRatioCrossed"
    LIKELIHOOD_RATIO_NOT_CROSSED = "LikelihoodRatioNotCrossed"
    MAXIMUM_SAMPLE_REACHED = "MaximumSampleReached"
    SIGNIFICANT_INCREASE = "SignificantIncrease"
    INCREASE_WITHIN_ALLOWED_CHANGE = "IncreaseWithinAllowedChange"
    NO_SIGNIFICANT_INCREASE = "NoSignificantIncrease"
    THRESHOLD_BREACHED = "ThresholdBreached"
    THRESHOLD_MET = "ThresholdMet"


class Evidence(BaseModel):
    """What a verdict rests on: enough for a person to check the decision by hand."""

    model_config = ConfigDict(frozen=True)

    baseline_samples: int | None = Field(default=None, description="Requests (rates) or periods (rank tests)")
    candidate_samples: int | None = None
    baseline_estimate: float | None = Field(default=None, description="Error rate, or median of the period values")
    candidate_estimate: float | None = None
    statistic_name: str = Field(description="z, likelihood ratio, U or value")
    statistic: float | None = None
    boundary: float | None = Field(default=None, description="The value the statistic was compared to")
    p_value: float | None = None
    alpha: float | None = Field(default=None, description="The level the p-value was compared to")
    effect_size: float | None = Field(
        default=None, description="Relative change of the candidate over the baseline: 0.5 is +50 %"
    )
    allowed_change: float | None = Field(default=None, description="Relative change tolerated before failing")
    look: int | None = None
    looks: int | None = None
    rule: Rule
    explanation: str
    alpha_source: str | None = Field(
        default=None,
        description="Where `alpha` came from: the check's own, or its share of guardrails.family_alpha, and how",
    )
    family_alpha: float | None = Field(
        default=None,
        description="The family-wise false-alarm bound in force: the sum of the alphas the critical checks use",
    )
    power: float | None = Field(
        default=None,
        description=(
            "Probability that the check fails the rollout by its last look if the candidate is worse by "
            "`detectable_change`, with the maximum sample projected from this look's (normal theory)"
        ),
    )
    detectable_change: float | None = Field(
        default=None, description="The relative change the power is computed against: 1.0 is +100 %"
    )


class MetricVerdict(BaseModel):
    """The outcome on one metric, with its evidence."""

    model_config = ConfigDict(frozen=True)

    metric: str
    outcome: Outcome
    critical: bool = False
    evidence: Evidence


class AbVerdict(BaseModel):
    """One look's decision, with the figures a release engineer checks it by."""

    model_config = ConfigDict(frozen=True)

    winner: Literal["candidate", "baseline"] | None
    baseline: dict[str, int | float] = Field(description='{"count": rewards, "mean": mean reward}')
    candidate: dict[str, int | float]
    difference: float = Field(description="Candidate mean - baseline mean")
    relative_change: float | None = Field(description="difference / baseline mean; None when that mean is 0")
    interval: tuple[float, float] | None = Field(
        description="Always-valid 1 - alpha confidence interval of the difference; None below the minimum sample"
    )
    likelihood_ratio: float
    p_value: float = Field(description="This look's always-valid p-value, min(1, 1 / likelihood_ratio)")
    running_p_value: float = Field(description="The smallest always-valid p-value so far, with the previous one")
    alpha: float
    reason: str

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form for a computed property
    @property
    def decided(self) -> bool:
        """Whether the look named a winner (it is in the dumped evidence too)."""
        return self.winner is not None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> Outcome:
        """The candidate's outcome, as every strategy states it: a better candidate Successful, a better baseline
        Failed, no winner (yet) Inconclusive."""
        if self.winner is None:
            return Outcome.INCONCLUSIVE
        return Outcome.SUCCESSFUL if self.winner == "candidate" else Outcome.FAILED


def too_few(metric: str, critical: bool, explanation: str, **evidence: Any) -> MetricVerdict:
    """The Inconclusive verdict every test gives below its minimum sample."""
    return MetricVerdict(
        metric=metric,
        outcome=Outcome.INCONCLUSIVE,
        critical=critical,
        evidence=Evidence(rule=Rule.BELOW_MINIMUM_SAMPLE, explanation=explanation, **evidence),
    )


def overall(verdicts: Iterable[MetricVerdict]) -> Outcome:
    """The step's outcome from its critical verdicts: any Failed fails it; else any Inconclusive; else Successful.

    A non-critical check is advisory, as a non-critical metric is in Kayenta: its verdict is recorded and published
    with the step's, but it neither fails nor holds the step. With no critical verdict there is nothing to object
    to, so the outcome is Successful: alarms and monitors, which are not metrics, stop a rollout on their own path.
    """
    outcomes = {verdict.outcome for verdict in verdicts if verdict.critical}
    if Outcome.FAILED in outcomes:
        return Outcome.FAILED
    if Outcome.INCONCLUSIVE in outcomes:
        return Outcome.INCONCLUSIVE
    return Outcome.SUCCESSFUL


def percent(rate: float) -> str:
    """A rate as a person reads it: "2.1 %", with one more decimal below 1 % so that 0.04 % does not read 0.0 %."""
    value = rate * 100
    return f"{value:.2f} %" if abs(value) < 1 else f"{value:.1f} %"


def relative_change(baseline: float, candidate: float) -> float | None:
    """candidate / baseline - 1 (0.5 is +50 %); None when the baseline is 0 and no ratio exists."""
    return candidate / baseline - 1 if baseline else None
