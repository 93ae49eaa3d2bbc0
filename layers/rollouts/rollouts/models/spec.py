"""The declarative rollout spec: what to roll out, where, how fast, and what may stop it.

No `from __future__ import annotations` here nor in `rollout.py`: pydantic would evaluate every string annotation
as a ForwardRef (compiled and evaluated one by one), which cost 4 to 7 ms of this module's import on Python 3.13,
and every handler imports it.
"""

import re
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from rollouts.models.names import NAME_PATTERN
from rollouts.monitoring.policy import MonitoringPolicy

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
MAX_BAKE_SECONDS = 7 * 24 * 3600


def parse_duration(value: object) -> object:
    """Accept seconds as a number or a string such as "90s", "5m", "1h" or "7d"."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"'{value}' is not a duration: use seconds or a number with s, m, h or d, e.g. '5m'")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


def format_duration(seconds: float) -> str:
    """Seconds as a person reads them: '28d', '1h 30m', '45s' (the units `parse_duration` accepts)."""
    remaining = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size or (unit == "s" and not parts):
            count, remaining = divmod(remaining, size)
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0, le=MAX_BAKE_SECONDS)]
# A Step Functions standard execution lasts at most one year.
LongSeconds = Annotated[float, BeforeValidator(parse_duration), Field(gt=0, le=365 * 86400)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Candidate(Strict):
    """The model to roll out, as a new production variant of the endpoint."""

    model_name: str = Field(pattern=NAME_PATTERN, description="An existing SageMaker model")
    variant_name: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Defaults to the model name, shortened to 63 characters"
    )
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", examples=["ml.m5.large"])
    initial_instance_count: int = Field(default=1, ge=1, le=100)

    @property
    def resolved_variant_name(self) -> str:
        return self.variant_name or self.model_name[:63].rstrip("-")


class CanaryStep(Strict):
    """Send `weight` percent of the traffic to the candidate, then bake for `bake` seconds."""

    weight: float = Field(gt=0, le=100, description="Percent of traffic for the candidate")
    bake: Seconds = Field(description="How long to watch the step before judging it: seconds, or '5m', '1h'")


class CanaryStrategy(Strict):
    type: Literal["canary"] = "canary"
    steps: list[CanaryStep] = Field(min_length=1, max_length=20)

    @field_validator("steps")
    @classmethod
    def _weights_increase(cls, steps: list[CanaryStep]) -> list[CanaryStep]:
        for before, after in pairwise(steps):
            if after.weight <= before.weight:
                raise ValueError(f"weights must increase from step to step, got {before.weight} then {after.weight}")
        return steps


class BanditStrategy(Strict):
    """Traffic follows the feedback so far, reweighted as feedback arrives (`rollouts.bandit`).

    The weights are half P(variant is best) (Thompson sampling) and half the allocation of information-directed
    sampling, which explores where a request teaches the most; `information_share: 0` is Thompson sampling alone.

    The baseline, the candidate and each of `more_candidates` are the arms. Every `update_every` the weights are set
    from the rewards reported since the start (`POST /feedback`, the feedback queue, EventBridge); a batch of
    feedback smaller than the schedule's next batch waits for the next update. When one arm's P(best) stays at or
    above `stop_probability` for `stop_after_updates` updates, it wins: a winning candidate is promoted, or the
    baseline is kept. At `max_duration` the arm with the highest P(best) wins the same way; `mode: continuous` keeps
    reweighting instead. Feedback also ends the wait early: once the next batch has arrived and `min_update_interval`
    has passed since the last update, the feedback ingestion starts the update at once. When an alarm the rollout
    made for one candidate fires, `on_arm_breach` says what happens: `remove-arm` takes that candidate out (weight 0,
    the others go on), `roll-back` ends the whole rollout.
    """

    type: Literal["bandit"] = "bandit"
    reward: Literal["conversion", "real"] = "conversion"
    update_every: Seconds = Field(
        default=300.0, description="The longest time between two reweightings, when feedback is slow: '5m'"
    )
    min_update_interval: Seconds = Field(
        default=30.0,
        description="The shortest time between two reweightings, however fast feedback comes: '30s'",
    )
    information_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the weights set by information-directed sampling, the rest by P(best); 0: Thompson only",
    )
    stop_probability: float = Field(default=0.95, ge=0.5, lt=1)
    stop_after_updates: int = Field(default=3, ge=1, le=100)
    max_duration: Seconds = Field(default=24 * 3600.0, description="The bandit's longest run: '24h'")
    mode: Literal["promote", "continuous"] = "promote"
    more_candidates: list[Candidate] = Field(
        default_factory=list, max_length=8, description="Further candidates, each one more arm beside `candidate`"
    )
    on_arm_breach: Literal["remove-arm", "roll-back"] = Field(
        default="remove-arm", description="What an alarm on one candidate's variant does"
    )

    @model_validator(mode="after")
    def _intervals_in_order(self) -> Self:
        if self.min_update_interval > self.update_every:
            raise ValueError(
                f"min_update_interval ({self.min_update_interval:g} s) must not exceed update_every "
                f"({self.update_every:g} s)"
            )
        return self


class AbTestStrategy(Strict):
    """A fixed split for days or weeks, judged on a business metric from feedback (`rollouts.judge.ab`).

    The candidate gets `candidate_weight` percent of the traffic, by the endpoint's weights or, for users kept in
    one group, by the assignment helper (`rollouts.assignment`, route `POST /invoke/{endpoint_name}`) that reads the
    same split. Every `check_every` the rewards reported since the split (`POST /feedback`, the feedback queue,
    EventBridge) are judged by an always-valid sequential test, so looking every day costs no error rate. From
    `min_duration` on (a whole number of weeks evens out weekday effects), a significant difference ends the test:
    a better candidate is promoted, a better baseline is kept. At `max_duration` with no winner the test stops as
    inconclusive and the baseline serves alone again.
    """

    type: Literal["ab-test"] = "ab-test"
    candidate_weight: float = Field(default=50.0, gt=0, lt=100, description="Percent of traffic for the candidate")
    reward: Literal["conversion", "real"] = "conversion"
    effect_size: float = Field(
        default=0.01,
        gt=0,
        description=(
            "The difference in mean reward the test is tuned to, on the reward's own scale: 0.01 for a conversion "
            "rate of 10 % against 11 %. The test stays valid for any difference; it decides soonest near this one"
        ),
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="The chance of naming a winner when there is none, over all looks"
    )
    minimum_samples: int = Field(default=200, ge=2, description="Rewards per variant below which nothing is decided")
    check_every: LongSeconds = Field(default=86400.0, description="How often the test looks: '1d'")
    min_duration: LongSeconds = Field(default=7 * 86400.0, description="No decision before: '7d'")
    max_duration: LongSeconds = Field(default=28 * 86400.0, description="Inconclusive after: '28d'")

    @model_validator(mode="after")
    def _durations_in_order(self) -> Self:
        if self.min_duration > self.max_duration:
            raise ValueError(
                f"min_duration ({self.min_duration:.0f} s) must not exceed max_duration ({self.max_duration:.0f} s)"
            )
        if self.check_every > self.max_duration:
            raise ValueError(
                f"check_every ({self.check_every:.0f} s) must not exceed max_duration ({self.max_duration:.0f} s)"
            )
        return self


class CapacitySize(Strict):
    """A share of the green fleet, as SageMaker's `CapacitySize`: a percent of its capacity or a number of instances."""

    type: Literal["capacity-percent", "instance-count"] = "capacity-percent"
    value: int = Field(ge=1, description="Percent (1 to 100) or instances (at least 1)")

    @model_validator(mode="after")
    def _percent_at_most_100(self) -> Self:
        if self.type == "capacity-percent" and self.value > 100:
            raise ValueError(f"a capacity percent is at most 100, got {self.value}")
        return self

    def as_api(self) -> dict[str, object]:
        return {"Type": self.type.upper().replace("-", "_"), "Value": self.value}


BlueGreenSeconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0, le=3600)]


class BlueGreenStrategy(Strict):
    """Replace the baseline's model in place with SageMaker's own blue/green deployment, guarded by the rollout.

    SageMaker provisions a green fleet for the candidate under the baseline's variant name, shifts the traffic to it
    (`all-at-once`, `canary`: `canary_size` first, or `linear`: `linear_step_size` per step), bakes
    `wait_interval` after each shift and `termination_wait` at the end, and rolls back by itself when an alarm of
    its auto-rollback list fires. The rollout adds its own abort alarm to that list (a monitor violation or an
    operator abort sets it), checks afterwards that the endpoint really runs the new config (SageMaker's rollback is
    silent), and keeps the guardrails armed for `watch_after_promotion`: a breach then puts the old config back.
    """

    type: Literal["blue-green"] = "blue-green"
    traffic_routing: Literal["all-at-once", "canary", "linear"] = "all-at-once"
    canary_size: CapacitySize | None = Field(default=None, description="canary: the first shift, at most 50 %")
    linear_step_size: CapacitySize | None = Field(default=None, description="linear: each shift, 10 to 50 %")
    wait_interval: BlueGreenSeconds = Field(default=300.0, description="Bake after each shift (0 to 1 h): '5m'")
    termination_wait: BlueGreenSeconds = Field(default=300.0, description="Bake before blue is terminated (0 to 1 h)")
    maximum_execution_timeout: Annotated[
        float, BeforeValidator(parse_duration), Field(ge=600, le=28800, description="The whole deployment: 10m to 8h")
    ] = 3600.0
    watch_after_promotion: Annotated[
        float, BeforeValidator(parse_duration), Field(ge=0, le=MAX_BAKE_SECONDS, description="Guardrails stay armed")
    ] = 600.0

    @model_validator(mode="after")
    def _routing_sizes(self) -> Self:
        if self.traffic_routing == "canary":
            if self.canary_size is None:
                raise ValueError(
                    "traffic_routing 'canary' needs canary_size, e.g. {'type': 'capacity-percent', 'value': 10}"
                )
            if self.canary_size.type == "capacity-percent" and self.canary_size.value > 50:
                raise ValueError(f"canary_size is at most 50 % of the green fleet, got {self.canary_size.value}")
        elif self.canary_size is not None:
            raise ValueError(f"canary_size applies to traffic_routing 'canary' only, not '{self.traffic_routing}'")
        if self.traffic_routing == "linear":
            if self.linear_step_size is None:
                raise ValueError(
                    "traffic_routing 'linear' needs linear_step_size, e.g. {'type': 'capacity-percent', 'value': 20}"
                )
            step = self.linear_step_size
            if step.type == "capacity-percent" and not 10 <= step.value <= 50:
                raise ValueError(f"linear_step_size is 10 to 50 % of the green fleet, got {step.value}")
        elif self.linear_step_size is not None:
            raise ValueError(f"linear_step_size applies to traffic_routing 'linear' only, not '{self.traffic_routing}'")
        return self

    def deployment_config(self, alarms: list[str]) -> dict[str, object]:
        """`UpdateEndpoint`'s DeploymentConfig for this strategy and these auto-rollback alarms."""
        routing: dict[str, object] = {
            "Type": self.traffic_routing.upper().replace("-", "_"),
            "WaitIntervalInSeconds": int(self.wait_interval),
        }
        if self.canary_size is not None:
            routing["CanarySize"] = self.canary_size.as_api()
        if self.linear_step_size is not None:
            routing["LinearStepSize"] = self.linear_step_size.as_api()
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": int(self.termination_wait),
                "MaximumExecutionTimeoutInSeconds": int(self.maximum_execution_timeout),
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarms]},
        }


