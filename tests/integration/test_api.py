"""The REST API as API Gateway calls it: status codes, error bodies naming the field, and the rollout view."""

from __future__ import annotations

from rollouts.aws import store


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
