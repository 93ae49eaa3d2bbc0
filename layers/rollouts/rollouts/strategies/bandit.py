"""The multi-armed bandit: weights follow the feedback (`rollouts.bandit` holds the math); its spec and answers.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

from datetime import datetime
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, Field, model_validator

from rollouts.bandit.models import (
    DEFAULT_BATCH_GROWTH,
    DEFAULT_CAP,
    DEFAULT_CHANGE_THRESHOLD,
    DEFAULT_DISCOUNT,
    DEFAULT_FLOOR,
    DEFAULT_INFORMATION_SHARE,
    DEFAULT_INITIAL_BATCH,
    DEFAULT_MAXIMUM_BATCH,
    ArmStatistics,
    Streak,
)
from rollouts.models.base import Candidate, Seconds
from rollouts.strategies.base import CONTINUE_AFTER_SECONDS, ENDPOINT_UPDATE_SECONDS, StrategySpec, WatchSeconds

# floor x arms and cap x arms are compared with 1 within this, so that 1/3 as a float (0.3333333333333333) fits 3 arms.
_TOLERANCE = 1e-9


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

    The bandit's design is tunable: `floor`, `cap`, `discount`, `change_threshold` and the batch schedule
    (`initial_batch`, `batch_growth`, `maximum_batch`). Each defaults to the setting `make bench-bandit` measured
    (`rollouts.bandit.models.DEFAULT_*`; bench/bandit.py, docs/benchmarks.md section 5), and `rollouts.bandit` says
    what each costs and buys.
    """

    type: Literal["bandit"] = "bandit"
    title: ClassVar[str] = "Bandit"
    # An operator may hold the weights between two waits (`logic/operator_pause.py`).
    pausable: ClassVar[bool] = True
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
        default=DEFAULT_INFORMATION_SHARE,
        ge=0,
        le=1,
        description="Share of the weights set by information-directed sampling, the rest by P(best); 0: Thompson only",
    )
    floor: float = Field(
        default=DEFAULT_FLOOR,
        ge=0,
        lt=1,
        description=(
            "Least share of the traffic every arm in play keeps, whatever its feedback: from 0, below `cap`, and at "
            "most 1 / the number of arms. Default 0, the benchmark's (make bench-bandit: bench/bandit.py, "
            "docs/benchmarks.md section 5, where a floor of 0.05 cost regret on every request and did not help after "
            "a change); set one when every variant must keep serving (its own monitoring, warm capacity)"
        ),
    )
    cap: float = Field(
        default=DEFAULT_CAP,
        gt=0,
        le=1,
        description=(
            "Largest share of the traffic any arm gets before the bandit decides: above `floor`, at most 1, and at "
            "least 1 / the number of arms (if removed arms leave fewer arms than 1 / cap, those in play share the "
            "traffic equally). Default 1 (no cap), the benchmark's (make bench-bandit: bench/bandit.py, "
            "docs/benchmarks.md section 5); a promoted winner still takes all the traffic"
        ),
    )
    discount: float = Field(
        default=DEFAULT_DISCOUNT,
        ge=0.5,
        le=1,
        description=(
            "Each update multiplies every arm's feedback counts by this before it adds the new batch, so the bandit "
            "remembers about batch / (1 - discount) requests: from 0.5 to 1. Default 1 (forget nothing), the "
            "benchmark's (make bench-bandit: bench/bandit.py, docs/benchmarks.md section 5, where 0.98 cost about "
            "twice the regret on steady rewards and the change detector answered a swap of the arms without that "
            "price); lower it for slow drifts that the change detector misses"
        ),
    )
    change_threshold: float | None = Field(
        default=DEFAULT_CHANGE_THRESHOLD,
        ge=2,
        description=(
            "|z| of an arm's latest batch against its own history at which the change detector decides that the arm "
            "changed and forgets its history (decision `Bandit Reweighted` names it): at least 2, or null to switch "
            "the detector off. Default 4 (a false alarm in about 16,000 tests), the benchmark's (make bench-bandit: "
            "bench/bandit.py, docs/benchmarks.md section 5: after a swap of the arms, a regret of 122 against about "
            "3,000 without it); lower finds smaller changes sooner and fires on noise more often"
        ),
    )
    initial_batch: int = Field(
        default=DEFAULT_INITIAL_BATCH,
        ge=1,
        le=1_000_000,
        description=(
            "Rewards the first reweighting on feedback waits for; each later batch is `batch_growth` times the one "
            "before, up to `maximum_batch`: from 1 to 1,000,000. Default 100, the benchmark's (make bench-bandit: "
            "bench/bandit.py, docs/benchmarks.md section 5)"
        ),
    )
    batch_growth: float = Field(
        default=DEFAULT_BATCH_GROWTH,
        ge=1,
        le=10,
        description=(
            "How many times the previous batch each batch is, from 1 (fixed batches) to 10. Default 2, the "
            "benchmark's (make bench-bandit: bench/bandit.py, docs/benchmarks.md section 5)"
        ),
    )
    maximum_batch: int = Field(
        default=DEFAULT_MAXIMUM_BATCH,
        ge=1,
        le=1_000_000,
        description=(
            "The largest batch, at least `initial_batch`: the most feedback a change can wait for before the change "
            "detector sees it. Default 500, the benchmark's (make bench-bandit: bench/bandit.py, docs/benchmarks.md "
            "section 5, where it had lower regret than 1,000 on three arms and after a swap of the arms)"
        ),
    )
    stop_probability: float = Field(default=0.95, ge=0.5, lt=1)
    stop_after_updates: int = Field(default=3, ge=1, le=100)
    max_duration: Seconds = Field(default=24 * 3600.0, description="The bandit's longest run: '24h'")
    mode: Literal["promote", "continuous"] = "promote"
    watch_after_promotion: WatchSeconds = Field(
        default=0.0,
        description=(
            "Once the winner serves alone, how long the guardrails stay armed: a breach or an abort puts the old "
            "config back, promote ends the watch early. 0 (the default): none"
        ),
    )
    more_candidates: list[Candidate] = Field(
        default_factory=list, max_length=8, description="Further candidates, each one more arm beside `candidate`"
    )
    on_arm_breach: Literal["remove-arm", "roll-back"] = Field(
        default="remove-arm", description="What an alarm on one candidate's variant does"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_update_interval > self.update_every:
            raise ValueError(
                f"min_update_interval ({self.min_update_interval:g} s) must not exceed update_every "
                f"({self.update_every:g} s)"
            )
        arms = self.arm_count()
        if self.floor >= self.cap:
            raise ValueError(f"floor ({self.floor:g}) must be below cap ({self.cap:g})")
        if self.floor * arms > 1 + _TOLERANCE:
            raise ValueError(
                f"floor ({self.floor:g}) x {arms} arms is {self.floor * arms:g}, more than all the traffic: with "
                f"{arms} arms floor must be at most 1/{arms} ({1 / arms:.6g})"
            )
        if self.cap * arms < 1 - _TOLERANCE:
            raise ValueError(
                f"cap ({self.cap:g}) x {arms} arms is {self.cap * arms:g}, less than all the traffic: with "
                f"{arms} arms cap must be at least 1/{arms} ({1 / arms:.6g})"
            )
        if self.initial_batch > self.maximum_batch:
            raise ValueError(
                f"initial_batch ({self.initial_batch}) must not exceed maximum_batch ({self.maximum_batch})"
            )
        return self

    def arm_count(self) -> int:
        """The arms: the baseline, the candidate and each of `more_candidates`."""
        return 2 + len(self.more_candidates)

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """As an A/B test's: at most a week an execution, then the update that passed it."""
        return (
            min(self.max_duration, CONTINUE_AFTER_SECONDS)
            + self.update_every
            + ENDPOINT_UPDATE_SECONDS
            + self.watch_after_promotion
        )

    def promotion_watch_seconds(self) -> float:
        return self.watch_after_promotion

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
