"""The notification topic and the optional webhook in template.yaml: the webhook exists only when asked for, is
EventBridge's own API destination, may be invoked by nothing but its rule's role, and gets valid JSON."""

from __future__ import annotations

import json
import re

from sandbox.template import load

PEOPLE = ["Rollout Started", "Rollout Paused", "Rollout Rolled Back", "Rollback Failed", "Rollout Promoted"]


def test_the_webhook_is_an_api_destination_made_only_when_a_url_is_given() -> None:
    template = load()
    webhook = {name: r for name, r in template["Resources"].items() if name.startswith("Webhook")}

    assert {r["Type"] for r in webhook.values()} == {
        "AWS::Events::Connection",
        "AWS::Events::ApiDestination",
        "AWS::IAM::Role",
        "AWS::Events::Rule",
    }
    assert all(r["Condition"] == "HasWebhook" for r in webhook.values())
    assert template["Parameters"]["WebhookUrl"]["Default"] == ""
    assert template["Parameters"]["WebhookAuthHeaderValue"]["NoEcho"] is True


def test_the_webhooks_role_may_invoke_its_destination_and_nothing_else() -> None:
    role = load()["Resources"]["WebhookRole"]["Properties"]
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]

    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "events:InvokeApiDestination"
    assert statement["Resource"] == {"Fn::GetAtt": ["WebhookDestination", "Arn"]}


def test_the_webhook_and_the_topic_hear_the_same_decisions() -> None:
    resources = load()["Resources"]
    rule = resources["WebhookRule"]["Properties"]
    topic_rule = resources["NotifyFunction"]["Properties"]["Events"]["NotifyDecisions"]["Properties"]["Pattern"]

    assert rule["EventPattern"]["detail-type"] == topic_rule["detail-type"] == PEOPLE
    assert rule["EventPattern"]["source"] == topic_rule["source"] == ["sagemaker.rollouts"]


def test_the_webhooks_body_is_json_with_a_text_as_slack_and_teams_read_it() -> None:
    target = load()["Resources"]["WebhookRule"]["Properties"]["Targets"][0]
    transformer = target["InputTransformer"]
    values = {
        "kind": "Rollout Rolled Back",
        "endpoint": "churn-predictor",
        "rollout": "r-0123456789ab",
        "message": "Rolled back: endpoint 'churn-predictor' serves baseline 'v1'",
    }

    assert set(transformer["InputPathsMap"]) == set(values)
    body = re.sub(r"<(\w+)>", lambda match: values[match.group(1)], transformer["InputTemplate"])
    text = json.loads(body)["text"]
    assert text.startswith("Rollout Rolled Back on churn-predictor (rollout r-0123456789ab)")
    assert "rollouts get r-0123456789ab" in text
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SignalsDeadLetterQueue", "Arn"]}}
