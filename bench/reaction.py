"""Reaction to a guardrail alarm on the local cloud: from the alarm going to ALARM to the call that gives the baseline
all the traffic, in simulated seconds and in the work it costs.

The local cloud runs on a virtual clock that moves only when every thread waits (`sandbox.virtual_time`). Two
figures follow, neither of which depends on how busy the machine is in the way a paced clock did:
- simulated seconds from SetAlarmState to the weights call: the waits on that path (EventBridge delivery, a task's
  retry interval, a Step Functions wait); 0 when nothing on the path waits;
- wall-clock seconds for the same window: the work of that path in one process (the local EventBridge, the
  on_signal handler, SendTaskFailure, the Roll Back task and moto's side of each call), since the simulated waits
  take no real time. It is the cost of the path on this machine, not AWS's latency.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from bench.common import quiet, runs_from_env

DEFAULT_RUNS = 15
RUNS_ENV = "BENCH_REACTION_RUNS"
TARGET_SECONDS = 1.0
BASELINE_VARIANT = "v1"
STEPS = [{"weight": 10, "bake": "1h"}]  # the bake is still running when the alarm fires
WEIGHTS_CALL = "UpdateEndpointWeightsAndCapacities"
DAY = 86400.0


def _restore_call(endpoint: str, since: float) -> dict[str, Any] | None:
    """The first weights call at or after real time `since` that gives the baseline weight 1.0 (the local call log)."""
    from sandbox.moto_ext import core

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
            return call
    return None


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


def _one_run(cloud: Any, index: int, on_signal_entered: list[float], collector: GcPauses) -> dict[str, Any]:
    from rollouts.aws import store
    from sandbox.moto_ext import clock
    from sandbox.scenarios import ENDPOINT, spec

    _endpoint_is_clean(cloud, ENDPOINT)
    body = spec()
    body["strategy"]["steps"] = STEPS
    started = cloud.api("POST", "/rollouts", body)
    if started.status != 201:
        raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
    rollout_id, execution_arn = started.body["rollout_id"], started.body["execution_arn"]
    if cloud.wait_until(lambda: store.get_rollout(rollout_id).task_token, DAY) is None:
        raise RuntimeError(f"run {index}: rollout {rollout_id} never baked")
    alarms = cloud.client("cloudwatch")
    on_signal_entered.clear()

    start, simulated_start = time.monotonic(), clock.monotonic()
    alarms.set_alarm_state(AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="bench")
    restored = cloud.wait_until(lambda: _restore_call(ENDPOINT, start), DAY)
    execution = cloud.wait_for_execution(execution_arn, timeout=DAY)
    status = store.get_rollout(rollout_id).status.value
    if restored is None or status != "RolledBack":
        raise RuntimeError(f"run {index}: rollout {rollout_id} ended {status} (weights call {restored})")
    restored_at = float(restored["real_at"])
    entered = on_signal_entered[0] if on_signal_entered else None
    gc_seconds, gc_generation = collector.within(start, restored_at)
    return {
        "run": index,
        "rollout_id": rollout_id,
        "simulated_s": round(float(restored["at"]) - simulated_start, 3),
        "reaction_s": round(restored_at - start, 3),
        "delivery_s": round(entered - start, 3) if entered is not None else None,
        "control_plane_s": round(restored_at - entered, 3) if entered is not None else None,
        "gc_pause_s": round(gc_seconds, 3),
        "gc_oldest_generation": gc_generation,
        "execution_status": execution["status"],
        "rollout_status": status,
    }


def _figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    reactions = [sample["reaction_s"] for sample in samples]
    simulated = [sample["simulated_s"] for sample in samples]
    deliveries = [sample["delivery_s"] for sample in samples if sample["delivery_s"] is not None]
    control = [sample["control_plane_s"] for sample in samples if sample["control_plane_s"] is not None]
    median, worst = statistics.median(reactions), max(reactions)
    return {
        "runs": len(samples),
        "simulated_median_s": round(statistics.median(simulated), 3),
        "simulated_worst_s": round(max(simulated), 3),
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


def run(runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    quiet()
    from sandbox.cloud import LocalCloud
    from sandbox.moto_ext import core
    from sandbox.scenarios import create_endpoint

    samples: list[dict[str, Any]] = []
    began = time.monotonic()
    with LocalCloud() as cloud:
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
        for index in range(runs):
            with GcPauses() as collector:
                sample = _one_run(cloud, index + 1, on_signal_entered, collector)
            samples.append(sample)
            print(
                f"  reaction: run {index + 1}/{runs}: {sample['reaction_s']:.3f} s of work, "
                f"{sample['simulated_s']:g} simulated s",
                flush=True,
            )
        tracked = len(gc.get_objects())

    figures = _figures(samples)
    return {
        "target_seconds": TARGET_SECONDS,
        "steps": STEPS,
        "deploy_seconds": round(deployed, 2),
        "gc_tracked_objects": tracked,
        **figures,
        "met": figures["worst_met"],
        "samples": samples,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
