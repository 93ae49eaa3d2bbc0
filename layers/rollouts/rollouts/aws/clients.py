"""Cached boto3 clients, built on first use (not at import) and safe to share between threads."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from rollouts.errors import AwsError, AwsPermanentError, AwsRetryableError

_lock = threading.Lock()
_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@functools.cache
def session() -> boto3.session.Session:
    """The control plane's one boto3 session (each new session loads botocore's data files again when it makes its
    first client). The local cloud registers its injected AWS faults on its events."""
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    # A session is not thread-safe while it creates clients; the local cloud runs handlers on threads.
    with _lock:
        return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client (tests and the local cloud call this when they swap the backend)."""
    client.cache_clear()


# Codes the AWS SDKs retry (botocore's standard retry mode: throttling and transient errors); any 5xx is retryable too.
_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)


def aws_error(error: ClientError) -> AwsError:
    """A botocore ClientError as the project's `AwsError`, retryable or not."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    retryable = code in _RETRYABLE_CODES or status >= 500
    kind = AwsRetryableError if retryable else AwsPermanentError
    return kind(operation=error.operation_name, code=code, message=str(details.get("Message", "")), retryable=retryable)


def translated(error: Exception) -> Exception:
    """`error` as the project's AwsError when it is a botocore ClientError; any other error as it is."""
    return aws_error(error) if isinstance(error, ClientError) else error


@contextmanager
def aws_errors() -> Iterator[None]:
    """Let no botocore error out: a ClientError leaves as AwsRetryableError or AwsPermanentError, whose class name is
    what a state machine's Retry and Catch match."""
    try:
        yield
    except ClientError as error:
        raise aws_error(error) from error
