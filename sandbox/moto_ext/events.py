"""EventBridge: rules reach Lambda and Step Functions targets (moto 5.2.5 answers such an event with a 500), and AWS
services emit their events on the default bus."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from sandbox.moto_ext import clock, core

_log = logging.getLogger("sandbox")

# Lambda retries a failed asynchronous invocation twice, after about 1 and then 2 minutes.
ASYNC_RETRY_DELAYS = (60.0, 120.0)


def put_event(source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
    """Emit an AWS service event on the default bus, as the service itself would."""
    from moto.events.models import events_backends

    events_backends[core.ACCOUNT][core.REGION].put_events(
        [
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=str),
                "Resources": resources,
                "EventBusName": "default",
            }
        ]
    )


def invoke_async(function_arn: str, event: dict[str, Any], attempt: int = 0) -> None:
    """One attempt of an asynchronous invocation; a failed one is tried again later, twice at most."""
    try:
        response = core.client("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        error = json.loads(response["Payload"].read() or b"{}") if "FunctionError" in response else None
    except Exception as failure:  # the invocation itself failed: EventBridge tries such a delivery again too
        error = {"errorType": type(failure).__name__, "errorMessage": str(failure)}
    if error is None:
        return
    _log.warning(
        "%s failed on %s (attempt %d of 3): %s: %s",
        function_arn.rsplit(":", 1)[-1],
        event.get("detail-type", "an event"),
        attempt + 1,
        error.get("errorType"),
        error.get("errorMessage"),
    )
    if attempt < len(ASYNC_RETRY_DELAYS):
        clock.submit_later(ASYNC_RETRY_DELAYS[attempt], invoke_async, function_arn, event, attempt + 1)


def install() -> None:
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser
    from moto.utilities.arns import parse_arn

    lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        # A scheduled rule has no pattern, which moto matches with every event: it fires on its schedule only
        # (`LocalCloud.run_schedules`).
        if self.scheduled_expression or not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if parse_arn(t["Arn"]).service in ("lambda", "states")]
        for target in ours:
            transformer = target.get("InputTransformer", {})
            event = EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
            if parse_arn(target["Arn"]).service == "lambda":
                core.submit(invoke_async, target["Arn"], event)
            else:
                core.submit(
                    core.client("stepfunctions").start_execution,
                    stateMachineArn=target["Arn"],
                    name=f"eb-{uuid.uuid4().hex[:12]}",
                    input=json.dumps(event),
                )
        others = [t for t in self.targets if t not in ours]
        if others:
            with lock:
                saved, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = saved

    original = core.replace(Rule, "send_to_targets", send_to_targets)
