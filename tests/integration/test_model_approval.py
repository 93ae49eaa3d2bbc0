"""A version approved in the Model Registry rolls out as its group's release policy says: the rule's events, the
model made from the package, the rollout started through the API's path, and every event that starts nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from functions.on_model_approved import app as on_model_approved
from rollouts.aws import store
from rollouts.logic.approval import model_name_for
from rollouts.models.policy import ReleasePolicy
from sandbox.cloud import LocalCloud
from sandbox.model_approved_demo import register_version
from sandbox.moto_ext import core
from sandbox.scenarios import spec
from tests.waiting import until

CONTEXT = SimpleNamespace(
    function_name="on-model-approved",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:::function:on-model-approved",
    aws_request_id="req-1",
)
GROUP = "churn-models"
ROLE = f"arn:aws:iam::{core.ACCOUNT}:role/sagemaker-execution"


def package_arn(version: int, group: str = GROUP) -> str:
    return f"arn:aws:sagemaker:{core.REGION}:{core.ACCOUNT}:model-package/{group}/{version}"


def package_event(version: int, status: str = "Approved", group: str = GROUP) -> dict[str, Any]:
    """SageMaker's "SageMaker Model Package State Change" event, ISO timestamps as this event type has them."""
    return {
        "version": "0",
        "id": "2b9f6a5e-7f43-4c2c-9d6f-0c2c35d4b3e1",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": core.ACCOUNT,
        "time": "2026-12-04T10:00:00Z",
        "region": core.REGION,
        "resources": [package_arn(version, group)],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": package_arn(version, group),
            "CreationTime": "2026-12-04T09:40:12.000Z",
            "LastModifiedTime": "2026-12-04T10:00:00.000Z",
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": f"{core.ACCOUNT}.dkr.ecr.{core.REGION}.amazonaws.com/churn:latest",
                        "ModelDataUrl": f"s3://models/churn/{version}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelPackageStatus": "Completed",
            "ModelApprovalStatus": status,
        },
    }


def template() -> dict[str, Any]:
    body = spec()
    body.pop("endpoint_name")
    body["candidate"].pop("model_name")
    body["guardrails"].pop("monitoring_schedules", None)
    return body


@pytest.fixture
def policy(cloud: LocalCloud, endpoint: str) -> ReleasePolicy:
    release = ReleasePolicy(
        model_package_group=GROUP,
        execution_role_arn=ROLE,
        targets=[{"endpoint_name": endpoint, "template": template()}],
    )
    store.put_policy(release)
    return release


