"""Simulated ground truth: whether each answered user churned, known some minutes later, sent as labels.

Model quality and bias are judged on labels (docs/operations.md, "Sending feedback"): here every request the data
plane answers is a user who churns with `true_probability` of their inputs (what the baseline model's score
estimates). The label, 1 or 0, is known after a delay drawn from an exponential distribution of simulated time and
goes in as a producer sends it: `SendMessage` to the stack's feedback queue, where the real `IngestFeedbackFunction`
writes it in Model Monitor's ground-truth format, by the captured request's inference id. The draws come from `seed`.
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import true_probability
from sandbox.late_feedback import LateFeedback


class Labeller(LateFeedback):
    """The labels of one endpoint. Give `answered` to `DataPlane(on_answer=...)`, then `start` with its clock."""

    name = "labels"

    def __init__(self, cloud: LocalCloud, endpoint_name: str, mean_delay_seconds: float = 60.0, seed: int = 31) -> None:
        super().__init__(cloud)
        self.endpoint_name = endpoint_name
        self.mean_delay_seconds = mean_delay_seconds
        self.rng = random.Random(seed)
        self.sent = 0

    def answered(self, inference_id: str, row: dict[str, float], at: float) -> None:
        with self._lock:
            churned = self.rng.random() < true_probability(row)
            known_at = at + self.rng.expovariate(1 / self.mean_delay_seconds)
            self._push(
                known_at, {"inference_id": inference_id, "label": 1 if churned else 0, "endpoint": self.endpoint_name}
            )

    def _sent(self, chunk: list[dict[str, Any]]) -> None:
        self.sent += len(chunk)
