"""The blue-green scenario: SageMaker deploys the candidate itself; a monitor result makes it roll back natively.

`make demo SCENARIO=blue-green`. The candidate's inputs drift, but it errs no more than the baseline: no alarm
fires, so SageMaker's own guardrails (alarms only) would let it through. The rollout posts a blue/green strategy
with SageMaker's canary routing (half of the green fleet first); while SageMaker bakes that canary, a scheduled
run of the rollout's data-quality monitor reports violations, the control plane sets its abort switch to ALARM,
SageMaker rolls the deployment back by itself, and Check Deployment reports the rollback, which SageMaker does not
announce.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import (
    BASELINE_MODEL,
    BLUE_GREEN,
    BLUE_GREEN_TITLE,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    spec,
    until_ended,
)

NAME = BLUE_GREEN
TITLE = BLUE_GREEN_TITLE
BASELINE_VARIANT = "v1"  # create_endpoint's variant
# Simulated seconds of the canary's bake before the monitor's scheduled run. The monitor reads the variant's
# capture since the rollout began, the baseline's from before the deployment too, so the drifted share needs time.
MONITOR_AFTER_SECONDS = 600.0
# Simulated seconds the scenario may take: SageMaker's deployment is bounded by its hour of maximum execution time.
LIMIT = 2 * 3600.0


def blue_green_spec(monitor: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo's canary spec with SageMaker's blue/green canary routing in place of the rollout's own steps; with
    `monitor`, that monitor in place of the Model Monitor schedule."""
    body = spec()
    if monitor is not None:
        body["guardrails"].pop("monitoring_schedules")
        body["guardrails"]["monitors"] = [monitor]
    body["strategy"] = {
        "type": "blue-green",
        "traffic_routing": "canary",
        "canary_size": {"type": "capacity-percent", "value": 50},
        "wait_interval": "20m",
        "termination_wait": "5m",
        "maximum_execution_timeout": "1h",
        "watch_after_promotion": "10m",
    }
    return body


def _canary_baking(cloud: LocalCloud) -> bool:
    pending = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT).get("PendingDeploymentSummary") or {}
    return any(
        status["Status"] == "Baking"
        for variant in pending.get("ProductionVariants", [])
        for status in variant.get("VariantStatus", [])
    )


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None) -> ScenarioResult:
    """Run the scenario on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say

    out(f"\n== {NAME}: {TITLE}")
    behaviours = {
        BASELINE_MODEL: ModelBehaviour(error_rate=0.0002),
        CANDIDATE_MODEL: ModelBehaviour(error_rate=0.0002, input_shift={"income": 2.5, "age": 1.5}),
    }
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        # Model Monitor needs the endpoint's data capture: this one captures from the start, so both fleets do.
        create_endpoint(cloud, capture_to=cloud.environment["DATA_CAPTURE_S3_URI"])
        plane = DataPlane(cloud, ENDPOINT, behaviours, listener=lambda kind, text: say(f"[{kind}] {text}"))
        live.plane = plane
        from sandbox import baselines  # loads numpy and the monitor: only for the scenarios that use them

        # Both fleets serve under the baseline's variant name: the monitor reads that variant's captured data.
        monitor = baselines.data_quality_monitor(cloud, variant=BASELINE_VARIANT)
        plane.start()
        try:
            started = cloud.api("POST", "/rollouts", blue_green_spec(monitor))
            if started.status != 201:
                raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
            rollout_id = started.body["rollout_id"]
            say(f"POST /rollouts → 201, rollout {rollout_id}: blue/green through SageMaker's guardrails")
            view, tripped = _follow(cloud, plane, rollout_id, say)
        finally:
            plane.stop()
        endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    result = _summarise(view, endpoint, tripped, time.monotonic() - began, plane)
    result.timeline = timeline
    out("")
    out(result.summary)
    return result


def _follow(cloud: LocalCloud, plane: DataPlane, rollout_id: str, say: Out) -> tuple[dict[str, Any], bool]:
    """Print each new decision and SageMaker's deployment steps until the rollout ends; run the monitor once the
    canary has baked a while. Returns the last view and whether the abort switch was tripped."""
    seen = 0
    baking_since: float | None = None
    monitored = False
    tripped = False
    last_status = ""

    def look() -> dict[str, Any] | None:
        nonlocal seen, baking_since, monitored, tripped, last_status
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            say(f"{decision['kind']}: {decision['message']}")
            tripped = tripped or decision["message"].startswith("Abort switch")
        seen = len(view["decisions"])
        facts = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
        status = facts["EndpointStatus"]
        if status != last_status:
            say(f"[sagemaker] endpoint {status} on config '{facts['EndpointConfigName']}'")
            last_status = status
        if baking_since is None and _canary_baking(cloud):
            baking_since = plane.sim_time
            say("[sagemaker] the green canary serves half of the traffic and bakes")
        if not monitored and baking_since is not None and plane.sim_time - baking_since >= MONITOR_AFTER_SECONDS:
            monitored = True
            plane.flush_capture()
            for answer in cloud.run_schedules("RunMonitorFunction"):
                say(f"monitor schedule: started {len(answer.get('started', []))} run(s)")
        return view if view["status"] in ("Promoted", "RolledBack") else None

    view = until_ended(cloud, look, NAME, LIMIT)
    return view, tripped


def _summarise(
    view: dict[str, Any], endpoint: dict[str, Any], tripped: bool, elapsed: float, plane: DataPlane
) -> ScenarioResult:
    served = ", ".join(f"{variant} {count}" for variant, count in sorted(plane.sent.items()))
    config = endpoint["EndpointConfigName"]
    models = ", ".join(f"{v['VariantName']} {v.get('ModelName', '')}".strip() for v in endpoint["ProductionVariants"])
    if view["status"] == "Promoted":
        summary = (
            f"Summary ({NAME}): SageMaker's deployment landed and the watch after it passed; endpoint '{ENDPOINT}' "
            f"runs config '{config}'. Requests served: {served}. Took {elapsed:.1f} s."
        )
        return ScenarioResult(NAME, "promoted", "deployment-landed", summary, view, None, elapsed)
    breach = next((d for d in view["decisions"] if d["kind"] == "Guardrail Breached"), None)
    evidence = (breach or {}).get("evidence", {})
    reported = next((d for d in view["decisions"] if d["kind"] == "Deployment Rolled Back"), None)
    if evidence.get("violated"):
        reason = f"{evidence.get('monitoring_type', 'monitoring')}-violations:{','.join(evidence['violated'])}"
    else:
        reason = str(view.get("reason") or "unknown").split(":")[0]
    how = (
        "The control plane set its abort switch to ALARM, and SageMaker rolled its own deployment back"
        if tripped
        else "SageMaker rolled its deployment back"
    )
    summary = (
        f"Summary ({NAME}): {(breach or {}).get('message', view.get('reason'))}. SageMaker's guardrails watch "
        f"alarms only, and no alarm fired. {how}; Check Deployment found the endpoint on config '{config}' "
        f"({models}), not the green one"
        + (", and reported the rollback that SageMaker does not announce" if reported else "")
        + f". Requests served: {served}. Took {elapsed:.1f} s."
    )
    return ScenarioResult(NAME, "rolled back", reason, summary, view, None, elapsed)
