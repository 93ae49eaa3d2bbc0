"""The API against its contract: schemathesis generates requests from docs/openapi.json (valid and invalid ones,
for every operation), sends them SigV4-signed to the local cloud served over HTTP, and checks every answer: no
server error, a status the document lists for the operation, a body in the documented shape, the documented
content type, a refusal of what the document calls invalid and an acceptance of what it calls valid.

Three of schemathesis's checks are left out. Two expect what API Gateway does not do and are replaced here by tests
of what it does: a request without a signature gets 403 `Missing Authentication Token` (not 401), and so does a
method a resource does not have (not 405). The third sends a wrong signature: the served local cloud holds no
secret keys, so it reads the caller's key from the signature without checking it (IAM does that on AWS)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    missing_required_header,
    positive_data_acceptance,
    unsupported_method,
)

from rollouts_cli.client import RolloutsClient

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
# The coverage phase derives its cases from every keyword of every schema when the tests are collected: over a
# minute for the spec's body alone. The fuzzing phase (valid and invalid requests, drawn by hypothesis) runs instead.
SCHEMA.config.phases.coverage.enabled = False


class SigV4(requests.auth.AuthBase):
    """Signs a generated request as the CLI does (botocore's SigV4 signer, through `RolloutsClient.sign`) when it
    carries the `Authorization` header the document requires; one generated without it goes unsigned."""

    def __init__(self, api_url: str) -> None:
        self.client = RolloutsClient(api_url)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Authorization" not in request.headers:
            return request
        del request.headers["Authorization"]
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        assert request.method is not None and request.url is not None
        assert body is None or isinstance(body, bytes)
        headers = {name: str(value) for name, value in request.headers.items()}
        request.headers.update(self.client.sign(request.method, request.url, body, headers))
        return request


@SCHEMA.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_the_documented_one(case: Any, api_url: str) -> None:
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive:
        # A `next_token` is opaque: only one the API returned is valid, so a generated one is not a valid request
        # (paging through real tokens is tested in tests/integration). And each valid request is a new one: an
        # Idempotency-Key drawn twice for two bodies is rightly refused (422), as tests/integration shows.
        if case.query:
            case.query.pop("next_token", None)
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = uuid.uuid4().hex
    response = case.call(base_url=api_url, auth=SigV4(api_url))
    case.validate_response(
        response,
        excluded_checks=[missing_required_header, unsupported_method, ignored_auth, positive_data_acceptance],
    )
    if positive and response.status_code == 400:
        # A valid request is accepted, or refused for what the document cannot say: what only the endpoint's state
        # tells (`InvalidRollout`: the candidate's variant already serves, an instance type the endpoint cannot
        # take) or a rule across fields (names unique across the checks, each arm its own variant). Either way the
        # refusal names the field, as every 400 must.
        body = response.json()
        assert body["error"] in ("InvalidRollout", "InvalidRequest") and body["details"], body
        assert all(detail.get("field") and detail.get("reason") for detail in body["details"]), body


def _status(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.parametrize(("method", "path"), [("GET", "/rollouts"), ("POST", "/feedback"), ("GET", "/rollouts/r-1")])
def test_a_request_without_a_signature_gets_api_gateways_403(api_url: str, method: str, path: str) -> None:
    assert _status(method, api_url + path) == (403, {"message": "Missing Authentication Token"})


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS", "TRACE"])
def test_a_method_the_resource_lacks_gets_api_gateways_403(api_url: str, method: str) -> None:
    url = api_url + "/rollouts"
    signed = RolloutsClient(api_url).sign(method, url, None, {})

    assert _status(method, url, signed) == (403, {"message": "Missing Authentication Token"})
