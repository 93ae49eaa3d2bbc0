"""The model-approved scenario: a version approved in the Model Registry rolls out with no glue code.

`make demo SCENARIO=model-approved`. The platform team writes a release policy for the model package group
`churn-models` (`PUT /policies/churn-models`, the policy of examples/policies/churn-models.yaml). A data scientist
registers a version in the local Model Registry, waiting for approval, and then approves it. SageMaker's "Model
Package State Change" event reaches the stack's rule, which makes the version's model from the package and starts
the policy's canary on `churn-predictor`; the new model serves healthy traffic and is promoted. The platform team's
subscriber of the notifications topic hears of the start and of the promotion. At the demo's time scale a simulated
minute lasts one second.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.moto_ext import core
from sandbox.scenarios import (
    BASELINE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    MODEL_APPROVED,
    MODEL_APPROVED_TITLE,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    follow_decisions,
    until_ended,
)

GROUP = "churn-models"
POLICY = Path(__file__).resolve().parents[1] / "examples" / "policies" / f"{GROUP}.yaml"
VERSION_MODEL = f"{GROUP}-v1"  # the name the release gives the approved version's model
LIMIT = 90 * 60.0  # simulated seconds: the policy's canary takes about 15 minutes


def policy() -> dict[str, Any]:
    """The example policy, with this account's execution role."""
    body: dict[str, Any] = yaml.safe_load(POLICY.read_text())
    body["execution_role_arn"] = f"arn:aws:iam::{core.ACCOUNT}:role/sagemaker-execution"
    return body


def register_version(cloud: LocalCloud, group: str = GROUP) -> str:
    """A version registered in the local Model Registry (its group made if new), waiting for approval: its ARN."""
    sagemaker = cloud.client("sagemaker")
    if not sagemaker.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    answer = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": f"{core.ACCOUNT}.dkr.ecr.{core.REGION}.amazonaws.com/churn:latest"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    return str(answer["ModelPackageArn"])


def _subscriber(cloud: LocalCloud) -> Any:
    """A queue subscribed to the stack's notifications topic, as a mail relay or a chat bridge would be; its reader
    returns what arrived once `count` notifications have."""
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="platform-team")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=cloud.physical["NotificationsTopic"], Protocol="sqs", Endpoint=arn)
    received: list[dict[str, Any]] = []

    def read(count: int) -> list[dict[str, Any]] | None:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return received if len(received) >= count else None

    return read


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: object = None) -> ScenarioResult:
    """Run the scenario on a fresh local cloud, printing its timeline."""
    del output_dir  # writes no files
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    out(f"\n== {MODEL_APPROVED}: {MODEL_APPROVED_TITLE}")
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_endpoint(cloud)
        healthy = ModelBehaviour(error_rate=0.0002)
        plane = DataPlane(cloud, ENDPOINT, {BASELINE_MODEL: healthy, VERSION_MODEL: healthy})
        live.plane = plane
        plane.start()
        read_notifications = _subscriber(cloud)
        try:
            written = cloud.api("PUT", f"/policies/{GROUP}", policy())
            say(f"PUT /policies/{GROUP} → {written.status}: an approved version rolls out to '{ENDPOINT}' by canary")
            sagemaker = cloud.client("sagemaker")
            arn = register_version(cloud)
            say(f"[registry] version 1 of '{GROUP}' registered, PendingManualApproval: nothing starts")
            sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
            say("[registry] version 1 approved")

            def started() -> str | None:
                listed = cloud.api("GET", f"/rollouts?endpoint={ENDPOINT}").body["rollouts"]
                return listed[0]["rollout_id"] if listed else None

            rollout_id = until_ended(cloud, started, MODEL_APPROVED, 600)
            model = sagemaker.describe_model(ModelName=VERSION_MODEL)
            say(
                f"the approval started rollout {rollout_id}; model '{VERSION_MODEL}' serves "
                f"{model['PrimaryContainer']['ModelPackageName']}"
            )
            view = follow_decisions(cloud, rollout_id, say, MODEL_APPROVED, LIMIT)
            notified = until_ended(cloud, lambda: read_notifications(2), MODEL_APPROVED, 600)
            for note in notified:
                say(f"[notification] {note['Subject']}")
            out("\n  The promotion's notification, as a subscriber of the topic reads it:")
            for line in notified[-1]["Message"].splitlines():
                out(f"    {line}")
        finally:
            plane.stop()
        endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    elapsed = time.monotonic() - began
    served = ", ".join(f"{v['VariantName']} {v['CurrentWeight']:g}" for v in endpoint["ProductionVariants"])
    if view["status"] == "Promoted":
        outcome, reason = "promoted", f"{GROUP}-v1-approved"
    else:
        outcome, reason = "rolled back", str(view.get("reason") or "unknown").split(":")[0]
    summary = (
        f"Summary ({MODEL_APPROVED}): approving version 1 of '{GROUP}' rolled it out by the group's release policy; "
        f"the rollout ended {view['status']}. Endpoint '{ENDPOINT}' now serves: {served}. Took {elapsed:.1f} s."
    )
    result = ScenarioResult(MODEL_APPROVED, outcome, reason, summary, view, None, elapsed)
    result.timeline = timeline
    out("")
    out(summary)
    return result
