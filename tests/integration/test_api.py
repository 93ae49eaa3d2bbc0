"""The REST API as API Gateway calls it: status codes, error bodies naming the field, and the rollout view."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rollouts.aws import store
from rollouts.models.rollout import Rollout, RolloutStatus
from rollouts.models.spec import RolloutSpec
from sandbox.scenarios import ENDPOINT, spec
from tests.integration.test_api_fuzz import documented
from tests.waiting import until


def test_unknown_rollout_gets_404(cloud):
    response = cloud.api("GET", "/rollouts/r-000000000000")

    assert response.status == 404
    assert response.body["error"] == "RolloutNotFound"


def test_body_that_is_not_json_gets_400(cloud, endpoint):
    response = cloud.api("POST", "/rollouts", raw_body="{not json")

    assert response.status == 400
    assert "JSON" in response.body["message"]


def test_missing_fields_are_each_named(cloud, endpoint):
    response = cloud.api("POST", "/rollouts", {"endpoint_name": "churn-predictor"})

    assert response.status == 400
    assert {d["field"] for d in response.body["details"]} == {"candidate", "strategy"}


def test_unknown_endpoint_gets_400_naming_the_field(cloud, endpoint, canary_spec):
    canary_spec["endpoint_name"] = "no-such-endpoint"

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400
    assert response.body["details"][0]["field"] == "endpoint_name"


def test_command_on_a_finished_rollout_gets_409(cloud, endpoint, canary_spec):
    started = cloud.api("POST", "/rollouts", canary_spec).body
    cloud.wait_for_execution(started["execution_arn"])

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort")

    assert response.status == 409
    assert response.body["error"] == "RolloutFinished"


def test_rollout_view_shows_status_weights_and_the_decision_log(cloud, endpoint, canary_spec):
    started = cloud.api("POST", "/rollouts", canary_spec).body
    cloud.wait_for_execution(started["execution_arn"])

    body = cloud.api("GET", f"/rollouts/{started['rollout_id']}").body

    assert body["status"] == "Promoted"
    assert body["weights"] == {"churn-xgb-v2": 100.0}
    assert body["steps"] == 2
    assert all({"at", "kind", "message", "evidence"} <= set(d) for d in body["decisions"])
    assert store.lock_holder("churn-predictor") is None


def test_a_body_nested_100000_deep_gets_400_not_a_server_error(cloud, endpoint, canary_spec):
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    started = cloud.api("POST", "/rollouts", canary_spec)

    for method, path in (("POST", "/rollouts"), ("POST", f"/rollouts/{started.body['rollout_id']}/abort")):
        response = cloud.api(method, path, raw_body=deep)
        assert response.status == 400, (path, response.body)
        assert "nested" in response.body["message"] or "recursion" in response.body["message"]


def test_a_body_over_a_mebibyte_gets_413_naming_the_limit(cloud, endpoint, canary_spec):
    response = cloud.api("POST", "/rollouts", raw_body=json.dumps({**canary_spec, "padding": "x" * 1_100_000}))

    assert response.status == 413
    assert response.body["error"] == "PayloadTooLarge" and "1,048,576" in response.body["message"]


def test_an_abort_reason_over_1024_characters_gets_400_and_the_rollout_goes_on(cloud, endpoint, canary_spec):
    started = cloud.api("POST", "/rollouts", canary_spec).body

    response = cloud.api("POST", f"/rollouts/{started['rollout_id']}/abort", {"reason": "x" * 450_000})

    assert response.status == 400
    assert response.body["details"][0]["field"] == "reason"
    # Nothing was stored: the rollout was not aborted by half
    assert store.get_rollout(started["rollout_id"]).pending == []


def test_a_start_that_step_functions_refuses_marks_the_rollout_failed_and_frees_the_endpoint(
    cloud, endpoint, canary_spec
):
    cloud.inject_aws_fault("StartExecution", "AccessDeniedException")

    refused = cloud.api("POST", "/rollouts", canary_spec)

    assert refused.status == 503
    assert refused.body["error"] == "RolloutNotStarted" and "AccessDeniedException" in refused.body["message"]
    failed = cloud.api("GET", f"/rollouts/{refused.body['details'][0]['rollout_id']}").body
    assert failed["status"] == "Failed" and "could not start" in failed["reason"]
    assert store.lock_holder(ENDPOINT) is None
    # The endpoint is free for the retry
    assert cloud.api("POST", "/rollouts", canary_spec).status == 201


def test_a_retried_start_with_the_same_idempotency_key_answers_the_first_rollout(cloud, endpoint, canary_spec):
    key = {"Idempotency-Key": "release-2026-12-04-churn-v2"}

    first = cloud.api("POST", "/rollouts", canary_spec, headers=key)
    retried = cloud.api("POST", "/rollouts", canary_spec, headers=key)
    other = cloud.api("POST", "/rollouts", {**canary_spec, "baseline_variant": "v1"}, headers=key)
    unkeyed = cloud.api("POST", "/rollouts", canary_spec)

    assert (first.status, retried.status) == (201, 201)
    assert retried.body["rollout_id"] == first.body["rollout_id"]
    assert retried.body["execution_arn"] == first.body["execution_arn"]
    assert other.status == 422 and other.body["details"][0]["field"] == "Idempotency-Key"
    assert unkeyed.status == 409  # without the key, a second start is a second rollout, and the endpoint is taken
    executions = cloud.client("stepfunctions").list_executions(
        stateMachineArn=first.body["execution_arn"].rsplit(":", 1)[0].replace(":execution:", ":stateMachine:")
    )["executions"]
    assert len(executions) == 1


def test_aws_throttling_a_request_needs_answers_503_with_retry_after(cloud, endpoint, canary_spec):
    cloud.inject_aws_fault("DescribeEndpoint", "ThrottlingException")

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 503
    assert response.body["error"] == "ServiceUnavailable" and "ThrottlingException" in response.body["message"]
    assert response.headers["Retry-After"] == "5"
    assert store.lock_holder(ENDPOINT) is None  # nothing was started
    assert cloud.api("POST", "/rollouts", canary_spec).status == 201  # the retry gets its answer


def stored(rollout_id: str, endpoint: str, status: str, minute: int) -> None:
    """A rollout item as the control plane writes it, created `minute` minutes into the hour."""
    body = spec()
    body["endpoint_name"] = endpoint
    store.put_new_rollout(
        Rollout(
            rollout_id=rollout_id,
            spec=RolloutSpec.model_validate(body),
            status=RolloutStatus(status),
            created_at=datetime(2026, 12, 1, 10, minute, tzinfo=UTC),
        )
    )


def test_rollouts_are_listed_newest_first_by_page_and_filtered(cloud):
    for minute, (endpoint, status) in enumerate(
        [("a", "Promoted"), ("b", "RolledBack"), ("a", "RolledBack"), ("b", "Progressing"), ("a", "Promoted")]
    ):
        stored(f"r-00000000000{minute}", endpoint, status, minute)

    first = cloud.api("GET", "/rollouts?limit=2")
    second = cloud.api("GET", f"/rollouts?limit=2&next_token={first.body['next_token']}")
    last = cloud.api("GET", f"/rollouts?limit=2&next_token={second.body['next_token']}")

    pages = [[r["rollout_id"] for r in page.body["rollouts"]] for page in (first, second, last)]
    assert pages == [["r-000000000004", "r-000000000003"], ["r-000000000002", "r-000000000001"], ["r-000000000000"]]
    assert last.body["next_token"] is None
    assert first.body["rollouts"][0] | {"weights": None} == {
        "rollout_id": "r-000000000004",
        "endpoint_name": "a",
        "inference_component_name": None,
        "strategy": "canary",
        "status": "Promoted",
        "candidate_models": ["churn-xgb-v2"],
        "weights": None,
        "reason": None,
        "created_at": "2026-12-01T10:04:00Z",
        "updated_at": first.body["rollouts"][0]["updated_at"],
    }
    by_endpoint = cloud.api("GET", "/rollouts?endpoint=a&status=RolledBack,Progressing")
    assert [r["rollout_id"] for r in by_endpoint.body["rollouts"]] == ["r-000000000002"]
    repeated = cloud.api("GET", "/rollouts?status=Promoted&status=Progressing&limit=2")
    assert [r["rollout_id"] for r in repeated.body["rollouts"]] == ["r-000000000004", "r-000000000003"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("status=Done", "status.0"),
        ("status=", "status.0"),
        ("status=Promoted,", "status.1"),
        ("endpoint=no%20spaces", "endpoint"),
        ("next_token=not-ours", "next_token"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_listing_query_gets_400_naming_the_parameter(cloud, query, field):
    response = cloud.api("GET", f"/rollouts?{query}")

    assert (response.status, response.body["error"]) == (400, "InvalidRequest")
    assert [detail["field"] for detail in response.body["details"]] == [field]


def test_the_answers_of_a_whole_rollout_are_the_documented_ones(cloud, endpoint, canary_spec):
    started = cloud.api("POST", "/rollouts", canary_spec)
    documented("POST", "/rollouts", started.status, started.body)
    cloud.wait_for_execution(started.body["execution_arn"])

    for method, path in [
        ("GET", f"/rollouts/{started.body['rollout_id']}"),
        ("GET", "/rollouts?endpoint=churn-predictor"),
        ("POST", f"/rollouts/{started.body['rollout_id']}/abort"),
        ("POST", "/rollouts"),  # the endpoint's candidate variant now serves: 400 InvalidRollout
    ]:
        response = cloud.api(method, path, canary_spec if path == "/rollouts" else None)
        documented(method, path, response.status, response.body)


def test_a_rolled_back_rollout_is_retried_once_as_a_new_rollout_of_its_spec(cloud, endpoint, canary_spec):
    # Given a canary an operator aborted
    canary_spec["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}]
    first = cloud.api("POST", "/rollouts", canary_spec).body
    until(lambda: store.get_rollout(first["rollout_id"]).task_token, "the step never baked")
    assert cloud.api("POST", f"/rollouts/{first['rollout_id']}/abort").status == 202
    cloud.wait_for_execution(first["execution_arn"])

    # When it is retried, twice (a release tool's retry after a timeout)
    retried = cloud.api("POST", f"/rollouts/{first['rollout_id']}/retry")
    again = cloud.api("POST", f"/rollouts/{first['rollout_id']}/retry")

    # Then one new rollout runs the same spec, and the old log says where it went
    assert (retried.status, again.status) == (201, 201)
    assert again.body["rollout_id"] == retried.body["rollout_id"] != first["rollout_id"]
    assert store.get_rollout(retried.body["rollout_id"]).spec == store.get_rollout(first["rollout_id"]).spec
    assert store.list_decisions(first["rollout_id"])[-1].message == f"Retried as rollout {retried.body['rollout_id']}"
    documented("POST", f"/rollouts/{first['rollout_id']}/retry", retried.status, retried.body)

    # And a rollout in progress is not retried
    refused = cloud.api("POST", f"/rollouts/{retried.body['rollout_id']}/retry")
    assert (refused.status, refused.body["error"]) == (409, "RolloutNotRetryable")
    documented("POST", f"/rollouts/{retried.body['rollout_id']}/retry", refused.status, refused.body)


def test_an_idempotency_key_over_255_characters_gets_400_naming_the_header(cloud, endpoint, canary_spec):
    response = cloud.api("POST", "/rollouts", canary_spec, headers={"Idempotency-Key": "k" * 256})

    assert (response.status, response.body["details"]) == (
        400,
        [{"field": "Idempotency-Key", "reason": "from 1 to 255 characters"}],
    )
    assert store.lock_holder(ENDPOINT) is None


def test_a_retry_of_a_rollback_that_failed_retries_the_restore_as_an_abort(cloud):
    # Given a rollout whose rollback could not be verified (it waits for an operator, the lock held)
    stored("r-00000000000f", ENDPOINT, "RollbackFailed", 0)

    response = cloud.api("POST", "/rollouts/r-00000000000f/retry")

    # Then the answer is the abort's, named retry, and the log says an operator asked to roll back again
    assert (response.status, response.body["command"]) == (202, "retry")
    documented("POST", "/rollouts/r-00000000000f/retry", response.status, response.body)
    assert store.list_decisions("r-00000000000f")[-1].message == (
        "Abort requested: an operator aborted the rollout: retry of the restore"
    )
    assert store.get_rollout("r-00000000000f").pending[-1].command == "abort"  # for the waiting execution's wait
