"""The fault matrix: every AWS call a canary rollout makes, x {one throttle, throttling that outlasts the retries,
AccessDenied}, on the local cloud, each case's end state checked against DescribeEndpoint.

`make faults` runs it and writes bench/results/faults.json and docs/reliability.md. A case is safe when the
rollout ends where it says it is: refused before any change with the endpoint as it was; `Promoted` with the
candidate's model alone serving; `RolledBack` or `Failed` with the baseline's; or `RollbackFailed` with the lock
still held (it says it could not restore). A lie is a final status that DescribeEndpoint contradicts; a stuck case
has not ended after a simulated week.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

from bench.common import ROOT, quiet

RESULTS = ROOT / "bench" / "results" / "faults.json"
DOC = ROOT / "docs" / "reliability.md"
FAULTS = {
    "one throttle": ("ThrottlingException", 1),
    "throttling past the retries": ("ThrottlingException", 8),
    "access denied": ("AccessDeniedException", 1),
}
WEEK = 7 * 86400.0
BASELINE_MODEL, CANDIDATE_MODEL = "churn-xgb-v1", "churn-xgb-v2"


def _spec() -> dict[str, Any]:
    from sandbox.scenarios import spec

    body = spec()
    body["strategy"]["steps"] = [{"weight": 10, "bake": "5m"}, {"weight": 50, "bake": "5m"}]
    body["guardrails"]["monitoring_schedules"] = []
    return body


def _serving(cloud: Any) -> tuple[str | None, str]:
    """The model alone serving (None: none alone), and the endpoint's config."""
    sm = cloud.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName="churn-predictor")
    live = {v["VariantName"]: float(v.get("CurrentWeight", 0)) for v in endpoint["ProductionVariants"]}
    serving = [name for name, weight in live.items() if weight > 0]
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    alone = models.get(serving[0]) if len(serving) == 1 and endpoint["EndpointStatus"] == "InService" else None
    if endpoint.get("ShadowProductionVariants"):
        alone = None
    return alone, endpoint["EndpointConfigName"]


def _verdict(status: str | None, lock: str | None, rollout_id: str | None, model: str | None) -> str:
    if status is None:  # refused at the API: nothing may have changed
        return "safe" if model == BASELINE_MODEL and lock is None else "lie"
    if status == "Promoted":
        return "safe" if model == CANDIDATE_MODEL and lock is None else "lie"
    if status in ("RolledBack", "Failed"):
        return "safe" if model == BASELINE_MODEL and lock is None else "lie"
    if status == "RollbackFailed":
        return "safe" if lock == rollout_id else "lie"
    return "stuck"


def _item(cloud: Any, pk: str, sk: str) -> dict[str, Any]:
    """A table item read with the observer's own client: the control plane's injected faults never touch it."""
    table = cloud.environment["ROLLOUTS_TABLE_NAME"]
    response = cloud.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return dict(response.get("Item") or {})


def run_case(operation: str | None, fault: str | None) -> dict[str, Any]:
    from sandbox import faults
    from sandbox.cloud import LocalCloud
    from sandbox.scenarios import create_endpoint

    began = time.monotonic()
    with LocalCloud() as cloud:
        create_endpoint(cloud)
        faults.install()
        if operation and fault:
            code, times = FAULTS[fault]
            cloud.inject_aws_fault(operation, code, times=times)
        started = cloud.api("POST", "/rollouts", _spec())

        def holder() -> str | None:
            found = _item(cloud, "ENDPOINT#churn-predictor", "LOCK").get("rollout_id", {}).get("S")
            return str(found) if found else None

        # A start that failed after the rollout began (its answer lost) is followed all the same, through the lock.
        rollout_id = started.body.get("rollout_id") if started.status == 201 else holder()
        status = None
        if rollout_id:

            def ended() -> str | None:
                value = _item(cloud, f"ROLLOUT#{rollout_id}", "META").get("status", {}).get("S")
                return value if value in ("Promoted", "RolledBack", "Failed", "RollbackFailed") else None

            status = cloud.wait_until(ended, WEEK) or _item(cloud, f"ROLLOUT#{rollout_id}", "META")["status"]["S"]
        model, config = _serving(cloud)
        lock = holder()
        called = faults.operations()
        body = json.loads(_item(cloud, f"ROLLOUT#{rollout_id}", "META")["body"]["S"]) if rollout_id else {}
        reason = body.get("reason") or ("" if rollout_id else f"{started.status} {started.body.get('error')}")
    return {
        "operation": operation,
        "fault": fault,
        "api_status": started.status,
        "status": status,
        "serving": model,
        "config": config,
        "lock_held": lock is not None,
        "verdict": _verdict(status, lock, rollout_id, model),
        "reason": (reason or "")[:160],
        "seconds": round(time.monotonic() - began, 2),
        "operations": called,
    }


