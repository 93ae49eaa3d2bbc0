"""Requests and responses of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rollouts import clock
from rollouts.models.names import NAME_PATTERN
from rollouts.models.rollout import Decision, DecisionKind, Rollout, RolloutStatus


class StartRolloutResponse(BaseModel):
    rollout_id: str
    status: RolloutStatus
    execution_arn: str | None


class DecisionView(BaseModel):
    at: datetime
    kind: str
    message: str
    evidence: dict[str, Any]


WEIGHT_CHANGES = frozenset({DecisionKind.TRAFFIC_SHIFTED, DecisionKind.BANDIT_REWEIGHTED})


class PlannedStepView(BaseModel):
    weight: float = Field(description="The candidate's percent of traffic in this step")
    bake_seconds: int = Field(description="How long the step is watched before it is judged")


class RolloutView(BaseModel):
    rollout_id: str
    endpoint_name: str
    inference_component_name: str | None = Field(
        default=None, description="The inference component whose model the rollout replaces; null for a variant's"
    )
    status: RolloutStatus
    step_index: int
    steps: int | None = Field(
        description="Traffic steps of the strategy's plan (a canary's); none for a strategy that runs to a verdict"
    )
    plan: list[PlannedStepView] = Field(
        default_factory=list, description="The planned steps in order (a canary's); empty for the other strategies"
    )
    step_started_at: datetime | None = Field(
        default=None, description="When the weights last changed: the start of the current step"
    )
    observed_at: datetime = Field(
        description="The control plane's time when it read this view; time in step is observed_at - step_started_at"
    )
    weights: dict[str, float]
    baseline_variant: str | None
    candidate_variant: str
    candidate_variants: list[str] = Field(description="Every candidate's variant: a bandit may have several")
    winner: str | None = Field(default=None, description="The candidate chosen for promotion, once chosen")
    guardrails: list[str] = Field(
        default_factory=list, description="The CloudWatch alarms and monitoring schedules watching the rollout"
    )
    judgement: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The latest step's checks (rate, metric and feedback checks), each with its outcome and evidence",
    )
    reason: str | None
    execution_arn: str | None
    created_at: datetime
    updated_at: datetime
    decisions: list[DecisionView] = Field(default_factory=list)

    @classmethod
    def of(cls, rollout: Rollout, decisions: list[Decision]) -> RolloutView:
        return cls(
            rollout_id=rollout.rollout_id,
            endpoint_name=rollout.endpoint_name,
            inference_component_name=rollout.component_name,
            status=rollout.status,
            step_index=rollout.step_index,
            steps=rollout.spec.strategy.step_count(),
            plan=[
                PlannedStepView(weight=weight, bake_seconds=bake)
                for weight, bake in rollout.spec.strategy.planned_steps()
            ],
            step_started_at=max((d.at for d in decisions if d.kind in WEIGHT_CHANGES), default=rollout.started_at),
            observed_at=clock.now(),
            weights=rollout.weights,
            baseline_variant=rollout.baseline_variant,
            candidate_variant=rollout.candidate_variant,
            candidate_variants=rollout.candidate_variants,
            winner=rollout.winner,
            guardrails=[
                *rollout.guard_alarm_names,
                *(g.schedule_name for g in rollout.spec.guardrails.monitoring_schedules),
            ],
            judgement=rollout.judgement,
            reason=rollout.reason,
            execution_arn=rollout.execution_arn,
            created_at=rollout.created_at,
            updated_at=rollout.updated_at,
            decisions=[
                DecisionView(at=d.at, kind=d.kind.value, message=d.message, evidence=d.evidence) for d in decisions
            ],
        )


class RolloutSummary(BaseModel):
    """A rollout in a list: what it is, where it stands, why."""

    rollout_id: str
    endpoint_name: str
    inference_component_name: str | None = Field(
        default=None, description="The inference component whose model the rollout replaces; null for a variant's"
    )
    strategy: str = Field(description="The spec's strategy type")
    status: RolloutStatus
    candidate_models: list[str]
    weights: dict[str, float]
    reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rollout: Rollout) -> RolloutSummary:
        return cls(
            rollout_id=rollout.rollout_id,
            endpoint_name=rollout.endpoint_name,
            inference_component_name=rollout.component_name,
            strategy=rollout.spec.strategy.type,
            status=rollout.status,
            candidate_models=[candidate.model_name for candidate in rollout.spec.candidates],
            weights=rollout.weights,
            reason=rollout.reason,
            created_at=rollout.created_at,
            updated_at=rollout.updated_at,
        )


class ListRolloutsQuery(BaseModel):
    """GET /rollouts's query string."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = Field(default=None, pattern=NAME_PATTERN, description="Only this endpoint's rollouts")
    status: list[RolloutStatus] = Field(default_factory=list, description="Only these statuses (repeat or comma-join)")
    limit: int = Field(default=25, ge=1, le=100, description="Rollouts per page")
    next_token: str | None = Field(default=None, max_length=2048, description="The previous page's next_token")

    @field_validator("status", mode="before")
    @classmethod
    def _comma_joined(cls, value: object) -> object:
        # An empty value (`?status=`) is no status: refused, as the document's enum says, not read as no filter.
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",")]
        return value


class RolloutList(BaseModel):
    rollouts: list[RolloutSummary]
    next_token: str | None = Field(description="Pass it as next_token for the next page; none after the last page")


class CommandResponse(BaseModel):
    rollout_id: str
    command: str
    outcome: str
    message: str


class ErrorResponse(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)
