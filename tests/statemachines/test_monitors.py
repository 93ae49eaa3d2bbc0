"""The control plane's own monitors (guardrails.monitors) in the real state machines, on the local cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rollouts.aws import store
from rollouts.logic import monitor_runs
from sandbox import baselines
from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from tests.statemachines.helpers import assert_safe_rolled_back, kinds, start, view
from tests.waiting import until

pytestmark = pytest.mark.statemachine

ENDPOINT = "churn-predictor"
CANDIDATE = "churn-xgb-v2"
DRIFTED = ModelBehaviour(input_shift={"income": 1.6})


def wait_until_baking(rollout_id: str) -> None:
    until(lambda: store.get_rollout(rollout_id).task_token, f"rollout {rollout_id} never baked")


def serve(cloud: LocalCloud, behaviour: ModelBehaviour, minutes: int = 5) -> DataPlane:
    """`minutes` of the candidate's traffic, captured to S3 (the data plane writes a capture file a minute)."""
    plane = DataPlane(cloud, ENDPOINT, {CANDIDATE: behaviour}, requests_per_second=20)
    for _ in range(minutes):
        plane.step(60)
    plane.flush_capture()
    return plane


def s3_json(cloud: LocalCloud, uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    document: dict[str, Any] = json.loads(cloud.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return document


def monitor_decisions(rollout: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in rollout["decisions"] if d.get("evidence", {}).get("monitor")]


def test_a_drifted_candidate_rolls_back_at_the_end_of_its_bake_with_model_monitors_files(cloud, endpoint, canary_spec):
    # Given a canary guarded by a data-quality monitor, its candidate's inputs drifted during the bake
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "10m"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud)]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    serve(cloud, DRIFTED)

    # When the bake ends
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the monitor's run at the bake's end breached, and the judge rolled the rollout back
    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    evidence = breach["evidence"]
    assert evidence["monitor"] == "input-drift"
    assert evidence["trigger"] == "end-of-bake"
    assert evidence["monitoring_type"] == "DataQuality"
    assert "income" in evidence["violated"]
    assert "monitor 'input-drift'" in breach["message"]
    # ... and the run's files are Model Monitor's
    violations = s3_json(cloud, evidence["violations_file"])
    assert {"feature_name": "income", "constraint_check_type": "baseline_drift_check"}.items() <= next(
        v for v in violations["violations"] if v["feature_name"] == "income"
    ).items()
    statistics = s3_json(cloud, evidence["output"] + "/statistics.json")
    assert statistics["dataset"]["item_count"] == evidence["rows"] > 0
    assert {f["name"] for f in statistics["features"]} == {"age", "income", "tenure_months"}


def test_a_healthy_candidate_passes_each_bakes_run_and_is_promoted(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "10m"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud)]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    serve(cloud, ModelBehaviour())

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "SUCCEEDED", rollout["reason"]
    runs = monitor_decisions(rollout)
    assert [d["message"] for d in runs] == ["Monitor 'input-drift' finished: Completed"]
    assert runs[0]["evidence"]["rows"] > 100
    # ... and a finished rollout leaves the monitors' schedule nothing to run
    assert store.guarded_rollouts(store.MONITOR_GUARD, store.MONITORED) == []
    assert cloud.run_schedules("RunMonitorFunction") == [{"started": []}]


def test_too_few_rows_skip_the_run_and_say_so(cloud, endpoint, canary_spec):
    # Given no traffic at all in the bake
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "10m"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, min_rows=50)]
    started = start(cloud, canary_spec)

    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the run is skipped, in the log with its reason, and it is no breach
    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "SUCCEEDED"
    (run,) = monitor_decisions(rollout)
    assert run["message"].startswith("Monitor 'input-drift' finished: Skipped: 0 captured rows in the window, 50")


