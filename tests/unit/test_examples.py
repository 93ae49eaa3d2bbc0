"""Every spec in examples/ is one the API takes: the rollout spec model validates each, so none goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rollouts.logic.validation import check_duration
from rollouts.models.spec import RolloutSpec
from rollouts.strategies import STRATEGIES

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def test_there_is_an_example_of_every_strategy() -> None:
    kinds = {RolloutSpec.model_validate(yaml.safe_load(path.read_text())).strategy.type for path in EXAMPLES}

    assert kinds == set(STRATEGIES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_each_example_is_a_valid_spec_that_fits_one_execution(path: Path) -> None:
    spec = RolloutSpec.model_validate(yaml.safe_load(path.read_text()))

    check_duration(spec)
    assert path.stem == spec.strategy.type


POLICIES = sorted((Path(__file__).resolve().parents[2] / "examples" / "policies").glob("*.yaml"))


@pytest.mark.parametrize("path", POLICIES, ids=[path.name for path in POLICIES])
def test_each_release_policy_example_is_one_the_api_takes(path: Path) -> None:
    from rollouts.models.policy import ReleasePolicy

    policy = ReleasePolicy.model_validate(yaml.safe_load(path.read_text()))

    assert path.stem == policy.model_package_group
    for target in policy.targets:
        check_duration(target.spec("churn-models-v1"))
