"""Publishing on SNS topics: the notifications people subscribe to."""

from __future__ import annotations

from rollouts.aws.clients import aws_errors, client


def publish(topic_arn: str, subject: str, text: str, attributes: dict[str, str]) -> str:
    """Publish one message with string attributes (for subscription filters); its message id.

    Raises `AwsError` when SNS refuses it."""
    with aws_errors():
        answer = client("sns").publish(
            TopicArn=topic_arn,
            Subject=subject,
            Message=text,
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
    return str(answer["MessageId"])
