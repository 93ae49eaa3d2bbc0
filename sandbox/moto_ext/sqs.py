"""SQS event source mappings as Lambda runs them: one invoke per batch, `ReportBatchItemFailures` honoured.

moto invokes the function once per message and deletes the messages unless the invoke errs. Here a batch goes in one
event with each message's receive count; the messages a response lists in `batchItemFailures` (or the whole batch,
when the function errs) are delivered again, at once rather than after the visibility timeout, until they succeed or
have been received `maxReceiveCount` times; then the queue's redrive policy moves them to its dead-letter queue, as
SQS does.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.moto_ext import core


def install() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends

    def send_sqs_batch(self: Any, function_arn: str, messages: Any, queue_arn: str) -> bool:
        sqs = sqs_backends[self.account_id][self.region_name]
        queue = next(q for q in sqs.queues.values() if q.queue_arn == queue_arn)
        policy = queue.redrive_policy or {}
        limit = int(policy.get("maxReceiveCount", 0)) or 10
        receives = dict.fromkeys((m.id for m in messages), 1)
        waiting = list(messages)
        while waiting:
            event = {
                "Records": [
                    {
                        "messageId": m.id,
                        "receiptHandle": m.receipt_handle,
                        "body": m.body,
                        "attributes": {
                            "ApproximateReceiveCount": str(receives[m.id]),
                            "SentTimestamp": str(m.sent_timestamp or 0),
                            "SenderId": m.sender_id,
                            "ApproximateFirstReceiveTimestamp": str(m.sent_timestamp or 0),
                        },
                        "messageAttributes": {},
                        "md5OfBody": m.body_md5,
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": self.region_name,
                    }
                    for m in waiting
                ]
            }
            headers: dict[str, Any] = {}
            raw = self.invoke(function_arn, None, json.dumps(event), {}, headers)
            if "x-amz-function-error" in headers:
                failed = {m.id for m in waiting}
            else:
                result = json.loads(raw) if raw else {}
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            retry = []
            for message in waiting:
                if message.id not in failed:
                    continue
                if receives[message.id] >= limit and queue.dead_letter_queue is not None:
                    # Redriven, as SQS does after maxReceiveCount receives.
                    sqs.send_message(queue.dead_letter_queue.name, message.body, message.message_attributes)
                elif receives[message.id] < limit:
                    receives[message.id] += 1
                    retry.append(message)
            waiting = retry
        return True  # every message was handled here: moto deletes them from the source queue

    core.replace(LambdaBackend, "send_sqs_batch", send_sqs_batch)
