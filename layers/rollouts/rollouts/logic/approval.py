"""A model version approved in the Model Registry becomes rollouts, as its group's release policy says.

The rule ModelPackageApproved (template.yaml) hands SageMaker's "SageMaker Model Package State Change" events of
approved versions to OnModelApprovedFunction, which calls `on_model_package_event`. For each target of the group's
policy: the version's model is created from the package (once, named after the group and version), the target's
template is filled in with it, and the rollout starts through the API's own path (`start_rollout`): the same
validation, the same endpoint lock, the same 409 when the endpoint is busy.

Ignored, and logged: a status other than Approved, a group without a policy or with a disabled one, and a version
already released to the endpoint (a repeat of the event, or a re-approval later: the release is claimed for good).
A target that cannot start (the endpoint busy, a spec the endpoint refuses) is logged as an error and its claim
given back, so that approving the version again tries again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from rollouts.aws import endpoints, store
from rollouts.errors import RolloutError
from rollouts.logic.start import start_rollout
from rollouts.models.policy import PolicyTarget
from rollouts.observability import logger

_NOT_A_NAME = re.compile(r"[^a-zA-Z0-9-]+")


@dataclass(frozen=True)
class Release:
    """What became of one target of the policy."""

    endpoint_name: str
    outcome: str  # started, already-released, refused
    rollout_id: str | None = None
    reason: str | None = None


def model_name_for(group: str, version: int | str | None, package_arn: str) -> str:
    """The SageMaker model of a version: '<group>-v<version>', within SageMaker's 63 characters (a version-less
    package is named by a digest of its ARN)."""
    suffix = (
        f"-v{version}" if version not in (None, "") else "-" + hashlib.sha256(package_arn.encode()).hexdigest()[:10]
    )
    suffix = _NOT_A_NAME.sub("-", suffix)
    base = _NOT_A_NAME.sub("-", group).strip("-")[: 63 - len(suffix)].rstrip("-")
    return f"{base}{suffix}"


def on_model_package_event(detail: dict[str, Any]) -> dict[str, Any]:
    """Act on one "SageMaker Model Package State Change" event's detail: {"ignored": why} or {"releases": [...]}."""
    status = detail.get("ModelApprovalStatus")
    group = detail.get("ModelPackageGroupName")
    package_arn = detail.get("ModelPackageArn")
    if status != "Approved":
        return _ignored(f"approval status {status!r}: only an approved version rolls out", detail)
    if not isinstance(group, str) or not isinstance(package_arn, str) or not group or not package_arn:
        return _ignored("the event names no model package group or no package ARN", detail)
    policy = store.get_policy(group)
    if policy is None:
        return _ignored(f"model package group {group!r} has no release policy", detail)
    if not policy.enabled:
        return _ignored(f"the release policy of {group!r} is disabled", detail)
    if detail.get("ModelPackageStatus") not in (None, "Completed"):
        return _ignored(f"the package is {detail.get('ModelPackageStatus')}, not Completed", detail)
    model = model_name_for(group, detail.get("ModelPackageVersion"), package_arn)
    releases = [_release(target, model, package_arn, policy.execution_role_arn) for target in policy.targets]
    logger.info(
        "approved model version released",
        extra={"model_package_arn": package_arn, "model": model, "releases": [asdict(r) for r in releases]},
    )
    return {"model_name": model, "releases": [asdict(release) for release in releases]}


def _release(target: PolicyTarget, model: str, package_arn: str, role_arn: str) -> Release:
    earlier = store.claim_release(package_arn, target.endpoint_name)
    if earlier is not None:
        return Release(target.endpoint_name, "already-released", earlier["rollout_id"] or None, "released before")
    try:
        spec = target.spec(model, package_arn)
        key = "release:" + hashlib.sha256(f"{package_arn}|{target.endpoint_name}".encode()).hexdigest()[:40]
        endpoints.create_model_from_package(model, package_arn, role_arn)
        started = start_rollout(spec, idempotency_key=key)
    except (RolloutError, ValidationError, ValueError) as error:
        store.unclaim_release(package_arn, target.endpoint_name)
        reason = f"{type(error).__name__}: {error}"
        logger.error(
            "an approved version could not roll out",
            extra={"model_package_arn": package_arn, "endpoint_name": target.endpoint_name, "reason": reason},
        )
        return Release(target.endpoint_name, "refused", None, reason)
    except Exception:
        store.unclaim_release(package_arn, target.endpoint_name)  # EventBridge retries the event
        raise
    store.released(package_arn, target.endpoint_name, started.rollout_id)
    return Release(target.endpoint_name, "started", started.rollout_id)


def _ignored(reason: str, detail: dict[str, Any]) -> dict[str, Any]:
    logger.info(
        "model package event ignored",
        extra={
            "reason": reason,
            "model_package_arn": detail.get("ModelPackageArn"),
            "status": detail.get("ModelApprovalStatus"),
        },
    )
    return {"ignored": reason}