def test_a_missing_baseline_rolls_back_loudly_or_is_recorded_as_the_spec_says(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "10m"}]
    monitor = baselines.data_quality_monitor(cloud)
    monitor["baseline"]["statistics"] = "s3://local-model-monitor/baselines/nowhere/statistics.json"
    canary_spec["guardrails"]["monitors"] = [monitor]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    serve(cloud, ModelBehaviour(), minutes=2)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    assert "monitor 'input-drift' could not judge" in breach["message"]
    assert "baselines/nowhere/statistics.json does not exist" in breach["message"]


def test_on_failure_record_logs_the_failed_run_and_goes_on(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "10m"}]
    monitor = baselines.data_quality_monitor(cloud, on_failure="record")
    monitor["baseline"]["constraints"] = "s3://local-model-monitor/baselines/nowhere/constraints.json"
    canary_spec["guardrails"]["monitors"] = [monitor]
    started = start(cloud, canary_spec)
    wait_until_baking(started["rollout_id"])
    serve(cloud, ModelBehaviour(), minutes=2)

    execution = cloud.wait_for_execution(started["execution_arn"])

    rollout = view(cloud, started["rollout_id"])
    assert execution["status"] == "SUCCEEDED"
    (run,) = monitor_decisions(rollout)
    assert run["message"].startswith("Monitor 'input-drift' finished: Failed: baseline constraints")


def test_a_scheduled_run_of_a_large_window_is_split_across_a_distributed_map_and_merged(
    cloud, endpoint, canary_spec, monkeypatch
):
    # Given a rollout baking for hours with a drifted candidate, and a window of more capture objects than one
    # function reads (lowered here to 2 objects, 2 a child)
    monkeypatch.setattr(monitor_runs, "IN_PROCESS_OBJECTS", 2)
    monkeypatch.setattr(monitor_runs, "OBJECTS_PER_CHILD", 2)
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud)]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, DRIFTED, minutes=5)

    # When the one-minute schedule fires, and again at once
    (first,) = cloud.run_schedules("RunMonitorFunction")
    (second,) = cloud.run_schedules("RunMonitorFunction")
    monitor_execution = cloud.wait_for_execution(first["started"][0])
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then one run started (the next is due after `every`), its children profiled the objects, the merge found the
    # drift, and the rollout rolled back at once, mid-bake
    assert second == {"started": []}
    assert monitor_execution["status"] == "SUCCEEDED"
    history = cloud.client("stepfunctions").get_execution_history(executionArn=first["started"][0])["events"]
    assert any(e["type"] == "MapRunStarted" for e in history)
    rollout = view(cloud, rollout_id)
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    assert breach["evidence"]["trigger"] == "scheduled"
    assert breach["evidence"]["objects"] == breach["evidence"]["objects_read"] >= 5
    assert "income" in breach["evidence"]["violated"]
    assert kinds(rollout).count("Guardrail Breached") == 1


def test_the_merged_profile_of_the_children_equals_the_one_pass_run(cloud, endpoint, canary_spec, monkeypatch):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, policy={"action": "ignore"})]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, DRIFTED, minutes=6)
    rollout = store.get_rollout(rollout_id)
    guard = rollout.spec.guardrails.monitors[0]

    one_pass = monitor_runs.run(rollout, guard, "scheduled", sample=False)
    monkeypatch.setattr(monitor_runs, "IN_PROCESS_OBJECTS", 1)
    monkeypatch.setattr(monitor_runs, "OBJECTS_PER_CHILD", 2)
    planned = monitor_runs.plan(rollout_id, guard.name, "scheduled")
    assert planned["distributed"]
    batches = s3_json_list(cloud, planned["manifest"])
    partials = [monitor_runs.partial(planned["run"], batch["objects"]) for batch in batches]
    merged = monitor_runs.merge(planned["run"], partials)

    assert len(batches) >= 3
    assert merged["rows"] == one_pass.rows
    merged_statistics = s3_json(cloud, merged["output_s3_uri"] + "/statistics.json")
    one_pass_statistics = s3_json(cloud, one_pass.output_s3_uri + "/statistics.json")
    assert merged_statistics["dataset"] == one_pass_statistics["dataset"]
    for left, right in zip(merged_statistics["features"], one_pass_statistics["features"], strict=True):
        assert left["numerical_statistics"]["common"] == right["numerical_statistics"]["common"]
        assert left["numerical_statistics"]["mean"] == pytest.approx(right["numerical_statistics"]["mean"])
    merged_violations = s3_json(cloud, merged["output_s3_uri"] + "/constraint_violations.json")
    one_pass_violations = s3_json(cloud, one_pass.output_s3_uri + "/constraint_violations.json")
    assert merged_violations == one_pass_violations


