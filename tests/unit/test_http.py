"""The API functions' router: what API Gateway gets back for routes, parameters, unknown resources, errors, bodies."""

from __future__ import annotations

import base64
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rollouts.http import BadRequestError, Response, Router, error_response
from sandbox.template import load
from tests.conftest import load_event

ROOT = Path(__file__).resolve().parents[2]


def event(method: str, path: str, body: str | None = None, resource: str | None = None, **extra: Any) -> dict[str, Any]:
    """A REST proxy event (payload format 1.0) as API Gateway sends it, with only what the router reads.

    `resource` is the API's resource API Gateway matched the path to (the path itself when not given); the path
    parameters are the path's segments where the resource has `{names}`.
    """
    resource = resource or path
    parameters = {
        name[1:-1]: value
        for name, value in zip(resource.split("/"), path.split("/"), strict=True)
        if name.startswith("{")
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": parameters or None,
        "requestContext": {"requestId": "req-1", "stage": "v1", "path": f"/v1{path}"},
        "body": body,
        "isBase64Encoded": False,
        **extra,
    }


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


class NotFoundInStoreError(Exception):
    pass


class RolloutGoneError(NotFoundInStoreError):
    pass


@pytest.fixture
def app() -> Router:
    """A router with the API's shapes of route: a collection, an item by id, and a command on the item."""
    router = Router()

    @router.post("/rollouts")
    def start() -> Response:
        return Response(201, json.dumps({"created": router.current_event.json_body}))

    @router.get("/rollouts/{rollout_id}")
    def get(rollout_id: str) -> dict[str, Any]:
        return {"rollout_id": rollout_id}

    @router.post("/rollouts/{rollout_id}/{command}")
    def command(rollout_id: str, command: str) -> Response:
        return Response.json(202, {"rollout_id": rollout_id, "command": command})

    @router.get("/rollouts/active")
    def active() -> list[str]:
        return ["r-1"]

    return router


def test_a_route_gets_its_path_parameters_and_its_status_and_body_are_sent(app: Router) -> None:
    response = app.resolve(
        event("POST", "/rollouts/r-0123456789ab/abort", resource="/rollouts/{rollout_id}/{command}"), None
    )

    assert response == {
        "statusCode": 202,
        "headers": {"Content-Type": "application/json"},
        "body": '{"rollout_id":"r-0123456789ab","command":"abort"}',
        "isBase64Encoded": False,
    }


