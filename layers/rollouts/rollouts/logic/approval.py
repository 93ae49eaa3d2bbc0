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
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from rollouts.aws import endpoints, store
from rollouts.errors import InvalidRolloutError, RolloutError
from rollouts.logic.start import start_rollout
from rollouts.models.policy import PLACEHOLDER_MODEL, PolicyTarget
from rollouts.models.spec import RolloutSpec
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


def spec_of_request(text: str) -> RolloutSpec:
    """The spec of a `POST /rollouts` body. A body whose candidates name Model Registry versions gets their models
    made first (`resolve_packages`); any other body is validated as JSON as it is, with pydantic's own errors."""
    if "model_package_arn" in text:
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict):
            return RolloutSpec.model_validate(resolve_packages(body))
    return RolloutSpec.model_validate_json(text)


def resolve_packages(body: Any) -> Any:
    """A start request whose candidates name a Model Registry version (`model_package_arn`) instead of a model: the
    rest of the spec checked first (a 400 before anything is made), then each version's model made from its package
    and named in `model_name`. Any other body is returned as it is."""
    if not isinstance(body, dict):
        return body
    strategy = body.get("strategy")
    arms = strategy.get("more_candidates") if isinstance(strategy, dict) else None
    paths = [("candidate", body.get("candidate"))]
    paths += [(f"strategy.more_candidates.{i}", arm) for i, arm in enumerate(arms if isinstance(arms, list) else [])]
    wanted = [
        (path, c) for path, c in paths if isinstance(c, dict) and "model_name" not in c and c.get("model_package_arn")
    ]
    if not wanted:
        return body
    for _, candidate in wanted:
        candidate["model_name"] = PLACEHOLDER_MODEL
    RolloutSpec.model_validate(body)  # every other field: ValidationError, a 400, and nothing made
    for path, candidate in wanted:
        candidate["model_name"] = _model_of(path, candidate)
    return body


def _model_of(path: str, candidate: dict[str, Any]) -> str:
    arn = str(candidate["model_package_arn"])
    package = endpoints.describe_model_package(arn)
    if package is None:
        raise InvalidRolloutError(field=f"{path}.model_package_arn", reason=f"no model package {arn} exists")
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        raise InvalidRolloutError(
            field=f"{path}.model_package_arn", reason=f"the version is {status or 'not approved'}: approve it first"
        )
    group = str(package.get("ModelPackageGroupName") or "")
    role = candidate.get("execution_role_arn")
    if not role:
        policy = store.get_policy(group) if group else None
        role = policy.execution_role_arn if policy is not None else None
    if not role:
        raise InvalidRolloutError(
            field=f"{path}.execution_role_arn",
            reason="give the role CreateModel passes to SageMaker for the version's model (or a release policy of "
            f"group '{group}')",
        )
    model = model_name_for(group or "model", package.get("ModelPackageVersion"), arn)
    try:
        endpoints.create_model_from_package(model, arn, str(role))
    except ValueError as error:
        raise InvalidRolloutError(field=f"{path}.model_package_arn", reason=str(error)) from error
    return model
