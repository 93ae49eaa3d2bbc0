"""Generated requests against every route of the API, as API Gateway delivers them: never a server error, and every
answer is one that docs/openapi.json documents, in the shape it documents."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sandbox.cloud import LocalCloud
from sandbox.scenarios import spec

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=10,
)
IDS = st.sampled_from(["r-000000000000", "r-" + "f" * 12]) | st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#"), min_size=1, max_size=20
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))] or [path]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, (*path, index))] or [path]
    return [path]


@st.composite
def mutated_spec(draw: st.DrawFn) -> Any:
    """The demo spec with one value replaced by any JSON, or a key dropped, or an unknown key added."""
    body = copy.deepcopy(spec())
    path = draw(st.sampled_from(_leaves(body)))
    target = body
    for key in path[:-1]:
        target = target[key]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace":
        target[path[-1]] = draw(JSON)
    elif action == "drop" and isinstance(target, dict):
        target.pop(path[-1])
    elif isinstance(target, dict):
        target[draw(st.text(max_size=10))] = draw(JSON)
    return body


BODIES = (
    mutated_spec().map(json.dumps)
    | JSON.map(json.dumps)
    | st.text(max_size=50)
    | st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(1, 5000))
)


QUERY_VALUES = st.sampled_from(["0", "1", "101", "-5", "x", "Promoted", "Paused,RolledBack", "churn-predictor", ""])
QUERIES = st.lists(
    st.tuples(
        st.sampled_from(["limit", "status", "endpoint", "next_token", "other"]), QUERY_VALUES | st.text(max_size=8)
    ),
    max_size=3,
).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())


def documented(method: str, path: str, status: int, body: Any) -> None:
    """The answer is documented for its route and matches its schema (no route matched: API Gateway's own 403)."""
    path = path.split("?", 1)[0]
    for template, operations in DOCUMENT["paths"].items():
        if re.fullmatch(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)), path) and method.lower() in operations:
            break
    else:
        assert status in (403, 404), (method, path, status)
        return
    responses = operations[method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, which the document does not list"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    errors = list(Draft202012Validator({**schema, "components": DOCUMENT["components"]}).iter_errors(body))
    assert not errors, f"{method} {template} {status}: {errors[0].message} in {body}"


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, str | None]:
    rollout_id = draw(IDS)
    method, path = draw(
        st.sampled_from(
            [
                ("POST", "/rollouts"),
                ("GET", f"/rollouts/{rollout_id}"),
                ("POST", f"/rollouts/{rollout_id}/abort"),
                ("POST", f"/rollouts/{rollout_id}/promote"),
                ("POST", f"/rollouts/{rollout_id}/resume"),
                ("POST", f"/rollouts/{rollout_id}/retry"),
                ("POST", f"/rollouts/{rollout_id}/pause"),
                ("POST", "/feedback"),
                ("POST", "/invoke/churn-predictor"),
                ("GET", "/rollouts"),
                ("GET", "/rollouts?" + draw(QUERIES)),
                ("DELETE", f"/rollouts/{rollout_id}"),
            ]
        )
    )
    body = draw(st.none() | BODIES) if method == "POST" else None
    return method, path, body


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_no_request_gets_a_server_error(cloud: LocalCloud, endpoint: str, request: tuple[str, str, str | None]) -> None:
    method, path, body = request

    response = cloud.api(method, path, raw_body=body)

    assert response.status < 500, (method, path, (body or "")[:300], response.status, response.body)
    documented(method, path, response.status, response.body)
