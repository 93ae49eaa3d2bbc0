"""Simulated ground truth: whether each answered user churned, known some minutes later, sent as labels.

Model quality and bias are judged on labels (docs/operations.md, "Sending feedback"): here every request the data
plane answers is a user who churns with `true_probability` of their inputs (what the baseline model's score
estimates). The label, 1 or 0, is known after a delay drawn from an exponential distribution of simulated time and
goes in as a producer sends it: `SendMessage` to the stack's feedback queue, where the real `IngestFeedbackFunction`
writes it in Model Monitor's ground-truth format, by the captured request's inference id. The draws come from `seed`.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
from collections.abc import Callable
from typing import Any

from rollouts.models.feedback import MAX_EVENTS_PER_MESSAGE
from sandbox.cloud import LocalCloud
from sandbox.dataplane import true_probability


class Labeller:
    """The labels of one endpoint. Give `answered` to `DataPlane(on_answer=...)`, then `start` with its clock."""

    def __init__(self, cloud: LocalCloud, endpoint_name: str, mean_delay_seconds: float = 60.0, seed: int = 31) -> None:
        self.endpoint_name = endpoint_name
        self.mean_delay_seconds = mean_delay_seconds
        self.rng = random.Random(seed)
        self.sent = 0
        self.errors: list[str] = []
        self._sqs = cloud.client("sqs")
        self._queue_url = cloud.physical["FeedbackQueue"]
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def answered(self, inference_id: str, row: dict[str, float], at: float) -> None:
        with self._lock:
            self._count += 1
            churned = self.rng.random() < true_probability(row)
            known_at = at + self.rng.expovariate(1 / self.mean_delay_seconds)
            event = {"inference_id": inference_id, "label": 1 if churned else 0, "endpoint": self.endpoint_name}
            heapq.heappush(self._due, (known_at, self._count, event))

    def deliver(self, now: float) -> int:
        """Send the labels known by simulated second `now`; how many."""
        ready: list[dict[str, Any]] = []
        with self._lock:
            while self._due and self._due[0][0] <= now:
                ready.append(heapq.heappop(self._due)[2])
        for first in range(0, len(ready), MAX_EVENTS_PER_MESSAGE):
            if self._stop.is_set():
                break
            chunk = ready[first : first + MAX_EVENTS_PER_MESSAGE]
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"events": chunk}))
            self.sent += len(chunk)
        return len(ready)

    def start(self, clock: Callable[[], float], tick_seconds: float = 10.0) -> Labeller:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver(clock())
                except Exception as error:  # labels must not stop silently mid-demo
                    self.errors.append(repr(error))
                self._stop.wait(tick_seconds)

        self._thread = threading.Thread(target=run, name="labels", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
