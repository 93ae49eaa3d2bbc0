"""SageMaker endpoints: configs, updates and variant weights."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from rollouts.aws.clients import client


def _sm() -> Any:
    return client("sagemaker")


def _missing(error: ClientError) -> bool:
    message = error.response.get("Error", {}).get("Message", "")
    return error.response.get("Error", {}).get("Code") == "ValidationException" and (
        "Could not find" in message or "does not exist" in message
    )


def describe_endpoint(name: str) -> dict[str, Any] | None:
    try:
        return dict(_sm().describe_endpoint(EndpointName=name))
    except ClientError as error:
        if _missing(error):
            return None
        raise


def describe_endpoint_config(name: str) -> dict[str, Any] | None:
    try:
        return dict(_sm().describe_endpoint_config(EndpointConfigName=name))
    except ClientError as error:
        if _missing(error):
            return None
        raise


def describe_model(name: str) -> dict[str, Any] | None:
    try:
        model: dict[str, Any] = _sm().describe_model(ModelName=name)
    except ClientError as error:
        if _missing(error):
            return None
        raise
    return model


def model_exists(name: str) -> bool:
    return describe_model(name) is not None


def create_endpoint_config(
    name: str,
    variants: list[dict[str, Any]],
    data_capture: dict[str, Any] | None,
    tags: dict[str, str],
    shadow_variants: list[dict[str, Any]] | None = None,
) -> None:
    """Create the config unless it exists already (a retried task must not fail on its own earlier success)."""
    if describe_endpoint_config(name) is not None:
        return
    kwargs: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": variants,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    if data_capture:
        kwargs["DataCaptureConfig"] = data_capture
    if shadow_variants:
        kwargs["ShadowProductionVariants"] = shadow_variants
    _sm().create_endpoint_config(**kwargs)


def update_endpoint(endpoint_name: str, config_name: str, deployment_config: dict[str, Any] | None = None) -> None:
    """Move the endpoint to a config; with `deployment_config`, through SageMaker's deployment guardrails."""
    kwargs: dict[str, Any] = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
    if deployment_config:
        kwargs["DeploymentConfig"] = deployment_config
    _sm().update_endpoint(**kwargs)


def set_weights(endpoint_name: str, percent_by_variant: dict[str, float]) -> None:
    _sm().update_endpoint_weights_and_capacities(
        EndpointName=endpoint_name,
        DesiredWeightsAndCapacities=[
            {"VariantName": variant, "DesiredWeight": round(percent / 100.0, 6)}
            for variant, percent in percent_by_variant.items()
        ],
    )


def live_weights(endpoint: dict[str, Any]) -> dict[str, float]:
    """Percent of traffic per variant, from a DescribeEndpoint response."""
    variants = endpoint.get("ProductionVariants", [])
    raw = {v["VariantName"]: float(v.get("CurrentWeight", v.get("DesiredWeight", 0.0)) or 0.0) for v in variants}
    total = sum(raw.values())
    return {name: round(100.0 * weight / total, 6) if total else 0.0 for name, weight in raw.items()}
