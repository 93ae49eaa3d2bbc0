"""Calling a traffic hook: one synchronous Lambda invocation, bounded by the hook's timeout."""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from rollouts.aws.clients import client, session

_lock = threading.Lock()
_clients: dict[float, Any] = {}


def _client(timeout: float) -> Any:
    """A Lambda client that waits `timeout` for the answer and never retries: a retry would run the hook twice."""
    with _lock:
        if timeout not in _clients:
            config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=timeout)
            _clients[timeout] = session().client("lambda", config=config)  # type: ignore[call-overload]
        return _clients[timeout]


def reset() -> None:
    """Forget the clients (the local cloud swaps the backend)."""
    with _lock:
        _clients.clear()


def call(function: str, event: dict[str, Any], timeout: float) -> tuple[str, str]:
    """("pass" or "fail", the message): the hook's answer, or why there is none (a timeout, an error, an answer that
    is not `{"status": "pass" | "fail", "message": ...}`). AWS errors of the call itself are raised."""
    try:
        response = _client(timeout).invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event, default=str).encode()
        )
    except ReadTimeoutError:
        return "fail", f"no answer within {timeout:g} s"
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return "fail", f"no Lambda function '{function}' exists"
        raise
    body = response["Payload"].read()
    if response.get("FunctionError"):
        try:
            detail = json.loads(body)
            message = f"{detail.get('errorType', 'Error')}: {detail.get('errorMessage', '')}"
        except (ValueError, AttributeError):
            message = body.decode("utf-8", errors="replace")[:500]
        return "fail", f"the function failed ({message})"
    try:
        answer = json.loads(body)
    except ValueError:
        return "fail", "its answer is not JSON"
    status = answer.get("status") if isinstance(answer, dict) else None
    if status not in ("pass", "fail"):
        return "fail", f'its answer has no "status" of "pass" or "fail": {str(answer)[:200]}'
    return str(status), str(answer.get("message", ""))[:1000]


def missing(functions: list[str]) -> list[str]:
    """The functions among `functions` (names or ARNs) that do not exist."""
    gone = []
    for function in functions:
        try:
            client("lambda").get_function_configuration(FunctionName=function)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            gone.append(function)
    return gone
