"""Feedback messages as they arrive on the queue: one event, a batch, or an EventBridge event; what is refused."""

from __future__ import annotations

import json

import pytest

from rollouts.logic.feedback import parse_message
from rollouts.models.feedback import MAX_EVENTS_PER_MESSAGE, Label, Reward

REWARD = {"event_id": "e-1", "endpoint": "churn-predictor", "variant": "v1", "reward": 1}


@pytest.mark.parametrize(
    "body",
    [
        REWARD,
        {"events": [REWARD]},
        {"version": "0", "source": "shop", "detail-type": "Rollout Feedback", "detail": REWARD},
        {"version": "0", "source": "shop", "detail-type": "Rollout Feedback", "detail": {"events": [REWARD]}},
    ],
)
def test_one_event_a_batch_or_an_eventbridge_event(body):
    parsed = parse_message(json.dumps(body))

    assert parsed.malformed == []
    assert parsed.events == [Reward.model_validate(REWARD)]


def test_labels_and_rewards_are_told_apart_and_a_label_is_keyed_by_its_inference():
    parsed = parse_message(json.dumps({"events": [REWARD, {"inference_id": "i-9", "label": True}]}))

    reward, label = parsed.events
    assert isinstance(reward, Reward)
    assert isinstance(label, Label)
    assert (label.key, label.csv) == ("label:i-9", "1")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({**REWARD, "reward": -0.1}, "a conversion reward is from 0 to 1"),
        ({**REWARD, "reward": float("nan")}, "reward: Input should be a finite number"),
        ({**REWARD, "variant": "no spaces allowed"}, "variant: String should match pattern"),
        ({**REWARD, "surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"inference_id": "", "label": 1}, "inference_id: String should have at least 1 character"),
    ],
)
def test_a_malformed_event_is_refused_with_a_reason_naming_the_field(item, reason):
    parsed = parse_message(json.dumps({"events": [REWARD, item]}, allow_nan=True))

    assert len(parsed.events) == 1
    [(_, why)] = parsed.malformed
    assert reason in why


def test_real_rewards_may_leave_0_to_1():
    parsed = parse_message(json.dumps({**REWARD, "reward": 12.5, "kind": "real"}))

    assert parsed.events[0].reward == 12.5  # type: ignore[union-attr]


def test_a_message_with_too_many_events_is_refused_whole():
    parsed = parse_message(json.dumps({"events": [REWARD] * (MAX_EVENTS_PER_MESSAGE + 1)}))

    assert parsed.events == []
    assert "at most 500 events" in parsed.malformed[0][1]


@pytest.mark.parametrize(
    ("occurred_at", "reason"),
    [
        (1733306400, "ISO 8601 date-time string"),  # seconds or milliseconds? not guessed
        ("2026-12-04T10:00:00", "offset"),  # which zone's ten o'clock? not guessed
        ("yesterday", "not an ISO 8601 date-time"),
    ],
)
def test_a_feedback_time_is_an_iso_8601_string_with_its_offset(occurred_at: object, reason: str) -> None:
    from pydantic import ValidationError

    event = {"event_id": "e-1", "endpoint": "ep", "variant": "v1", "reward": 1, "occurred_at": occurred_at}
    with pytest.raises(ValidationError, match=reason):
        Reward.model_validate(event)
    assert Reward.model_validate({**event, "occurred_at": "2026-12-04T10:00:00Z"}).occurred_at is not None
