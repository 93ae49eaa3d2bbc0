"""Arms for the bandit's tests: one from its counts, a hypothesis strategy of 2 to 4 conversion arms; their weights."""

from __future__ import annotations

from hypothesis import strategies as st

from rollouts.bandit.models import ArmStatistics, BanditDesign
from rollouts.bandit.weights import probabilities_and_weights


def arm(variant: str, count: float, successes: float) -> ArmStatistics:
    return ArmStatistics(variant=variant, count=count, reward_sum=successes)


def traffic_weights(arms: list[ArmStatistics], design: BanditDesign | None = None) -> list[float]:
    """The weights the bandit sets on the arms' variants, in the arms' order."""
    return probabilities_and_weights(arms, design)[1]


@st.composite
def conversion_arms(draw: st.DrawFn) -> list[ArmStatistics]:
    """2 to 4 arms of up to 200,000 requests each, each with a conversion rate from 0 to 1."""
    size = draw(st.integers(min_value=2, max_value=4))
    result = []
    for i in range(size):
        count = draw(st.integers(min_value=0, max_value=200_000))
        rate = draw(st.floats(min_value=0.0, max_value=1.0))
        result.append(arm(f"v{i}", count, round(count * rate)))
    return result
