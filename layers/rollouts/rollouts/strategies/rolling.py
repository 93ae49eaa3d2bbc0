"""The rolling update: SageMaker replaces the baseline's fleet batch by batch, bakes each, and rolls back natively.

It runs on the blue/green strategy's state machine and tasks (`logic/bluegreen.py`): the same abort switch, the same
check that the endpoint really runs the new config afterwards, the same watch after promotion. Only its
`DeploymentConfig` differs, and what SageMaker refuses for it.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Candidate
from rollouts.strategies.base import Preflight, StrategySpec, WatchSeconds
from rollouts.strategies.blue_green import (
    DEPLOYMENT_WAIT_SECONDS,
    BlueGreenSeconds,
    CapacitySize,
    DeploymentSeconds,
    check_deployment_limits,
    check_same_variant,
    in_place,
)

# RollingUpdatePolicy.MaximumBatchSize: "between 5% to 50% of the variant's total instance count" (API reference).
MIN_BATCH_SHARE, MAX_BATCH_SHARE = 0.05, 0.5

if TYPE_CHECKING:
    RollingWait = float
else:
    RollingWait = BlueGreenSeconds


class RollingSize(CapacitySize):
    """A batch of a rolling update: a percent of the capacity, a number of instances (an endpoint variant's fleet)
    or of copies (an inference component's), as SageMaker's `CapacitySize` and `InferenceComponentCapacitySize`."""

    type: Literal["capacity-percent", "instance-count", "copy-count"] = "capacity-percent"  # type: ignore[assignment]
    value: int = Field(ge=1, description="Percent (1 to 100), instances or copies (at least 1)")


class RollingStrategy(StrategySpec):
    """Replace the baseline's model in place with SageMaker's rolling deployment, guarded by the rollout.

    SageMaker moves `maximum_batch_size` of the variant's instances to the candidate at a time (no second full fleet:
    for endpoints where one costs too much), bakes `wait_interval` after each batch watching the rollout's alarms and
    its abort switch, and rolls back by itself, `rollback_maximum_batch_size` at a time (all at once by default).
    The rollout checks afterwards that the endpoint runs the new config (SageMaker's rollback is silent), and keeps
    the guardrails armed for `watch_after_promotion`: a breach then puts the old config back.
    """

    type: Literal["rolling"] = "rolling"
    title: ClassVar[str] = "Rolling update"
    updates_components: ClassVar[bool] = True
    pause_refusal: ClassVar[str] = (
        "SageMaker's deployment owns the traffic and no API holds it: abort rolls it back, promote skips the watch "
        "after it"
    )
    # The candidate takes over the baseline's variant name, as SageMaker's guardrails require.
    replaces_baseline: ClassVar[bool] = True

    maximum_batch_size: RollingSize = Field(
        description="Instances (or an inference component's copies) moved at a time: 5 to 50 % of the variant's "
        "instance count or the component's copy count (SageMaker's bounds)"
    )
    wait_interval: RollingWait = Field(default=300.0, description="Bake after each batch (0 to 1 h): '5m'")
    rollback_maximum_batch_size: RollingSize | None = Field(
        default=None, description="Instances or copies moved back at a time in a rollback; all at once when unset"
    )
    maximum_execution_timeout: DeploymentSeconds = Field(default=3600.0, description="The whole deployment: 10m to 8h")
    watch_after_promotion: WatchSeconds = Field(default=600.0, description="Guardrails stay armed")

    @model_validator(mode="after")
    def _batch_shares(self) -> Self:
        size = self.maximum_batch_size
        if size.type == "capacity-percent" and not MIN_BATCH_SHARE * 100 <= size.value <= MAX_BATCH_SHARE * 100:
            raise ValueError(f"maximum_batch_size is 5 to 50 % of the variant's instances, got {size.value}")
        return self

    @property
    def traffic_routing(self) -> str:
        return "rolling"

    @property
    def termination_wait(self) -> float:
        return 0.0

    def deployment_config(self, alarms: list[str]) -> dict[str, object]:
        """`UpdateEndpoint`'s DeploymentConfig: a RollingUpdatePolicy and these auto-rollback alarms."""
        policy: dict[str, object] = {
            "MaximumBatchSize": self.maximum_batch_size.as_api(),
            "WaitIntervalInSeconds": int(self.wait_interval),
            "MaximumExecutionTimeoutInSeconds": int(self.maximum_execution_timeout),
        }
        if self.rollback_maximum_batch_size is not None:
            policy["RollbackMaximumBatchSize"] = self.rollback_maximum_batch_size.as_api()
        return {
            "RollingUpdatePolicy": policy,
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarms]},
        }

    def describe_deployment(self) -> str:
        size = self.maximum_batch_size
        batch = {
            "capacity-percent": f"{size.value} % of the capacity",
            "instance-count": f"{size.value} instance(s) of the fleet",
            "copy-count": f"{size.value} of the component's copies",
        }[size.type]
        return f"rolling, {batch} a batch, {self.wait_interval:g} s bakes"

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """The deployment's wait, then the watch after it."""
        return DEPLOYMENT_WAIT_SECONDS + self.watch_after_promotion

    def summary(self) -> str:
        return f"a SageMaker rolling update, {self.describe_deployment()}"

    def check(self, preflight: Preflight) -> None:
        """What SageMaker refuses for a rolling update, or silently runs without its guardrails, refused first."""
        if preflight.copy_count is not None:
            self._check_component(preflight, preflight.copy_count)
            return
        check_same_variant(preflight, "a rolling update")
        if len(preflight.variants) != 1:
            raise InvalidRolloutError(
                field="endpoint_name",
                reason=f"the endpoint has {len(preflight.variants)} variants ({', '.join(preflight.variants)}); "
                "SageMaker's rolling deployments exclude multi-variant endpoints, and the update would go all at "
                "once with no baking",
            )
        check_deployment_limits(preflight)
        count = preflight.candidate.initial_instance_count
        if count < 2:
            raise InvalidRolloutError(
                field="candidate.initial_instance_count",
                reason="a rolling update moves at most half the fleet at a time: it needs at least 2 instances",
            )
        self._check_batches(count, "instance-count", "instance(s)", "candidate.initial_instance_count", "instances")

    def _check_component(self, preflight: Preflight, copies: int) -> None:
        """An inference component's rolling update: batches of its copies, 5 to 50 % of them."""
        check_deployment_limits(preflight)
        if copies < 2:
            raise InvalidRolloutError(
                field="inference_component_name",
                reason=f"the component runs {copies} copy(ies): a rolling update moves at most half of them at a "
                "time, so it needs at least 2 (raise its CopyCount first)",
            )
        self._check_batches(copies, "copy-count", "copy(ies)", "the component's copy count", "copies")

    def _check_batches(self, count: int, counted: str, unit: str, whole: str, plural: str) -> None:
        """Each batch size as SageMaker bounds it: 5 to 50 % of `count`, a rollback batch at most all of it; a size
        counted in the other unit (instances of a component, copies of a variant) is refused."""
        for field, size in (
            ("strategy.maximum_batch_size", self.maximum_batch_size),
            ("strategy.rollback_maximum_batch_size", self.rollback_maximum_batch_size),
        ):
            if size is None or size.type == "capacity-percent":
                continue
            if size.type != counted:
                raise InvalidRolloutError(
                    field=f"{field}.type",
                    reason=f"this rolling update moves {plural}: use '{counted}' or 'capacity-percent', not "
                    f"'{size.type}'",
                )
            share = size.value / count
            rollback = field.endswith("rollback_maximum_batch_size")
            if (not rollback and not MIN_BATCH_SHARE <= share <= MAX_BATCH_SHARE) or (rollback and share > 1):
                bounds = (
                    f"{math.ceil(MIN_BATCH_SHARE * count)} to {math.floor(MAX_BATCH_SHARE * count)}"
                    if not rollback
                    else f"at most {count}"
                )
                raise InvalidRolloutError(
                    field=field,
                    reason=f"{size.value} {unit} of {count} ({whole}): SageMaker takes {bounds} {unit} a batch"
                    + (f" (5 to 50 % of the {plural})" if not rollback else ""),
                )

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The endpoint's variant with the candidate's model in the baseline's place."""
        return in_place(production, baseline, candidates[0]), []

    def blue_green_deployment(self) -> Self:
        return self
