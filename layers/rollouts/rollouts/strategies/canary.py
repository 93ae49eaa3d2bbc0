"""The canary planner: a spec's steps become traffic weights per variant, one step at a time."""

from __future__ import annotations

from dataclasses import dataclass

from rollouts.models.spec import CanaryStrategy


@dataclass(frozen=True)
class PlannedStep:
    index: int
    weight: float
    bake_seconds: int
    is_last: bool


def plan(strategy: CanaryStrategy) -> list[PlannedStep]:
    """The steps in order. Bakes are whole seconds (Step Functions timeouts are), at least one."""
    count = len(strategy.steps)
    return [
        PlannedStep(index=i, weight=step.weight, bake_seconds=max(1, round(step.bake)), is_last=i == count - 1)
        for i, step in enumerate(strategy.steps)
    ]


def step_at(strategy: CanaryStrategy, index: int) -> PlannedStep:
    steps = plan(strategy)
    if not 0 <= index < len(steps):
        raise IndexError(f"step {index} is outside the plan of {len(steps)} steps")
    return steps[index]


def split(candidate_percent: float, baseline: str, candidate: str) -> dict[str, float]:
    """Percent of traffic per variant when the candidate gets `candidate_percent`."""
    candidate_percent = min(100.0, max(0.0, candidate_percent))
    return {baseline: round(100.0 - candidate_percent, 6), candidate: round(candidate_percent, 6)}
