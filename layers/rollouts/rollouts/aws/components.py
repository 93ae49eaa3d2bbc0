"""SageMaker inference components: a model hosted on an endpoint's instances beside others, updated on its own."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from rollouts.aws.clients import client

# What an UpdateInferenceComponent Specification carries over from DescribeInferenceComponent's for a model-based
# component: the model changes, its resources and start-up stay. The summary's other members (a container's
# DeployedImage) have no place in a request.
CARRIED_OVER = ("ComputeResourceRequirements", "StartupParameters", "SchedulingConfig")


def _sm() -> Any:
    return client("sagemaker")


def describe(name: str) -> dict[str, Any] | None:
    """DescribeInferenceComponent, or None when there is no component of that name."""
    try:
        return dict(_sm().describe_inference_component(InferenceComponentName=name))
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if error.response.get("Error", {}).get("Code") == "ValidationException" and (
            "Could not find" in message or "does not exist" in message
        ):
            return None
        raise


def model_of(component: dict[str, Any]) -> str | None:
    """The model a described component runs (None for one that runs a container of its own)."""
    model = (component.get("Specification") or {}).get("ModelName")
    return str(model) if model else None


def copy_count(component: dict[str, Any]) -> int:
    """The copies the component is meant to run (what a rolling batch is a share of)."""
    runtime = component.get("RuntimeConfig") or {}
    return int(runtime.get("DesiredCopyCount") or runtime.get("CurrentCopyCount") or 0)


def specification(component: dict[str, Any], model_name: str) -> dict[str, Any]:
    """An UpdateInferenceComponent Specification: the described component's resources, running `model_name`."""
    described = component.get("Specification") or {}
    spec: dict[str, Any] = {"ModelName": model_name}
    spec.update({key: described[key] for key in CARRIED_OVER if described.get(key)})
    cache = described.get("DataCacheConfig")
    if cache and "EnableCaching" in cache:
        spec["DataCacheConfig"] = {"EnableCaching": bool(cache["EnableCaching"])}
    return spec


def update(name: str, spec: dict[str, Any], deployment_config: dict[str, Any] | None = None) -> None:
    """UpdateInferenceComponent to `spec`; with `deployment_config`, through SageMaker's rolling deployment."""
    kwargs: dict[str, Any] = {"InferenceComponentName": name, "Specification": spec}
    if deployment_config:
        kwargs["DeploymentConfig"] = deployment_config
    _sm().update_inference_component(**kwargs)
