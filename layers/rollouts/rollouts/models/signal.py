"""Everything from outside that concerns a running rollout, normalised into one Signal."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SignalSource(StrEnum):
    ALARM = "alarm"
    MONITORING = "monitoring"
    OPERATOR = "operator"
    ENDPOINT = "endpoint"
    EXECUTION = "execution"  # a rollout's Step Functions execution ended other than by its own design


class OperatorCommand(StrEnum):
    ABORT = "abort"
    PROMOTE = "promote"
    RESUME = "resume"
    PAUSE = "pause"


class Signal(BaseModel):
    """One normalised signal. `dedup_key` is equal for deliveries of the same fact, so they have one effect."""

    model_config = ConfigDict(frozen=True)

    source: SignalSource
    dedup_key: str
    endpoint_name: str | None = None
    endpoint_status: str | None = None
    alarm_name: str | None = None
    alarm_state: str | None = None
    suppressed_by: str | None = None  # why the alarm's actions are suppressed or muted, when they are
    schedule_name: str | None = None
    processing_job_arn: str | None = None
    processing_job_status: str | None = None
    execution_arn: str | None = None
    rollout_id: str | None = None
    command: OperatorCommand | None = None
    reason: str = ""
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)


class SignalOutcome(StrEnum):
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    RECORDED = "recorded"
    INTERRUPTED = "interrupted"
    DEFERRED = "deferred"
    RESUMED = "resumed"


class SignalResult(BaseModel):
    rollout_id: str | None
    outcome: SignalOutcome
    message: str
