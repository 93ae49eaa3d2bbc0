"""The bandit's pydantic models: per-arm statistics in, the design's settings, and the posterior summary out."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The defaults of a bandit's design: the settings `make bench-bandit` measured (bench/bandit.py runs `BanditDesign()`
# against per-request Thompson sampling, UCB1, epsilon-greedy and the aws-samples pipeline, and each default against
# one alternative; docs/benchmarks.md section 5). The package's docstring says why each. A bandit spec's tunables
# (`rollouts.strategies.bandit.BanditStrategy`) default to the same constants.
DEFAULT_FLOOR = 0.0
DEFAULT_CAP = 1.0
DEFAULT_DISCOUNT = 1.0
DEFAULT_CHANGE_THRESHOLD = 4.0
DEFAULT_INFORMATION_SHARE = 0.5
DEFAULT_INITIAL_BATCH = 100
DEFAULT_BATCH_GROWTH = 2.0
DEFAULT_MAXIMUM_BATCH = 500


class RewardKind(StrEnum):
    """What a reward is, as `rollouts.models.feedback.Reward.kind` names it; it chooses the posterior."""

    CONVERSION = "conversion"  # from 0 to 1: Beta posterior of the mean reward
    REAL = "real"  # any finite value: normal posterior of the mean reward


class ArmStatistics(BaseModel):
    """The sufficient statistics of one variant's rewards; counts are real numbers once discounted."""

    model_config = ConfigDict(frozen=True)

    variant: str = Field(min_length=1)
    count: float = Field(default=0.0, ge=0, allow_inf_nan=False, description="Requests with a reward (discounted)")
    reward_sum: float = Field(default=0.0, allow_inf_nan=False, description="Sum of the rewards (discounted)")
    reward_sum_of_squares: float = Field(
        default=0.0, ge=0, allow_inf_nan=False, description="Sum of the squared rewards; used by real rewards only"
    )

    @model_validator(mode="after")
    def _no_reward_without_requests(self) -> ArmStatistics:
        if self.count == 0 and (self.reward_sum != 0 or self.reward_sum_of_squares != 0):
            raise ValueError(f"variant {self.variant!r} has rewards but no requests")
        return self

    @property
    def mean(self) -> float | None:
        """The observed mean reward; None without requests."""
        return self.reward_sum / self.count if self.count > 0 else None


class BanditDesign(BaseModel):
    """How a bandit rollout turns statistics into weights and when it stops; `rollouts.bandit` says why the defaults."""

    model_config = ConfigDict(frozen=True)

    reward_kind: RewardKind = RewardKind.CONVERSION
    floor: float = Field(default=DEFAULT_FLOOR, ge=0, le=1, description="Least weight of every arm (keeps it explored)")
    cap: float = Field(default=DEFAULT_CAP, gt=0, le=1, description="Largest weight of every arm")
    floors: dict[str, float] = Field(default_factory=dict, description="Per-variant floors, overriding `floor`")
    caps: dict[str, float] = Field(default_factory=dict, description="Per-variant caps, overriding `cap`")
    discount: float = Field(
        default=DEFAULT_DISCOUNT,
        gt=0,
        le=1,
        description="gamma: the counts are multiplied by it at each update; 1 forgets nothing",
    )
    change_threshold: float | None = Field(
        default=DEFAULT_CHANGE_THRESHOLD,
        gt=0,
        description="|z| of the latest batch against the posterior that resets an arm; None: off",
    )
    information_share: float = Field(
        default=DEFAULT_INFORMATION_SHARE,
        ge=0,
        le=1,
        description="Share of the weights set by information-directed sampling; the rest is P(best); 0: Thompson only",
    )
    credible_level: float = Field(default=0.95, gt=0, lt=1)
    initial_batch: int = Field(default=DEFAULT_INITIAL_BATCH, ge=1, description="Requests in the first batch")
    batch_growth: float = Field(
        default=DEFAULT_BATCH_GROWTH, ge=1, description="Each batch is this many times the previous one"
    )
    maximum_batch: int = Field(default=DEFAULT_MAXIMUM_BATCH, ge=1, description="Batches stop growing here")
    stop_probability: float = Field(default=0.95, gt=0, le=1, description="P(best) a winner must hold to stop")
    stop_updates: int = Field(default=3, ge=1, description="... for this many consecutive updates")

    @model_validator(mode="after")
    def _bounds(self) -> BanditDesign:
        for name, value in [*self.floors.items(), *self.caps.items()]:
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"the floor or cap of {name!r} is {value:g}, not from 0 to 1")
        if self.floor > self.cap:
            raise ValueError(f"the floor {self.floor:g} is above the cap {self.cap:g}")
        if self.initial_batch > self.maximum_batch:
            raise ValueError(f"the first batch {self.initial_batch} is larger than the largest {self.maximum_batch}")
        return self

    def floor_of(self, variant: str) -> float:
        return self.floors.get(variant, self.floor)

    def cap_of(self, variant: str) -> float:
        return self.caps.get(variant, self.cap)


class ArmPosterior(BaseModel):
    """One arm in a "Bandit Reweighted" decision's evidence."""

    model_config = ConfigDict(frozen=True)

    variant: str
    count: float = Field(description="Requests behind the posterior (discounted)")
    mean: float | None = Field(description="Posterior mean of the reward; None for real rewards below 2 requests")
    lower: float | None = Field(description="Lower end of the equal-tailed credible interval of the mean")
    upper: float | None = Field(description="Upper end of the equal-tailed credible interval of the mean")
    probability_best: float = Field(ge=0, le=1, description="P(this arm has the highest mean | data)")
    weight: float = Field(ge=0, le=1, description="The traffic share to set (`rollouts.bandit.weights`)")


class PosteriorSummary(BaseModel):
    """The state of a bandit after an update: per-arm posteriors, the weights to set, and the leader."""

    model_config = ConfigDict(frozen=True)

    reward_kind: RewardKind
    credible_level: float
    arms: tuple[ArmPosterior, ...]
    leader: str = Field(description="The variant with the highest P(best); the first on a tie")
    warm_up: bool = Field(default=False, description="True when real rewards lack 2 requests on an arm: equal P(best)")

    @property
    def weights(self) -> dict[str, float]:
        return {arm.variant: arm.weight for arm in self.arms}

    @property
    def probabilities_best(self) -> dict[str, float]:
        return {arm.variant: arm.probability_best for arm in self.arms}


class ChangeTest(BaseModel):
    """The change detector's test of one arm's latest batch against its discounted posterior."""

    model_config = ConfigDict(frozen=True)

    variant: str
    tested: bool = Field(description="False when the batch is too small for the test's normal approximation")
    z: float | None = None
    changed: bool = False


class Update(BaseModel):
    """The statistics after one batch, with the change tests that decided which arms were reset."""

    model_config = ConfigDict(frozen=True)

    arms: tuple[ArmStatistics, ...]
    tests: tuple[ChangeTest, ...] = ()

    @property
    def reset(self) -> tuple[str, ...]:
        return tuple(test.variant for test in self.tests if test.changed)


class Streak(BaseModel):
    """The stopping rule's memory: which arm has led with P(best) >= the threshold, for how many updates in a row."""

    model_config = ConfigDict(frozen=True)

    leader: str | None = None
    updates: int = Field(default=0, ge=0)
