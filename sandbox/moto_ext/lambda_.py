"""Lambda: invocations run the project's real handlers in process (moto's simple backend only echoes the payload)."""

from __future__ import annotations

import json
import os
import traceback
import uuid
from types import SimpleNamespace
from typing import Any

from sandbox.moto_ext import core


def install() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(self: Any, function_name: str, qualifier: str, body: Any, headers: Any, response_headers: Any) -> bytes:
        fn = self.get_function(function_name, qualifier)
        handler = core.REGISTRY.handlers.get(fn.function_name)
        if handler is None:
            raise RuntimeError(f"the local cloud has no handler for function {fn.function_name}")
        context = SimpleNamespace(
            function_name=fn.function_name,
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=fn.memory_size,
            aws_request_id=str(uuid.uuid4()),
            function_version="$LATEST",
            log_group_name=f"/aws/lambda/{fn.function_name}",
            log_stream_name="local",
            get_remaining_time_in_millis=lambda: 30000,
        )
        payload = json.loads(body) if body else {}
        try:
            result = handler(payload, context)
        except Exception as error:  # the Lambda runtime reports any error this way
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exc().splitlines(),
            }
        finally:
            _drop_disabled_metrics()
        return json.dumps(result, default=str).encode()

    core.replace(LambdaSimpleBackend, "invoke", invoke)


def _drop_disabled_metrics() -> None:
    """With metrics disabled (as the local cloud runs), Powertools keeps each invocation's metrics instead of
    dropping them, and prints them anyway once a metric holds 100 values (after 100 feedback batches, say). In Lambda
    an invocation's metrics are gone when it ends: here too. Every `Metrics` shares one metric set."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        from aws_lambda_powertools import Metrics

        Metrics().clear_metrics()
