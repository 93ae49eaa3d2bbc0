"""Environment variables, read once per process.

A plain dataclass, not a pydantic model: every handler imports this module, and these strings need no validation
beyond being present, so building a model class for them was cold-start time for nothing.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    table_name: str
    event_bus_name: str = "default"
    state_machine_arn_prefix: str = ""
    data_capture_s3_uri: str = ""
    event_source: str = "sagemaker.rollouts"
    feedback_queue_url: str = ""
    feedback_dead_letter_queue_url: str = ""
    ground_truth_s3_uri: str = ""
    notifications_topic_arn: str = ""
    monitor_results_s3_uri: str = ""
    monitor_state_machine_arn: str = ""
    # The name prefix of the Lambda functions a spec's hooks may name (the stack's HookFunctionPrefix).
    hook_function_prefix: str = "rollout-hook-"
    # Waits one execution runs before it continues as a new one: each costs about 13 history events, so 400 stay far
    # below Step Functions' 25,000 (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
    loops_per_execution: int = 400


# Each setting and the environment variable it comes from; only ROLLOUTS_TABLE_NAME is required.
VARIABLES = {
    "table_name": "ROLLOUTS_TABLE_NAME",
    "event_bus_name": "EVENT_BUS_NAME",
    "state_machine_arn_prefix": "STATE_MACHINE_ARN_PREFIX",
    "data_capture_s3_uri": "DATA_CAPTURE_S3_URI",
    "event_source": "EVENT_SOURCE",
    "feedback_queue_url": "FEEDBACK_QUEUE_URL",
    "feedback_dead_letter_queue_url": "FEEDBACK_DEAD_LETTER_QUEUE_URL",
    "ground_truth_s3_uri": "GROUND_TRUTH_S3_URI",
    "notifications_topic_arn": "NOTIFICATIONS_TOPIC_ARN",
    "monitor_results_s3_uri": "MONITOR_RESULTS_S3_URI",
    "monitor_state_machine_arn": "MONITOR_STATE_MACHINE_ARN",
    "hook_function_prefix": "HOOK_FUNCTION_PREFIX",
}


@functools.cache
def get_settings() -> Settings:
    if "ROLLOUTS_TABLE_NAME" not in os.environ:
        raise RuntimeError("environment variable ROLLOUTS_TABLE_NAME is not set: the stack sets it on every function")
    values: dict[str, str | int] = {field: os.environ[name] for field, name in VARIABLES.items() if name in os.environ}
    if "ROLLOUTS_LOOPS_PER_EXECUTION" in os.environ:
        values["loops_per_execution"] = int(os.environ["ROLLOUTS_LOOPS_PER_EXECUTION"])
    return Settings(**values)  # type: ignore[arg-type]
