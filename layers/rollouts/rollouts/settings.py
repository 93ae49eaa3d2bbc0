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
}


@functools.cache
def get_settings() -> Settings:
    if "ROLLOUTS_TABLE_NAME" not in os.environ:
        raise RuntimeError("environment variable ROLLOUTS_TABLE_NAME is not set: the stack sets it on every function")
    return Settings(**{field: os.environ[name] for field, name in VARIABLES.items() if name in os.environ})
