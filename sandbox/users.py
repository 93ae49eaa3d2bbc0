"""Simulated users: each request converts or not, and the outcome comes back later as feedback on the queue.

A bandit rollout learns from feedback (docs/operations.md, "Sending feedback"), not from the data plane's metrics.
Here every request the data plane serves is one user, who converts with the probability of the model that answered
(`ModelBehaviour.conversion_rate`; never after a 5XX). The outcome, reward 1 or 0, is reported after a delay drawn
from an exponential distribution of simulated time, as an order or a click is known only minutes after the answer,
and goes in as a producer sends it: `SendMessage` to the stack's feedback queue, up to 500 events per message,
which the real `IngestFeedbackFunction` consumes. The draws come from `seed` alone, so a run is repeatable up to
the timing of the threads (which requests fall before a reweighting).

Requests come in two kinds. `served` (the bandit's `DataPlane(on_request=...)`) is a visit of no one in particular:
its event id is a visit number. `visited` is a request of a named user who comes back (the A/B scenario's
population, `sandbox/ab_users.py`): its event carries the inference id the request was sent with and the variant
that served it, and its event id names the user, so each user's feedback goes to the group they were served by.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import ModelBehaviour
from sandbox.late_feedback import LateFeedback


class Users(LateFeedback):
    """The users of one endpoint. Give `served` to `DataPlane(on_request=...)`, then `start` with the plane's clock."""

    name = "users"

    def __init__(
        self,
        cloud: LocalCloud,
        endpoint_name: str,
        mean_delay_seconds: float = 120.0,
        seed: int = 29,
        tick_seconds: float = 10.0,
    ) -> None:
        super().__init__(cloud, tick_seconds)
        self.endpoint_name = endpoint_name
        self.mean_delay_seconds = mean_delay_seconds
        self.rng = random.Random(seed)
        self.prefix = f"visit-{seed}"
        # Reported so far, per variant: events and conversions.
        self.reported: dict[str, int] = defaultdict(int)
        self.converted: dict[str, int] = defaultdict(int)
        self._visits = 0

    def served(self, variant: str, behaviour: ModelBehaviour, at: float, error: bool) -> None:
        """One request, at simulated second `at`: draw whether its user converts, and when that becomes known."""
        with self._lock:
            self._visits += 1
            self._draw(f"{self.prefix}-{self._visits:07d}", {}, variant, behaviour, at, error)

    def visited(
        self, user_id: str, inference_id: str, variant: str, behaviour: ModelBehaviour, at: float, error: bool
    ) -> None:
        """One request of user `user_id`, sent with `InferenceId=inference_id` and served by `variant`: as `served`,
        its feedback reported with the inference id, under an event id of the user's."""
        with self._lock:
            self._visits += 1
            self._draw(f"{user_id}.{inference_id}", {"inference_id": inference_id}, variant, behaviour, at, error)

    def _draw(
        self, event_id: str, extra: dict[str, Any], variant: str, behaviour: ModelBehaviour, at: float, error: bool
    ) -> None:
        """Whether the request converts (never after a 5XX), and when that becomes known; under the lock."""
        converted = not error and self.rng.random() < behaviour.conversion_rate
        known_at = at + self.rng.expovariate(1 / self.mean_delay_seconds)
        event = {
            "event_id": event_id,
            "endpoint": self.endpoint_name,
            "variant": variant,
            **extra,
            "reward": 1 if converted else 0,
        }
        self._push(known_at, event)

    def _sent(self, chunk: list[dict[str, Any]]) -> None:
        for event in chunk:
            self.reported[event["variant"]] += 1
            self.converted[event["variant"]] += event["reward"]
