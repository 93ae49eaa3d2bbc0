"""The text of notifications: what to do next is in the message, for the kinds that need someone."""

from __future__ import annotations

from rollouts.logic.notifications import MAX_SUBJECT, message
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import spec


def rollout(**changes: object) -> Rollout:
    base = Rollout(rollout_id="r-0123456789ab", spec=RolloutSpec.model_validate(spec()), baseline_variant="v1")
    return base.model_copy(update=changes)


def test_a_pause_says_how_to_go_on() -> None:
    detail = {"message": "Step 2/2 inconclusive: too few requests", "evidence": {}, "at": "2026-12-04T10:00:00Z"}

    subject, text = message(DecisionKind.ROLLOUT_PAUSED, detail, rollout(status=RolloutStatus.PAUSED), [])

    assert subject == "Rollout paused, waiting for an operator: churn-xgb-v2 on churn-predictor"
    assert "rollouts resume r-0123456789ab; or rollouts promote|abort r-0123456789ab" in text


def test_a_rollback_that_failed_says_the_lock_is_held_and_where_the_runbook_is() -> None:
    failed = rollout(status=RolloutStatus.ROLLBACK_FAILED, reason="ThrottlingException on UpdateEndpoint")

    _, text = message(DecisionKind.ROLLBACK_FAILED, {"message": "not verified", "evidence": {}}, failed, [])

    assert "Why: ThrottlingException on UpdateEndpoint" in text
    assert "lock is held" in text and "When a rollback fails" in text and "rollouts retry r-0123456789ab" in text


def test_a_subject_fits_sns() -> None:
    many = spec()
    many["candidate"]["model_name"] = "m" * 63
    long_one = Rollout(rollout_id="r-1", spec=RolloutSpec.model_validate(many))

    subject, _ = message(DecisionKind.ROLLOUT_STARTED, {"message": "", "evidence": {}}, long_one, [])

    assert len(subject) <= MAX_SUBJECT
