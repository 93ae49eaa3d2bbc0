"""State transitions of a healthy 4-step canary (10/25/50/75 %), counted from the Step Functions execution history."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from bench.common import ROOT, quiet

TARGET = 40
WEIGHTS = (10, 25, 50, 75)
BAKE = "1m"
SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled")


def _definition() -> dict[str, Any]:
    data = json.loads((ROOT / "statemachines" / "canary.asl.json").read_text())
    assert isinstance(data, dict)
    return data


def count(history: list[dict[str, Any]], states: dict[str, Any]) -> dict[str, Any]:
    """States entered (in all, per state), retries (a task scheduled again within one entry), second looks."""
    entries: list[str] = []
    scheduled: list[int] = []
    for event in history:
        if event["type"].endswith("StateEntered"):
            entries.append(event["stateEnteredEventDetails"]["name"])
            scheduled.append(0)
        elif event["type"] in SCHEDULED and scheduled:
            scheduled[-1] += 1
    per_state = Counter(entries)
    retries_by_state: Counter[str] = Counter()
    for name, times in zip(entries, scheduled, strict=True):
        if times > 1:
            retries_by_state[name] += times - 1
    # An endpoint wait that timed out (no state-change event came) looks again through a "... Still Updating" state.
    second_looks = sum(1 for name in entries if name.endswith("Still Updating"))
    return {
        "states_entered": len(entries),
        "retries": sum(retries_by_state.values()),
        "per_state": [
            {
                "state": name,
                "type": states[name]["Type"],
                "entered": per_state[name],
                "retries": retries_by_state[name],
            }
            for name in dict.fromkeys(entries)
        ],
        "second_looks": second_looks,
        "sequence": entries,
    }


def run() -> dict[str, Any]:
    quiet()
    from rollouts.aws import store
    from sandbox.cloud import LocalCloud
    from sandbox.scenarios import create_endpoint, spec

    definition = _definition()
    began = time.monotonic()
    # The virtual clock: an endpoint update's 120 simulated seconds pass when every thread waits for it, so the
    # count is the same on a quiet machine and a busy one.
    with LocalCloud() as cloud:
        create_endpoint(cloud)
        body = spec()
        body["strategy"]["steps"] = [{"weight": weight, "bake": BAKE} for weight in WEIGHTS]
        started = cloud.api("POST", "/rollouts", body)
        if started.status != 201:
            raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
        rollout_id, execution_arn = started.body["rollout_id"], started.body["execution_arn"]
        execution = cloud.wait_for_execution(execution_arn, timeout=86400.0)
        status = store.get_rollout(rollout_id).status.value
        history = cloud.history(execution_arn)
        update_seconds = cloud.endpoint_update_seconds
    if execution["status"] != "SUCCEEDED" or status != "Promoted":
        raise RuntimeError(f"the healthy canary ended {execution['status']} / {status}, not SUCCEEDED / Promoted")
    counted = count(history, definition["States"])
    total = counted["states_entered"] + counted["retries"]
    print(f"  transitions: {counted['states_entered']} states entered, {counted['retries']} retries", flush=True)
    return {
        "steps": body["strategy"]["steps"],
        "endpoint_update_seconds": update_seconds,
        "execution_status": execution["status"],
        "rollout_status": status,
        "history_events": len(history),
        "seconds": round(time.monotonic() - began, 1),
        **counted,
        "total_with_retries": total,
        "target": TARGET,
        "met": total <= TARGET,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
