"""SQS consumer of feedback events: rewards into per-arm totals, labels into ground truth; partial batch failures."""

import sys
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.logic.feedback import dead_letter, dead_letter_failed, ingest, parse_message
from rollouts.models.feedback import Feedback
from rollouts.observability import logger, metrics

MAX_RECEIVES = 5  # the feedback queue's maxReceiveCount (template.yaml)


class FeedbackProcessor(BatchProcessor):
    """Parses each record on its own (a malformed event costs only itself), then writes the whole batch at once:
    one atomic update per arm per batch. Records whose writes failed are reported as batch item failures."""

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS)
        self.staged: dict[str, list[Feedback]] = {}

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
        self.staged = {}

    def _clean(self) -> None:
        outcome = ingest(self.staged)
        metrics.add_metric(name="FeedbackCounted", unit="Count", value=outcome.counted)
        metrics.add_metric(name="FeedbackDuplicates", unit="Count", value=outcome.duplicates)
        metrics.add_metric(name="FeedbackRejected", unit="Count", value=outcome.rejected)
        # Successes hold the raw records; failures take the data class (Powertools reads its message_id).
        raw_successes: list[dict[str, Any]] = self.success_messages  # type: ignore[assignment]
        for raw in list(raw_successes):
            if raw["messageId"] in outcome.failed_messages:
                if int(raw.get("attributes", {}).get("ApproximateReceiveCount", 1)) >= MAX_RECEIVES:
                    # The queue would move it with no reason: move it here, saying why.
                    dead_letter_failed(raw["body"], outcome.failure, MAX_RECEIVES)
                    continue
                raw_successes.remove(raw)
                try:
                    raise RuntimeError("the batch's write failed; the message is delivered again")
                except RuntimeError:
                    self.failure_handler(SQSRecord(raw), sys.exc_info())  # type: ignore[arg-type]
        logger.info(
            "Feedback batch ingested",
            extra={
                "counted": outcome.counted,
                "duplicates": outcome.duplicates,
                "rejected": outcome.rejected,
                "labels": outcome.labels_written,
                "failed_messages": sorted(outcome.failed_messages),
            },
        )
        super()._clean()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped


processor = FeedbackProcessor()


def record_handler(record: SQSRecord) -> int:
    parsed = parse_message(record.body)
    dead_letter(parsed, record.message_id)
    if parsed.malformed:
        metrics.add_metric(name="FeedbackMalformed", unit="Count", value=len(parsed.malformed))
    processor.staged[record.message_id] = parsed.events
    return len(parsed.events)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
