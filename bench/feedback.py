"""Feedback ingestion's own cost: events per second through `rollouts.logic.feedback` (parse, dedupe, sum per arm,
plan the writes) for a batch of 10,000 events, and the DynamoDB writes it asks for, side by side with writing each
event on its own.

AWS is replaced by counters: the figure is the logic's work in one process, not DynamoDB's latency. Each run is
measured with `time.perf_counter`; the two ways alternate, run after run, so that both see the same machine.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from bench.common import ROOT, quiet, runs_from_env

EVENTS = 10_000
EVENTS_PER_MESSAGE = 500  # rollouts.models.feedback.MAX_EVENTS_PER_MESSAGE
VARIANTS = ("v1", "v2")
DEFAULT_RUNS = 7
RUNS_ENV = "BENCH_FEEDBACK_RUNS"
TARGET_EVENTS_PER_SECOND = 50_000
RESULTS = ROOT / "bench" / "results" / "feedback.json"


def messages() -> list[str]:
    """10,000 rewards on two variants of one endpoint, as 20 queue messages of 500 events."""
    events = [
        {
            "event_id": f"e-{n:05d}",
            "endpoint": "churn-predictor",
            "variant": VARIANTS[n % len(VARIANTS)],
            "reward": float(n % 7 == 0),
        }
        for n in range(EVENTS)
    ]
    return [
        json.dumps({"events": events[start : start + EVENTS_PER_MESSAGE]})
        for start in range(0, EVENTS, EVENTS_PER_MESSAGE)
    ]


class Writes:
    """What the table is asked for: calls (transactions or single writes) and items written."""

    def __init__(self) -> None:
        self.calls = 0
        self.items = 0
        self.arm_updates = 0

    def write_totals(self, keys: list[str], deltas: dict[Any, Any]) -> list[str]:
        self.calls += 1
        self.items += len(keys) + len(deltas)
        self.arm_updates += len(deltas)
        return []


def batched(bodies: list[str], writes: Writes) -> int:
    """The ingestion as it is: every message parsed, then one transaction per up to 100 actions."""
    from rollouts.logic.feedback import ingest, parse_message

    staged = {f"m-{index}": parse_message(body).events for index, body in enumerate(bodies)}
    outcome = ingest(staged)
    return outcome.counted


def one_by_one(bodies: list[str], writes: Writes) -> int:
    """The alternative: each event parsed and written on its own (its id guard and its arm's update)."""
    from rollouts.logic.feedback import _deltas, _Managers, parse_message
    from rollouts.models.feedback import event_key

    managers = _Managers()
    counted = 0
    for body in bodies:
        for event in parse_message(body).events:
            writes.write_totals([event_key(event)], _deltas([event], managers))
            counted += 1
    return counted


def _measure(way: Callable[[list[str], Writes], int], bodies: list[str]) -> tuple[float, Writes, int]:
    writes = Writes()
    with (
        mock.patch("rollouts.aws.feedback.write_totals", writes.write_totals),
        mock.patch("rollouts.aws.store.lock_holder", lambda endpoint: None),
    ):
        began = time.perf_counter()
        counted = way(bodies, writes)
        seconds = time.perf_counter() - began
    return seconds, writes, counted


def run(runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    quiet()
    bodies = messages()
    ways = {"batched": batched, "one_by_one": one_by_one}
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    writes: dict[str, Writes] = {}
    for _ in range(runs):
        for name, way in ways.items():
            took, counted_writes, counted = _measure(way, bodies)
            if counted != EVENTS:
                raise RuntimeError(f"{name} counted {counted} of {EVENTS} events")
            seconds[name].append(took)
            writes[name] = counted_writes
    figures = {
        name: {
            "median_s": round(statistics.median(seconds[name]), 4),
            "events_per_second": round(EVENTS / statistics.median(seconds[name])),
            "write_calls": writes[name].calls,
            "items_written": writes[name].items,
            "arm_updates": writes[name].arm_updates,
        }
        for name in ways
    }
    return {
        "command": "python -m bench.feedback",
        "events": EVENTS,
        "messages": len(bodies),
        "arms": len(VARIANTS),
        "runs": runs,
        **figures,
        "speedup": round(statistics.median(seconds["one_by_one"]) / statistics.median(seconds["batched"]), 2),
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "met": figures["batched"]["events_per_second"] >= TARGET_EVENTS_PER_SECOND,
    }


def main() -> int:
    import os

    os.environ.setdefault("ROLLOUTS_TABLE_NAME", "bench")
    result = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
