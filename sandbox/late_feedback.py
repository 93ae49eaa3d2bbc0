"""Feedback that becomes known some time after a request, sent as a producer sends it: `SendMessage` to the stack's
feedback queue, up to 500 events per message, which the real `IngestFeedbackFunction` consumes. The users'
conversions (`sandbox.users`) and their labels (`sandbox.labels`) are two kinds of it."""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable
from typing import Any, Self

from rollouts.models.feedback import MAX_EVENTS_PER_MESSAGE
from sandbox.cloud import LocalCloud


class LateFeedback:
    """Events due at simulated seconds, delivered on a thread of their own once the data plane's clock passes them."""

    name = "feedback"

    def __init__(self, cloud: LocalCloud, tick_seconds: float = 10.0) -> None:
        self.tick = tick_seconds
        self.errors: list[str] = []
        self._sqs = cloud.client("sqs")
        self._queue_url = cloud.physical["FeedbackQueue"]  # the stack output FeedbackQueueUrl
        self._due: list[tuple[float, int, dict[str, Any]]] = []
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _push(self, known_at: float, event: dict[str, Any]) -> None:
        """Queue `event` for simulated second `known_at`; under the lock."""
        self._count += 1
        heapq.heappush(self._due, (known_at, self._count, event))

    def _sent(self, chunk: list[dict[str, Any]]) -> None:
        """What a subclass counts of each message sent."""

    def deliver(self, now: float) -> int:
        """Send the events known by simulated second `now`; the number sent."""
        ready: list[dict[str, Any]] = []
        with self._lock:
            while self._due and self._due[0][0] <= now:
                ready.append(heapq.heappop(self._due)[2])
        sent = 0
        for first in range(0, len(ready), MAX_EVENTS_PER_MESSAGE):
            if self._stop.is_set():
                break  # the local cloud is about to go; the rest would find no queue
            chunk = ready[first : first + MAX_EVENTS_PER_MESSAGE]
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"events": chunk}))
            self._sent(chunk)
            sent += len(chunk)
        return sent

    @property
    def waiting(self) -> int:
        """Events drawn but not sent yet."""
        with self._lock:
            return len(self._due)

    def start(self, clock: Callable[[], float]) -> Self:
        """Send, on a thread of its own, what `clock` (simulated seconds, the data plane's) says is known."""

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.deliver(clock())
                except Exception as error:  # feedback must not stop silently mid-demo
                    self.errors.append(repr(error))
                self._stop.wait(self.tick)

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
