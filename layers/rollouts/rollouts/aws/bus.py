"""Publishing decisions on the event bus."""

from __future__ import annotations

import json
from typing import Any

from rollouts.aws.clients import client
from rollouts.models.rollout import Decision
from rollouts.settings import get_settings


def publish(decision: Decision, context: dict[str, Any]) -> None:
    settings = get_settings()
    detail = {**decision.model_dump(mode="json"), **context}
    client("events").put_events(
        Entries=[
            {
                "Source": settings.event_source,
                "DetailType": decision.kind.value,
                "Detail": json.dumps(detail, default=str),
                "EventBusName": settings.event_bus_name,
            }
        ]
    )
