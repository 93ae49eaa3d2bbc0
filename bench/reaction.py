"""Reaction time on the local cloud: from an alarm going to ALARM to the call that gives the baseline all traffic."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import quiet, runs_from_env

DEFAULT_RUNS = 15
RUNS_ENV = "BENCH_REACTION_RUNS"
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
    from sandbox import patches

    def probe() -> float | None:
        with patches.REGISTRY.lock:
            calls = list(patches.REGISTRY.calls)
        for call in calls:
            weights = call.get("weights") or {}
            if (
                call["operation"] == WEIGHTS_CALL
                and call.get("endpoint") == endpoint
                and call["at"] >= since
                and weights.get(BASELINE_VARIANT) == 1.0
            ):
                return float(call["at"])
        return None

    return probe


def _endpoint_is_clean(cloud: Any, endpoint: str) -> None:
    """Each run starts from the same endpoint state: InService on its original config, v1 alone with weight 1."""
    described = cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    variants = {v["VariantName"]: float(v.get("CurrentWeight", 0.0)) for v in described["ProductionVariants"]}
    state = (described["EndpointStatus"], described["EndpointConfigName"], variants)
    if state != ("InService", f"{endpoint}-v1", {BASELINE_VARIANT: 1.0}):
        raise RuntimeError(f"endpoint {endpoint} is not back to its original state: {state}")


def run(runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    quiet()
    from rollouts.aws import store
    from sandbox import patches
    from sandbox.cloud import LocalCloud
    from sandbox.scenarios import ENDPOINT, create_endpoint, spec

    samples: list[dict[str, Any]] = []
    began = time.monotonic()
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        deployed = time.monotonic() - began
        create_endpoint(cloud)
        # Note when the signal handler starts, to split the reaction into event delivery and the control plane.
        on_signal_entered: list[float] = []
        on_signal = cloud.physical["OnSignalFunction"]
        handler = patches.REGISTRY.handlers[on_signal]

        def timed(event: dict[str, Any], context: Any) -> Any:
            on_signal_entered.append(time.monotonic())
            return handler(event, context)

        patches.REGISTRY.handlers[on_signal] = timed
        alarms = cloud.client("cloudwatch")
        for index in range(runs):
            _endpoint_is_clean(cloud, ENDPOINT)
            body = spec()
            body["strategy"]["steps"] = STEPS
            started = cloud.api("POST", "/rollouts", body)
            if started.status != 201:
                raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
            rollout_id, execution_arn = started.body["rollout_id"], started.body["execution_arn"]
            _wait_for(lambda rid=rollout_id: store.get_rollout(rid).task_token, 30.0, "the bake")
            on_signal_entered.clear()

            start = time.monotonic()
            alarms.set_alarm_state(AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="bench")
            restored_at = _wait_for(_restore_call(ENDPOINT, start), 30.0, "the rollback's weights call", 0.01)
            execution = cloud.wait_for_execution(execution_arn, timeout=60.0)
            status = store.get_rollout(rollout_id).status.value
            entered = on_signal_entered[0] if on_signal_entered else None
            sample = {
                "run": index + 1,
                "rollout_id": rollout_id,
                "reaction_s": round(restored_at - start, 3),
                "delivery_s": round(entered - start, 3) if entered is not None else None,
                "control_plane_s": round(restored_at - entered, 3) if entered is not None else None,
                "execution_status": execution["status"],
                "rollout_status": status,
            }
            if status != "RolledBack":
                raise RuntimeError(f"run {index + 1}: rollout {rollout_id} ended {status}, not RolledBack")
            samples.append(sample)
            print(f"  reaction: run {index + 1}/{runs}: {sample['reaction_s']:.3f} s", flush=True)

    reactions = [sample["reaction_s"] for sample in samples]
    deliveries = [sample["delivery_s"] for sample in samples if sample["delivery_s"] is not None]
    control = [sample["control_plane_s"] for sample in samples if sample["control_plane_s"] is not None]
    median, worst = statistics.median(reactions), max(reactions)
    return {
        "runs": runs,
        "time_scale": TIME_SCALE,
        "target_seconds": TARGET_SECONDS,
        "steps": STEPS,
        "deploy_seconds": round(deployed, 2),
        "median_s": round(median, 3),
        "worst_s": round(worst, 3),
        "best_s": round(min(reactions), 3),
        "delivery_median_s": round(statistics.median(deliveries), 3) if deliveries else None,
        "delivery_worst_s": round(max(deliveries), 3) if deliveries else None,
        "control_plane_median_s": round(statistics.median(control), 3) if control else None,
        "control_plane_worst_s": round(max(control), 3) if control else None,
        "median_met": median < TARGET_SECONDS,
        "worst_met": worst < TARGET_SECONDS,
        "met": worst < TARGET_SECONDS,
        "samples": samples,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