def run() -> dict[str, Any]:
    quiet()
    began = time.monotonic()
    healthy = run_case(None, None)
    if healthy["status"] != "Promoted":
        raise RuntimeError(f"the healthy canary ended {healthy['status']}")
    operations = healthy.pop("operations")
    cases = []
    for operation in operations:
        for fault in FAULTS:
            case = run_case(operation, fault)
            case.pop("operations")
            cases.append(case)
            print(f"  {operation} x {fault}: {case['status'] or case['api_status']} -> {case['verdict']}", flush=True)
    counts = Counter(case["verdict"] for case in cases)
    return {
        "command": "make faults",
        "strategy": "canary",
        "operations": operations,
        "cases": len(cases),
        "safe": counts["safe"],
        "lies": counts["lie"],
        "stuck": counts["stuck"],
        "seconds": round(time.monotonic() - began, 1),
        "matrix": cases,
    }


def render(data: dict[str, Any]) -> str:
    lines = [
        "# Reliability: the fault matrix",
        "",
        f"Generated by `{data['command']}` (`bench/faults.py`); do not edit by hand. Raw figures: "
        "`bench/results/faults.json`.",
        "",
        f"A healthy {data['strategy']} rollout (two steps, 10 % and 50 %, five-minute bakes) on the local cloud "
        f"calls {len(data['operations'])} AWS operations. Each is failed in turn, in a fresh local cloud, from its "
        "first call on: once with `ThrottlingException`, eight times in a row with it (more than a task's six "
        "retries), and once with `AccessDeniedException`. The end state is then read from DescribeEndpoint: safe "
        "when the rollout is where its status says (refused before any change and the endpoint as it was; "
        "`Promoted` with the candidate's model alone serving; `RolledBack` or `Failed` with the baseline's; "
        "`RollbackFailed` with the lock held), a lie when DescribeEndpoint contradicts the status, stuck when it "
        "has not ended after a simulated week.",
        "",
        f"**{data['cases']} cases: {data['safe']} safe, {data['lies']} lies, {data['stuck']} stuck**, in "
        f"{data['seconds']:.0f} s.",
        "",
        "| operation | fault | API | status | serving | verdict |",
        "| --- | --- | ---: | --- | --- | --- |",
    ]
    for case in data["matrix"]:
        lines.append(
            f"| `{case['operation']}` | {case['fault']} | {case['api_status']} | {case['status'] or 'refused'} | "
            f"{case['serving'] or 'no model alone'} | {case['verdict']} |"
        )
    lines += [
        "",
        "Not in the matrix yet: the other strategies (bandit, A/B test, shadow, blue/green), whose own calls "
        "(feedback reads, SageMaker's deployment guardrails) the canary does not make; and faults on the feedback "
        "and signal paths outside a rollout's execution.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    import os

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    data = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2, default=str) + "\n")
    DOC.write_text(render(data))
    print(f"{data['cases']} cases: {data['safe']} safe, {data['lies']} lies, {data['stuck']} stuck; {DOC}")
    return 0 if data["lies"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
