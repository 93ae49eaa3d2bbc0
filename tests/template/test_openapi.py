"""docs/openapi.json: what `python -m sandbox.openapi` builds from the models, a valid OpenAPI 3.1 document, and
exactly the routes template.yaml gives API Gateway."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from sandbox import openapi
from sandbox.template import load


def test_the_committed_document_is_what_the_models_build() -> None:
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.render(), "run `make openapi` and commit it"


def test_the_document_is_valid_openapi_3_1() -> None:
    document = json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))

    validate(document)
    assert document["openapi"] == "3.1.0"


def test_the_document_has_exactly_the_routes_of_the_template() -> None:
    routed = {
        (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
        for resource in load()["Resources"].values()
        for event in (resource.get("Properties", {}).get("Events") or {}).values()
        if event["Type"] == "Api"
    }
    documented = {(method, path) for path, operations in openapi.document()["paths"].items() for method in operations}

    assert documented == routed


def test_every_operation_documents_its_refusals_with_the_one_error_body() -> None:
    for path, operations in openapi.document()["paths"].items():
        for method, operation in operations.items():
            refusals = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            assert refusals, (method, path)
            gateway = {"$ref": "#/components/schemas/GatewayError"}
            for code, response in refusals.items():
                schema = response["content"]["application/json"]["schema"]
                if code == "403":  # API Gateway's own refusal (IAM), beside the handler's when it has one
                    assert gateway in [schema, *schema.get("anyOf", [])], (method, path)
                    continue
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, code)
