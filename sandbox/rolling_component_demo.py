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

from pathlib import Path
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.components import create_component_endpoint
from sandbox.dataplane import DataPlane
from sandbox.rolling_demo import Target, breach_reason, run_target, served
from sandbox.scenarios import (
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ROLLING_COMPONENT,
    ROLLING_COMPONENT_TITLE,
    Out,
    ScenarioResult,
)

NAME = ROLLING_COMPONENT
TITLE = ROLLING_COMPONENT_TITLE
ENDPOINT = "churn-shared"
COMPONENT = "churn-ic"


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


def _status(cloud: LocalCloud) -> str:
    facts = cloud.client("sagemaker").describe_inference_component(InferenceComponentName=COMPONENT)
    return f"inference component {COMPONENT}: {facts['InferenceComponentStatus']} on model " + str(
        facts["Specification"]["ModelName"]
    )


def _summarise(view: dict[str, Any], cloud: LocalCloud, elapsed: float, plane: DataPlane) -> ScenarioResult:
    component = cloud.client("sagemaker").describe_inference_component(InferenceComponentName=COMPONENT)
    model = component["Specification"]["ModelName"]
    if view["status"] == "Promoted":
        summary = (
            f"Summary ({NAME}): SageMaker's rolling update of inference component '{COMPONENT}' landed and the watch "
            f"after it passed; it runs model '{model}'. Requests served: {served(plane)}. Took {elapsed:.1f} s."
        )
        return ScenarioResult(NAME, "promoted", "deployment-landed", summary, view, None, elapsed)
    reported: dict[str, Any] = next((d for d in view["decisions"] if d["kind"] == "Deployment Rolled Back"), {})
    summary = (
        f"Summary ({NAME}): {reported.get('message', view.get('reason'))}. SageMaker moved the component's copies "
        f"back by itself; Check Deployment found inference component '{COMPONENT}' on model '{model}', not the "
        f"candidate, and reported the rollback that SageMaker does not announce. Requests served: {served(plane)}. "
        f"Took {elapsed:.1f} s."
    )
    return ScenarioResult(NAME, "rolled back", breach_reason(view), summary, view, None, elapsed)


COPIES = Target(
    name=NAME,
    title=TITLE,
    create=lambda cloud: create_component_endpoint(
        cloud, ENDPOINT, COMPONENT, BASELINE_MODEL, copy_count=4, other_models=(CANDIDATE_MODEL,)
    ),
    spec=component_spec,
    updating=f"a rolling update of inference component '{COMPONENT}'",
    sagemaker_status=_status,
    summarise=_summarise,
    endpoint=ENDPOINT,
    component=COMPONENT,
)


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None) -> ScenarioResult:
    """Run the scenario on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    return run_target(COPIES, out, time_scale)
