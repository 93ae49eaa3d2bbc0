"""The A/B scenario's traffic: a population of users who come back, each served by the variant of their group.

`sandbox.dataplane.DataPlane` routes each request on its own, at random by the live weights, as SageMaker splits
requests: a user who calls twice may meet both models. An A/B test wants each user in one group
(docs/operations.md, "A/B tests: keeping a user in one group"), so here the traffic is `population` users
(`user-0001`, ...), each with fixed features. Each request is one visit of a user drawn at random, and is sent the
way the runbook tells a Python client to call: `rollouts.aws.invoke.invoke` with the local cloud's
sagemaker-runtime client, the user's id, the rollout's id and the endpoint's current weights, so `InvokeEndpoint`
gets the `TargetVariant` that `rollouts.assignment.assign` names. The local SageMaker routes by `TargetVariant`
(`sandbox.moto_ext.sagemaker`), and the variant that answered (`InvokedProductionVariant`) is the one the request
is recorded on: its metrics and data capture as `DataPlane` records any request (the captured inputs are drawn as
there, not the user's features), and its conversion, reported as feedback with the inference id and the variant
(`Users.visited`).

The weights are those the data plane reads from `DescribeEndpoint` at each step (one tick, 10 simulated seconds),
as `POST /invoke/{endpoint_name}` reads them at most every 10 s. The scenario does not send each request through
that route: its cache of the weights ages in real time, which the virtual clock does not move, so when a weight
change reached the users would depend on the machine's speed; and through the API's Lambda a request costs several
times the real time of the direct call, too much for the paced demo. `tests/integration/test_ab_sticky.py` shows
that the route keeps users in their groups the same way.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.exceptions import ClientError

from rollouts.aws.invoke import invoke
from sandbox import deployments
from sandbox.cloud import LocalCloud
from sandbox.dataplane import FEATURES, DataPlane, Listener, ModelBehaviour, training_row
from sandbox.users import Users

# One visit of a user: (simulated second, the variant that served it).
Visit = tuple[float, str]


@dataclass(frozen=True)
class User:
    user_id: str
    body: bytes  # the request the user sends: their features as a CSV line

    @classmethod
    def drawn(cls, number: int, rng: random.Random) -> User:
        row = training_row(rng)
        return cls(f"user-{number:04d}", ",".join(f"{row[feature]:.2f}" for feature in FEATURES).encode())


class StickyDataPlane(DataPlane):
    """A `DataPlane` whose requests are visits of `population` users, each sent to the variant of the user's group.

    `visits` holds, per user id, every request the user made and the variant that served it; `refused` counts the
    requests SageMaker refused (none unless a fault is injected: the weights and the variants that score the
    requests are read from the endpoint once a step)."""

    def __init__(
        self,
        cloud: LocalCloud,
        endpoint_name: str,
        behaviours: dict[str, ModelBehaviour],
        users: Users,
        rollout_id: str,
        population: int = 2000,
        requests_per_second: float = 50.0,
        tick_seconds: float = 10.0,
        seed: int = 7,
        listener: Listener | None = None,
    ) -> None:
        super().__init__(
            cloud,
            endpoint_name,
            behaviours,
            requests_per_second=requests_per_second,
            tick_seconds=tick_seconds,
            seed=seed,
            listener=listener,
            on_request=self._served,
        )
        self.users = users
        self.rollout_id = rollout_id
        # The users come from a generator of their own, so that their features do not move the traffic's draws.
        people = random.Random(seed + 2)
        self.population = [User.drawn(number, people) for number in range(1, population + 1)]
        self.visits: dict[str, list[Visit]] = defaultdict(list)
        self.refused = 0
        self._runtime = cloud.client("sagemaker-runtime")
        self._visitor = ("", "")  # (user id, inference id) of the request being served, for `_served`
        self._serving: dict[str, str] | None = None  # variant -> model, as the endpoint serves during this step

    def serve_requests(self, begun: float, sim_seconds: float) -> None:
        """Each request is a visit of a user, on the variant their group has under the endpoint's current weights."""
        live, _ = self.live_variants()  # the A/B scenario has no shadow variant
        self._serving = {name: model for name, _, model in live}
        weights = {name: weight for name, weight, _ in live}
        if not self.weight_history or self.weight_history[-1][1] != weights:
            self.weight_history.append((begun, weights))
        if any(weight > 0 for weight in weights.values()):
            expected = self.rps * sim_seconds
            count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
            for at in sorted(begun + self.rng.random() * sim_seconds for _ in range(count)):
                self._visit(self.rng.choice(self.population), at, weights, self._serving)

    def models_by_variant(self) -> dict[str, str]:
        """The variants read at the start of the step: the local InvokeEndpoint scores with this for each request,
        and reading the endpoint again each time would double what a request costs."""
        return dict(self._serving) if self._serving is not None else super().models_by_variant()

    def _visit(self, user: User, at: float, weights: Mapping[str, float], models: Mapping[str, str]) -> None:
        """One request of `user`: InvokeEndpoint through the assignment helper, recorded on the variant that served
        it."""
        inference_id = self._uuid()
        try:
            response = invoke(
                self._runtime,
                self.endpoint_name,
                user.user_id,
                self.rollout_id,
                weights,
                user.body,
                "text/csv",
                InferenceId=inference_id,
            )
        except ClientError as error:  # the user got an error, and nothing was served
            self.refused += 1
            self.listener("users", f"{user.user_id}: {error}")
            return
        response["Body"].read()
        variant = str(response["InvokedProductionVariant"])
        model = deployments.serving_model(self.endpoint_name, variant, models[variant], self.rng)
        self._visitor = (user.user_id, inference_id)
        self._serve(variant, self.behaviours.get(model, ModelBehaviour()), at, inference_id)

    def _served(self, variant: str, behaviour: ModelBehaviour, at: float, error: bool) -> None:
        """The data plane's hook for the request `_visit` serves: note the visit, and draw the user's conversion."""
        user_id, inference_id = self._visitor
        self.visits[user_id].append((at, variant))
        self.users.visited(user_id, inference_id, variant, behaviour, at, error)
