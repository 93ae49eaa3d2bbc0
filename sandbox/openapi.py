"""The API's OpenAPI 3.1 document (docs/openapi.json), generated from the pydantic models that validate requests
and shape responses, so that the contract and the code cannot drift apart.

`python -m sandbox.openapi` writes docs/openapi.json; `--check` writes nothing and fails when the committed file
differs (`make test` runs it). Every route of template.yaml's API is in it (a test checks), with an example of each
request and the error body every refusal has.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from functions.ab_invoke.app import InvokeRequest
from rollouts.models.api import (
    CommandResponse,
    ErrorResponse,
    ListRolloutsQuery,
    RolloutList,
    RolloutView,
    StartRolloutResponse,
)
from rollouts.models.feedback import MAX_EVENTS_PER_MESSAGE, Label, Reward
from rollouts.models.policy import ReleasePolicy
from rollouts.models.spec import RolloutSpec

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
REF = "#/components/schemas/{model}"
MODELS: list[type[BaseModel]] = [
    RolloutSpec,
    StartRolloutResponse,
    RolloutList,
    RolloutView,
    CommandResponse,
    ErrorResponse,
    Reward,
    Label,
    InvokeRequest,
    ReleasePolicy,
]


def _ref(model: type[BaseModel] | str) -> dict[str, str]:
    return {"$ref": REF.format(model=model if isinstance(model, str) else model.__name__)}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"content": {"application/json": content}}


def _error(description: str, *codes: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    shown = example or {"error": codes[0], "message": description, "details": []}
    return {"description": f"{description} (`error`: {', '.join(codes)})", **_json(_ref(ErrorResponse), shown)}


INVALID = _error(
    "The body, a parameter or a header is not valid: one detail per problem, naming its field",
    "InvalidRequest",
    example={
        "error": "InvalidRequest",
        "message": "strategy.canary.steps.0.weight: Input should be greater than 0",
        "details": [{"field": "strategy.canary.steps.0.weight", "reason": "Input should be greater than 0"}],
    },
)
NOT_FOUND = _error("No rollout has this id", "RolloutNotFound")
GATEWAY_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
    "description": "API Gateway's own refusal, before any handler runs",
}
FORBIDDEN_DESCRIPTION = (
    "API Gateway refused the request: no SigV4 signature, a wrong one, or a caller whose IAM policy does not allow "
    "execute-api:Invoke on the route; also the answer to a path or method the API does not have"
)


def _forbidden(operation: dict[str, Any]) -> None:
    """Every operation may get API Gateway's 403; an operation's own 403 (an ErrorResponse) stays beside it."""
    responses = operation["responses"]
    own = responses.get("403")
    if own is None:
        responses["403"] = {
            "description": FORBIDDEN_DESCRIPTION,
            **_json(_ref_gateway(), {"message": "Missing Authentication Token"}),
        }
        return
    schema = own["content"]["application/json"]["schema"]
    own["content"]["application/json"]["schema"] = {"anyOf": [schema, _ref_gateway()]}
    own["description"] += f"; or: {FORBIDDEN_DESCRIPTION}"


def _ref_gateway() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/GatewayError"}


THROTTLED = {
    **_error("AWS throttled a call the request needed: retry after `Retry-After` seconds", "ServiceUnavailable"),
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}
TOO_LARGE = _error("The body is over 1 MiB (or, for feedback, over a queue message)", "PayloadTooLarge")
ROLLOUT_ID = {
    "name": "rollout_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^r-[0-9a-f]{12}$"},
    "example": "r-0123456789ab",
}
REASON_BODY = {
    "required": False,
    **_json(
        {
            "type": "object",
            "properties": {"reason": {"type": "string", "maxLength": 1024, "description": "Recorded in the log"}},
            "additionalProperties": True,
        },
        {"reason": "wrong model"},
    ),
}


def _command(verb: str, summary: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "202": {
            "description": "The command is taken: `outcome` says what it did",
            **_json(
                _ref(CommandResponse),
                {"rollout_id": "r-0123456789ab", "command": verb, "outcome": "interrupted", "message": summary},
            ),
        },
        "400": INVALID,
        "404": NOT_FOUND,
        "409": _error("The rollout is promoting, rolling back or finished", "RolloutFinished"),
        "503": THROTTLED,
        **(extra or {}),
    }
    return {
        "post": {
            "operationId": f"{verb}Rollout",
            "summary": summary,
            "parameters": [ROLLOUT_ID],
            "requestBody": REASON_BODY,
            "responses": responses,
        }
    }


def _list_parameters() -> list[dict[str, Any]]:
    fields = ListRolloutsQuery.model_fields
    schema = ListRolloutsQuery.model_json_schema(ref_template=REF)["properties"]
    parameters = []
    for name, field in fields.items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.description,
            "schema": schema[name],
        }
        if name == "status":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


GROUP = {
    "name": "group",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"},
    "description": "The Model Registry's model package group",
    "example": "churn-models",
}
POLICY_NOT_FOUND = _error("The group has no release policy", "PolicyNotFound")


def _policy_paths(components: dict[str, Any], canary: dict[str, Any]) -> dict[str, Any]:
    """PUT, GET and DELETE /policies/{group}, GET /policies. The request's `model_package_group` may be left out:
    the path names it."""
    request = json.loads(json.dumps(components["ReleasePolicy"]))
    request["required"] = [name for name in request["required"] if name != "model_package_group"]
    request["title"] = "ReleasePolicyRequest"
    components["ReleasePolicyRequest"] = request
    template = {key: value for key, value in canary.items() if key != "endpoint_name"}
    template["candidate"] = {k: v for k, v in canary["candidate"].items() if k != "model_name"}
    example = {
        "model_package_group": "churn-models",
        "execution_role_arn": "arn:aws:iam::123456789012:role/sagemaker-execution",
        "targets": [{"endpoint_name": "churn-predictor", "template": template}],
        "enabled": True,
    }
    stored = {"description": "The release policy as stored", **_json(_ref(ReleasePolicy), example)}
    return {
        "/policies/{group}": {
            "put": {
                "operationId": "putPolicy",
                "summary": "Create or replace a model package group's release policy, each target's template checked",
                "parameters": [GROUP],
                "requestBody": {"required": True, **_json(_ref("ReleasePolicyRequest"), example)},
                "responses": {"201": stored, "200": stored, "400": INVALID, "503": THROTTLED},
            },
            "get": {
                "operationId": "getPolicy",
                "summary": "A model package group's release policy",
                "parameters": [GROUP],
                "responses": {"200": stored, "404": POLICY_NOT_FOUND, "503": THROTTLED},
            },
            "delete": {
                "operationId": "deletePolicy",
                "summary": "Remove a group's release policy: its approved versions start nothing from now on",
                "parameters": [GROUP],
                "responses": {"204": {"description": "Removed"}, "404": POLICY_NOT_FOUND, "503": THROTTLED},
            },
        },
        "/policies": {
            "get": {
                "operationId": "listPolicies",
                "summary": "Every release policy, by group",
                "responses": {
                    "200": {
                        "description": "The policies",
                        **_json(
                            {
                                "type": "object",
                                "required": ["policies"],
                                "properties": {"policies": {"type": "array", "items": _ref(ReleasePolicy)}},
                            },
                            {"policies": [example]},
                        ),
                    },
                    "503": THROTTLED,
                },
            }
        },
    }


def document() -> dict[str, Any]:
    _, schemas = models_json_schema([(model, "validation") for model in MODELS], ref_template=REF)
    components = dict(schemas.get("$defs", {}))
    canary = yaml.safe_load((ROOT / "examples" / "canary.yaml").read_text())
    execution = "arn:aws:states:us-east-1:123456789012:execution:rollouts-canary:r-0123456789ab"
    started = {"rollout_id": "r-0123456789ab", "status": "Pending", "execution_arn": execution}
    feedback_schema = {
        "type": "object",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_EVENTS_PER_MESSAGE,
                "items": {"oneOf": [_ref(Reward), _ref(Label)]},
                "description": "Rewards and labels; an event with a `label` is a label",
            }
        },
    }
    paths: dict[str, Any] = {
        "/rollouts": {
            "post": {
                "operationId": "startRollout",
                "summary": "Start a rollout: the spec is checked against the endpoint before anything changes",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": "A retry with the same key and body answers the first rollout",
                    }
                ],
                "requestBody": {"required": True, **_json(_ref(RolloutSpec), canary)},
                "responses": {
                    "201": {"description": "Started", **_json(_ref(StartRolloutResponse), started)},
                    "400": {
                        **INVALID,
                        "description": INVALID["description"] + "; or `InvalidRollout`: the spec against the "
                        "endpoint as it is (no such endpoint, model, alarm, ...)",
                    },
                    "409": _error("The endpoint runs another rollout: `details` names it", "EndpointLocked"),
                    "413": TOO_LARGE,
                    "422": _error("The Idempotency-Key was used with another body", "IdempotencyKeyReused"),
                    "503": _error(
                        "Step Functions refused the start: the rollout is Failed, the endpoint free; or AWS "
                        "throttled a call",
                        "RolloutNotStarted",
                        "ServiceUnavailable",
                    ),
                },
            },
            "get": {
                "operationId": "listRollouts",
                "summary": "Rollouts, newest first, a page at a time",
                "parameters": _list_parameters(),
                "responses": {
                    "200": {"description": "A page", **_json(_ref(RolloutList))},
                    "400": INVALID,
                    "503": THROTTLED,
                },
            },
        },
        "/rollouts/{rollout_id}": {
            "get": {
                "operationId": "getRollout",
                "summary": "A rollout with its decision log",
                "parameters": [ROLLOUT_ID],
                "responses": {
                    "200": {"description": "The rollout", **_json(_ref(RolloutView))},
                    "404": NOT_FOUND,
                    "503": THROTTLED,
                },
            }
        },
        "/rollouts/{rollout_id}/abort": _command("abort", "Roll back now"),
        "/rollouts/{rollout_id}/promote": _command("promote", "Promote the candidate now"),
        "/rollouts/{rollout_id}/resume": _command(
            "resume",
            "Resume a paused rollout",
            {"409": _error("Finished, or not paused", "RolloutFinished", "RolloutNotPaused")},
        ),
        "/rollouts/{rollout_id}/pause": _command(
            "pause",
            "Hold the weights until resume (the step is baked again), promote or abort; a canary's",
            {
                "409": _error(
                    "Finished, already paused, or a strategy that cannot hold its weights yet",
                    "RolloutFinished",
                    "RolloutNotPausable",
                )
            },
        ),
        "/rollouts/{rollout_id}/retry": {
            "post": {
                "operationId": "retryRollout",
                "summary": "A RolledBack or Failed rollout's spec again as a new rollout; a RollbackFailed one's "
                "restore again",
                "parameters": [
                    ROLLOUT_ID,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": "Without one, a rollout is retried once: a second retry answers the first",
                    },
                ],
                "responses": {
                    "201": {"description": "The new rollout", **_json(_ref(StartRolloutResponse), started)},
                    "202": {
                        "description": "The restore of a RollbackFailed rollout is retried, as an abort does",
                        **_json(_ref(CommandResponse)),
                    },
                    "400": {**INVALID, "description": INVALID["description"] + "; or `InvalidRollout`"},
                    "404": NOT_FOUND,
                    "409": _error(
                        "Not retryable (in progress or promoted), or the endpoint runs another rollout",
                        "RolloutNotRetryable",
                        "EndpointLocked",
                    ),
                    "422": _error("The Idempotency-Key was used with another body", "IdempotencyKeyReused"),
                    "503": THROTTLED,
                },
            }
        },
        "/feedback": {
            "post": {
                "operationId": "sendFeedback",
                "summary": "Rewards and ground-truth labels, queued for ingestion",
                "requestBody": {
                    "required": True,
                    **_json(
                        feedback_schema,
                        {"events": [{"event_id": "e-1", "endpoint": "churn-predictor", "variant": "v1", "reward": 1}]},
                    ),
                },
                "responses": {
                    "202": {
                        "description": "Queued",
                        **_json(
                            {
                                "type": "object",
                                "required": ["accepted", "message_id"],
                                "properties": {"accepted": {"type": "integer"}, "message_id": {"type": "string"}},
                            },
                            {"accepted": 1, "message_id": "5fea7756-0ea4-451a-a703-a558b933e274"},
                        ),
                    },
                    "400": INVALID,
                    "413": TOO_LARGE,
                    "503": THROTTLED,
                },
            }
        },
        "/invoke/{endpoint_name}": {
            "post": {
                "operationId": "invokeForUser",
                "summary": "Invoke an endpoint on the variant of the user's A/B group",
                "parameters": [{"name": "endpoint_name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {
                    "required": True,
                    **_json(_ref(InvokeRequest), {"user_id": "u-42", "rollout_id": "r-0123456789ab", "payload": [1]}),
                },
                "responses": {
                    "200": {
                        "description": "The model's answer and the variant that gave it",
                        **_json(
                            {
                                "type": "object",
                                "required": ["variant"],
                                "properties": {
                                    "variant": {"type": "string"},
                                    "content_type": {"type": ["string", "null"]},
                                    "body": {"type": "string"},
                                    "body_base64": {"type": "string"},
                                },
                            }
                        ),
                    },
                    "400": INVALID,
                    "403": _error("The endpoint lacks the tag rollouts:ab-invoke=true", "EndpointNotInvokable"),
                    "404": _error("No such endpoint", "EndpointNotFound"),
                    "409": _error("No variant has a weight above 0", "NoVariantWithWeight"),
                    "424": _error("The model's container failed: its status and message", "ModelError"),
                    "503": THROTTLED,
                },
            }
        },
    }
    paths.update(_policy_paths(components, canary))
    # A candidate names a model or a Model Registry version (the API makes the version's model before it starts).
    candidate = components["Candidate"]
    candidate["required"] = [name for name in candidate["required"] if name != "model_name"]
    candidate["anyOf"] = [{"required": ["model_name"]}, {"required": ["model_package_arn"]}]
    for operations in paths.values():
        for operation in operations.values():
            _forbidden(operation)
    components["GatewayError"] = GATEWAY_ERROR
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SageMaker Rollouts API",
            "version": "1",
            "description": (
                "Start, follow and steer model rollouts. Every request is signed with SigV4 for execute-api (IAM "
                "auth); the base URL is the stack's ApiUrl output, stage v1. Generated by `python -m "
                "sandbox.openapi` from the models that validate the requests."
            ),
        },
        "servers": [
            {
                "url": "https://{api}.execute-api.{region}.amazonaws.com/v1",
                "variables": {"api": {"default": "abcdef1234"}, "region": {"default": "us-east-1"}},
            },
            {"url": "http://127.0.0.1:8080/v1", "description": "make serve: the local cloud"},
        ],
        "security": [{"sigv4": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "AWS Signature Version 4 for service execute-api",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if docs/openapi.json is stale")
    args = parser.parse_args(argv)
    text = render()
    current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.is_file() else ""
    if args.check:
        if current != text:
            print("docs/openapi.json is stale: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    if current != text:
        DOCUMENT.write_text(text, encoding="utf-8")
        print("wrote docs/openapi.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
