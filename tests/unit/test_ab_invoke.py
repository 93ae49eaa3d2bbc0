"""Sticky A/B invocation: the helper and POST /invoke/{endpoint_name} send each user to their variant, checked with
botocore's Stubber (which holds every call to the service model)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from functions.ab_invoke import app as ab_invoke
from rollouts.assignment import assign
from rollouts.aws.invoke import forget_endpoint_weights, invoke, runtime_client

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = "churn-predictor"
ROLLOUT = "r-0123456789ab"
WEIGHTS = {"v1": 90, "churn-xgb-v2": 10}
CONTEXT = SimpleNamespace(
    function_name="ab-invoke",
    memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:::function:ab-invoke",
    aws_request_id="req-1",
)


def stubbed(service: str) -> tuple[Any, Stubber]:
    aws = botocore.session.get_session()
    client = aws.create_client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """sagemaker-runtime as the route sees it; a call with no answer queued fails the test."""
    client, stubber = stubbed("sagemaker-runtime")
    monkeypatch.setattr("rollouts.aws.invoke.client", lambda service: client)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The sagemaker control plane (DescribeEndpoint), with the cache of live weights empty."""
    client, stubber = stubbed("sagemaker")
    monkeypatch.setattr("rollouts.aws.endpoints.client", lambda service: client)
    forget_endpoint_weights()
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    forget_endpoint_weights()


def answer(body: bytes = b'{"churn": 0.12}', variant: str = "v1") -> dict[str, Any]:
    return {
        "Body": StreamingBody(io.BytesIO(body), len(body)),
        "ContentType": "application/json",
        "InvokedProductionVariant": variant,
    }


def described(weights: dict[str, float]) -> dict[str, Any]:
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
        "EndpointStatus": "InService",
        "CreationTime": now,
        "LastModifiedTime": now,
        "ProductionVariants": [
            {"VariantName": name, "CurrentWeight": weight, "DesiredWeight": weight} for name, weight in weights.items()
        ],
    }


def event(body: Any, endpoint: str = ENDPOINT) -> dict[str, Any]:
    """A REST proxy event (payload format 1.0) for POST /invoke/{endpoint_name}, as API Gateway sends it."""
    path = f"/invoke/{endpoint}"
    return {
        "resource": "/invoke/{endpoint_name}",
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": {"endpoint_name": endpoint},
        "requestContext": {"requestId": "req-1", "stage": "v1", "path": f"/v1{path}"},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def request(user_id: str = "u-1000", **fields: Any) -> dict[str, Any]:
    return {"user_id": user_id, "rollout_id": ROLLOUT, "payload": {"tenure": 3}, **fields}


def sent(variant: str, body: bytes = b'{"tenure": 3}', **extra: Any) -> dict[str, Any]:
    return {
        "EndpointName": ENDPOINT,
        "Body": body,
        "ContentType": "application/json",
        "TargetVariant": variant,
        **extra,
    }


def call(body: Any) -> tuple[int, dict[str, Any]]:
    response = ab_invoke.lambda_handler(event(body), CONTEXT)  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def test_the_helper_invokes_the_users_variant_with_the_callers_parameters(runtime: Stubber) -> None:
    extra = {"InferenceId": "inf-1", "CustomAttributes": "tenant=acme", "Accept": "application/json"}
    runtime.add_response("invoke_endpoint", answer(variant="churn-xgb-v2"), sent("churn-xgb-v2", b"{}", **extra))

    response = invoke(runtime_client(), ENDPOINT, "u-1000", ROLLOUT, WEIGHTS, b"{}", "application/json", **extra)

    assert response["AssignedVariant"] == "churn-xgb-v2" == response["InvokedProductionVariant"]
    assert response["Body"].read() == b'{"churn": 0.12}'


def test_the_helper_leaves_the_choice_of_variant_to_the_assignment(runtime: Stubber) -> None:
    with pytest.raises(ValueError, match="TargetVariant"):
        invoke(runtime_client(), ENDPOINT, "u-1000", ROLLOUT, WEIGHTS, b"{}", "text/csv", TargetVariant="v1")


def test_the_route_sends_the_user_to_their_variant_and_returns_the_models_answer(runtime: Stubber) -> None:
    runtime.add_response("invoke_endpoint", answer(variant="churn-xgb-v2"), sent("churn-xgb-v2"))

    status, body = call(request(weights=WEIGHTS))

    assert status == 200
    assert body == {"variant": "churn-xgb-v2", "content_type": "application/json", "body": '{"churn": 0.12}'}


def test_the_same_user_reaches_the_same_variant_on_every_request(runtime: Stubber) -> None:
    variant = assign("alice", ROLLOUT, WEIGHTS)
    for _ in range(5):
        runtime.add_response("invoke_endpoint", answer(variant=variant), sent(variant))

    variants = {call(request("alice", weights=WEIGHTS))[1]["variant"] for _ in range(5)}

    assert variants == {variant}


def test_without_weights_the_split_follows_the_endpoints_current_weights(runtime: Stubber, sagemaker: Stubber) -> None:
    """The canary moved all traffic to v2: every user goes there. DescribeEndpoint is read once for both requests."""
    sagemaker.add_response("describe_endpoint", described({"v1": 0.0, "v2": 1.0}), {"EndpointName": ENDPOINT})
    runtime.add_response("invoke_endpoint", answer(variant="v2"), sent("v2"))
    runtime.add_response("invoke_endpoint", answer(variant="v2"), sent("v2"))

    assert call(request("alice"))[1]["variant"] == "v2"
    assert call(request("bob"))[1]["variant"] == "v2"


def test_a_string_payload_is_sent_as_is_with_its_content_type_and_inference_id(runtime: Stubber) -> None:
    variant = assign("u-7", ROLLOUT, WEIGHTS)
    expected = sent(variant, b"3,0.5,1", ContentType="text/csv", InferenceId="inf-7")
    runtime.add_response("invoke_endpoint", answer(b"0.12", variant), expected)

    status, body = call(
        request("u-7", payload="3,0.5,1", content_type="text/csv", inference_id="inf-7", weights=WEIGHTS)
    )

    assert (status, body["body"]) == (200, "0.12")


def test_an_answer_that_is_not_text_comes_back_in_base64(runtime: Stubber) -> None:
    runtime.add_response("invoke_endpoint", answer(b"\xff\x00", "churn-xgb-v2"), sent("churn-xgb-v2"))

    status, body = call(request(weights=WEIGHTS))

    assert (status, body["body_base64"]) == (200, "/wA=")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rollout_id": ROLLOUT, "payload": {}}, "user_id"),
        (request(user_id=""), "user_id"),
        ({"user_id": "u-1", "payload": {}}, "rollout_id"),
        ({"user_id": "u-1", "rollout_id": ROLLOUT}, "payload"),
        (request(weights={"v1": 1, "v2": -1}), "weights.v2"),
        (request(weights={"v1": 1e308, "v2": 1e308}), "weights.v1"),
        (request(weights={"v1": 0, "v2": 0}), "weights"),
        (request(weights={}), "weights"),
        (request(weights={"not a variant": 1}), "weights.not a variant.[key]"),
        (request(weight={"v1": 1}), "weight"),
        (request(inference_id="x" * 65), "inference_id"),
        ("{not json", "body"),
    ],
)
def test_a_request_that_cannot_be_served_is_refused_with_the_field(runtime: Stubber, body: Any, field: str) -> None:
    status, answer_ = call(body)

    assert status == 400
    assert answer_["error"] == "InvalidRequest"
    assert field in [detail["field"] for detail in answer_["details"]]


