"""Decide whether a monitoring execution's violations should roll a deployment back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from rollouts.monitoring.kinds import MonitoringType

if TYPE_CHECKING:
    from rollouts.monitoring.violations import Violation

# A data-quality run can flag every feature; a reason naming them all stops being a sentence anyone reads.
_MAX_LISTED = 5


class MonitoringAction(StrEnum):
    """What to do when a monitoring type's violations reach the policy threshold."""

    ROLLBACK = "rollback"
    IGNORE = "ignore"


class MonitoringPolicy(BaseModel):
    """How one monitoring type's violations are judged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: MonitoringAction = MonitoringAction.ROLLBACK
    min_violations: int = Field(default=1, ge=1)
    ignore_check_types: list[str] = Field(default_factory=list)
    # Matched against a violation's feature, metric or full subject (e.g. "DPPL for Age=40").
    only_subjects: list[str] = Field(default_factory=list)


DEFAULT_POLICIES: Mapping[MonitoringType, MonitoringPolicy] = MappingProxyType(
    {monitoring_type: MonitoringPolicy() for monitoring_type in MonitoringType}
)


@dataclass(frozen=True)
class PolicyOutcome:
    """The verdict on one monitoring execution.

    `breach` says the counted violations reached `min_violations`; `action` is what to do about it, so it is
    `rollback` only when there is a breach and the policy rolls back.
    """

    breach: bool
    action: MonitoringAction
    counted: list[Violation]
    ignored: list[Violation]
    reason: str


def evaluate_policy(
    violations: Sequence[Violation],
    monitoring_type: MonitoringType,
    policy: MonitoringPolicy | None = None,
) -> PolicyOutcome:
    """Judge the violations one execution of a `monitoring_type` schedule reported.

    The schedule's type picks the default policy and names the monitor in the reason; every violation given is
    judged, whatever type it was parsed as, so a mislabelled entry cannot hide a rollback.
    """
    policy = policy if policy is not None else DEFAULT_POLICIES[monitoring_type]
    counted: list[Violation] = []
    ignored: list[Violation] = []
    for violation in violations:
        (counted if _counts(violation, policy) else ignored).append(violation)

    breach = len(counted) >= policy.min_violations
    rolls_back = breach and policy.action is MonitoringAction.ROLLBACK
    action = MonitoringAction.ROLLBACK if rolls_back else MonitoringAction.IGNORE
    return PolicyOutcome(
        breach=breach,
        action=action,
        counted=counted,
        ignored=ignored,
        reason=_reason(monitoring_type, policy, counted, ignored, action),
    )


def _counts(violation: Violation, policy: MonitoringPolicy) -> bool:
    if violation.check_type in policy.ignore_check_types:
        return False
    if not policy.only_subjects:
        return True
    names = {violation.feature, violation.metric, violation.subject}
    return any(name in names for name in policy.only_subjects)


def _reason(
    monitoring_type: MonitoringType,
    policy: MonitoringPolicy,
    counted: list[Violation],
    ignored: list[Violation],
    action: MonitoringAction,
) -> str:
    total = len(counted) + len(ignored)
    summary = f"{monitoring_type} monitoring reported {_plural(total, 'violation')}"
    if ignored:
        summary += f", {len(counted)} counted{_listing(counted)}, {len(ignored)} ignored{_listing(ignored)}"
    else:
        summary += _listing(counted)

    if action is MonitoringAction.ROLLBACK:
        return f"{summary}: policy rolls back on {policy.min_violations} or more"
    if policy.action is MonitoringAction.IGNORE:
        return f"{summary}: no action, policy ignores {monitoring_type} violations"
    return f"{summary}: no action, policy rolls back on {policy.min_violations} or more"


def _listing(violations: list[Violation]) -> str:
    if not violations:
        return ""
    shown = [_describe(violation) for violation in violations[:_MAX_LISTED]]
    hidden = len(violations) - len(shown)
    if hidden:
        shown.append(f"and {hidden} more")
    return f" ({', '.join(shown)})"


def _describe(violation: Violation) -> str:
    if violation.monitoring_type is MonitoringType.DATA_QUALITY and violation.feature is not None:
        return f"{violation.check_type} on feature '{violation.feature}'"
    if violation.monitoring_type is MonitoringType.MODEL_QUALITY and violation.metric is not None:
        return f"{violation.check_type} on metric '{violation.metric}'"
    if violation.subject == violation.check_type:
        return violation.check_type
    return f"{violation.check_type} on {violation.subject}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