def s3_json_list(cloud: LocalCloud, manifest: dict[str, str]) -> list[dict[str, Any]]:
    body = cloud.client("s3").get_object(Bucket=manifest["Bucket"], Key=manifest["Key"])["Body"].read()
    batches: list[dict[str, Any]] = json.loads(body)
    return batches


def test_a_run_event_delivered_twice_has_one_effect(cloud, endpoint, canary_spec):
    # Given a rollout baking for hours whose monitor's scheduled run found the drift, under a policy that only logs
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, policy={"action": "ignore"})]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, DRIFTED)
    (answer,) = cloud.run_schedules("RunMonitorFunction")
    # (a window of few objects runs in the plan step, and the monitor's execution ends there)
    assert cloud.wait_for_execution(answer["started"][0])["status"] == "SUCCEEDED"
    (run,) = monitor_decisions(view(cloud, rollout_id))

    # When EventBridge delivers the run's event again
    from rollouts.logic.signals import handle_event

    evidence = run["evidence"]
    detail = {
        "rollout_id": rollout_id,
        "monitor": "input-drift",
        "run_id": evidence["run_id"],
        "status": "CompletedWithViolations",
        "output_s3_uri": evidence["output"],
    }
    results = handle_event(
        {"source": "sagemaker.rollouts", "detail-type": "Monitoring Run Completed", "detail": detail}
    )

    # Then it is a duplicate: one decision, the rollout still baking
    assert "no action, policy ignores DataQuality violations" in run["message"]
    assert [r.outcome.value for r in results] == ["duplicate"]
    assert len(monitor_decisions(view(cloud, rollout_id))) == 1
    assert view(cloud, rollout_id)["status"] == "Progressing"


def test_a_monitor_without_its_baseline_files_is_refused_with_the_field_named(cloud, endpoint, canary_spec):
    canary_spec["guardrails"]["monitors"] = [
        {"name": "accuracy", "type": "ModelQuality", "baseline": {"statistics": "s3://bucket/statistics.json"}}
    ]

    response = cloud.api("POST", "/rollouts", canary_spec)

    assert response.status == 400
    assert "guardrails.monitors.0" in json.dumps(response.body)
    assert "baseline.constraints" in json.dumps(response.body)


def put_capture(cloud: LocalCloud, lines: list[str]) -> None:
    """A capture file of the candidate's variant, written in the current hour as SageMaker would."""
    from datetime import UTC, datetime

    destination = cloud.environment["DATA_CAPTURE_S3_URI"]
    bucket, _, prefix = destination.removeprefix("s3://").partition("/")
    now = datetime.now(UTC)
    key = f"{prefix}/{ENDPOINT}/{CANDIDATE}/{now:%Y/%m/%d/%H}/hand-written.jsonl"
    cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())


def test_malformed_capture_lines_are_counted_in_the_runs_reason_and_the_rest_is_judged(cloud, endpoint, canary_spec):
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, policy={"action": "ignore"})]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, ModelBehaviour(), minutes=2)
    put_capture(cloud, ["not json", '{"captureData": 7}', '{"eventVersion": "0"}'])

    (answer,) = cloud.run_schedules("RunMonitorFunction")
    cloud.wait_for_execution(answer["started"][0])

    (run,) = monitor_decisions(view(cloud, rollout_id))
    assert run["message"].startswith("Monitor 'input-drift' finished: Completed: 3 captured lines could not be read")
    assert run["evidence"]["rows"] > 100


