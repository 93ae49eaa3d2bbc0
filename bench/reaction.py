"""Reaction time on the local cloud: from an alarm going to ALARM to the call that gives the baseline all traffic."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import quiet, runs_from_env

DEFAULT_RUNS = 15
RUNS_ENV = "BENCH_REACTION_RUNS"
DEFAULT_BUSY_RUNS = 5
BUSY_RUNS_ENV = "BENCH_REACTION_BUSY_RUNS"
TIME_SCALE = 0.001
TARGET_SECONDS = 1.0
BASELINE_VARIANT = "v1"
STEPS = [{"weight": 10, "bake": "1h"}]  # 3.6 s real at time scale 0.001: the bake is still running at the alarm
WEIGHTS_CALL = "UpdateEndpointWeightsAndCapacities"


def _wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


def _restore_call(endpoint: str, since: float) -> Callable[[], float | None]:
    """A probe for the first weights call after `since` that gives the baseline weight 1.0; reads the local log only."""
    from sandbox.moto_ext import core

    def probe() -> float | None:
        with core.REGISTRY.lock:
            calls = list(core.REGISTRY.calls)
        for call in calls:
            weights = call.get("weights") or {}
            if (
                call["operation"] == WEIGHTS_CALL
                and call.get("endpoint") == endpoint
                and call["real_at"] >= since
                and weights.get(BASELINE_VARIANT) == 1.0
            ):
                return float(call["real_at"])
        return None

    return probe


class GcPauses:
    """Garbage-collector pauses (start, seconds, generation): a full collection stops every thread of the process."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._started = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            self.pauses.append((self._started, time.monotonic() - self._started, int(info["generation"])))

    def within(self, start: float, end: float) -> tuple[float, int]:
        """Seconds of collection between `start` and `end`, and the oldest generation collected (-1: none)."""
        inside = [(seconds, generation) for at, seconds, generation in self.pauses if start <= at <= end]
        return sum(seconds for seconds, _ in inside), max((generation for _, generation in inside), default=-1)


def _endpoint_is_clean(cloud: Any, endpoint: str) -> None:
    """Each run starts from the same endpoint state: InService on its original config, v1 alone with weight 1."""
    described = cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    variants = {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described["ProductionVariants"]}
    state = (described["EndpointStatus"], described["EndpointConfigName"], variants)
    if state != ("InService", f"{endpoint}-v1", {BASELINE_VARIANT: 1.0}):
        raise RuntimeError(f"endpoint {endpoint} is not back to its original state: {state}")


def _one_run(cloud: Any, index: int, busy: bool, on_signal_entered: list[float], collector: GcPauses) -> dict[str, Any]:
    from rollouts.aws import store
    from sandbox.scenarios import ENDPOINT, spec

    _endpoint_is_clean(cloud, ENDPOINT)
    body = spec()
    body["strategy"]["steps"] = STEPS
    started = cloud.api("POST", "/rollouts", body)
    if started.status != 201:
        raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
    rollout_id, execution_arn = started.body["rollout_id"], started.body["execution_arn"]
    _wait_for(lambda: store.get_rollout(rollout_id).task_token, 30.0, "the bake")
    alarms = cloud.client("cloudwatch")
    on_signal_entered.clear()

    start = time.monotonic()
    alarms.set_alarm_state(AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="bench")
    if busy:
        # The observer polls the local cloud meanwhile, as a test calling cloud.wait_for_execution at once would.
        execution = cloud.wait_for_execution(execution_arn, timeout=60.0)
        restored_at = _restore_call(ENDPOINT, start)()
    else:
        # The observer only reads the in-memory call log until the weights call is there, then waits for the end.
        restored_at = _wait_for(_restore_call(ENDPOINT, start), 30.0, "the rollback's weights call", 0.01)
        execution = cloud.wait_for_execution(execution_arn, timeout=60.0)
    status = store.get_rollout(rollout_id).status.value
    if restored_at is None or status != "RolledBack":
        raise RuntimeError(f"run {index}: rollout {rollout_id} ended {status} (weights call at {restored_at})")
    entered = on_signal_entered[0] if on_signal_entered else None
    gc_seconds, gc_generation = collector.within(start, restored_at)
    return {
        "run": index,
        "observer": "busy" if busy else "quiet",
        "rollout_id": rollout_id,
        "reaction_s": round(restored_at - start, 3),
        "delivery_s": round(entered - start, 3) if entered is not None else None,
        "control_plane_s": round(restored_at - entered, 3) if entered is not None else None,
        "gc_pause_s": round(gc_seconds, 3),
        "gc_oldest_generation": gc_generation,
        "execution_status": execution["status"],
        "rollout_status": status,
    }


def _figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    if not samples:
        return {"runs": 0}
    reactions = [sample["reaction_s"] for sample in samples]
    deliveries = [sample["delivery_s"] for sample in samples if sample["delivery_s"] is not None]
    control = [sample["control_plane_s"] for sample in samples if sample["control_plane_s"] is not None]
    median, worst = statistics.median(reactions), max(reactions)
    return {
        "runs": len(samples),
        "median_s": round(median, 3),
        "worst_s": round(worst, 3),
        "best_s": round(min(reactions), 3),
        "delivery_median_s": round(statistics.median(deliveries), 3) if deliveries else None,
        "delivery_worst_s": round(max(deliveries), 3) if deliveries else None,
        "control_plane_median_s": round(statistics.median(control), 3) if control else None,
        "control_plane_worst_s": round(max(control), 3) if control else None,
        "gc_pause_worst_s": max(sample["gc_pause_s"] for sample in samples),
        "runs_with_full_gc": sum(1 for sample in samples if sample["gc_oldest_generation"] == 2),
        "median_met": median < TARGET_SECONDS,
        "worst_met": worst < TARGET_SECONDS,
    }


def run(runs: int | None = None, busy_runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    busy_runs = busy_runs if busy_runs is not None else runs_from_env(BUSY_RUNS_ENV, DEFAULT_BUSY_RUNS, minimum=0)
    quiet()
    from sandbox.cloud import LocalCloud
    from sandbox.moto_ext import core
    from sandbox.scenarios import create_endpoint

    samples: list[dict[str, Any]] = []
    began = time.monotonic()
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        deployed = time.monotonic() - began
        create_endpoint(cloud)
        # Note when the signal handler starts, to split the reaction into event delivery and the control plane.
        on_signal_entered: list[float] = []
        on_signal = cloud.physical["OnSignalFunction"]
        handler = core.REGISTRY.handlers[on_signal]

        def timed(event: dict[str, Any], context: Any) -> Any:
            on_signal_entered.append(time.monotonic())
            return handler(event, context)

        core.REGISTRY.handlers[on_signal] = timed
        for index in range(runs + busy_runs):
            busy = index >= runs
            with GcPauses() as collector:
                sample = _one_run(cloud, index + 1, busy, on_signal_entered, collector)
            samples.append(sample)
            print(
                f"  reaction: run {index + 1}/{runs + busy_runs} ({sample['observer']} observer): "
                f"{sample['reaction_s']:.3f} s",
                flush=True,
            )

        tracked = len(gc.get_objects())

    quiet_figures = _figures([sample for sample in samples if sample["observer"] == "quiet"])
    return {
        "time_scale": TIME_SCALE,
        "target_seconds": TARGET_SECONDS,
        "steps": STEPS,
        "deploy_seconds": round(deployed, 2),
        "gc_tracked_objects": tracked,
        **quiet_figures,
        "met": quiet_figures["worst_met"],
        "busy_observer": _figures([sample for sample in samples if sample["observer"] == "busy"]),
        "samples": samples,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
