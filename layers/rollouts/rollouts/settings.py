"""Environment variables, parsed once per process."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(alias="ROLLOUTS_TABLE_NAME")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    canary_state_machine_arn: str = Field(default="", alias="CANARY_STATE_MACHINE_ARN")
    bandit_state_machine_arn: str = Field(default="", alias="BANDIT_STATE_MACHINE_ARN")
    blue_green_state_machine_arn: str = Field(default="", alias="BLUE_GREEN_STATE_MACHINE_ARN")
    ab_test_state_machine_arn: str = Field(default="", alias="AB_TEST_STATE_MACHINE_ARN")
    shadow_state_machine_arn: str = Field(default="", alias="SHADOW_STATE_MACHINE_ARN")
    data_capture_s3_uri: str = Field(default="", alias="DATA_CAPTURE_S3_URI")
    event_source: str = Field(default="sagemaker.rollouts", alias="EVENT_SOURCE")
    feedback_queue_url: str = Field(default="", alias="FEEDBACK_QUEUE_URL")
    feedback_dead_letter_queue_url: str = Field(default="", alias="FEEDBACK_DEAD_LETTER_QUEUE_URL")
    ground_truth_s3_uri: str = Field(default="", alias="GROUND_TRUTH_S3_URI")


@functools.cache
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
