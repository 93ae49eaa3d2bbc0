"""AWS errors injected into the control plane's own calls, whatever the service, as AWS would answer them.

`LocalCloud.inject_aws_fault("PutEvents", "ThrottlingException", times=3)` makes the control plane's next three
PutEvents calls fail with that code before any request is sent (botocore's `before-call` event on the control
plane's session, `rollouts.aws.clients.session`). The SDK's own retries do not see these errors: each injected error
is one that outlasted them, which is what a task's Retry must then handle. The clients of tests and observers
(`LocalCloud.client`) use another session and are never affected.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

from sandbox.moto_ext import core

# The HTTP status AWS answers each code with; anything else is a 400.
STATUS = {
    "InternalFailure": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "AccessDeniedException": 403,
    "AccessDenied": 403,
}

_installed: set[int] = set()


def install() -> None:
    """Register the injection on the control plane's session, once per session. `LocalCloud.start` does, before
    the control plane makes its first client (a client copies the session's hooks when it is made)."""
    from rollouts.aws import clients

    session = clients.session()
    if id(session) in _installed:
        return
    session.events.register("before-call", _fail_if_injected)
    _installed.add(id(session))


def inject(operation: str, code: str, times: int = 1) -> None:
    with core.REGISTRY.lock:
        core.REGISTRY.aws_faults.setdefault(operation, []).extend([code] * times)


def operations() -> list[str]:
    """The control plane's AWS operations called since `install`, in the order first called."""
    with core.REGISTRY.lock:
        return list(dict.fromkeys(core.REGISTRY.control_plane_calls))


def _fail_if_injected(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    with core.REGISTRY.lock:
        core.REGISTRY.control_plane_calls.append(model.name)
        codes = core.REGISTRY.aws_faults.get(model.name) or []
        code = codes.pop(0) if codes else None
    if code is None:
        return None
    status = STATUS.get(code, 400)
    core.REGISTRY.log_call(model.name, fault=code)
    parsed = {
        "Error": {"Code": code, "Message": f"injected {code} on {model.name}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
    }
    return AWSResponse(f"https://{model.service_model.endpoint_prefix}.local/", status, {}, None), parsed
