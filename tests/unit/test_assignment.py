"""Sticky A/B assignment: one user, one variant; groups that match the weights; weight changes that move few users."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.assignment import assign, shares

ROOT = Path(__file__).resolve().parents[2]
USERS = [f"user-{index}" for index in range(100_000)]
SOME_USERS = USERS[:20_000]  # enough to see a share within a point (its standard error is at most 0.35 points)
FEW_USERS = USERS[:2_000]  # enough to catch a user who moves when none should


def groups(rollout_id: str, weights: Mapping[str, float], users: list[str] = USERS) -> dict[str, str]:
    """Each user's variant; computed once per rollout, weights and users, as 100,000 users take seconds."""
    return dict(_groups(rollout_id, tuple(weights.items()), len(users)))


@functools.cache
def _groups(rollout_id: str, weights: tuple[tuple[str, float], ...], count: int) -> tuple[tuple[str, str], ...]:
    return tuple((user, assign(user, rollout_id, dict(weights))) for user in USERS[:count])


# Computed once with the implementation of this commit. A change here moves users of running A/B tests to another
# group mid-test: only on purpose, and never while a test runs.
KNOWN = [
    ("alice", "r-0123456789ab", {"v1": 90, "churn-xgb-v2": 10}, "v1"),
    ("u-1000", "r-0123456789ab", {"v1": 90, "churn-xgb-v2": 10}, "churn-xgb-v2"),
    ("alice", "r-0123456789ab", {"v1": 50, "v2": 50}, "v1"),
    ("bob", "r-0123456789ab", {"v1": 50, "v2": 50}, "v2"),
    ("alice", "r-fedcba987654", {"v1": 50, "v2": 50}, "v2"),
    ("bob", "r-fedcba987654", {"v1": 50, "v2": 50}, "v1"),
    ("carol", "exp-3", {"a": 1, "b": 1, "c": 1}, "c"),
    ("u-1000", "exp-3", {"a": 1, "b": 1, "c": 1}, "a"),
    ("user-42", "exp-3", {"a": 1, "b": 1, "c": 1}, "b"),
]


@pytest.mark.parametrize(("user_id", "rollout_id", "weights", "variant"), KNOWN)
def test_a_user_gets_the_variant_computed_when_the_scheme_was_fixed(
    user_id: str, rollout_id: str, weights: dict[str, float], variant: str
) -> None:
    assert assign(user_id, rollout_id, weights) == variant


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242"])
def test_another_process_with_another_hash_seed_assigns_every_user_the_same(hash_seed: str) -> None:
    """Python salts hash() per process; the assignment must not notice."""
    weights = {"v1": 70, "v2": 20, "v3": 10}
    probe = (
        "import json; from rollouts.assignment import assign; "
        f"print(json.dumps([assign(f'user-{{i}}', 'r-1', {weights!r}) for i in range(2000)]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": "layers/rollouts"}

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout) == [assign(f"user-{i}", "r-1", weights) for i in range(2000)]


def test_the_same_user_asking_again_gets_the_same_variant() -> None:
    weights = {"v1": 50, "v2": 30, "v3": 20}

    assert {assign("user-7", "r-1", weights) for _ in range(100)} == {assign("user-7", "r-1", weights)}


@pytest.mark.parametrize(
    "weights",
    [{"v1": 90, "v2": 10}, {"a": 70, "b": 20, "c": 10}, {"a": 1, "b": 1, "c": 1, "d": 1}],
)
def test_the_groups_of_100000_users_match_the_weights_within_one_point(weights: dict[str, float]) -> None:
    counts = Counter(groups("r-0123456789ab", weights).values())

    for variant, share in shares(weights).items():
        assert counts[variant] / len(USERS) == pytest.approx(share, abs=0.01)


def test_the_order_of_the_variants_in_the_mapping_does_not_matter() -> None:
    weights = {"v1": 60, "v2": 25, "v3": 15}
    reversed_weights = dict(reversed(weights.items()))

    assert groups("r-1", weights, FEW_USERS) == groups("r-1", reversed_weights, FEW_USERS)


def test_weights_of_any_positive_total_are_only_ratios() -> None:
    as_counts = groups("r-1", {"v1": 1, "v2": 3}, FEW_USERS)

    assert groups("r-1", {"v1": 25, "v2": 75}, FEW_USERS) == as_counts
    assert groups("r-1", {"v1": 0.25, "v2": 0.75}, FEW_USERS) == as_counts
    assert shares({"v2": 3, "v1": 1}) == {"v1": 0.25, "v2": 0.75}


def test_a_variant_of_weight_zero_gets_no_user() -> None:
    counts = Counter(groups("r-1", {"v1": 1, "v2": 0, "v3": 1}, FEW_USERS).values())

    assert counts["v2"] == 0
    assert counts["v1"] + counts["v3"] == len(FEW_USERS)


