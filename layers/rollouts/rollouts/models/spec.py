"""The declarative rollout spec: what to roll out, where, with which strategy, and what may stop it.

Each strategy's own spec model lives with its strategy (`rollouts.strategies`); this module holds what every
rollout shares: the candidate, the guardrails, data capture.

No `from __future__ import annotations` here nor in `rollout.py`: pydantic would evaluate every string annotation
as a ForwardRef (compiled and evaluated one by one), which cost 4 to 7 ms of this module's import on Python 3.13,
and every handler imports it.
"""

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rollouts.judge.family import AlphaShare, CheckAlpha, split_alpha
from rollouts.models.base import Candidate, Seconds, Strict, duration
from rollouts.models.hooks import Hooks
from rollouts.models.names import NAME_PATTERN
from rollouts.monitoring.kinds import MonitoringType
from rollouts.monitoring.policy import MonitoringPolicy
from rollouts.strategies import AnyStrategy, StrategySpec


class VariantMetric(StrEnum):
    """Per-variant metrics SageMaker publishes in AWS/SageMaker (dimensions EndpointName, VariantName)."""

    INVOCATIONS = "Invocations"
    INVOCATION_4XX_ERRORS = "Invocation4XXErrors"
    INVOCATION_5XX_ERRORS = "Invocation5XXErrors"
    MODEL_LATENCY = "ModelLatency"
    OVERHEAD_LATENCY = "OverheadLatency"


class Comparison(StrEnum):
    GREATER_THAN = "GreaterThanThreshold"
    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"


SAGEMAKER_NAMESPACE = "AWS/SageMaker"
_STATISTICS = {"Average", "Sum", "SampleCount", "Minimum", "Maximum"}
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,2})?)$")


class AlarmRule(Strict):
    """A CloudWatch alarm the rollout creates on the candidate variant and deletes when it ends.

    Examples: 5XX rate above 1 % is `{metric: Invocation5XXErrors, statistic: Average, threshold: 0.01}` (SageMaker
    publishes 0 or 1 per request, so the average is the rate); ModelLatency p99 above 300 ms is
    `{metric: ModelLatency, statistic: p99, threshold: 300000}` (ModelLatency is in microseconds).
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$", description="Short name; the alarm name adds the rollout id")
    metric: VariantMetric
    statistic: str = "Average"
    threshold: float
    comparison: Comparison = Comparison.GREATER_THAN
    period_seconds: int = Field(
        default=60, description="A multiple of 60: SageMaker publishes these metrics per minute"
    )
    evaluation_periods: int = Field(default=1, ge=1, le=10)
    datapoints_to_alarm: int | None = Field(default=None, ge=1, le=10)

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, value: str) -> str:
        if value not in _STATISTICS and not _PERCENTILE.match(value):
            raise ValueError(f"'{value}' is not a CloudWatch statistic: use one of {sorted(_STATISTICS)} or pNN")
        return value

    @field_validator("period_seconds")
    @classmethod
    def _valid_period(cls, value: int) -> int:
        if value < 60 or value % 60:
            raise ValueError(
                "the period must be a multiple of 60 seconds: SageMaker publishes these metrics per minute"
            )
        return value

    @model_validator(mode="after")
    def _datapoints_fit(self) -> Self:
        if self.datapoints_to_alarm is not None and self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        return self

    @property
    def is_percentile(self) -> bool:
        return bool(_PERCENTILE.match(self.statistic))


_OWN_ALPHA = "False-alarm rate over all the steps; unset (the default): the check's share of guardrails.family_alpha"


class RateCheck(Strict):
    """Judge the candidate's error rate against the baseline's at every step, with a stated false-alarm rate.

    A one-sided group-sequential test (O'Brien-Fleming-type spending over the canary's steps) on the cumulative
    counts of the metric and of Invocations per variant; see `rollouts.judge.sequential`. Its alpha is its share of
    `guardrails.family_alpha` unless it has its own (`rollouts.judge.family`).
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$")
    metric: Literal[VariantMetric.INVOCATION_5XX_ERRORS, VariantMetric.INVOCATION_4XX_ERRORS] = (
        VariantMetric.INVOCATION_5XX_ERRORS
    )
    alpha: float | None = Field(default=None, gt=0, lt=0.5, description=_OWN_ALPHA)
    minimum_detectable_change: float | None = Field(
        default=1.0,
        gt=0,
        le=100,
        description="The rate increase the verdict's power is reported against: 1.0, twice the baseline's; null: none",
    )
    allowed_relative_change: float = Field(default=0.0, ge=0, le=10, description="0.1 tolerates a rate 10 % higher")
    minimum_samples: int = Field(default=100, ge=1, description="Requests per variant below which it is Inconclusive")
    critical: bool = True
    test: Literal["group-sequential", "msprt"] = Field(
        default="group-sequential",
        description="group-sequential: looks at the steps, most power; msprt: always valid, any number of looks",
    )
    msprt_mixing_sd: float = Field(
        default=0.01, gt=0, le=1, description="mSPRT only: the rate difference it is tuned to find (0.01 = 1 point)"
    )


