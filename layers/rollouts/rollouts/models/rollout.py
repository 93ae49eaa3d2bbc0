"""A rollout as stored and shown: its status, weights and decision log."""

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field

from rollouts import clock
from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Candidate
from rollouts.models.spec import RolloutSpec
from rollouts.strategies.ab_test import AbTestState
from rollouts.strategies.bandit import BanditState
from rollouts.strategies.base import StrategySpec

S = TypeVar("S", bound=StrategySpec)


def utcnow() -> datetime:
    """The control plane's one clock (`rollouts.clock`): decisions, outbox stamps and the metric windows agree, and a
    simulation that runs time faster moves them together."""
    return clock.now()


class RolloutStatus(StrEnum):
    PENDING = "Pending"
    PROGRESSING = "Progressing"
    PAUSED = "Paused"
    PROMOTING = "Promoting"
    PROMOTED = "Promoted"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"  # not final: the lock is held until an operator's abort restores the baseline
    FAILED = "Failed"  # it never started (StartExecution failed): nothing changed, the lock is free

    @property
    def is_final(self) -> bool:
        return self in (RolloutStatus.PROMOTED, RolloutStatus.ROLLED_BACK, RolloutStatus.FAILED)


class DecisionKind(StrEnum):
    """What the control plane did; the values are also the EventBridge detail types of published decisions."""

    ROLLOUT_STARTED = "Rollout Started"
    VARIANTS_PREPARED = "Variants Prepared"
    TRAFFIC_SHIFTED = "Traffic Shifted"
    STEP_JUDGED = "Step Judged"
    SIGNAL_RECEIVED = "Signal Received"
    GUARDRAIL_BREACHED = "Guardrail Breached"
    OPERATOR_COMMAND = "Operator Command"
    ROLLOUT_PAUSED = "Rollout Paused"
    BANDIT_REWEIGHTED = "Bandit Reweighted"
    ARM_REMOVED = "Arm Removed"
    AB_TEST_JUDGED = "A/B Test Judged"
    ROLLOUT_PROMOTED = "Rollout Promoted"
    DEPLOYMENT_ROLLED_BACK = "Deployment Rolled Back"
    ROLLBACK_STARTED = "Rollback Started"
    ROLLOUT_ROLLED_BACK = "Rollout Rolled Back"
    ROLLBACK_FAILED = "Rollback Failed"
    EXECUTION_CONTINUED = "Execution Continued"
    EXECUTION_ENDED = "Execution Ended"
    HOOK_CALLED = "Hook Called"


PUBLISHED_KINDS = frozenset(
    {
        DecisionKind.ROLLOUT_STARTED,
        DecisionKind.TRAFFIC_SHIFTED,
        DecisionKind.GUARDRAIL_BREACHED,
        DecisionKind.ROLLOUT_PAUSED,
        DecisionKind.BANDIT_REWEIGHTED,
        DecisionKind.ARM_REMOVED,
        DecisionKind.AB_TEST_JUDGED,
        DecisionKind.DEPLOYMENT_ROLLED_BACK,
        DecisionKind.ROLLOUT_PROMOTED,
        DecisionKind.ROLLOUT_ROLLED_BACK,
        DecisionKind.ROLLBACK_FAILED,
        DecisionKind.EXECUTION_ENDED,
    }
)


class Decision(BaseModel):
    """One append-only entry of the decision log: what was done, why, and the evidence."""

    model_config = ConfigDict(frozen=True)

    rollout_id: str
    kind: DecisionKind
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)


class PendingSignal(BaseModel):
    """A breach or command that arrived while no bake was running; the next bake or judge acts on it."""

    model_config = ConfigDict(frozen=True)

    error: str
    cause: str
    command: str | None = None


