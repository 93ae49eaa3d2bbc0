"""The strategies, one module each, and their registry: the spec's `type` names the strategy.

`AnyStrategy` is the discriminated union the rollout spec parses, so it is the registration: a new strategy is a
module of this package and one line here. `STRATEGIES` is the same set by type. A strategy's state machine is found
from its type too, by name (`<stack>-<type>` in template.yaml).
"""

from typing import Annotated, get_args

from pydantic import Field

from rollouts.strategies.ab_test import AbTestStrategy
from rollouts.strategies.bandit import BanditStrategy
from rollouts.strategies.base import Strategy, StrategySpec
from rollouts.strategies.blue_green import BlueGreenStrategy
from rollouts.strategies.canary import CanaryStrategy
from rollouts.strategies.rolling import RollingStrategy
from rollouts.strategies.shadow import ShadowStrategy

AnyStrategy = Annotated[
    CanaryStrategy | BanditStrategy | BlueGreenStrategy | AbTestStrategy | ShadowStrategy | RollingStrategy,
    Field(discriminator="type"),
]

STRATEGIES: dict[str, type[StrategySpec]] = {
    kind.model_fields["type"].default: kind for kind in get_args(get_args(AnyStrategy)[0])
}

__all__ = [
    "STRATEGIES",
    "AbTestStrategy",
    "AnyStrategy",
    "BanditStrategy",
    "BlueGreenStrategy",
    "CanaryStrategy",
    "RollingStrategy",
    "ShadowStrategy",
    "Strategy",
    "StrategySpec",
]
