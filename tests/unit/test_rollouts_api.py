"""The rollouts API's answers to the domain's errors, as API Gateway gets them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from functions.rollouts_api import app as rollouts_api
from rollouts.errors import InvalidRolloutError
from tests.conftest import load_event

CONTEXT = SimpleNamespace(
    function_name="rollouts-api",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:::function:rollouts-api",
    aws_request_id="req-1",
)


def start_refused(monkeypatch: pytest.MonkeyPatch, error: Exception) -> dict[str, Any]:
    def refuse(spec: Any, idempotency_key: str | None = None) -> None:
        raise error

    monkeypatch.setattr(rollouts_api, "start_rollout", refuse)
    response: dict[str, Any] = rollouts_api.lambda_handler(load_event("api/start_rollout.json"), CONTEXT)  # type: ignore[arg-type]
    return response


def test_an_invalid_rollout_names_its_field_in_the_details(monkeypatch: pytest.MonkeyPatch) -> None:
    error = InvalidRolloutError(field="baseline_variant", reason="the endpoint has variants ['a', 'b']; name one")

    response = start_refused(monkeypatch, error)

    assert response["statusCode"] == 400
    assert response["body"] == (
        '{"error":"InvalidRollout","message":"baseline_variant: the endpoint has variants [\'a\', \'b\']; name one",'
        '"details":[{"field":"baseline_variant","reason":"the endpoint has variants [\'a\', \'b\']; name one"}]}'
    )


def test_an_invalid_rollout_without_a_field_has_no_details(monkeypatch: pytest.MonkeyPatch) -> None:
    error = InvalidRolloutError(field=None, reason="the endpoint's config 'churn-v1' no longer exists")

    response = start_refused(monkeypatch, error)

    assert response["statusCode"] == 400
    assert response["body"] == (
        '{"error":"InvalidRollout","message":"the endpoint\'s config \'churn-v1\' no longer exists","details":[]}'
    )
