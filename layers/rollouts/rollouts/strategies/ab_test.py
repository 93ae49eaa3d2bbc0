"""The A/B test: a fixed split judged on a business metric (`rollouts.judge.ab`); its spec and answers.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

from datetime import datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from rollouts.judge.outcome import AbVerdict
from rollouts.models.base import LongSeconds, Seconds, format_duration
from rollouts.strategies.base import CONTINUE_AFTER_SECONDS, ENDPOINT_UPDATE_SECONDS, StrategySpec, WatchSeconds


class AbTestStrategy(StrategySpec):
    """A fixed split for days or weeks, judged on a business metric from feedback (`rollouts.judge.ab`).

    The candidate gets `candidate_weight` percent of the traffic, by the endpoint's weights or, for users kept in
    one group, by the assignment helper (`rollouts.assignment`, route `POST /invoke/{endpoint_name}`) that reads the
    same split. Every `check_every` the rewards reported since the split (`POST /feedback`, the feedback queue,
    EventBridge) are judged by an always-valid sequential test, so looking every day costs no error rate. From
    `min_duration` on (a whole number of weeks evens out weekday effects), a significant difference ends the test:
    a better candidate is promoted, a better baseline is kept. At `max_duration` with no winner the test stops as
    inconclusive and the baseline serves alone again.
    """

    type: Literal["ab-test"] = "ab-test"
    title: ClassVar[str] = "A/B test"
    # An operator may hold the weights between two waits (`logic/operator_pause.py`).
    pausable: ClassVar[bool] = True

    candidate_weight: float = Field(default=50.0, gt=0, lt=100, description="Percent of traffic for the candidate")
    reward: Literal["conversion", "real"] = "conversion"
    effect_size: float = Field(
        default=0.01,
        gt=0,
        description=(
            "The difference in mean reward the test is tuned to, on the reward's own scale: 0.01 for a conversion "
            "rate of 10 % against 11 %. The test stays valid for any difference; it decides soonest near this one"
        ),
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="The chance of naming a winner when there is none, over all looks"
    )
    minimum_samples: int = Field(default=200, ge=2, description="Rewards per variant below which nothing is decided")
    check_every: Seconds = Field(default=86400.0, description="How often the test looks: '1d' (at most '7d')")
    min_duration: LongSeconds = Field(default=7 * 86400.0, description="No decision before: '7d'")
    max_duration: LongSeconds = Field(default=28 * 86400.0, description="Inconclusive after: '28d'")
    watch_after_promotion: WatchSeconds = Field(
        default=0.0,
        description=(
            "Once the candidate serves alone, how long the guardrails stay armed: a breach or an abort puts the old "
            "config back, promote ends the watch early. 0 (the default): none"
        ),
    )

    @model_validator(mode="after")
    def _durations_in_order(self) -> Self:
        if self.min_duration > self.max_duration:
            raise ValueError(
                f"min_duration ({self.min_duration:.0f} s) must not exceed max_duration ({self.max_duration:.0f} s)"
            )
        if self.check_every > self.max_duration:
            raise ValueError(
                f"check_every ({self.check_every:.0f} s) must not exceed max_duration ({self.max_duration:.0f} s)"
            )
        return self

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """An execution continues as a new one after a week: the week, then the look that passed it."""
        return (
            min(self.max_duration, CONTINUE_AFTER_SECONDS)
            + self.check_every
            + ENDPOINT_UPDATE_SECONDS
            + self.watch_after_promotion
        )

    def promotion_watch_seconds(self) -> float:
        return self.watch_after_promotion

    def summary(self) -> str:
        return (
            f"an A/B test on {self.reward}s with {self.candidate_weight:g} % for the candidate, "
            f"{format_duration(self.min_duration)} to {format_duration(self.max_duration)}"
        )


class AbTestState(BaseModel):
    """What a running A/B test keeps between looks (`Rollout.ab_test`)."""

    started_at: datetime | None = Field(default=None, description="When the traffic was split; None before")
    looks: int = 0
    last_look_at: datetime | None = None
    seen: dict[str, list[float]] = Field(
        default_factory=dict, description="Each arm's feedback totals [count, sum, sum of squares] at the split"
    )
    verdict: AbVerdict | None = Field(default=None, description="The last look's verdict; None before the first")

    @field_validator("verdict", mode="before")
    @classmethod
    def _no_look_yet(cls, value: Any) -> Any:
        # Rollouts stored before the verdict was typed hold {} until the first look.
        return value or None
