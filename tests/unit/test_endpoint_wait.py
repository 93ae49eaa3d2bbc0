"""The wait for an endpoint update ends however its state-change event and the task's own look interleave."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest

from rollouts.aws import endpoints, store, workflows
from rollouts.logic import endpoint_wait


@dataclass(frozen=True)
class Rollout:
    """The fields of a rollout the wait reads, copied as pydantic copies them."""

    endpoint_name: str
    endpoint_token: str | None = None
    endpoint_wait_since: datetime | None = None
    component_name: str | None = None

    def model_copy(self, update: dict[str, Any]) -> Rollout:
        return replace(self, **update)


class Race:
    """One rollout in a store, an endpoint that settles while the task holds the wait's token, and its event."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rollout = Rollout(endpoint_name="churn-predictor")
        self.status = "Updating"
        self.answered: list[tuple[str, dict[str, Any]]] = []
        self.looks = 0
        monkeypatch.setattr(store, "update_rollout", self.update)
        monkeypatch.setattr(endpoints, "describe_endpoint", self.describe)
        monkeypatch.setattr(workflows, "succeed_task", self.succeed)

    def update(self, rollout_id: str, change: Callable[[Rollout], Rollout | None]) -> Rollout:
        changed = change(self.rollout)
        if changed is not None:
            self.rollout = changed
        return self.rollout

    def describe(self, name: str) -> dict[str, Any]:
        self.looks += 1
        status = self.status
        if self.looks == 1:
            # The update ends just after this look, and its event is handled while the task holds the token.
            self.status = "InService"
            assert endpoint_wait.endpoint_settled("r-1") is False  # the event finds no token
        return {"EndpointStatus": status, "EndpointConfigName": "churn-predictor-canary"}

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        self.answered.append((token, output))
        return True


def test_an_update_that_settles_while_the_task_looks_still_ends_the_wait(monkeypatch):
    race = Race(monkeypatch)

    endpoint_wait.await_endpoint("r-1", "token-1")

    # The wait is answered once, with the settled endpoint, instead of running to its timeout
    assert race.answered == [("token-1", {"status": "InService", "config_name": "churn-predictor-canary"})]
    assert race.rollout.endpoint_token is None
