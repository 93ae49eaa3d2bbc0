"""Read SageMaker Model Monitor violations and judge them against rollback policies."""

from __future__ import annotations

from rollouts.monitoring.policy import (
    DEFAULT_POLICIES,
    MonitoringAction,
    MonitoringPolicy,
    PolicyOutcome,
    evaluate_policy,
)
from rollouts.monitoring.violations import (
    MonitoringType,
    Violation,
    ViolationsFormatError,
    parse_violations,
)

__all__ = [
    "DEFAULT_POLICIES",
    "MonitoringAction",
    "MonitoringPolicy",
    "MonitoringType",
    "PolicyOutcome",
    "Violation",
    "ViolationsFormatError",
    "evaluate_policy",
    "parse_violations",
]
