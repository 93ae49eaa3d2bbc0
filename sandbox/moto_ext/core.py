"""What every extension of moto shares: the account, the registry of the local cloud's state, the one place that
replaces moto's attributes, and `submit`, which delivers asynchronous work (EventBridge targets, retries) on a
thread each.

Nothing here waits or reads the time for the simulation: that is `clock`'s.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from sandbox import virtual_time

ACCOUNT = "123456789012"
REGION = "us-east-1"

Handler = Callable[[dict[str, Any], Any], Any]

_GENERATIONS = itertools.count(1)
_log = logging.getLogger("sandbox")


@dataclass
class Registry:
    """What the extensions read: handlers by function name, injected faults, a log of calls, SageMaker's extra
    state. `LocalCloud` fills it and clears it."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    endpoint_update_seconds: float = 120.0
    faults: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Endpoint -> the data plane's scorer: (target variant or None, rows of features) -> scores, for InvokeEndpoint.
    scorers: dict[str, Callable[[str | None, list[list[float]]], list[float]]] = field(default_factory=dict)
    aws_faults: dict[str, list[str]] = field(default_factory=dict)  # operation -> AWS error codes, next call first
    control_plane_calls: list[str] = field(default_factory=list)  # the control plane's operations, once faults watch
    calls: list[dict[str, Any]] = field(default_factory=list)
    monitoring_schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    monitoring_executions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    emit_endpoint_events: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Which local cloud this is: work queued by one (a delivery, a retry) must not run in the next one.
    generation: int = field(default_factory=lambda: next(_GENERATIONS))

    def retire(self) -> None:
        """The local cloud stops: what it left queued or scheduled is dropped when its time comes."""
        self.generation = next(_GENERATIONS)

    def take_fault(self, operation: str) -> dict[str, Any] | None:
        with self.lock:
            queue = self.faults.get(operation) or []
            return queue.pop(0) if queue else None

    def log_call(self, operation: str, **details: Any) -> None:
        # `at` is simulated seconds (the clock tests read); `real_at` is time.monotonic(), for benchmarks that time
        # the reaction itself.
        clock = virtual_time.current()
        at = clock.now() if clock is not None else 0.0
        with self.lock:
            self.calls.append({"operation": operation, "at": at, "real_at": time.monotonic(), **details})


REGISTRY = Registry()


# --- the one install point for moto's attributes -------------------------------------------------------------------

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "<absent>"})()


@dataclass(frozen=True)
class Replacement:
    """One attribute the local cloud replaced (or added, when `original` is ABSENT)."""

    owner: Any  # a class or a module
    name: str
    original: Any

    @property
    def qualified_name(self) -> str:
        owner = self.owner
        if isinstance(owner, type):
            return f"{owner.__module__}.{owner.__qualname__}.{self.name}"
        return f"{owner.__name__}.{self.name}"


REPLACED: list[Replacement] = []


def moto_version() -> str:
    import moto

    return str(moto.__version__)


def replace(owner: Any, name: str, new: Any, *, added: bool = False) -> Any:
    """Set `owner.name` to `new`, record it in REPLACED, and return the original (ABSENT for an `added` one).

    `added` says moto lacks the attribute (an action it does not implement, a field it does not serialise). An
    attribute that should be there and is not fails here, by name, rather than later in a request."""
    original = getattr(owner, name, ABSENT)
    if original is ABSENT and not added:
        raise AttributeError(
            f"{Replacement(owner, name, original).qualified_name} is gone in moto {moto_version()}: the local "
            "cloud's extension of it needs a look"
        )
    REPLACED.append(Replacement(owner, name, original))
    setattr(owner, name, new)
    return original


# --- asynchronous deliveries -------------------------------------------------------------------------------------


def submit(work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run a delivery on a thread of its own, in this local cloud only; a delivery that fails is logged, as AWS
    would count it in the target's metrics. (A pool's idle workers would block where the virtual clock cannot see
    them, in a C-level queue.)"""
    generation = REGISTRY.generation

    def deliver() -> None:
        if REGISTRY.generation != generation:
            return
        try:
            work(*args, **kwargs)
        except Exception as error:
            _log.warning("An EventBridge delivery failed: %s: %s", type(error).__name__, error)

    threading.Thread(target=deliver, name="local-cloud-delivery", daemon=True).start()


_clients: dict[tuple[int, str], Any] = {}
_clients_lock = threading.Lock()


@functools.cache
def session() -> boto3.session.Session:
    """One session for the local clouds' clients: a new session reads botocore's service models again. The local
    cloud's credentials are the same fixed values each time."""
    return boto3.session.Session(region_name=REGION)


def client(service: str) -> Any:
    """A boto3 client for the local cloud, one per service and local cloud, shared by its threads (botocore clients
    are thread-safe): building a client costs more than the call it makes, and a client built between two local
    clouds would have found no credentials, and kept failing in the next one."""
    key = (REGISTRY.generation, service)
    with _clients_lock:
        if key not in _clients:
            for stale in [k for k in _clients if k[0] != key[0]]:
                del _clients[stale]
            _clients[key] = session().client(service)
        return _clients[key]
