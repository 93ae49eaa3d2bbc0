"""Publishing decisions on the event bus."""

from __future__ import annotations

import json
from typing import Any

from rollouts.aws.clients import aws_errors, client
from rollouts.models.rollout import Decision
from rollouts.settings import get_settings


def entry(decision: Decision, context: dict[str, Any]) -> dict[str, Any]:
    """The PutEvents entry of a decision: its detail is the decision and `context` (the endpoint and variants)."""
    settings = get_settings()
    return {
        "Source": settings.event_source,
        "DetailType": decision.kind.value,
        "Detail": json.dumps({**decision.model_dump(mode="json"), **context}, default=str),
        "EventBusName": settings.event_bus_name,
    }


def put(entries: list[dict[str, Any]]) -> list[bool]:
    """PutEvents in batches of 10; whether each entry was accepted (EventBridge may refuse some and take others).

    Raises `AwsError` when the call itself fails."""
    accepted: list[bool] = []
    with aws_errors():
        for start in range(0, len(entries), 10):
            response = client("events").put_events(Entries=entries[start : start + 10])
            accepted += ["ErrorCode" not in result for result in response.get("Entries", [])]
    return accepted
