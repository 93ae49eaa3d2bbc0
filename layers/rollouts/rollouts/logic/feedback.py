"""Feedback ingestion: queue messages in; per-arm totals (one atomic write per arm per batch) and labels out.

A message holds one event, `{"events": [...]}`, or an EventBridge event whose `detail` is either. Every event id
counts once however often it arrives. A malformed event goes to the dead-letter queue with its reason, and the
rest of its message counts. Totals are kept per endpoint and variant; when a running rollout manages the variant,
also under that rollout, which is what its judge and its bandit read. Feedback for a variant no rollout manages
moves no weights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from rollouts import clock
from rollouts.aws import feedback as aws_feedback
from rollouts.aws import store
from rollouts.aws.feedback import ArmDelta
from rollouts.errors import AwsError, RolloutNotFoundError
from rollouts.models.feedback import MAX_EVENTS_PER_MESSAGE, Feedback, Label, Reward, event_key, parse_feedback
from rollouts.observability import logger, metrics


@dataclass
class Parsed:
    """One queue message: its valid events, and its malformed items with the reason each was refused."""

    events: list[Feedback] = field(default_factory=list)
    malformed: list[tuple[Any, str]] = field(default_factory=list)


@dataclass
class Outcome:
    counted: int = 0
    duplicates: int = 0
    labels_written: list[str] = field(default_factory=list)
    failed_messages: set[str] = field(default_factory=set)
    rejected: int = 0  # events whose write DynamoDB refuses for good: in the dead-letter queue with the reason
    failure: str = ""  # why the failed messages failed, for the dead-letter queue when they are given up


def _reason(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'event'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


def parse_message(body: str) -> Parsed:
    parsed = Parsed()
    try:
        data: Any = json.loads(body)
    except ValueError as error:
        parsed.malformed.append((body, f"not JSON: {error}"))
        return parsed
    if isinstance(data, dict) and "detail-type" in data and "detail" in data:
        data = data["detail"]  # an EventBridge event, delivered by a rule
    items = data["events"] if isinstance(data, dict) and "events" in data else [data]
    if not isinstance(items, list) or not items:
        parsed.malformed.append((data, "'events' must be a non-empty list"))
        return parsed
    if len(items) > MAX_EVENTS_PER_MESSAGE:
        parsed.malformed.append((data, f"at most {MAX_EVENTS_PER_MESSAGE} events in one message, got {len(items)}"))
        return parsed
    for item in items:
        try:
            parsed.events.append(parse_feedback(item))
        except ValidationError as error:
            parsed.malformed.append((item, _reason(error)))
    return parsed


def _to_dead_letters(body: str, reason: str) -> None:
    """Every way to the dead-letter queue, counted (metric FeedbackDeadLettered)."""
    aws_feedback.send_to_dead_letters(body, reason)
    metrics.add_metric(name="FeedbackDeadLettered", unit="Count", value=1)


def dead_letter(parsed: Parsed, message_id: str) -> None:
    """Send each malformed item of a message to the dead-letter queue, with its reason, and log it."""
    for item, reason in parsed.malformed:
        body = item if isinstance(item, str) else json.dumps(item, default=str)
        _to_dead_letters(body, reason)
        logger.warning("Refused a malformed feedback event", extra={"message_id": message_id, "reason": reason})


class _Managers:
    """Which running rollout manages an endpoint's variant, looked up once per endpoint and batch; and the arm keys
    of each reward, worked out once per batch."""

    def __init__(self) -> None:
        self._arms: dict[str, tuple[str, frozenset[str]] | None] = {}
        self.keys: dict[int, list[tuple[str, str]]] = {}
        self.waking: set[str] = set()  # the rollouts among them whose wait feedback may end (a bandit's)

    def rollout_of(self, endpoint: str, variant: str) -> str | None:
        if endpoint not in self._arms:
            self._arms[endpoint] = None
            holder = store.lock_holder(endpoint)
            if holder:
                try:
                    rollout = store.get_rollout(holder)
                except RolloutNotFoundError:
                    rollout = None
                if rollout and not rollout.status.is_final:
                    arms = frozenset(v for v in (rollout.baseline_variant, *rollout.candidate_variants) if v)
                    self._arms[endpoint] = (rollout.rollout_id, arms)
                    if rollout.spec.strategy.wakes_on_feedback:
                        self.waking.add(rollout.rollout_id)
        managed = self._arms[endpoint]
        return managed[0] if managed and variant in managed[1] else None


def _arm_keys(event: Feedback, managers: _Managers) -> list[tuple[str, str]]:
    """The totals a reward adds to: its endpoint's arm, and the arm of the rollout that manages the variant."""
    known = managers.keys.get(id(event))
    if known is not None:
        return known
    keys: list[tuple[str, str]] = []
    if isinstance(event, Reward):
        keys.append(aws_feedback.endpoint_arm_key(event.endpoint, event.variant))
        rollout_id = managers.rollout_of(event.endpoint, event.variant)
        if rollout_id:
            keys.append(aws_feedback.rollout_arm_key(rollout_id, event.variant))
    managers.keys[id(event)] = keys
    return keys


def _deltas(events: Iterable[Feedback], managers: _Managers) -> dict[tuple[str, str], ArmDelta]:
    deltas: dict[tuple[str, str], ArmDelta] = {}
    for event in events:
        for key in _arm_keys(event, managers):
            deltas.setdefault(key, ArmDelta(kind=event.kind)).add(event.reward)  # type: ignore[union-attr]
    return deltas


