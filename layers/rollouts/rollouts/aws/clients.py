"""Cached boto3 clients, built on first use (not at import) and safe to share between threads."""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)


@functools.cache
def _session() -> boto3.session.Session:
    # One session: each new session loads botocore's data files again when it makes its first client.
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    # A session is not thread-safe while it creates clients; the local cloud runs handlers on threads.
    with _lock:
        return _session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client (tests and the local cloud call this when they swap the backend)."""
    client.cache_clear()