class Agreement(Strict):
    """How alike the challenger's predictions must be to production's, on the same requests (by inference id).

    `label`: the share of requests where both predict the same label (a numeric output is the positive label at or
    above `label_threshold`; any other output is compared as text) must be at least `min_agreement`. `score`: the
    mean absolute difference of the two numeric outputs must be at most `max_mean_distance`.
    """

    measure: Literal["label", "score"] = "label"
    label_threshold: float = Field(default=0.5, description="label: a numeric output at or above it is positive")
    min_agreement: float = Field(default=0.95, ge=0, le=1, description="label: the least share of equal labels")
    max_mean_distance: float = Field(default=0.05, ge=0, description="score: the largest mean |difference|")


class ShadowStrategy(Strict):
    """The candidate (the challenger) runs beside production as SageMaker's shadow variant and answers nobody.

    SageMaker copies `sampling_percentage` percent of the production variant's requests to it. For `duration`,
    the guardrails watch it (alarm rules apply to the shadow variant); then the judge compares it with production:
    its 5XX rate and latency (per-variant CloudWatch metrics) and how often it agrees with production on the same
    requests (data capture, matched by inference id). A challenger that passes replaces production's model through
    SageMaker's blue/green deployment (`promotion`); one that fails, or has too few requests to tell, is removed and
    production goes on alone. `on_success: remove-shadow` reports the verdict without promoting.
    """

    type: Literal["shadow"] = "shadow"
    sampling_percentage: int = Field(
        default=100, ge=1, le=100, description="Percent of production's requests copied to the challenger"
    )
    duration: Seconds = Field(default=3600.0, description="How long the challenger shadows production: '1h'")
    max_error_rate_increase: float = Field(
        default=0.005, ge=0, le=1, description="The challenger's 5XX rate at most production's plus this: 0.005"
    )
    latency_statistic: Literal["Average", "p50", "p90", "p99"] = "p99"
    max_latency_increase: float = Field(
        default=0.2, ge=0, description="The challenger's ModelLatency at most production's times 1 + this: 0.2"
    )
    agreement: Agreement = Field(default_factory=Agreement)
    minimum_samples: int = Field(
        default=200, ge=1, description="Requests the challenger answered, and matched pairs, needed for a verdict"
    )
    on_success: Literal["promote", "remove-shadow"] = "promote"
    promotion: BlueGreenStrategy = Field(
        default_factory=BlueGreenStrategy, description="How a challenger that passes replaces production"
    )


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