def _chunks(events: list[Feedback], managers: _Managers) -> list[list[Feedback]]:
    """Groups that fit one transaction: an action per event id and one per arm they touch."""
    chunks: list[list[Feedback]] = []
    current: list[Feedback] = []
    arms: set[tuple[str, str]] = set()
    for event in events:
        touched = _arm_keys(event, managers)
        if current and len(current) + 1 + len(arms.union(touched)) > aws_feedback.MAX_ACTIONS:
            chunks.append(current)
            current, arms = [], set()
        current.append(event)
        arms.update(touched)
    if current:
        chunks.append(current)
    return chunks


def _wake(rollout_ids: set[str]) -> None:
    """Start the next update of each rollout whose next batch has now arrived; a failure here loses no feedback."""
    if not rollout_ids:
        return
    # Cold start: the bandit's math (about 40 ms of imports) loads only when a rollout that feedback wakes gets some;
    # the bandit is the only strategy whose wait feedback ends (`wakes_on_feedback`).
    from rollouts.logic.bandit import wake_when_due

    for rollout_id in sorted(rollout_ids):
        try:
            wake_when_due(rollout_id)
        except Exception:
            logger.exception("Could not start a bandit's update; its wait ends on time", extra={"rollout": rollout_id})


def dead_letter_failed(body: str, failure: str, receives: int) -> None:
    """A message whose write failed on its last receive: to the dead-letter queue with why, not silently."""
    _to_dead_letters(body, f"its write failed on all {receives} receives; last: {failure or 'unknown'}")


def _reject(event: Feedback, reason: str) -> None:
    """An event the table refuses for good: to the dead-letter queue with the reason, so its message is done."""
    logger.error("Feedback event refused", extra={"event_id": event_key(event), "reason": reason})
    _to_dead_letters(json.dumps({"events": [event.model_dump(mode="json")]}), reason)


def _write(events: list[Feedback], managers: _Managers, carriers: dict[str, set[str]], outcome: Outcome) -> list[Label]:
    """Write the events' totals a transaction at a time; the labels counted. One event the table refuses for good
    does not sink the others: the write is halved until it stands alone, and it goes to the dead-letter queue."""
    counted_labels: list[Label] = []
    try:  # which rollout manages each variant: a read of the endpoint's lock and of its rollout
        chunks = _chunks(events, managers)
    except Exception as error:
        # As a failed write: the messages are delivered again, and on their last receive go to the dead-letter
        # queue with this reason (an error out of the handler would have the queue move them with none).
        logger.exception("Could not look up the rollouts the feedback counts for; its messages are delivered again")
        outcome.failure = f"{type(error).__name__}: {error}"
        for event in events:
            outcome.failed_messages |= carriers[event_key(event)]
        return counted_labels
    waiting = list(reversed(chunks))
    while waiting:
        chunk = waiting.pop()
        keys = [event_key(event) for event in chunk]
        try:
            duplicates = aws_feedback.write_totals(keys, _deltas(chunk, managers))
        except AwsError as error:
            if not error.retryable and len(chunk) > 1:
                half = len(chunk) // 2
                waiting += [chunk[half:], chunk[:half]]
            elif not error.retryable:
                _reject(chunk[0], f"the table refused its totals: {error}")
                outcome.rejected += 1
            else:
                logger.warning(
                    "Feedback write throttled; its messages are delivered again", extra={"error": str(error)}
                )
                outcome.failure = str(error)
                for key in keys:
                    outcome.failed_messages |= carriers[key]
            continue
        except Exception as error:
            logger.exception("Could not write a feedback batch; its messages will be delivered again")
            outcome.failure = f"{type(error).__name__}: {error}"
            for key in keys:
                outcome.failed_messages |= carriers[key]
            continue
        if duplicates:
            outcome.duplicates += len(duplicates)
            logger.info("Dropped feedback events already counted", extra={"event_ids": duplicates})
            seen = set(duplicates)
            rest = [event for event in chunk if event_key(event) not in seen]
            if rest:
                waiting.append(rest)
            continue
        outcome.counted += len(chunk)
        counted_labels += [event for event in chunk if isinstance(event, Label)]
    return counted_labels


def ingest(messages: dict[str, list[Feedback]]) -> Outcome:
    """Count every new event of the batch; the ids of messages to deliver again (their writes failed)."""
    outcome = Outcome()
    carriers: dict[str, set[str]] = {}
    unique: dict[str, Feedback] = {}
    for message_id, events in messages.items():
        for event in events:
            key = event_key(event)
            carriers.setdefault(key, set()).add(message_id)
            unique.setdefault(key, event)
    managers = _Managers()
    counted_labels = _write(list(unique.values()), managers, carriers, outcome)
    if outcome.counted:
        _wake(managers.waking)
    if counted_labels:
        try:
            outcome.labels_written = aws_feedback.write_ground_truth(counted_labels, clock.now())
        except Exception:
            logger.exception("Could not write ground truth; the labels will be delivered again")
            outcome.failure = "the ground truth could not be written to S3"
            aws_feedback.forget_events(label.key for label in counted_labels)
            outcome.counted -= len(counted_labels)
            for label in counted_labels:
                outcome.failed_messages |= carriers[label.key]
    return outcome
