"""The shadow scenario: a challenger answers a copy of half the requests, is judged against production, replaces it.

`make demo SCENARIO=shadow`. The endpoint serves the baseline; the candidate is posted as a shadow rollout. SageMaker
(the local cloud) copies half of production's requests to the challenger's shadow variant, whose answers reach
nobody; both variants publish their metrics and capture their predictions with each request's inference id. After
the shadowing, the real Judge Shadow task compares the challenger with production (5XX rate, p99 latency, and the
share of requests on which both predict the same label) and, as it passes, SageMaker's blue/green deployment puts
its model in production's variant. At the demo's time scale a simulated minute lasts one second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import (
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    SHADOW,
    SHADOW_TITLE,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    follow_decisions,
)

# Simulated seconds the rollout may take: about 40 minutes (15 of shadowing, the deployment, 5 of watching).
LIMIT = 2 * 3600.0
# The challenger is a little slower and moves scores by 0.02: about 1.5 % of the labels change.
BEHAVIOURS = {
    BASELINE_MODEL: ModelBehaviour(error_rate=0.0005, latency_ms=40.0),
    CANDIDATE_MODEL: ModelBehaviour(error_rate=0.0005, latency_ms=44.0, score_shift=0.02),
}


def shadow_spec() -> dict[str, Any]:
    return {
        "endpoint_name": ENDPOINT,
        "candidate": {"model_name": CANDIDATE_MODEL, "instance_type": "ml.m5.large", "initial_instance_count": 1},
        "strategy": {
            "type": "shadow",
            "sampling_percentage": 50,
            "duration": "15m",
            "max_latency_increase": 0.2,
            "agreement": {"measure": "label", "label_threshold": 0.5, "min_agreement": 0.95},
            "promotion": {
                "type": "blue-green",
                "traffic_routing": "all-at-once",
                "wait_interval": "2m",
                "termination_wait": "1m",
                "watch_after_promotion": "5m",
            },
        },
        "guardrails": {
            "alarm_rules": [
                {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02}
            ]
        },
    }


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: object = None) -> ScenarioResult:
    """Run the shadow rollout on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    out(f"\n== {SHADOW}: {SHADOW_TITLE}")
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_endpoint(cloud)
        plane = DataPlane(
            cloud, ENDPOINT, BEHAVIOURS, requests_per_second=10, listener=lambda kind, text: say(f"[{kind}] {text}")
        )
        live.plane = plane
        plane.start()
        try:
            started = cloud.api("POST", "/rollouts", shadow_spec())
            if started.status != 201:
                raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
            rollout_id = started.body["rollout_id"]
            say(f"POST /rollouts → 201, rollout {rollout_id}: the challenger shadows half of production's requests")
            view = follow_decisions(cloud, rollout_id, say, SHADOW, LIMIT, _endpoint_watcher(cloud, say))
        finally:
            plane.stop()
        endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
        config = cloud.client("sagemaker").describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    result = _summarise(view, endpoint, config, plane, time.monotonic() - began)
    result.timeline = timeline
    out("")
    out(result.summary)
    return result


def _endpoint_watcher(cloud: LocalCloud, say: Out) -> Callable[[], None]:
    """Print the endpoint's status and config each time they change."""
    last = [""]

    def look() -> None:
        facts = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
        status = f"{facts['EndpointStatus']} on config '{facts['EndpointConfigName']}'"
        if status != last[0]:
            say(f"[sagemaker] endpoint {status}")
            last[0] = status

    return look


def _summarise(
    view: dict[str, Any], endpoint: dict[str, Any], config: dict[str, Any], plane: DataPlane, elapsed: float
) -> ScenarioResult:
    verdict = next((d for d in view["decisions"] if d["message"].startswith("Challenger")), None)
    models = ", ".join(f"{v['VariantName']} runs {v['ModelName']}" for v in config["ProductionVariants"])
    served = ", ".join(f"{variant} {count:,}" for variant, count in sorted(plane.sent.items()))
    copies = len(plane.samples.get(CANDIDATE_MODEL, []))
    if view["status"] == "Promoted":
        outcome, reason = "promoted", "challenger-passed"
        story = "the challenger passed and SageMaker's blue/green deployment made it production"
    else:
        cause = str(view.get("reason") or "unknown")
        outcome = "rolled back"
        reason = "challenger-rejected" if cause.startswith("ChallengerRejected") else cause.split(":")[0]
        story = "the challenger was removed and production goes on alone"
    summary = (
        f"Summary ({SHADOW}): {story}. {(verdict or {}).get('message', '')}. Endpoint '{ENDPOINT}' runs config "
        f"'{endpoint['EndpointConfigName']}' ({models}). Requests answered: {served}; copies the challenger "
        f"answered in the shadow: {copies:,}. Took {elapsed:.1f} s."
    )
    return ScenarioResult(SHADOW, outcome, reason, summary, view, None, elapsed)
