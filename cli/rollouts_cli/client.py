"""A Python client for the rollouts API: SigV4-signed requests, JSON answers, the API's errors as `ApiError`.

    client = RolloutsClient.from_environment()          # ROLLOUTS_API_URL, or the stack's ApiUrl output
    started = client.start(spec)                        # {"rollout_id", "status", "execution_arn"}
    view = client.get(started["rollout_id"])            # status, weights, decisions, ...

Credentials come from botocore's standard chain (environment, profiles, SSO, roles). Against the local cloud
(`make serve`, an http://127.0.0.1 URL) any credentials do, and none are needed.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

API_URL_VARIABLE = "ROLLOUTS_API_URL"
STACK_VARIABLE = "ROLLOUTS_STACK"
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ApiError(Exception):
    """The API refused a request: its HTTP status, and the body's `error`, `message` and `details`."""

    def __init__(self, status: int, error: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message
        self.details = details or []


class ConfigurationError(Exception):
    """No API URL or no credentials: what to set, in the message."""


def api_url_of_stack(stack_name: str, session: botocore.session.Session | None = None) -> str:
    """The `ApiUrl` output of a deployed stack."""
    cloudformation = (session or botocore.session.get_session()).create_client("cloudformation")
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []) if stacks else []:
        if output["OutputKey"] == "ApiUrl":
            return str(output["OutputValue"])
    raise ConfigurationError(f"stack {stack_name!r} has no ApiUrl output")


class RolloutsClient:
    """One API: its base URL (with the stage, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/v1)."""

    def __init__(
        self,
        api_url: str,
        session: botocore.session.Session | None = None,
        region: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        parsed = urllib.parse.urlsplit(self.api_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigurationError(f"{api_url!r} is not an http(s) URL of the API")
        self.local = parsed.hostname in _LOCAL_HOSTS
        self._session = session or botocore.session.get_session()
        host_region = _REGION_IN_HOST.search(parsed.hostname or "")
        self.region = (
            region
            or (host_region.group(1) if host_region else None)
            or self._session.get_config_variable("region")
            or "us-east-1"
        )
        self.timeout = timeout

    @classmethod
    def from_environment(
        cls, api_url: str | None = None, stack: str | None = None, session: botocore.session.Session | None = None
    ) -> RolloutsClient:
        """The API of `api_url`, else of $ROLLOUTS_API_URL, else of `stack`'s (or $ROLLOUTS_STACK's) ApiUrl output."""
        url = api_url or os.environ.get(API_URL_VARIABLE)
        stack = stack or os.environ.get(STACK_VARIABLE)
        if not url and stack:
            url = api_url_of_stack(stack, session)
        if not url:
            raise ConfigurationError(
                f"no API URL: pass --api-url, set {API_URL_VARIABLE} (`make serve` prints it), or name the stack "
                f"with --stack or {STACK_VARIABLE}"
            )
        return cls(url, session=session)

    # -- the routes ----------------------------------------------------------------------------------------------

    def start(self, spec: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", "/rollouts", spec, headers=headers)

    def get(self, rollout_id: str) -> dict[str, Any]:
        return self.request("GET", f"/rollouts/{_segment(rollout_id)}")

    def list_rollouts(
        self,
        endpoint: str | None = None,
        statuses: list[str] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """One page: {"rollouts": [...], "next_token": ...}."""
        query: list[tuple[str, str]] = [("status", status) for status in statuses or []]
        for name, value in (("endpoint", endpoint), ("limit", limit), ("next_token", next_token)):
            if value is not None:
                query.append((name, str(value)))
        return self.request("GET", "/rollouts", query=query)

    def iter_rollouts(
        self, endpoint: str | None = None, statuses: list[str] | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every rollout, newest first, page after page."""
        token: str | None = None
        while True:
            page = self.list_rollouts(endpoint, statuses, page_size, token)
            yield from page["rollouts"]
            token = page.get("next_token")
            if not token:
                return

    def command(self, rollout_id: str, command: str, reason: str | None = None) -> dict[str, Any]:
        """abort, promote or resume."""
        body = {"reason": reason} if reason else {}
        return self.request("POST", f"/rollouts/{_segment(rollout_id)}/{command}", body)

    def retry(self, rollout_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """A rolled-back or failed rollout again, as a new rollout ({"rollout_id", ...}); for a RollbackFailed one,
        its restore again ({"command": "retry", "outcome", ...})."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", f"/rollouts/{_segment(rollout_id)}/retry", {}, headers=headers)

    def put_policy(self, group: str, policy: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a model package group's release policy."""
        return self.request("PUT", f"/policies/{_segment(group)}", policy)

    def get_policy(self, group: str) -> dict[str, Any]:
        return self.request("GET", f"/policies/{_segment(group)}")

    def list_policies(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/policies").get("policies", []))

    def delete_policy(self, group: str) -> None:
        self.request("DELETE", f"/policies/{_segment(group)}")

    def send_feedback(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return self.request("POST", "/feedback", {"events": events})

    # -- the wire ------------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send a signed request; the answer's JSON, or ApiError for a status of 400 and above."""
        url = self.api_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        signed = self.sign(method, url, data, {"Content-Type": "application/json", **(headers or {})})
        request = urllib.request.Request(url, data=data, headers=signed, method=method)  # noqa: S310 (http(s) only)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only)
                status, text = response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode("utf-8", errors="replace")
        except urllib.error.URLError as error:
            raise ApiError(0, "Unreachable", f"{self.api_url}: {error.reason}") from error
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {"message": text}
        if status >= 400:
            answer = answer if isinstance(answer, dict) else {}
            raise ApiError(
                status,
                str(answer.get("error") or "Error"),
                str(answer.get("message") or text),
                answer.get("details") if isinstance(answer.get("details"), list) else [],
            )
        return answer if isinstance(answer, dict) else {"value": answer}

    def sign(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        """The headers with SigV4's for execute-api (botocore's signer); a request the API's IAM auth accepts."""
        credentials = self._session.get_credentials()
        if credentials is None:
            if not self.local:
                raise ConfigurationError(
                    "no AWS credentials: configure a profile, SSO or environment variables (the standard chain)"
                )
            credentials = Credentials("local", "local")  # the local cloud reads the key, not the signature
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
        return dict(request.headers.items())


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")
