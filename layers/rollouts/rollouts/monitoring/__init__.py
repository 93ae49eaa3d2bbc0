"""Read SageMaker Model Monitor violations and judge them against rollback policies.

The names load on first use (PEP 562): a rollout spec needs the policies, only a monitoring signal needs the
parsers, and a Lambda function should not import what its events never use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rollouts.monitoring.kinds import MonitoringType
    from rollouts.monitoring.policy import (
        DEFAULT_POLICIES,
        MonitoringAction,
        MonitoringPolicy,
        PolicyOutcome,
        evaluate_policy,
    )
    from rollouts.monitoring.violations import Violation, ViolationsFormatError, parse_violations

_MODULE_OF = {
    "MonitoringType": "kinds",
    "DEFAULT_POLICIES": "policy",
    "MonitoringAction": "policy",
    "MonitoringPolicy": "policy",
    "PolicyOutcome": "policy",
    "evaluate_policy": "policy",
    "Violation": "violations",
    "ViolationsFormatError": "violations",
    "parse_violations": "violations",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return list(__all__)