class RateCheck(Strict):
    """Judge the candidate's error rate against the baseline's at every step, with a stated false-alarm rate.

    A one-sided group-sequential test (O'Brien-Fleming-type spending over the canary's steps) on the cumulative
    counts of the metric and of Invocations per variant; see `rollouts.judge.sequential`.
    """

    name: str = Field(pattern=r"^[a-zA-Z0-9-]{1,40}$")
    metric: Literal[VariantMetric.INVOCATION_5XX_ERRORS, VariantMetric.INVOCATION_4XX_ERRORS] = (
        VariantMetric.INVOCATION_5XX_ERRORS
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="False-alarm rate over all the steps")
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
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="test: rank only")
    allowed_relative_change: float = Field(
        default=0.1, ge=0, le=10, description="test: rank only; 0.1 tolerates a median 10 % worse"
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
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="False-alarm rate over all the steps")
    allowed_relative_change: float = Field(
        default=0.0, ge=0, lt=1, description="0.05 tolerates a mean reward 5 % worse than the baseline's"
    )
    minimum_samples: int = Field(default=200, ge=2, description="Rewards per variant below which it is Inconclusive")
    critical: bool = True


class MonitoringGuard(Strict):
    """A SageMaker Model Monitor schedule whose results guard the rollout."""

    schedule_name: str = Field(pattern=NAME_PATTERN)
    policy: MonitoringPolicy | None = Field(default=None, description="Defaults to: roll back on any violation")


class Guardrails(Strict):
    alarms: list[str] = Field(default_factory=list, max_length=10, description="Existing CloudWatch alarm names")
    alarm_rules: list[AlarmRule] = Field(default_factory=list, max_length=10)
    monitoring_schedules: list[MonitoringGuard] = Field(default_factory=list, max_length=10)
    rate_checks: list[RateCheck] = Field(default_factory=list, max_length=10)
    metric_checks: list[MetricCheck] = Field(default_factory=list, max_length=10)
    feedback_checks: list[FeedbackCheck] = Field(default_factory=list, max_length=10)
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
        return self


Strategy = CanaryStrategy | BanditStrategy | BlueGreenStrategy | AbTestStrategy | ShadowStrategy


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
    candidate: Candidate
    strategy: Annotated[
        CanaryStrategy | BanditStrategy | BlueGreenStrategy | AbTestStrategy | ShadowStrategy,
        Field(discriminator="type"),
    ]
    guardrails: Guardrails = Field(default_factory=Guardrails)
    data_capture: DataCapture = Field(default_factory=DataCapture)

    @property
    def canary_steps(self) -> list[CanaryStep]:
        """The canary's steps; a bandit has none."""
        return self.strategy.steps if isinstance(self.strategy, CanaryStrategy) else []

    @property
    def candidates(self) -> list[Candidate]:
        """Every model the rollout brings: the candidate, then a bandit's further candidates."""
        more = self.strategy.more_candidates if isinstance(self.strategy, BanditStrategy) else []
        return [self.candidate, *more]

    @field_validator("candidate")
    @classmethod
    def _distinct_variants(cls, candidate: Candidate, info: ValidationInfo) -> Candidate:
        baseline = info.data.get("baseline_variant")
        if baseline and baseline == candidate.resolved_variant_name:
            raise ValueError(f"the candidate's variant name '{baseline}' must differ from baseline_variant")
        return candidate

    @field_validator("strategy")
    @classmethod
    def _distinct_arms(cls, strategy: Strategy, info: ValidationInfo) -> Strategy:
        if not isinstance(strategy, BanditStrategy):
            return strategy
        candidate = info.data.get("candidate")
        taken = {name: "baseline_variant" for name in [info.data.get("baseline_variant")] if name}
        if candidate is not None:
            taken[candidate.resolved_variant_name] = "candidate"
        for index, more in enumerate(strategy.more_candidates):
            name = more.resolved_variant_name
            if name in taken:
                raise ValueError(
                    f"more_candidates.{index}: variant name '{name}' is already used by {taken[name]}; "
                    "give each arm its own variant_name"
                )
            taken[name] = f"more_candidates.{index}"
        return strategy