class MetricCheck(Strict):
    """Judge a CloudWatch metric of the candidate per period, at every step, on the data since it got traffic.

    `test: rank` compares the candidate's per-period values with the baseline's (one-sided Mann-Whitney with an
    effect-size gate, as Kayenta does; its known weaknesses are in `rollouts.judge.rank`). `test: threshold` holds
    the candidate's statistic over the whole window to a limit. The metric is a per-variant SageMaker metric
    (`ModelLatency`, `OverheadLatency`; namespace `AWS/SageMaker`, dimensions EndpointName and VariantName) or a
    custom metric that carries the variant's name in `variant_dimension`, beside any fixed `dimensions`.
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$")
    namespace: str = Field(default=SAGEMAKER_NAMESPACE, min_length=1, max_length=255)
    metric: str = Field(default=VariantMetric.MODEL_LATENCY.value, min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(
        default_factory=dict, max_length=29, description="Fixed dimensions of a custom metric"
    )
    variant_dimension: str = Field(
        default="VariantName", min_length=1, max_length=255, description="The dimension holding the variant's name"
    )
    statistic: str = Field(default="p99", description="Average, Minimum, Maximum or a percentile such as p99")
    period_seconds: int = Field(default=60, description="A multiple of 60")
    direction: Literal["higher-is-worse", "lower-is-worse"] = "higher-is-worse"
    test: Literal["rank", "threshold"] = "rank"
    threshold: float | None = Field(default=None, description="test: threshold only; in the metric's unit")
    alpha: float | None = Field(
        default=None,
        gt=0,
        lt=0.5,
        description="test: rank only; spent over the steps; unset (the default): its share of guardrails.family_alpha",
    )
    allowed_relative_change: float = Field(
        default=0.1, ge=0, le=10, description="test: rank only; 0.1 tolerates a median 10 % worse"
    )
    minimum_detectable_change: float | None = Field(
        default=0.25,
        gt=0,
        le=10,
        description="test: rank only; the worsening the verdict's power is reported against (0.25: values 25 % worse)",
    )
    minimum_periods: int = Field(
        default=8, ge=2, le=1440, description="test: rank only; periods per variant below which it is Inconclusive"
    )
    minimum_samples: int = Field(
        default=0, ge=0, description="test: threshold only; data points below which it is Inconclusive"
    )
    critical: bool = True

    @field_validator("statistic")
    @classmethod
    def _known_statistic(cls, value: str) -> str:
        # Sum and SampleCount grow with traffic, and the variants get different traffic: not comparable.
        allowed = {"Average", "Minimum", "Maximum"}
        if value not in allowed and not _PERCENTILE.match(value):
            raise ValueError(f"'{value}' cannot be judged per period: use one of {sorted(allowed)} or pNN")
        return value

    @field_validator("period_seconds")
    @classmethod
    def _valid_period(cls, value: int) -> int:
        if value < 60 or value % 60 or value > 3600:
            raise ValueError("the period must be a multiple of 60 seconds, at most 3600")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.namespace == SAGEMAKER_NAMESPACE:
            judged = {VariantMetric.MODEL_LATENCY.value, VariantMetric.OVERHEAD_LATENCY.value}
            if self.metric not in judged:
                raise ValueError(
                    f"'{self.metric}' is not a per-variant value metric of {SAGEMAKER_NAMESPACE}: use one of "
                    f"{sorted(judged)} (error rates belong in rate_checks)"
                )
            if self.dimensions or self.variant_dimension != "VariantName":
                raise ValueError(f"{SAGEMAKER_NAMESPACE} metrics take their dimensions from the endpoint and variant")
        if self.test == "threshold" and self.threshold is None:
            raise ValueError("a threshold test needs 'threshold'")
        if self.test == "rank" and self.threshold is not None:
            raise ValueError("'threshold' is for test: threshold; a rank test compares with the baseline")
        return self

    @property
    def is_percentile(self) -> bool:
        return bool(_PERCENTILE.match(self.statistic))


class FeedbackCheck(Strict):
    """Judge the feedback of both variants at every step: the candidate's mean reward (its conversion rate, or the
    mean of real-valued rewards) against the baseline's, group-sequential like the rate checks.

    Feedback arrives through `POST /feedback`, the feedback queue or EventBridge; see `rollouts.judge.means`.
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$")
    direction: Literal["lower-is-worse", "higher-is-worse"] = "lower-is-worse"
    alpha: float | None = Field(default=None, gt=0, lt=0.5, description=_OWN_ALPHA)
    allowed_relative_change: float = Field(
        default=0.0, ge=0, lt=1, description="0.05 tolerates a mean reward 5 % worse than the baseline's"
    )
    minimum_detectable_change: float | None = Field(
        default=0.1,
        gt=0,
        le=10,
        description="The worsening of the mean reward the verdict's power is reported against (0.1: 10 %); null: none",
    )
    minimum_samples: int = Field(default=200, ge=2, description="Rewards per variant below which it is Inconclusive")
    critical: bool = True