def test_another_rollout_id_assigns_users_independently_of_the_first() -> None:
    """Who is in the candidate group of one A/B test says nothing about their group in the next."""
    weights = {"v1": 90, "v2": 10}
    first = groups("r-0123456789ab", weights)
    second = groups("r-fedcba987654", weights)

    candidates_before = [user for user, variant in first.items() if variant == "v2"]
    still_candidates = sum(second[user] == "v2" for user in candidates_before)

    assert still_candidates / len(candidates_before) == pytest.approx(0.10, abs=0.01)


def test_a_candidate_growing_from_10_to_20_percent_keeps_every_user_it_had() -> None:
    before = groups("r-1", {"baseline": 90, "candidate": 10}, SOME_USERS)
    after = groups("r-1", {"baseline": 80, "candidate": 20}, SOME_USERS)

    moved = {user for user in SOME_USERS if before[user] != after[user]}

    assert all(after[user] == "candidate" for user, variant in before.items() if variant == "candidate")
    assert all(before[user] == "baseline" and after[user] == "candidate" for user in moved)
    assert len(moved) / len(SOME_USERS) == pytest.approx(0.10, abs=0.01)


def test_a_baseline_taking_back_traffic_keeps_every_user_it_had() -> None:
    before = groups("r-1", {"v1": 50, "v2": 50}, FEW_USERS)
    after = groups("r-1", {"v1": 80, "v2": 20}, FEW_USERS)

    assert all(after[user] == "v1" for user, variant in before.items() if variant == "v1")


def test_two_candidates_growing_together_keep_all_their_users() -> None:
    """The case that cumulative buckets in name order get wrong: they would move every v2 user to v3."""
    before = groups("r-1", {"v1": 90, "v2": 5, "v3": 5}, FEW_USERS)
    after = groups("r-1", {"v1": 80, "v2": 10, "v3": 10}, FEW_USERS)

    assert all(after[user] == variant for user, variant in before.items() if variant != "v1")


def test_a_new_variant_takes_users_for_itself_only() -> None:
    before = groups("r-1", {"v1": 50, "v2": 50}, FEW_USERS)
    after = groups("r-1", {"v1": 50, "v2": 50, "v3": 25}, FEW_USERS)

    assert all(after[user] in (variant, "v3") for user, variant in before.items())


def test_a_variant_set_to_zero_hands_only_its_own_users_to_the_others() -> None:
    before = groups("r-1", {"v1": 60, "v2": 30, "v3": 10}, FEW_USERS)
    after = groups("r-1", {"v1": 60, "v2": 30, "v3": 0}, FEW_USERS)

    assert all(after[user] == variant for user, variant in before.items() if variant != "v3")


@settings(max_examples=40, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 100), min_size=2, max_size=5),
    grow=st.floats(1, 10),
    shrink=st.lists(st.floats(0.05, 1), min_size=5, max_size=5),
)
def test_a_variant_whose_weight_falls_against_no_other_keeps_all_its_users(
    weights: list[float], grow: float, shrink: list[float]
) -> None:
    """The guarantee in the module's docstring: variant v0 grows (or stays), every other variant shrinks (or stays)."""
    before = {f"v{index}": weight for index, weight in enumerate(weights)}
    after = {
        name: weight * (grow if name == "v0" else shrink[index]) for index, (name, weight) in enumerate(before.items())
    }
    users = USERS[:300]

    old, new = groups("r-1", before, users), groups("r-1", after, users)

    assert all(new[user] == "v0" for user in users if old[user] == "v0")


@pytest.mark.parametrize(
    ("user_id", "rollout_id", "weights", "message"),
    [
        ("alice", "r-1", {}, "weights: give at least one variant"),
        ("alice", "r-1", {"v1": 1, "v2": -1}, "weights: the weight of 'v2' must be a finite number >= 0, got -1"),
        ("alice", "r-1", {"v1": float("nan")}, "weights: the weight of 'v1' must be a finite number >= 0"),
        ("alice", "r-1", {"v1": float("inf"), "v2": 1}, "weights: the weight of 'v1' must be a finite number >= 0"),
        ("alice", "r-1", {"v1": 0, "v2": 0}, "weights: at least one variant needs a weight above 0"),
        ("alice", "r-1", {"": 1}, "weights: a variant name must not be empty"),
        ("", "r-1", {"v1": 1}, "user_id: must not be empty"),
        ("alice", "", {"v1": 1}, "rollout_id: must not be empty"),
    ],
)
def test_input_that_cannot_be_assigned_is_refused_with_the_reason(
    user_id: str, rollout_id: str, weights: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        assign(user_id, rollout_id, weights)
