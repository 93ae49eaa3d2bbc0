"""Step Functions: starting a strategy's state machine and ending a callback wait."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from rollouts.aws.clients import aws_error, client


def _sfn() -> Any:
    return client("stepfunctions")


def start(state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
    """StartExecution; the execution's ARN. Raises `AwsError` when Step Functions refuses it."""
    try:
        response = _sfn().start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise aws_error(error) from error
        # A retried start: the execution with this name is ours.
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return arn
    return str(response["executionArn"])


def _gone(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")


def fail_task(task_token: str, error: str, cause: str) -> bool:
    """End a callback wait with an error; False when the wait had already ended."""
    try:
        _sfn().send_task_failure(taskToken=task_token, error=error, cause=cause[:32768])
    except ClientError as failure:
        if _gone(failure):
            return False
        raise
    return True


def succeed_task(task_token: str, output: dict[str, Any]) -> bool:
    try:
        _sfn().send_task_success(taskToken=task_token, output=json.dumps(output))
    except ClientError as failure:
        if _gone(failure):
            return False
        raise
    return True