class MonitoringGuard(Strict):
    """A SageMaker Model Monitor schedule whose results guard the rollout."""

    schedule_name: str = Field(pattern=NAME_PATTERN)
    policy: MonitoringPolicy | None = Field(default=None, description="Defaults to: roll back on any violation")


S3_URI_PATTERN = r"^s3://[a-z0-9.\-]{3,63}/.+$"
S3Uri = Annotated[str, Field(pattern=S3_URI_PATTERN)]
if TYPE_CHECKING:
    MonitorEvery = float
    MonitorWindow = float
else:
    MonitorEvery = duration(60, 86400)
    MonitorWindow = duration(60, 7 * 86400)
# The files each kind of monitor reads, as Model Monitor's job definitions name them: a data-quality or
# model-quality baseline is statistics.json and constraints.json; a Clarify one is analysis_config.json (the
# config: headers, label, facet, SHAP's background) and the baseline's analysis.json (the constraints).
_BASELINE_FILES: dict[MonitoringType, tuple[tuple[str, ...], tuple[str, ...]]] = {
    MonitoringType.DATA_QUALITY: (("statistics", "constraints"), ("config", "analysis")),
    MonitoringType.MODEL_QUALITY: (("constraints",), ("config", "analysis")),
    MonitoringType.MODEL_BIAS: (("config", "analysis"), ("statistics", "constraints")),
    MonitoringType.MODEL_EXPLAINABILITY: (("config", "analysis"), ("statistics", "constraints")),
}


class MonitorBaseline(Strict):
    """A baseline in Model Monitor's or Clarify's files, as `rollouts baseline` writes them or Model Monitor did."""

    statistics: S3Uri | None = Field(default=None, description="statistics.json (data quality, model quality)")
    constraints: S3Uri | None = Field(default=None, description="constraints.json (data quality, model quality)")
    config: S3Uri | None = Field(default=None, description="Clarify's analysis_config.json (bias, explainability)")
    analysis: S3Uri | None = Field(
        default=None, description="The Clarify baseline's analysis.json, the constraints (bias, explainability)"
    )


class MonitorGuard(Strict):
    """A monitor the control plane runs itself on a variant's captured data, in Model Monitor's formats: every
    `every` during bakes and watches, and once at the end of each bake. Its results go down the same path as a
    Model Monitor execution's: `policy` judges the violations and the decision log shows them."""

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$", description="Unique among the rollout's monitors")
    type: MonitoringType
    baseline: MonitorBaseline
    every: MonitorEvery = Field(default=300.0, description="How often it runs during a bake or a watch: '5m'")
    window: MonitorWindow = Field(
        default=3600.0, description="How far back it reads the capture, never before the rollout began: '1h'"
    )
    variant: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="The variant whose capture it reads; the candidate's if unset"
    )
    min_rows: int = Field(
        default=100, ge=1, le=1_000_000, description="Rows (labelled rows, for model quality and bias) to judge on"
    )
    policy: MonitoringPolicy | None = Field(default=None, description="Defaults to: roll back on any violation")
    on_failure: Literal["rollback", "record"] = Field(
        default="rollback",
        description=(
            "When a run cannot judge (a baseline missing or malformed, the endpoint not answering): rollback (the "
            "default: a guardrail that cannot look lets nothing through) or record (log it and go on)"
        ),
    )
    problem_type: Literal["Regression", "BinaryClassification", "MulticlassClassification"] | None = Field(
        default=None, description="Model quality: the problem type, as Model Monitor names it"
    )
    probability_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="A score at or above it is the positive label"
    )
    num_samples: int = Field(default=100, ge=2, le=2048, description="Explainability: Kernel SHAP's coalitions a row")
    max_model_calls: int = Field(
        default=20, ge=1, le=1000, description="Explainability: endpoint calls a run may make, one a row explained"
    )
    ndcg_threshold: float = Field(
        default=0.9, gt=0, le=1, description="Explainability: NDCG below it is a violation (Model Monitor's 0.90)"
    )

    @model_validator(mode="after")
    def _kind_needs(self) -> Self:
        required, foreign = _BASELINE_FILES[self.type]
        missing = [name for name in required if getattr(self.baseline, name) is None]
        if missing:
            raise ValueError(f"a {self.type.value} monitor needs baseline.{' and baseline.'.join(missing)}")
        extra = [name for name in foreign if getattr(self.baseline, name) is not None]
        if extra:
            raise ValueError(f"a {self.type.value} monitor does not read baseline.{' or baseline.'.join(extra)}")
        if self.type is MonitoringType.MODEL_QUALITY and self.problem_type is None:
            raise ValueError("a ModelQuality monitor needs problem_type")
        if self.type is not MonitoringType.MODEL_QUALITY and self.problem_type is not None:
            raise ValueError(f"problem_type is for ModelQuality monitors, not {self.type.value}")
        return self


