"""The multi-armed bandit: weights follow the feedback (`rollouts.bandit` holds the math); its spec and answers.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

from datetime import datetime
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, Field, model_validator

from rollouts.bandit.models import ArmStatistics, Streak
from rollouts.models.base import Candidate, Seconds
from rollouts.strategies.base import CONTINUE_AFTER_SECONDS, ENDPOINT_UPDATE_SECONDS, StrategySpec


class BanditStrategy(StrategySpec):
    """Traffic follows the feedback so far, reweighted as feedback arrives (`rollouts.bandit`).

    The weights are half P(variant is best) (Thompson sampling) and half the allocation of information-directed
    sampling, which explores where a request teaches the most; `information_share: 0` is Thompson sampling alone.

    The baseline, the candidate and each of `more_candidates` are the arms. Every `update_every` the weights are set
    from the rewards reported since the start (`POST /feedback`, the feedback queue, EventBridge); a batch of
    feedback smaller than the schedule's next batch waits for the next update. When one arm's P(best) stays at or
    above `stop_probability` for `stop_after_updates` updates, it wins: a winning candidate is promoted, or the
    baseline is kept. At `max_duration` the arm with the highest P(best) wins the same way; `mode: continuous` keeps
    reweighting instead. Feedback also ends the wait early: once the next batch has arrived and `min_update_interval`
    has passed since the last update, the feedback ingestion starts the update at once. When an alarm the rollout
    made for one candidate fires, `on_arm_breach` says what happens: `remove-arm` takes that candidate out (weight 0,
    the others go on), `roll-back` ends the whole rollout.
    """

    type: Literal["bandit"] = "bandit"
    title: ClassVar[str] = "Bandit"
    # Feedback may end its wait for the next update early (`logic.feedback`).
    wakes_on_feedback: ClassVar[bool] = True

    reward: Literal["conversion", "real"] = "conversion"
    update_every: Seconds = Field(
        default=300.0, description="The longest time between two reweightings, when feedback is slow: '5m'"
    )
    min_update_interval: Seconds = Field(
        default=30.0,
        description="The shortest time between two reweightings, however fast feedback comes: '30s'",
    )
    information_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the weights set by information-directed sampling, the rest by P(best); 0: Thompson only",
    )
    stop_probability: float = Field(default=0.95, ge=0.5, lt=1)
    stop_after_updates: int = Field(default=3, ge=1, le=100)
    max_duration: Seconds = Field(default=24 * 3600.0, description="The bandit's longest run: '24h'")
    mode: Literal["promote", "continuous"] = "promote"
    more_candidates: list[Candidate] = Field(
        default_factory=list, max_length=8, description="Further candidates, each one more arm beside `candidate`"
    )
    on_arm_breach: Literal["remove-arm", "roll-back"] = Field(
        default="remove-arm", description="What an alarm on one candidate's variant does"
    )

    @model_validator(mode="after")
    def _intervals_in_order(self) -> Self:
        if self.min_update_interval > self.update_every:
            raise ValueError(
                f"min_update_interval ({self.min_update_interval:g} s) must not exceed update_every "
                f"({self.update_every:g} s)"
            )
        return self

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """As an A/B test's: at most a week an execution, then the update that passed it."""
        return min(self.max_duration, CONTINUE_AFTER_SECONDS) + self.update_every + ENDPOINT_UPDATE_SECONDS

    def summary(self) -> str:
        return f"a bandit reweighting every {self.update_every:g} s on {self.reward}s"

    def more_candidates_of(self) -> list[Candidate]:
        return list(self.more_candidates)

    def removes_arm_on_breach(self) -> bool:
        return self.on_arm_breach == "remove-arm"


class BanditState(BaseModel):
    """What a running bandit keeps between updates (`Rollout.bandit`)."""

    started_at: datetime | None = Field(default=None, description="The first update")
    updated_at: datetime | None = Field(default=None, description="The last update")
    updates: int = Field(default=0, description="Updates so far")
    arms: list[ArmStatistics] = Field(default_factory=list, description="Each arm's statistics")
    seen: dict[str, list[float]] = Field(
        default_factory=dict, description="Each arm's feedback totals [count, sum, sum of squares] at the last update"
    )
    streak: Streak = Field(default_factory=Streak, description="The stopping rule's streak")
