"""Baseline policies the bandit benchmark compares the bandit with: UCB1 and epsilon-greedy, as aws-samples has them.

Both are from the aws-samples A/B testing pipeline (performance-anchors 1.3); bench/bandit.py runs them vectorised in
numpy and checks that it chooses as these do. UCB1 picks the arm with the largest mean + sqrt(2 ln N / n), N the
total count (Auer, Cesa-Bianchi and Fischer 2002); an arm without requests first. Epsilon-greedy sends 1 - epsilon to
the arm with the largest observed mean and epsilon uniformly. Neither is used to set weights: UCB1 is deterministic,
so frozen for a batch it sends the whole batch to one arm (1.4: 150 instead of 90 at 10,000 requests);
epsilon-greedy explores at a constant rate forever, a regret linear in the requests. Ties go to the first arm.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from rollouts.bandit.models import ArmStatistics


def ucb1_index(arm: ArmStatistics, total_count: float) -> float:
    """mean + sqrt(2 ln N / n); infinite without requests."""
    if arm.count <= 0:
        return math.inf
    return arm.reward_sum / arm.count + math.sqrt(2 * math.log(max(total_count, 1.0)) / arm.count)


def ucb1_choice(arms: Sequence[ArmStatistics]) -> int:
    """The index of the arm UCB1 serves next."""
    if not arms:
        raise ValueError("a bandit needs at least one arm")
    total = sum(arm.count for arm in arms)
    indices = [ucb1_index(arm, total) for arm in arms]
    return indices.index(max(indices))


def epsilon_greedy_weights(arms: Sequence[ArmStatistics], epsilon: float = 0.1) -> list[float]:
    """The traffic share of each arm under epsilon-greedy; equal shares until every arm has a request."""
    if not arms:
        raise ValueError("a bandit needs at least one arm")
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon is from 0 to 1, got {epsilon:g}")
    count = len(arms)
    if any(arm.count <= 0 for arm in arms):
        return [1.0 / count] * count
    means = [arm.reward_sum / arm.count for arm in arms]
    best = means.index(max(means))
    return [epsilon / count + (1 - epsilon if i == best else 0.0) for i in range(count)]


def epsilon_greedy_choice(arms: Sequence[ArmStatistics], rng: random.Random, epsilon: float = 0.1) -> int:
    """The index of the arm epsilon-greedy serves next, drawn with `rng`."""
    weights = epsilon_greedy_weights(arms, epsilon)
    return rng.choices(range(len(arms)), weights=weights)[0]