def test_a_value_a_route_returns_is_sent_as_compact_json_with_status_200(app: Router) -> None:
    response = app.resolve(event("GET", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)

    assert response["statusCode"] == 200
    assert response["body"] == '{"rollout_id":"r-1"}'
    assert response["headers"]["Content-Type"] == "application/json"


def test_the_resource_api_gateway_matched_picks_the_route_not_the_path(app: Router) -> None:
    """API Gateway prefers /rollouts/active to /rollouts/{rollout_id} for that path; the router follows its choice."""
    static = app.resolve(event("GET", "/rollouts/active"), None)
    by_id = app.resolve(event("GET", "/rollouts/active", resource="/rollouts/{rollout_id}"), None)

    assert body_of(static) == ["r-1"]
    assert body_of(by_id) == {"rollout_id": "active"}


def test_the_path_parameters_are_the_ones_api_gateway_passed(app: Router) -> None:
    sent = event("GET", "/rollouts/r%2D1", resource="/rollouts/{rollout_id}", pathParameters={"rollout_id": "r-1"})

    assert body_of(app.resolve(sent, None)) == {"rollout_id": "r-1"}


def test_an_unknown_resource_gets_404_naming_the_path(app: Router) -> None:
    response = app.resolve(event("GET", "/deployments"), None)

    assert response["statusCode"] == 404
    assert response["body"] == '{"error":"NotFound","message":"no route for GET /deployments","details":[]}'
    assert response["headers"]["Content-Type"] == "application/json"


def test_an_event_without_a_resource_gets_404(app: Router) -> None:
    response = app.resolve({**event("GET", "/rollouts"), "resource": None}, None)

    assert response["statusCode"] == 404


def test_a_known_resource_with_another_method_gets_405_with_the_methods_it_allows(app: Router) -> None:
    @app.put("/rollouts/{rollout_id}")
    def replace(rollout_id: str) -> dict[str, Any]:
        return {}

    response = app.resolve(event("DELETE", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)

    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, PUT"
    assert response["body"] == (
        '{"error":"MethodNotAllowed","message":"DELETE is not allowed on /rollouts/r-1; allowed: GET, PUT",'
        '"details":[]}'
    )


def test_the_method_is_matched_whatever_its_case(app: Router) -> None:
    response = app.resolve(event("get", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)

    assert response["statusCode"] == 200


def test_a_body_that_is_not_json_gets_400_naming_the_body(app: Router) -> None:
    response = app.resolve(event("POST", "/rollouts", "{not json"), None)

    assert response["statusCode"] == 400
    body = body_of(response)
    assert body["error"] == "InvalidRequest"
    assert body["message"].startswith("body: Invalid JSON: ")
    assert body["details"] == [{"field": "body", "reason": body["message"].removeprefix("body: ")}]


@pytest.mark.parametrize("body", [None, ""])
def test_a_request_without_a_body_has_no_json_body(app: Router, body: str | None) -> None:
    response = app.resolve(event("POST", "/rollouts", body), None)

    assert body_of(response) == {"created": None}


def test_a_base64_encoded_body_is_decoded(app: Router) -> None:
    encoded = base64.b64encode(json.dumps({"endpoint_name": "churn-predictor", "note": "é"}).encode()).decode()

    response = app.resolve(event("POST", "/rollouts", encoded, isBase64Encoded=True), None)

    assert body_of(response) == {"created": {"endpoint_name": "churn-predictor", "note": "é"}}


def test_a_body_flagged_base64_that_is_not_gets_400(app: Router) -> None:
    response = app.resolve(event("POST", "/rollouts", "{not base64}", isBase64Encoded=True), None)

    assert response["statusCode"] == 400
    assert body_of(response)["details"][0]["field"] == "body"


def test_the_handler_of_the_most_specific_exception_class_answers() -> None:
    app = Router()
    raised: list[Exception] = [RolloutGoneError("r-1 is gone"), NotFoundInStoreError("r-2 is unknown")]

    @app.exception_handler(Exception)
    def anything(error: Exception) -> Response:
        return Response.json(500, {"handler": "Exception"})

    @app.exception_handler(RolloutGoneError)
    def gone(error: RolloutGoneError) -> Response:
        return Response.json(410, {"handler": "RolloutGone", "message": str(error)})

    @app.exception_handler(NotFoundInStoreError)
    def not_found(error: NotFoundInStoreError) -> Response:
        return Response.json(404, {"handler": "NotFoundInStore", "message": str(error)})

    @app.get("/rollouts/{rollout_id}")
    def get(rollout_id: str) -> dict[str, Any]:
        raise raised.pop(0)

    first = app.resolve(event("GET", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)
    second = app.resolve(event("GET", "/rollouts/r-2", resource="/rollouts/{rollout_id}"), None)

    assert (first["statusCode"], body_of(first)) == (410, {"handler": "RolloutGone", "message": "r-1 is gone"})
    assert (second["statusCode"], body_of(second)) == (404, {"handler": "NotFoundInStore", "message": "r-2 is unknown"})


def test_an_exception_handler_can_answer_the_routers_own_errors() -> None:
    app = Router()

    @app.exception_handler(BadRequestError)
    def bad_request(error: BadRequestError) -> Response:
        return Response.json(422, {"problem": error.details[0]["field"]}, {"X-Problem": "body"})

    @app.post("/feedback")
    def feedback() -> Response:
        return Response.json(202, app.current_event.json_body)

    response = app.resolve(event("POST", "/feedback", "[1,"), None)

    assert response["statusCode"] == 422
    assert response["headers"] == {"Content-Type": "application/json", "X-Problem": "body"}
    assert body_of(response) == {"problem": "body"}


def test_an_exception_without_a_handler_propagates_to_lambda() -> None:
    app = Router()

    @app.get("/rollouts/{rollout_id}")
    def get(rollout_id: str) -> dict[str, Any]:
        raise RuntimeError("the table is unreachable")

    with pytest.raises(RuntimeError, match="the table is unreachable"):
        app.resolve(event("GET", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)


def test_a_route_reads_the_request_id_headers_and_path_parameters_of_the_current_event() -> None:
    app = Router()
    seen: dict[str, Any] = {}

    @app.post("/rollouts/{rollout_id}/abort")
    def abort(rollout_id: str) -> Response:
        request = app.current_event
        seen.update(
            request_id=request.request_id,
            path_parameters=request.path_parameters,
            content_type=request.header("content-type"),
            missing=request.header("X-Not-Sent"),
            reason=request.json_body["reason"],
        )
        return Response(202)

    response = app.resolve(load_event("api/abort_rollout.json"), None)

    assert response["statusCode"] == 202
    assert response["body"] == ""
    assert seen == {
        "request_id": "b81d5e37-6f2a-4c9b-a4d0-1e7f3c5b9a03",
        "path_parameters": {"rollout_id": "r-0123456789ab"},
        "content_type": "application/json",
        "missing": None,
        "reason": "customer reports wrong churn scores",
    }


def test_the_current_event_exists_only_while_a_request_is_resolved(app: Router) -> None:
    app.resolve(event("GET", "/rollouts/r-1", resource="/rollouts/{rollout_id}"), None)

    with pytest.raises(RuntimeError, match="no request"):
        _ = app.current_event


def test_a_route_resource_must_start_with_a_slash() -> None:
    with pytest.raises(ValueError, match="starts with '/'"):
        Router().get("rollouts")


def test_a_resource_and_method_take_one_route(app: Router) -> None:
    with pytest.raises(ValueError, match=r"GET /rollouts/\{rollout_id\} has a route already"):
        app.get("/rollouts/{rollout_id}")


def test_each_api_function_routes_exactly_the_resources_and_methods_the_template_sends_it() -> None:
    """Routes are looked up by the template's own paths: a path spelt differently would never be reached."""
    sent: dict[str, set[tuple[str, str]]] = {}
    for resource in load()["Resources"].values():
        for trigger in resource.get("Properties", {}).get("Events", {}).values():
            if trigger["Type"] == "Api":
                folder = resource["Properties"]["CodeUri"].strip("/").split("/")[-1]
                sent.setdefault(folder, set()).add(
                    (trigger["Properties"]["Method"].upper(), trigger["Properties"]["Path"])
                )

    routed = {folder: importlib.import_module(f"functions.{folder}.app").app.routes for folder in sent}

    assert sent.keys() == {"rollouts_api", "feedback_api", "ab_invoke"}
    assert routed == sent


def test_an_error_body_is_written_one_way_by_every_route() -> None:
    # pydantic's compact JSON, UTF-8 as is: the same bytes from rollouts_api, feedback_api and ab_invoke
    response = error_response(404, "NotFound", "no rollout r-é", [{"field": "rollout_id"}], {"X-A": "1"})

    body = '{"error":"NotFound","message":"no rollout r-é","details":[{"field":"rollout_id"}]}'
    assert (response.status, response.body, dict(response.headers)) == (404, body, {"X-A": "1"})


@pytest.mark.parametrize(
    "module", ["functions.rollouts_api.app", "functions.feedback_api.app", "functions.ab_invoke.app"]
)
def test_the_api_functions_load_neither_powertools_event_handler_nor_asyncio(module: str) -> None:
    """Importing Powertools' event_handler package (and asyncio with it) made the API's cold start the slowest."""
    heavy = ("asyncio", "aws_lambda_powertools.event_handler")
    probe = f"import sys, {module}; print([m for m in sys.modules if m.startswith({heavy!r})])"
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "ROLLOUTS_TABLE_NAME": "x",
        "PYTHONPATH": "layers/rollouts:.",
    }

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