def test_weights_that_cannot_split_say_why(runtime: Stubber) -> None:
    _, body = call(request(weights={"v1": 1, "v2": -1}))

    assert body["details"] == [{"field": "weights.v2", "reason": "Input should be greater than or equal to 0"}]


def test_an_endpoint_that_does_not_exist_is_a_404(runtime: Stubber, sagemaker: Stubber) -> None:
    message = f'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}".'
    sagemaker.add_client_error("describe_endpoint", "ValidationException", message, 400)

    status, body = call(request())

    assert (status, body["error"], body["details"][0]["field"]) == (404, "EndpointNotFound", "endpoint_name")


def test_an_endpoint_with_no_variant_of_weight_is_a_409(runtime: Stubber, sagemaker: Stubber) -> None:
    sagemaker.add_response("describe_endpoint", described({"v1": 0.0}), {"EndpointName": ENDPOINT})

    status, body = call(request())

    assert (status, body["error"]) == (409, "NoVariantWithWeight")


def test_a_model_that_fails_is_a_424_with_its_own_status_and_message(runtime: Stubber) -> None:
    runtime.add_client_error(
        "invoke_endpoint",
        "ModelError",
        "Received client error (400) from primary with message 'bad tenure'",
        424,
        modeled_fields={"OriginalStatusCode": 400, "OriginalMessage": "bad tenure"},
        expected_params=sent("churn-xgb-v2"),
    )

    status, body = call(request(weights=WEIGHTS))

    assert (status, body["error"]) == (424, "ModelError")
    assert body["details"] == [{"status": 400, "message": "bad tenure"}]


def test_a_variant_the_endpoint_lacks_is_sagemakers_400(runtime: Stubber) -> None:
    message = "Variant v9 does not exist for endpoint churn-predictor"
    runtime.add_client_error("invoke_endpoint", "ValidationError", message, 400, expected_params=sent("v9"))

    status, body = call(request(weights={"v9": 1}))

    assert (status, body["message"]) == (400, f"SageMaker: {message}")


@pytest.mark.parametrize("operation", ["invoke_endpoint", "describe_endpoint"])
def test_an_endpoint_without_the_opt_in_tag_is_a_403_that_names_the_tag(
    runtime: Stubber, sagemaker: Stubber, operation: str
) -> None:
    # The function's role may only reach endpoints tagged rollouts:ab-invoke=true; IAM's refusal was a 502.
    denied = runtime if operation == "invoke_endpoint" else sagemaker
    message = f"User is not authorized to perform: sagemaker:{operation} on resource: endpoint/{ENDPOINT}"
    denied.add_client_error(operation, "AccessDeniedException", message, 403)

    status, body = call(request(weights=WEIGHTS if operation == "invoke_endpoint" else None))

    assert (status, body["error"], body["details"][0]["field"]) == (403, "EndpointNotInvokable", "endpoint_name")
    assert "rollouts:ab-invoke=true" in body["message"]


def test_the_route_may_invoke_only_the_endpoints_that_opt_in() -> None:
    from sandbox.template import load

    statements = load()["Resources"]["AbInvokeFunction"]["Properties"]["Policies"][0]["Statement"]
    (sagemaker,) = [s for s in statements if "sagemaker:InvokeEndpoint" in s["Action"]]

    assert sagemaker["Condition"] == {"StringEquals": {f"aws:ResourceTag/{ab_invoke.OPT_IN_TAG}": "true"}}


def test_a_throttled_read_of_the_weights_is_a_503_to_retry(runtime: Stubber, sagemaker: Stubber) -> None:
    # DescribeEndpoint's ClientError left the route untranslated: a 502 for a call the client may simply retry.
    sagemaker.add_client_error("describe_endpoint", "ThrottlingException", "Rate exceeded", 400)

    status, body = call(request())

    assert (status, body["error"]) == (503, "ServiceUnavailable")