def handle(event: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = on_model_approved.lambda_handler(event, CONTEXT)  # type: ignore[arg-type]
    return answer


def test_an_approved_version_rolls_out_its_own_model_to_the_policys_endpoint(cloud, policy, endpoint):
    answer = handle(package_event(3))

    [release] = answer["releases"]
    assert release["outcome"] == "started" and answer["model_name"] == "churn-models-v3"
    model = cloud.client("sagemaker").describe_model(ModelName="churn-models-v3")
    assert model["PrimaryContainer"]["ModelPackageName"] == package_arn(3)
    assert model["ExecutionRoleArn"] == ROLE
    rollout = store.get_rollout(release["rollout_id"])
    assert (rollout.spec.endpoint_name, rollout.spec.candidate.model_name) == (endpoint, "churn-models-v3")
    assert rollout.spec.candidate.model_package_arn == package_arn(3)
    assert rollout.spec.strategy.type == "canary"  # the template's strategy and guardrails
    assert [rule.name for rule in rollout.spec.guardrails.alarm_rules] == ["5xx-rate", "latency-p99"]


def test_a_repeated_event_or_a_re_approval_starts_no_second_rollout(cloud, policy, endpoint):
    first = handle(package_event(3))["releases"][0]
    cloud.wait_for_execution(store.get_rollout(first["rollout_id"]).execution_arn)  # it ends; the endpoint is free

    again = handle(package_event(3))["releases"][0]

    assert again == {**again, "outcome": "already-released", "rollout_id": first["rollout_id"]}
    assert [r.rollout_id for r in store.list_rollouts(endpoint, [], 10, None)[0]] == [first["rollout_id"]]


@pytest.mark.parametrize("status", ["Rejected", "PendingManualApproval"])
def test_a_version_not_approved_starts_nothing(cloud, policy, endpoint, status):
    assert handle(package_event(3, status=status)) == {
        "ignored": f"approval status {status!r}: only an approved version rolls out"
    }
    assert store.list_rollouts(endpoint, [], 10, None)[0] == []


def test_a_group_without_a_policy_or_an_event_without_a_package_starts_nothing(cloud, policy, endpoint):
    assert handle(package_event(1, group="fraud-models")) == {
        "ignored": "model package group 'fraud-models' has no release policy"
    }
    event = package_event(3)
    del event["detail"]["ModelPackageArn"]
    assert handle(event) == {"ignored": "the event names no model package group or no package ARN"}
    assert store.list_rollouts(endpoint, [], 10, None)[0] == []


def test_a_busy_endpoint_refuses_the_release_and_a_later_approval_tries_again(cloud, policy, endpoint):
    busy = cloud.api("POST", "/rollouts", spec())
    assert busy.status == 201

    refused = handle(package_event(4))["releases"][0]

    assert refused["outcome"] == "refused" and "EndpointLockedError" in refused["reason"]
    cloud.wait_for_execution(store.get_rollout(busy.body["rollout_id"]).execution_arn)
    retried = handle(package_event(4))["releases"][0]
    assert retried["outcome"] == "started"


def test_the_rule_hands_sagemakers_event_to_the_function(cloud, policy, endpoint):
    event = package_event(5)
    cloud.client("events").put_events(
        Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}]
    )

    until(lambda: store.list_rollouts(endpoint, [], 10, None)[0], "the approval started no rollout", timeout=60)
    [rollout] = store.list_rollouts(endpoint, [], 10, None)[0]
    assert rollout.spec.candidate.model_name == "churn-models-v5"


def test_a_policy_whose_template_is_no_valid_spec_is_refused_naming_the_field():
    from pydantic import ValidationError

    broken = template()
    broken["strategy"]["steps"][0]["weight"] = 0
    with pytest.raises(ValidationError, match=r"targets\.0\.template\.strategy\.canary\.steps\.0\.weight"):
        ReleasePolicy(
            model_package_group=GROUP, execution_role_arn=ROLE, targets=[{"endpoint_name": "e", "template": broken}]
        )
    with pytest.raises(ValidationError, match="leave model_name out of the template"):
        ReleasePolicy(
            model_package_group=GROUP,
            execution_role_arn=ROLE,
            targets=[{"endpoint_name": "e", "template": {**template(), "candidate": {"model_name": "x"}}}],
        )


@pytest.mark.parametrize(
    ("group", "version", "name"),
    [("churn-models", 12, "churn-models-v12"), ("a" * 70, 7, "a" * 60 + "-v7"), ("x_y", 1, "x-y-v1")],
)
def test_a_versions_model_name_is_a_sagemaker_name(group, version, name):
    assert model_name_for(group, version, package_arn(version, group)) == name


def test_a_policy_is_written_read_listed_and_removed_through_the_api(cloud, endpoint):
    body = {"execution_role_arn": ROLE, "targets": [{"endpoint_name": endpoint, "template": template()}]}

    created = cloud.api("PUT", f"/policies/{GROUP}", body)
    replaced = cloud.api("PUT", f"/policies/{GROUP}", {**body, "enabled": False})
    read = cloud.api("GET", f"/policies/{GROUP}")
    listed = cloud.api("GET", "/policies")
    removed = cloud.api("DELETE", f"/policies/{GROUP}")
    gone = cloud.api("GET", f"/policies/{GROUP}")

    assert (created.status, replaced.status, read.status, removed.status, gone.status) == (201, 200, 200, 204, 404)
    assert read.body["model_package_group"] == GROUP and read.body["enabled"] is False
    assert [policy["model_package_group"] for policy in listed.body["policies"]] == [GROUP]
    assert gone.body["error"] == "PolicyNotFound"