def test_labels_without_predictions_are_counted_and_too_few_labelled_rows_skip_the_run(cloud, endpoint, canary_spec):
    # Given a model-quality monitor, captured predictions, and labels for inference ids nothing captured
    from sandbox.dataplane import ModelBehaviour as Model

    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.model_quality_monitor(cloud, Model())]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, ModelBehaviour(), minutes=2)
    labels = [{"inference_id": f"unknown-{n}", "label": 1, "endpoint": ENDPOINT} for n in range(7)]
    assert cloud.api("POST", "/feedback", {"events": labels}).status == 202
    written = cloud.environment["GROUND_TRUTH_S3_URI"].removeprefix("s3://")
    bucket, _, prefix = written.partition("/")
    until(
        lambda: cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{ENDPOINT}/")["KeyCount"],
        "the labels were never written as ground truth",
    )

    (answer,) = cloud.run_schedules("RunMonitorFunction")
    cloud.wait_for_execution(answer["started"][0])

    # Then the run says how many labels matched nothing, and skips: no labelled prediction is no pass
    (run,) = monitor_decisions(view(cloud, rollout_id))
    assert "Skipped: 0 labelled predictions in the window, 100 needed (min_rows)" in run["message"]
    assert "7 labels match no captured prediction in the window" in run["message"]


def test_a_run_hours_into_a_bake_reads_the_capture_of_its_window(cloud, endpoint, canary_spec):
    # The control plane's clock, not the machine's, says which hour files a window spans (a run that read the
    # machine's clock found no capture once the local cloud's clock had moved an hour ahead)
    canary_spec["strategy"]["steps"] = [{"weight": 50, "bake": "12h"}]
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, policy={"action": "ignore"})]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    cloud.wait_until(lambda: False, timeout=2 * 3600.0)  # two simulated hours of the bake pass
    serve(cloud, ModelBehaviour())

    (answer,) = cloud.run_schedules("RunMonitorFunction")
    cloud.wait_for_execution(answer["started"][0])

    (run,) = monitor_decisions(view(cloud, rollout_id))
    assert run["evidence"]["rows"] > 100, run["message"]


def test_a_monitor_runs_at_the_end_of_the_watch_after_promotion_and_its_breach_brings_the_old_config_back(
    cloud, endpoint, canary_spec
):
    # Given a canary that watches for an hour after its promotion, its candidate healthy through the bake
    canary_spec["strategy"] = {
        "type": "canary",
        "steps": [{"weight": 50, "bake": "10m"}],
        "watch_after_promotion": "1h",
    }
    canary_spec["guardrails"]["monitors"] = [baselines.data_quality_monitor(cloud, window="30m")]
    started = start(cloud, canary_spec)
    rollout_id = started["rollout_id"]
    wait_until_baking(rollout_id)
    serve(cloud, ModelBehaviour(), minutes=2)
    until(
        lambda: store.get_rollout(rollout_id).status == "Promoting" and store.get_rollout(rollout_id).task_token,
        "the rollout never watched after its promotion",
    )

    # When the candidate's inputs drift once it serves alone, and the watch ends
    cloud.wait_until(lambda: False, timeout=40 * 60.0)  # the healthy bake falls out of the 30-minute window
    serve(cloud, DRIFTED, minutes=5)
    execution = cloud.wait_for_execution(started["execution_arn"])

    # Then the run at the watch's end found the drift, and the original config came back
    rollout = view(cloud, rollout_id)
    assert execution["status"] == "FAILED"
    assert_safe_rolled_back(cloud, rollout)
    breach = next(d for d in rollout["decisions"] if d["kind"] == "Guardrail Breached")
    assert breach["evidence"]["trigger"] == "end-of-bake"
    assert "income" in breach["evidence"]["violated"]
    assert monitor_decisions(rollout)[0]["message"] == "Monitor 'input-drift' finished: Completed"
