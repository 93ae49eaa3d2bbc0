"""What the state-machine tests share: the endpoint they roll out on, a spec per strategy, and the looks at a
rollout and its endpoint that their assertions make."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rollouts.aws import store
from sandbox.cloud import LocalCloud
from sandbox.scenarios import blue_green_strategy
from tests.waiting import until

ENDPOINT = "churn-predictor"
BASELINE = "v1"
CANDIDATE = "churn-xgb-v2"


def start(cloud: LocalCloud, spec: dict[str, Any]) -> dict[str, Any]:
    response = cloud.api("POST", "/rollouts", spec)
    assert response.status == 201, response.body
    return dict(response.body)


def assert_failed_before_any_change(cloud: LocalCloud, rollout: dict[str, Any], cause: str) -> None:
    """A rollout that failed before it changed anything: the endpoint as it was, the lock free, and a log that
    says why it ended."""
    assert endpoint_weights(cloud) == ("churn-predictor-v1", {BASELINE: 1.0})
    assert store.lock_holder(ENDPOINT) is None
    assert rollout["status"] == "RolledBack"
    assert cause in rollout["reason"]
    assert kinds(rollout)[-2:] == ["Rollback Started", "Rollout Rolled Back"]
    assert (
        cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"rollouts-{rollout['rollout_id']}")["MetricAlarms"]
        == []
    )


def fire_alarm(cloud: LocalCloud, rollout_id: str, reason: str, rule: str = "5xx-rate") -> None:
    """Set the alarm the rollout made from one of its alarm rules to ALARM, as CloudWatch would."""
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"rollouts-{rollout_id}-{rule}", StateValue="ALARM", StateReason=reason
    )


def wait_until_guarded(rollout_id: str) -> None:
    """Until the rollout has created its alarms (Prepare Variants), whatever the endpoint is doing."""
    until(lambda: store.get_rollout(rollout_id).alarm_names, f"rollout {rollout_id} never created its alarms")


def view(cloud: LocalCloud, rollout_id: str) -> dict[str, Any]:
    response = cloud.api("GET", f"/rollouts/{rollout_id}")
    assert response.status == 200
    return dict(response.body)


def kinds(rollout: dict[str, Any]) -> list[str]:
    return [decision["kind"] for decision in rollout["decisions"]]


def endpoint_weights(cloud: LocalCloud) -> tuple[str, dict[str, float]]:
    endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    return endpoint["EndpointConfigName"], {
        v["VariantName"]: float(v["CurrentWeight"]) for v in endpoint["ProductionVariants"]
    }


def assert_safe_rolled_back(cloud: LocalCloud, rollout: dict[str, Any]) -> None:
    """Baseline at 100 %, original config, lock free, rollout's alarms gone, decision log complete."""
    config, weights = endpoint_weights(cloud)
    assert config == "churn-predictor-v1"
    assert weights == {BASELINE: 1.0}
    assert store.lock_holder(ENDPOINT) is None
    assert rollout["status"] == "RolledBack"
    assert rollout["weights"] == {BASELINE: 100.0}
    log = kinds(rollout)
    assert log[0] == "Rollout Started"
    assert "Rollback Started" in log
    assert log[-1] == "Rollout Rolled Back"
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"rollouts-{rollout['rollout_id']}")
    assert alarms["MetricAlarms"] == []


def bandit_spec(canary_spec: dict[str, Any]) -> dict[str, Any]:
    # Updates come when the test says (next_update), not when feedback arrives (see the test of the latter) nor at
    # their time: 12 simulated hours last 43 s here, longer than posting feedback takes on a busy machine.
    canary_spec["strategy"] = {
        "type": "bandit",
        "update_every": "12h",
        "min_update_interval": "12h",
        "max_duration": "7d",
        "stop_after_updates": 2,
    }
    canary_spec["guardrails"]["monitoring_schedules"] = []
    return canary_spec


def report(cloud: LocalCloud, variant: str, count: int, converted: int, prefix: str) -> None:
    """`count` rewards, `converted` of them 1, spread evenly: a part counted so far has about the same rate."""
    events = [
        {
            "event_id": f"{prefix}-{i}",
            "endpoint": ENDPOINT,
            "variant": variant,
            "reward": 1 if (i + 1) * converted // count > i * converted // count else 0,
        }
        for i in range(count)
    ]
    for first in range(0, count, 500):
        assert cloud.api("POST", "/feedback", {"events": events[first : first + 500]}).status == 202


def blue_green_spec(canary_spec: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    """SageMaker's canary routing: 10 % of the green fleet, then the rest; 5-minute bakes (0.3 s here)."""
    canary_spec["strategy"] = blue_green_strategy(**strategy)
    return canary_spec


def endpoint_facts(cloud: LocalCloud) -> dict[str, Any]:
    facts: dict[str, Any] = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    return facts


def wait_until_deployment_bakes(cloud: LocalCloud) -> None:
    """Until SageMaker's deployment bakes with green taking traffic."""

    def baking() -> bool:
        pending = endpoint_facts(cloud).get("PendingDeploymentSummary") or {}
        statuses = [s["Status"] for v in pending.get("ProductionVariants", []) for s in v.get("VariantStatus", [])]
        return "Baking" in statuses

    until(baking, "the deployment never baked")


def wait_until_watching(rollout_id: str) -> None:
    until(lambda: store.get_rollout(rollout_id).task_token, f"rollout {rollout_id} never watched after promotion")


def ab_spec(canary_spec: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    # Looks every half hour of simulated time, from one hour on.
    canary_spec["strategy"] = {
        "type": "ab-test",
        "candidate_weight": 30,
        "check_every": "30m",
        "min_duration": "1h",
        "max_duration": "4h",
        **strategy,
    }
    canary_spec["guardrails"]["monitoring_schedules"] = []
    return canary_spec


def shadow_spec(canary_spec: dict[str, Any], **strategy: Any) -> dict[str, Any]:
    # The shadowing ends when the test says (end_shadowing): 12 simulated hours last 43 s here.
    canary_spec["strategy"] = {
        "type": "shadow",
        "sampling_percentage": 100,
        "duration": "12h",
        "promotion": {"type": "blue-green", "wait_interval": "5m", "termination_wait": "0s"},
        **strategy,
    }
    canary_spec["guardrails"]["monitoring_schedules"] = []
    return canary_spec


def subscribe(cloud: LocalCloud) -> Callable[[], list[dict[str, Any]]]:
    """A subscriber to the control plane's published decisions: call the result for the events received so far."""
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="rollout-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = cloud.client("events")
    events.put_rule(Name="rollout-events", EventPattern='{"source": ["sagemaker.rollouts"]}')
    events.put_targets(Rule="rollout-events", Targets=[{"Id": "queue", "Arn": queue_arn}])
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            received.extend(json.loads(message["Body"]) for message in batch)
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
            )
        return received

    return drain