class Guardrails(Strict):
    alarms: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=10, description="Existing CloudWatch alarm names (CloudWatch's limit: 255)"
    )
    alarm_rules: list[AlarmRule] = Field(default_factory=list, max_length=10)
    suppressed_alarms: Literal["breach", "ignore"] = Field(
        default="breach",
        description=(
            "An alarm in ALARM whose actions are suppressed (a composite alarm's actionsSuppressedBy) or muted by a "
            "mute rule: breach (the default: suppression and muting silence notifications, not the candidate's "
            "errors) or ignore (record it and go on, for alarms muted during a maintenance window)"
        ),
    )
    monitoring_schedules: list[MonitoringGuard] = Field(default_factory=list, max_length=10)
    monitors: list[MonitorGuard] = Field(default_factory=list, max_length=10)
    rate_checks: list[RateCheck] = Field(default_factory=list, max_length=10)
    metric_checks: list[MetricCheck] = Field(default_factory=list, max_length=10)
    feedback_checks: list[FeedbackCheck] = Field(default_factory=list, max_length=10)
    family_alpha: float = Field(
        default=0.05,
        gt=0,
        lt=0.5,
        description=(
            "The false-alarm rate of the whole verdict: the chance that an equal candidate fails any critical rate, "
            "rank or feedback check at any step (or a shadow's comparisons), split equally over the critical checks "
            "without their own alpha"
        ),
    )
    extra_bakes_when_inconclusive: int = Field(
        default=0, ge=0, le=5, description="Bake a step again when a check has too little data to decide"
    )
    when_inconclusive: Literal["continue", "fail", "pause"] = Field(
        default="continue",
        description=(
            "When a check still has too little data after the extra bakes: continue (go on to the next step; the "
            "last step fails), fail (roll back), or pause (hold the weights until an operator resumes, promotes "
            "or aborts)"
        ),
    )
    pause_timeout: Seconds = Field(
        default=24 * 3600.0, description="How long a pause waits for an operator before rolling back: '24h'"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [rule.name for rule in self.alarm_rules]
        if len(names) != len(set(names)):
            raise ValueError("alarm_rules names must be unique")
        checks = (
            [check.name for check in self.rate_checks]
            + [check.name for check in self.metric_checks]
            + [check.name for check in self.feedback_checks]
        )
        if len(checks) != len(set(checks)):
            raise ValueError("rate_checks, metric_checks and feedback_checks names must be unique")
        monitors = [monitor.name for monitor in self.monitors]
        if len(monitors) != len(set(monitors)):
            raise ValueError("monitors names must be unique")
        self.alpha_shares()  # own alphas that leave nothing of family_alpha for the other checks are refused
        return self

    def alpha_shares(self) -> dict[str, AlphaShare]:
        """Each statistical check's alpha by name: its own, else its share of `family_alpha` (threshold metric
        checks are not tests and take none); see `rollouts.judge.family`."""
        tests: list[RateCheck | MetricCheck | FeedbackCheck] = [
            *self.rate_checks,
            *(check for check in self.metric_checks if check.test == "rank"),
            *self.feedback_checks,
        ]
        checks = [CheckAlpha(check.name, check.critical, check.alpha) for check in tests]
        return split_alpha(self.family_alpha, checks)


class DataCapture(Strict):
    """Data capture for the new endpoint configs; defaults to the endpoint's own, else the control plane's bucket."""

    destination_s3_uri: str | None = Field(default=None, pattern=r"^s3://[a-z0-9.\-]{3,63}(/.*)?$")
    sampling_percentage: int = Field(default=100, ge=0, le=100)


class RolloutSpec(Strict):
    """What a release tool posts to start a rollout."""

    endpoint_name: str = Field(pattern=NAME_PATTERN)
    baseline_variant: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Needed only when the endpoint has several variants"
    )
    inference_component_name: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description=(
            "The inference component of the endpoint whose model the rollout replaces (a rolling update with "
            "UpdateInferenceComponent), instead of a variant's"
        ),
    )
    candidate: Candidate
    strategy: AnyStrategy
    guardrails: Guardrails = Field(default_factory=Guardrails)
    data_capture: DataCapture = Field(default_factory=DataCapture)
    hooks: Hooks = Field(default_factory=Hooks, description="Lambda functions called at the rollout's turns")

    @property
    def lock_name(self) -> str:
        """What one rollout at a time may change: the endpoint, or one of its inference components (rollouts of two
        components of one endpoint run side by side; a variant rollout is refused on an endpoint of components)."""
        component = self.inference_component_name
        return f"{self.endpoint_name}/{component}" if component else self.endpoint_name

    @property
    def candidates(self) -> list[Candidate]:
        """Every model the rollout brings: the candidate, then the strategy's further ones (a bandit's arms)."""
        return [self.candidate, *self.strategy.more_candidates_of()]

    @field_validator("inference_component_name")
    @classmethod
    def _component_names_its_variant(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is not None and info.data.get("baseline_variant"):
            raise ValueError(
                "an inference component names the variant it runs on: leave baseline_variant out with "
                "inference_component_name"
            )
        return name

    @field_validator("candidate")
    @classmethod
    def _distinct_variants(cls, candidate: Candidate, info: ValidationInfo) -> Candidate:
        if info.data.get("inference_component_name"):
            # By value, not by the fields set: a stored rollout's spec is read back with every field written.
            given = [
                name
                for name, value, default in (
                    ("initial_instance_count", candidate.initial_instance_count, 1),
                    ("instance_type", candidate.instance_type, None),
                    ("variant_name", candidate.variant_name, None),
                )
                if value != default
            ]
            if given:
                raise ValueError(
                    f"{', '.join(sorted(given))}: an inference component runs on its endpoint's instances, under "
                    "its own name and copy count: leave them out with inference_component_name"
                )
            return candidate
        if candidate.instance_type is None:
            raise ValueError("instance_type is required: the candidate's variant runs on instances of its own")
        baseline = info.data.get("baseline_variant")
        if baseline and baseline == candidate.resolved_variant_name:
            raise ValueError(f"the candidate's variant name '{baseline}' must differ from baseline_variant")
        return candidate

    @field_validator("strategy")
    @classmethod
    def _component_rolls(cls, strategy: StrategySpec, info: ValidationInfo) -> StrategySpec:
        if info.data.get("inference_component_name") and not strategy.updates_components:
            raise ValueError(
                f"a {strategy.title.lower()} cannot update an inference component (inference_component_name): its "
                "model changes by SageMaker's rolling update, strategy type 'rolling'"
            )
        return strategy

    @field_validator("guardrails")
    @classmethod
    def _component_guardrails(cls, guardrails: Guardrails, info: ValidationInfo) -> Guardrails:
        if info.data.get("inference_component_name") and (guardrails.monitors or guardrails.monitoring_schedules):
            raise ValueError(
                "monitors and monitoring_schedules read an endpoint variant's data capture, which does not tell an "
                "inference component's requests apart: guard the component with alarm_rules (on its "
                "InferenceComponentName metrics) and alarms"
            )
        return guardrails

    @field_validator("strategy")
    @classmethod
    def _distinct_arms(cls, strategy: StrategySpec, info: ValidationInfo) -> StrategySpec:
        candidate = info.data.get("candidate")
        taken = {name: "baseline_variant" for name in [info.data.get("baseline_variant")] if name}
        if candidate is not None:
            taken[candidate.resolved_variant_name] = "candidate"
        for index, more in enumerate(strategy.more_candidates_of()):
            name = more.resolved_variant_name
            if name in taken:
                raise ValueError(
                    f"more_candidates.{index}: variant name '{name}' is already used by {taken[name]}; "
                    "give each arm its own variant_name"
                )
            taken[name] = f"more_candidates.{index}"
        return strategy
