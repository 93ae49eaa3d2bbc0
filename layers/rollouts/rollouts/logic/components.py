"""A rolling update of a model hosted as an inference component (the spec's `inference_component_name`).

The rolling strategy's tasks (`logic/bluegreen.py`, the shared lifecycle) ask here where a component differs from
an endpoint variant. UpdateInferenceComponent with a rolling DeploymentConfig moves the component's copies to the
candidate's model a batch at a time, bakes each watching the auto-rollback alarms (the rollout's abort switch among
them) and rolls back by itself. The endpoint stays InService all along and SageMaker sends no event for a component,
so the waits for it (Await Deployment, Await Restore) look at DescribeInferenceComponent when their timeout ends,
each minute. As for an endpoint, SageMaker's rollback is silent: the component is InService on its old model, and
only comparing `Specification.ModelName` tells.
"""

from __future__ import annotations

from typing import Any

from rollouts.aws import components
from rollouts.errors import EndpointUpdateFailedError, EndpointUpdatingError
from rollouts.models.rollout import Rollout

# InferenceComponentStatus values of a component that is changing (Failed and InService are settled).
BUSY = ("Creating", "Updating", "Deleting")


def find(rollout: Rollout) -> dict[str, Any] | None:
    """DescribeInferenceComponent of the rollout's component, or None when it is gone."""
    return components.describe(rollout.component_name or "")


def component_of(rollout: Rollout) -> dict[str, Any]:
    """DescribeInferenceComponent of the rollout's component; EndpointUpdateFailedError when it is gone."""
    component = find(rollout)
    if component is None:
        raise EndpointUpdateFailedError(f"inference component '{rollout.component_name}' no longer exists")
    return component


def status_of(component: dict[str, Any]) -> dict[str, Any]:
    """What a wait for the component answers, in the endpoint's terms: its status, and the model it runs where an
    endpoint's answer has its config."""
    return {"status": component.get("InferenceComponentStatus"), "config_name": components.model_of(component) or ""}


def settled(component: dict[str, Any]) -> bool:
    return component.get("InferenceComponentStatus") not in BUSY


def baseline_model(rollout: Rollout) -> str:
    return str((rollout.original_component or {}).get("ModelName") or "")


def deploy(rollout: Rollout, deployment_config: dict[str, Any]) -> None:
    """UpdateInferenceComponent to the candidate's model through SageMaker's rolling deployment, unless a retried
    task already started it (the component runs the candidate, or is changing)."""
    component = component_of(rollout)
    model = rollout.spec.candidate.model_name
    if components.model_of(component) == model or not settled(component):
        return
    spec = {**(rollout.original_component or {}), "ModelName": model}
    components.update(rollout.component_name or "", spec, deployment_config)


def restore(rollout: Rollout) -> str:
    """Restore Config for a component: UpdateInferenceComponent back to the Specification the rollout began from.
    EndpointUpdatingError while the component is changing (SageMaker refuses an update then; the task retries)."""
    component = component_of(rollout)
    if not settled(component):
        raise EndpointUpdatingError(
            f"inference component '{rollout.component_name}' is {component.get('InferenceComponentStatus')}"
        )
    original = rollout.original_component or {}
    if components.model_of(component) != original.get("ModelName"):
        components.update(rollout.component_name or "", original)
    return str(original.get("ModelName") or "")


def restore_needed(rollout: Rollout) -> bool:
    """Whether the component must be put back: it runs another model than the baseline's, or is changing."""
    component = find(rollout)
    if component is None or rollout.original_component is None:
        return False
    return components.model_of(component) != baseline_model(rollout) or not settled(component)


def serves(component: dict[str, Any], model: str) -> bool:
    """Whether DescribeInferenceComponent shows `model` serving: InService, all its copies on it."""
    return component.get("InferenceComponentStatus") == "InService" and components.model_of(component) == model


def serving(rollout: Rollout, component: dict[str, Any] | None) -> str:
    """What the component serves, for a person."""
    if not component:
        return f"inference component '{rollout.component_name}' does not exist"
    failure = component.get("FailureReason")
    return (
        f"inference component '{rollout.component_name}' is {component.get('InferenceComponentStatus')} running "
        f"model '{components.model_of(component)}'" + (f" (FailureReason: {failure})" if failure else "")
    )
