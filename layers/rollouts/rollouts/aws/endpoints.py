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


def create_model_from_package(name: str, package_arn: str, role_arn: str) -> bool:
    """A SageMaker model that serves a Model Registry version (the package as its container). True when this call
    created it; False when a model of this name already serves this package (an earlier try made it). A model of
    this name from another package is refused (ValueError): it is not the approved version."""
    existing = describe_model(name)
    if existing is None:
        try:
            _sm().create_model(
                ModelName=name,
                PrimaryContainer={"ModelPackageName": package_arn},
                ExecutionRoleArn=role_arn,
                Tags=[{"Key": "rollouts:model-package", "Value": package_arn[:256]}],
            )
            return True
        except ClientError as error:
            if "already exist" not in str(error):
                raise
            existing = describe_model(name) or {}
    containers = [existing.get("PrimaryContainer") or {}, *(existing.get("Containers") or [])]
    if not any(container.get("ModelPackageName") == package_arn for container in containers):
        raise ValueError(f"model '{name}' exists and does not serve {package_arn}")
    return False


def describe_model_package(arn: str) -> dict[str, Any] | None:
    """A Model Registry version, or None when there is no such package."""
    try:
        package: dict[str, Any] = _sm().describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        if _missing(error) or error.response.get("Error", {}).get("Code") == "ValidationException":
            return None
        raise
    return package