class Rollout(BaseModel):
    """The rollout item (`ROLLOUT#<id>` / `META`)."""

    rollout_id: str
    spec: RolloutSpec
    status: RolloutStatus = RolloutStatus.PENDING
    step_index: int = -1
    weights: dict[str, float] = Field(default_factory=dict, description="Percent of traffic per variant")
    baseline_variant: str | None = None
    original_config: str | None = None
    # The earlier names are still read, so that a rollout stored before the rename goes on.
    candidate_config: str | None = Field(
        default=None,
        validation_alias=AliasChoices("candidate_config", "canary_config"),
        description="The config that brought the candidates in (by weight, as a shadow, or as SageMaker's green)",
    )
    final_config: str | None = None
    original_component: dict[str, Any] | None = Field(
        default=None,
        description="The inference component's Specification when the rollout began: what a rollback puts back",
    )
    alarm_names: list[str] = Field(default_factory=list, description="Alarms this rollout created")
    alarm_variants: dict[str, str] = Field(
        default_factory=dict, description="The candidate variant each created alarm watches, by alarm name"
    )
    winner: str | None = Field(default=None, description="The candidate variant chosen for promotion")
    started_at: datetime | None = Field(
        default=None,
        validation_alias=AliasChoices("started_at", "canary_started_at"),
        description="When the candidate first got traffic (or production's copied requests), whatever the strategy",
    )
    extra_bakes: int = Field(default=0, description="Bakes of the current step beyond the first")
    operator_paused: bool = Field(default=False, description="Paused by an operator: resume bakes the step again")
    operator_pauses: int = Field(default=0, description="Operator pauses so far")
    rollback_failures: int = Field(default=0, description="Rollbacks whose end state DescribeEndpoint did not show")
    executions: int = Field(default=1, description="Step Functions executions so far: a long rollout continues as new")
    loops: int = Field(default=0, description="Waits of the current execution (a look, a bandit update)")
    execution_started_at: datetime | None = Field(default=None, description="When the current execution began")
    judgement: list[dict[str, Any]] = Field(
        default_factory=list, description="The last step's metric verdicts with their evidence"
    )
    removed_variants: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("removed_variants", AliasPath("bandit", "removed")),
        description="Candidates a guardrail took out while the others went on (a bandit's removed arms)",
    )
    bandit: BanditState = Field(default_factory=BanditState, description="A bandit's statistics, streak and updates")
    ab_test: AbTestState = Field(default_factory=AbTestState, description="An A/B test's split, looks and verdict")
    monitor_runs: dict[str, datetime] = Field(
        default_factory=dict, description="When each of the spec's monitors last started a scheduled run"
    )
    execution_arn: str | None = None
    task_token: str | None = Field(default=None, description="Token of the running bake")
    endpoint_token: str | None = Field(default=None, description="Token of the running wait for the endpoint")
    endpoint_wait_since: datetime | None = Field(
        default=None, description="When the running wait for the endpoint began, across its timeouts"
    )
    pending: list[PendingSignal] = Field(default_factory=list)
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 0

    @property
    def endpoint_name(self) -> str:
        return self.spec.endpoint_name

    @property
    def component_name(self) -> str | None:
        """The inference component whose model the rollout replaces; None when it replaces a variant's."""
        return self.spec.inference_component_name

    @property
    def candidate_variant(self) -> str:
        return self.candidate_variants[0]

    @property
    def candidate_variants(self) -> list[str]:
        """Every candidate's variant: one for a canary, one per arm beside the baseline for a bandit, and for a
        strategy whose candidate takes over the baseline's variant (blue/green) the baseline's own."""
        if self.spec.strategy.replaces_baseline and self.baseline_variant:
            return [self.baseline_variant]
        return [candidate.resolved_variant_name for candidate in self.spec.candidates]

    def strategy_as(self, kind: type[S]) -> S:
        """The rollout's strategy as the one a strategy's own task expects; a task of another strategy's state
        machine is refused."""
        strategy = self.spec.strategy
        if not isinstance(strategy, kind):
            raise InvalidRolloutError(
                field="strategy",
                reason=f"rollout {self.rollout_id} is a {strategy.type} rollout, not {kind.title.lower()}",
            )
        return strategy

    @property
    def promoted_candidate(self) -> Candidate:
        """The candidate that takes the endpoint on promotion: the chosen one, else the (only) candidate."""
        return next((c for c in self.spec.candidates if c.resolved_variant_name == self.winner), self.spec.candidate)

    @property
    def promoted_variant(self) -> str:
        return self.promoted_candidate.resolved_variant_name

    @property
    def guard_alarm_names(self) -> list[str]:
        return [*self.spec.guardrails.alarms, *self.alarm_names]