def test_a_policy_the_api_refuses_names_the_field(cloud, endpoint):
    broken = template()
    broken["strategy"]["steps"][0]["weight"] = 0
    body = {"execution_role_arn": ROLE, "targets": [{"endpoint_name": endpoint, "template": broken}]}

    refused = cloud.api("PUT", f"/policies/{GROUP}", body)
    other_group = cloud.api("PUT", f"/policies/{GROUP}", {**body, "model_package_group": "fraud-models"})

    assert refused.status == 400
    assert refused.body["details"][0]["field"] == "targets"
    assert "targets.0.template.strategy.canary.steps.0.weight" in refused.body["details"][0]["reason"]
    assert other_group.status == 400 and other_group.body["details"][0]["field"] == "model_package_group"
    assert cloud.api("GET", f"/policies/{GROUP}").status == 404  # nothing was written


register = register_version


def test_approving_a_registered_version_in_the_registry_starts_its_rollout(cloud, policy, endpoint):
    arn = register(cloud)
    cloud.client("sagemaker").update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    until(lambda: store.list_rollouts(endpoint, [], 10, None)[0], "the approval started no rollout", timeout=60)
    [rollout] = store.list_rollouts(endpoint, [], 10, None)[0]
    assert (rollout.spec.candidate.model_name, rollout.spec.candidate.model_package_arn) == ("churn-models-v1", arn)


def api_spec(candidate: dict[str, Any]) -> dict[str, Any]:
    body = spec()
    body["guardrails"].pop("monitoring_schedules", None)
    return {**body, "candidate": candidate}


def test_a_spec_may_name_an_approved_version_instead_of_a_model(cloud, endpoint):
    arn = register(cloud)
    cloud.client("sagemaker").update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")  # no policy

    started = cloud.api(
        "POST",
        "/rollouts",
        api_spec({"model_package_arn": arn, "execution_role_arn": ROLE, "instance_type": "ml.m5.large"}),
    )

    assert started.status == 201, started.body
    rollout = store.get_rollout(started.body["rollout_id"])
    assert (rollout.spec.candidate.model_name, rollout.spec.candidate.model_package_arn) == ("churn-models-v1", arn)


def test_a_version_the_api_cannot_roll_out_is_a_400_naming_the_field(cloud, endpoint):
    waiting = register(cloud)
    missing = package_arn(9)

    unapproved = cloud.api(
        "POST",
        "/rollouts",
        api_spec({"model_package_arn": waiting, "execution_role_arn": ROLE, "instance_type": "ml.m5.large"}),
    )
    unknown = cloud.api(
        "POST",
        "/rollouts",
        api_spec({"model_package_arn": missing, "execution_role_arn": ROLE, "instance_type": "ml.m5.large"}),
    )
    cloud.client("sagemaker").update_model_package(ModelPackageArn=waiting, ModelApprovalStatus="Approved")
    no_role = cloud.api("POST", "/rollouts", api_spec({"model_package_arn": waiting, "instance_type": "ml.m5.large"}))
    bad_rest = cloud.api(
        "POST",
        "/rollouts",
        {**api_spec({"model_package_arn": waiting, "execution_role_arn": ROLE, "instance_type": "x"})},
    )

    assert [r.status for r in (unapproved, unknown, no_role, bad_rest)] == [400, 400, 400, 400]
    assert unapproved.body["details"][0] == {
        "field": "candidate.model_package_arn",
        "reason": "the version is PendingManualApproval: approve it first",
    }
    assert unknown.body["details"][0]["field"] == "candidate.model_package_arn"
    assert no_role.body["details"][0]["field"] == "candidate.execution_role_arn"
    assert bad_rest.body["details"][0]["field"] == "candidate.instance_type"
    assert cloud.client("sagemaker").list_models()["Models"] == [
        m for m in cloud.client("sagemaker").list_models()["Models"] if m["ModelName"] != "churn-models-v1"
    ]  # nothing was made
