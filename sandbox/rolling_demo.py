"""The rolling scenario: SageMaker replaces the fleet a batch at a time; the candidate's errors roll it back natively.

`make demo SCENARIO=rolling`. The endpoint serves on 4 instances, and a second fleet would cost too much: the rollout
posts a rolling update, one instance a batch, baking each. The candidate errs on a fifth of its requests; with one
instance of four on it, the variant's 5XX rate passes the rollout's 2 % alarm during the first batch's bake, and
SageMaker rolls back by itself. Check Deployment finds the endpoint on the old config and reports the rollback,
which SageMaker does not announce.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import (
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    ROLLING,
    ROLLING_TITLE,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    spec,
    until_ended,
)

NAME = ROLLING
TITLE = ROLLING_TITLE
# Simulated seconds the scenario may take: SageMaker's deployment is bounded by its hour of maximum execution time.
LIMIT = 2 * 3600.0


def rolling_spec() -> dict[str, Any]:
    """The demo's spec with a rolling update of the 4-instance fleet, one instance a batch, 10-minute bakes."""
    body = spec()
    body.pop("guardrails")
    body["guardrails"] = {
        "alarm_rules": [
            {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02},
        ]
    }
    body["candidate"]["initial_instance_count"] = 4
    body["strategy"] = {
        "type": "rolling",
        "maximum_batch_size": {"type": "instance-count", "value": 1},
        "wait_interval": "10m",
        "maximum_execution_timeout": "1h",
        "watch_after_promotion": "10m",
    }
    return body


@dataclass
class Target:
    """What a rolling demo updates, and how it shows SageMaker's side: an endpoint variant's fleet (this module) or
    an inference component's copies (`sandbox/rolling_component_demo.py`)."""

    name: str
    title: str
    create: Callable[[LocalCloud], object]
    spec: Callable[[], dict[str, Any]]
    updating: str  # what the POST line says the rollout updates
    sagemaker_status: Callable[[LocalCloud], str]
    summarise: Callable[[dict[str, Any], LocalCloud, float, DataPlane], ScenarioResult]
    endpoint: str = ENDPOINT
    component: str | None = None


def run_target(target: Target, out: Out, time_scale: float | None) -> ScenarioResult:
    """A rolling update of `target` on a fresh local cloud, its candidate erring on a fifth of its requests."""
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    out(f"\n== {target.name}: {target.title}")
    behaviours = {
        BASELINE_MODEL: ModelBehaviour(error_rate=0.0002),
        CANDIDATE_MODEL: ModelBehaviour(error_rate=0.2),
    }
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        target.create(cloud)
        plane = DataPlane(
            cloud,
            target.endpoint,
            behaviours,
            component=target.component,
            listener=lambda kind, text: say(f"[{kind}] {text}"),
        )
        live.plane = plane
        plane.start()
        try:
            started = cloud.api("POST", "/rollouts", target.spec())
            if started.status != 201:
                raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
            rollout_id = started.body["rollout_id"]
            say(f"POST /rollouts → 201, rollout {rollout_id}: {target.updating}")
            view = _follow(cloud, rollout_id, say, target)
        finally:
            plane.stop()
        result = target.summarise(view, cloud, time.monotonic() - began, plane)
    result.timeline = timeline
    out("")
    out(result.summary)
    return result


def _follow(cloud: LocalCloud, rollout_id: str, say: Out, target: Target) -> dict[str, Any]:
    """Print each new decision and SageMaker's side until the rollout ends; the last view."""
    seen = 0
    last = ""

    def look() -> dict[str, Any] | None:
        nonlocal seen, last
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            say(f"{decision['kind']}: {decision['message']}")
        seen = len(view["decisions"])
        now = target.sagemaker_status(cloud)
        if now != last:
            say(f"[sagemaker] {now}")
            last = now
        return view if view["status"] in ("Promoted", "RolledBack") else None

    result: dict[str, Any] = until_ended(cloud, look, target.name, LIMIT)
    return result


def breach_reason(view: dict[str, Any]) -> str:
    """The RESULT line's reason of a rollback: the alarm that fired, else the reason's error."""
    breach: dict[str, Any] = next((d for d in view["decisions"] if d["kind"] == "Guardrail Breached"), {})
    alarm = str(breach.get("evidence", {}).get("alarm") or "")
    prefix = f"rollouts-{view['rollout_id']}-"
    return f"alarm:{alarm.removeprefix(prefix)}" if alarm else str(view.get("reason") or "unknown").split(":")[0]


def served(plane: DataPlane) -> str:
    return ", ".join(f"{variant} {count}" for variant, count in sorted(plane.sent.items()))


def _endpoint_status(cloud: LocalCloud) -> str:
    facts = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    pending = facts.get("PendingDeploymentSummary") or {}
    statuses = [s["StatusMessage"] for v in pending.get("ProductionVariants", []) for s in v["VariantStatus"]]
    return f"{facts['EndpointStatus']}: {'; '.join(statuses)}" if statuses else str(facts["EndpointStatus"])


def _summarise(view: dict[str, Any], cloud: LocalCloud, elapsed: float, plane: DataPlane) -> ScenarioResult:
    config = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    if view["status"] == "Promoted":
        summary = (
            f"Summary ({NAME}): SageMaker's rolling update landed and the watch after it passed; endpoint "
            f"'{ENDPOINT}' runs config '{config}'. Requests served: {served(plane)}. Took {elapsed:.1f} s."
        )
        return ScenarioResult(NAME, "promoted", "deployment-landed", summary, view, None, elapsed)
    reported: dict[str, Any] = next((d for d in view["decisions"] if d["kind"] == "Deployment Rolled Back"), {})
    summary = (
        f"Summary ({NAME}): {reported.get('message', view.get('reason'))}. SageMaker rolled its rolling update back "
        f"by itself; Check Deployment found the endpoint on config '{config}', not the new one, and reported the "
        f"rollback that SageMaker does not announce. Requests served: {served(plane)}. Took {elapsed:.1f} s."
    )
    return ScenarioResult(NAME, "rolled back", breach_reason(view), summary, view, None, elapsed)


FLEET = Target(
    name=NAME,
    title=TITLE,
    create=create_endpoint,
    spec=rolling_spec,
    updating="a rolling update through SageMaker's guardrails",
    sagemaker_status=_endpoint_status,
    summarise=_summarise,
)


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None) -> ScenarioResult:
    """Run the scenario on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    return run_target(FLEET, out, time_scale)
