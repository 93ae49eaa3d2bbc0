"""The canary: the candidate's share of the traffic rises step by step, each step baked and judged; pure planner."""

from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from rollouts.models.base import Seconds, Strict
from rollouts.strategies.base import ENDPOINT_UPDATE_SECONDS, StrategySpec, WatchSeconds


class CanaryStep(Strict):
    """Send `weight` percent of the traffic to the candidate, then bake for `bake` seconds."""

    weight: float = Field(gt=0, le=100, description="Percent of traffic for the candidate")
    bake: Seconds = Field(description="How long to watch the step before judging it: seconds, or '5m', '1h'")


class CanaryStrategy(StrategySpec):
    type: Literal["canary"] = "canary"
    steps: list[CanaryStep] = Field(min_length=1, max_length=20)
    watch_after_promotion: WatchSeconds = Field(
        default=0.0,
        description=(
            "Once the candidate serves alone, how long the guardrails stay armed: a breach or an abort puts the old "
            "config back, promote ends the watch early. 0 (the default): none"
        ),
    )

    title: ClassVar[str] = "Canary"
    pausable: ClassVar[bool] = True

    @field_validator("steps")
    @classmethod
    def _weights_increase(cls, steps: list[CanaryStep]) -> list[CanaryStep]:
        for before, after in pairwise(steps):
            if after.weight <= before.weight:
                raise ValueError(f"weights must increase from step to step, got {before.weight} then {after.weight}")
        return steps

    def summary(self) -> str:
        return f"{len(self.steps)} steps"

    def step_count(self) -> int:
        return len(self.steps)

    def planned_steps(self) -> list[tuple[float, int]]:
        return [(step.weight, step.bake_seconds) for step in plan(self)]

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """Each step: its shift's endpoint update, its bake and every extra bake, and a pause when inconclusive;
        then the watch after promotion."""
        steps = sum(ENDPOINT_UPDATE_SECONDS + step.bake * (1 + extra_bakes) + pause_seconds for step in self.steps)
        return steps + self.watch_after_promotion

    def promotion_watch_seconds(self) -> float:
        return self.watch_after_promotion


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
