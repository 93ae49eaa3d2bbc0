"""The blue/green deployment: SageMaker deploys, bakes and rolls back natively; its spec, checks and config.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Candidate, Strict, duration
from rollouts.strategies.base import Preflight, StrategySpec, WatchSeconds

# The longest wait for SageMaker's deployment to end (statemachines/src/shared/blue-green-deployment.json).
DEPLOYMENT_WAIT_SECONDS = 43200

MAX_AUTO_ROLLBACK_ALARMS = 10  # UpdateEndpoint's AutoRollbackConfiguration.Alarms: 1 to 10
INF1_PREFIX = "ml.inf1."


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


if TYPE_CHECKING:
    BlueGreenSeconds = float
    DeploymentSeconds = float
else:
    # 0 is no wait; a wait under a second would be sent to SageMaker (whole seconds) and Step Functions as 0.
    BlueGreenSeconds = duration(0, 3600, zero=True)
    DeploymentSeconds = duration(600, 28800)


class BlueGreenStrategy(StrategySpec):
    """Replace the baseline's model in place with SageMaker's own blue/green deployment, guarded by the rollout.

    SageMaker provisions a green fleet for the candidate under the baseline's variant name, shifts the traffic to it
    (`all-at-once`, `canary`: `canary_size` first, or `linear`: `linear_step_size` per step), bakes
    `wait_interval` after each shift and `termination_wait` at the end, and rolls back by itself when an alarm of
    its auto-rollback list fires. The rollout adds its own abort alarm to that list (a monitor violation or an
    operator abort sets it), checks afterwards that the endpoint really runs the new config (SageMaker's rollback is
    silent), and keeps the guardrails armed for `watch_after_promotion`: a breach then puts the old config back.
    """

    type: Literal["blue-green"] = "blue-green"
    title: ClassVar[str] = "Blue-green"
    pause_refusal: ClassVar[str] = (
        "SageMaker's deployment owns the traffic and no API holds it: abort rolls it back, promote skips the watch "
        "after it"
    )
    # The candidate takes over the baseline's variant name, as SageMaker's guardrails require.
    replaces_baseline: ClassVar[bool] = True

    traffic_routing: Literal["all-at-once", "canary", "linear"] = "all-at-once"
    canary_size: CapacitySize | None = Field(default=None, description="canary: the first shift, at most 50 %")
    linear_step_size: CapacitySize | None = Field(default=None, description="linear: each shift, 10 to 50 %")
    wait_interval: BlueGreenSeconds = Field(default=300.0, description="Bake after each shift (0 to 1 h): '5m'")
    termination_wait: BlueGreenSeconds = Field(default=300.0, description="Bake before blue is terminated (0 to 1 h)")
    maximum_execution_timeout: DeploymentSeconds = Field(default=3600.0, description="The whole deployment: 10m to 8h")
    watch_after_promotion: WatchSeconds = Field(default=600.0, description="Guardrails stay armed")

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

    def describe_deployment(self) -> str:
        return (
            f"blue/green, {self.traffic_routing}, {self.wait_interval:g} s bakes, {self.termination_wait:g} s "
            "before blue is terminated"
        )

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """The deployment's wait, then the watch after it."""
        return DEPLOYMENT_WAIT_SECONDS + self.watch_after_promotion

    def summary(self) -> str:
        return f"a SageMaker blue/green deployment, traffic routing {self.traffic_routing}"

    def check(self, preflight: Preflight) -> None:
        """A blue/green deployment replaces the baseline's model under the baseline's own variant name."""
        check_same_variant(preflight, "a blue/green deployment")
        check_deployment_limits(preflight)

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The endpoint's variants with the candidate's model in the baseline's place (SageMaker's green fleet)."""
        return in_place(production, baseline, candidates[0]), []

    def blue_green_deployment(self) -> Self:
        return self


def in_place(production: list[dict[str, Any]], baseline: str, candidate: Candidate) -> list[dict[str, Any]]:
    """The endpoint's variants with the candidate's model, instance type and count in the baseline's place, under
    the baseline's variant name, as SageMaker's deployment guardrails require."""
    new = {
        "ModelName": candidate.model_name,
        "InstanceType": candidate.instance_type,
        "InitialInstanceCount": candidate.initial_instance_count,
    }
    return [{**variant, **new} if variant["VariantName"] == baseline else dict(variant) for variant in production]


def check_same_variant(preflight: Preflight, what: str) -> None:
    """SageMaker's deployment guardrails keep the variant's name: the candidate may not name another."""
    candidate = preflight.candidate
    if candidate.variant_name not in (None, preflight.baseline_variant):
        raise InvalidRolloutError(
            field="candidate.variant_name",
            reason=f"{what} keeps the variant's name, as SageMaker requires; leave it out or set it to "
            f"'{preflight.baseline_variant}', not '{candidate.variant_name}'",
        )


def check_deployment_limits(preflight: Preflight) -> None:
    """What SageMaker would otherwise refuse, or silently deploy all at once without baking (its documented
    exclusions: Marketplace containers, endpoints that use Inf1 instances), refused before anything changes with
    the field that causes it."""
    instance_type = preflight.candidate.instance_type or ""
    if instance_type.startswith(INF1_PREFIX):
        raise InvalidRolloutError(
            field="candidate.instance_type",
            reason=f"SageMaker's deployment guardrails do not support Inf1 instances "
            f"('{instance_type}'); the update would fall back to all at once with no baking",
        )
    inf1 = [kind for kind in preflight.instance_types if kind.startswith(INF1_PREFIX)]
    if inf1:
        raise InvalidRolloutError(
            field="endpoint_name",
            reason=f"the endpoint uses Inf1 instances ({inf1[0]}), which SageMaker's deployment guardrails do "
            "not support; the update would fall back to all at once with no baking",
        )
    model = preflight.candidate_model()
    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
    marketplace = [c["ModelPackageName"] for c in containers if ":aws-marketplace:" in str(c.get("ModelPackageName"))]
    if marketplace:
        raise InvalidRolloutError(
            field="candidate.model_name",
            reason=f"the model runs an AWS Marketplace package ({marketplace[0]}), which SageMaker's "
            "deployment guardrails do not support; the update would fall back to all at once with no baking",
        )
    total = 1 + len(preflight.alarms) + preflight.alarm_rules
    if total > MAX_AUTO_ROLLBACK_ALARMS:
        raise InvalidRolloutError(
            field="guardrails.alarms",
            reason=f"SageMaker's auto-rollback takes at most {MAX_AUTO_ROLLBACK_ALARMS} alarms; this "
            f"rollout would give it {total} ({len(preflight.alarms)} named, {preflight.alarm_rules} from alarm_rules, "
            "1 abort switch)",
        )
