"""IAM in template.yaml: no wildcard action, `Resource: "*"` only where AWS allows nothing narrower, and every
queue or topic policy bound to its sender."""

from __future__ import annotations

from typing import Any

from sandbox.template import load

# The actions AWS authorizes on no resource narrower than "*", and why this stack uses them.
STAR_RESOURCE_ACTIONS = {
    "cloudwatch:GetMetricStatistics": "CloudWatch has no resource-level permission for reading metrics",
    "cloudwatch:PutMetricData": "no resource-level permission either; bound by a cloudwatch:namespace condition",
}
POLICY_RESOURCES = ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy")
SOURCE_KEYS = ("aws:SourceArn", "aws:SourceAccount")


def inline_statements() -> list[tuple[str, dict[str, Any]]]:
    statements = []
    for name, resource in load()["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies") or []:
            if isinstance(policy, dict) and "Statement" in policy:
                statements += [(name, statement) for statement in policy["Statement"]]
    return statements


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_statement_grants_a_wildcard_action() -> None:
    wild = [(name, action) for name, s in inline_statements() for action in listed(s["Action"]) if "*" in action]

    assert wild == []


def test_resource_star_only_for_the_actions_that_have_nothing_narrower() -> None:
    starred = {
        (name, action)
        for name, statement in inline_statements()
        if "*" in listed(statement.get("Resource"))
        for action in listed(statement["Action"])
    }

    assert {action for _, action in starred} <= set(STAR_RESOURCE_ACTIONS), starred
    for name, statement in inline_statements():
        if "cloudwatch:PutMetricData" in listed(statement["Action"]):
            assert statement["Condition"]["StringEquals"]["cloudwatch:namespace"] == "SageMakerRollouts", name


def test_every_queue_and_topic_policy_names_its_sender() -> None:
    policies = {name: r for name, r in load()["Resources"].items() if r["Type"] in POLICY_RESOURCES}

    assert policies
    for name, resource in policies.items():
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            conditions = {key for test in statement.get("Condition", {}).values() for key in test}
            assert conditions & set(SOURCE_KEYS), f"{name}: a statement without {' or '.join(SOURCE_KEYS)}"


def test_the_feedback_ingester_only_writes_objects_to_its_bucket() -> None:
    ingester = load()["Resources"]["IngestFeedbackFunction"]["Properties"]["Policies"]
    templates = {next(iter(policy)) for policy in ingester if isinstance(policy, dict) and "Statement" not in policy}
    s3_actions = {
        action
        for policy in ingester
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        for action in listed(statement["Action"])
        if action.startswith("s3:")
    }

    assert not templates & {"S3WritePolicy", "S3CrudPolicy", "S3FullAccessPolicy"}
    assert s3_actions == {"s3:PutObject"}
