"""The rolling-component scenario: a model hosted as an inference component is updated a copy at a time; the
candidate's errors on the component's own metrics roll it back natively.

`make demo SCENARIO=rolling-component`. Endpoint `churn-shared` hosts the model as inference component `churn-ic`
with 4 copies. The rollout posts a rolling update of the component (UpdateInferenceComponent), one copy a batch,
baking each. The candidate errs on a fifth of its requests; with one copy of four on it, the component's 5XX rate
(AWS/SageMaker, dimension InferenceComponentName) passes the rollout's 2 % alarm during the first batch's bake, and
SageMaker moves the copies back by itself. Check Deployment finds the component on the old model and reports the
rollback, which SageMaker does not announce.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.components import create_component_endpoint
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import (
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ROLLING_COMPONENT,
    ROLLING_COMPONENT_TITLE,
    Out,
    ScenarioResult,
    Timeline,
    until_ended,
)

NAME = ROLLING_COMPONENT
TITLE = ROLLING_COMPONENT_TITLE
ENDPOINT = "churn-shared"
COMPONENT = "churn-ic"
# Simulated seconds the scenario may take: SageMaker's deployment is bounded by its hour of maximum execution time.
LIMIT = 2 * 3600.0


def component_spec() -> dict[str, Any]:
    """A rolling update of the component's 4 copies, one copy a batch, 10-minute bakes, a 2 % 5XX rule."""
    return {
        "endpoint_name": ENDPOINT,
        "inference_component_name": COMPONENT,
        "candidate": {"model_name": CANDIDATE_MODEL},
        "strategy": {
            "type": "rolling",
            "maximum_batch_size": {"type": "copy-count", "value": 1},
            "wait_interval": "10m",
            "maximum_execution_timeout": "1h",
            "watch_after_promotion": "10m",
        },
        "guardrails": {
            "alarm_rules": [
                {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02}
            ]
        },
    }


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None) -> ScenarioResult:
    """Run the scenario on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    out(f"\n== {NAME}: {TITLE}")
    behaviours = {
        BASELINE_MODEL: ModelBehaviour(error_rate=0.0002),
        CANDIDATE_MODEL: ModelBehaviour(error_rate=0.2),
    }
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_component_endpoint(
            cloud, ENDPOINT, COMPONENT, BASELINE_MODEL, copy_count=4, other_models=(CANDIDATE_MODEL,)
        )
        plane = DataPlane(
            cloud, ENDPOINT, behaviours, component=COMPONENT, listener=lambda kind, text: say(f"[{kind}] {text}")
        )
        live.plane = plane
        plane.start()
        try:
            started = cloud.api("POST", "/rollouts", component_spec())
            if started.status != 201:
                raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
            rollout_id = started.body["rollout_id"]
            say(f"POST /rollouts → 201, rollout {rollout_id}: a rolling update of inference component '{COMPONENT}'")
            view = _follow(cloud, rollout_id, say)
        finally:
            plane.stop()
        component = cloud.client("sagemaker").describe_inference_component(InferenceComponentName=COMPONENT)
    result = _summarise(view, component, time.monotonic() - began, plane)
    result.timeline = timeline
    out("")
    out(result.summary)
    return result


def _follow(cloud: LocalCloud, rollout_id: str, say: Out) -> dict[str, Any]:
    """Print each new decision and the component's status until the rollout ends; the last view."""
    seen = 0
    last = ""

    def look() -> dict[str, Any] | None:
        nonlocal seen, last
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            say(f"{decision['kind']}: {decision['message']}")
        seen = len(view["decisions"])
        facts = cloud.client("sagemaker").describe_inference_component(InferenceComponentName=COMPONENT)
        now = f"{facts['InferenceComponentStatus']} on model {facts['Specification']['ModelName']}"
        if now != last:
            say(f"[sagemaker] inference component {COMPONENT}: {now}")
            last = now
        return view if view["status"] in ("Promoted", "RolledBack") else None

    result: dict[str, Any] = until_ended(cloud, look, NAME, LIMIT)
    return result


def _summarise(view: dict[str, Any], component: dict[str, Any], elapsed: float, plane: DataPlane) -> ScenarioResult:
    served = ", ".join(f"{variant} {count}" for variant, count in sorted(plane.sent.items()))
    model = component["Specification"]["ModelName"]
    if view["status"] == "Promoted":
        summary = (
            f"Summary ({NAME}): SageMaker's rolling update of inference component '{COMPONENT}' landed and the watch "
            f"after it passed; it runs model '{model}'. Requests served: {served}. Took {elapsed:.1f} s."
        )
        return ScenarioResult(NAME, "promoted", "deployment-landed", summary, view, None, elapsed)
    reported: dict[str, Any] = next((d for d in view["decisions"] if d["kind"] == "Deployment Rolled Back"), {})
    breach: dict[str, Any] = next((d for d in view["decisions"] if d["kind"] == "Guardrail Breached"), {})
    alarm = str(breach.get("evidence", {}).get("alarm") or "")
    prefix = f"rollouts-{view['rollout_id']}-"
    reason = f"alarm:{alarm.removeprefix(prefix)}" if alarm else str(view.get("reason") or "unknown").split(":")[0]
    summary = (
        f"Summary ({NAME}): {reported.get('message', view.get('reason'))}. SageMaker moved the component's copies "
        f"back by itself; Check Deployment found inference component '{COMPONENT}' on model '{model}', not the "
        f"candidate, and reported the rollback that SageMaker does not announce. Requests served: {served}. Took "
        f"{elapsed:.1f} s."
    )
    return ScenarioResult(NAME, "rolled back", reason, summary, view, None, elapsed)
