"""The `rollouts` command against the local cloud served over HTTP (`make serve`), as a release tool runs it: a
separate process, SigV4-signed requests, the exit codes CI reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "canary.yaml"
# Each command waits for the rollout's end, however long it takes on a busy machine (up to WAIT real seconds).
WAIT = 600


def rollouts(api_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"ROLLOUTS_API_URL": api_url, "PYTHONPATH": str(ROOT / "cli")})
    return subprocess.run(
        [sys.executable, "-m", "rollouts_cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=WAIT + 60,
        check=False,
    )


def spec(**changes: Any) -> str:
    body = yaml.safe_load(EXAMPLE.read_text())
    body.update(changes)
    return yaml.safe_dump(body)


def test_a_canary_started_with_wait_ends_promoted_with_exit_0(api_url, tmp_path):
    started = rollouts(api_url, "start", "-f", str(EXAMPLE), "--wait", "--interval", "0.2", "--timeout", str(WAIT))

    assert started.returncode == 0, started.stderr
    lines = started.stdout.splitlines()
    rollout_id = lines[0].split()[0]
    assert lines[-1] == f"{rollout_id} ended Promoted"
    assert any("Traffic Shifted" in line and "at 10 %" in line for line in lines)  # decisions as they came

    listed = json.loads(rollouts(api_url, "list", "--status", "Promoted", "-o", "json").stdout)
    assert rollout_id in [r["rollout_id"] for r in listed["rollouts"]]
    view = json.loads(rollouts(api_url, "get", rollout_id, "-o", "json").stdout)
    assert (view["status"], view["weights"]) == ("Promoted", {"churn-xgb-v2": 100.0})
    page = tmp_path / "report.html"
    reported = rollouts(api_url, "report", rollout_id, "-o", str(page))
    assert reported.returncode == 0, reported.stderr
    assert f"Rollout {rollout_id} on churn-predictor: promoted" in page.read_text()
    HTMLParser().feed(page.read_text())  # parseable
    with Image.open(tmp_path / "report.png") as png:  # and the PNG beside it, for a chat
        assert png.format == "PNG"


def test_an_aborted_rollout_exits_3_rolled_back_with_its_reason(api_url):
    # Bakes of a day (more than 7 real minutes each here, longer than any command below takes however busy the
    # machine), of the served cloud's second candidate: the abort always comes before the end
    slow = spec(
        candidate={"model_name": "churn-xgb-v3", "instance_type": "ml.m5.large"},
        strategy={"type": "canary", "steps": [{"weight": 10, "bake": "1d"}, {"weight": 50, "bake": "1d"}]},
    )
    started = rollouts(api_url, "start", "-f", "-", "-o", "json", stdin=slow)
    assert started.returncode == 0, started.stderr
    rollout_id = json.loads(started.stdout)["rollout_id"]

    aborted = rollouts(api_url, "abort", rollout_id, "--reason", "wrong model")
    watched = rollouts(api_url, "watch", rollout_id, "--interval", "0.2", "--timeout", str(WAIT))

    assert aborted.returncode == 0, aborted.stderr
    assert f"{rollout_id} abort: " in aborted.stdout
    assert watched.returncode == 3, watched.stdout + watched.stderr
    assert watched.stdout.splitlines()[-1].startswith(f"{rollout_id} ended RolledBack: ")
    assert "wrong model" in watched.stdout

    # A retry runs the same spec as a new rollout (aborted here too, so that the endpoint is free again)
    retried = rollouts(api_url, "retry", rollout_id, "-o", "json")
    assert retried.returncode == 0, retried.stderr
    new_id = json.loads(retried.stdout)["rollout_id"]
    assert new_id != rollout_id
    assert rollouts(api_url, "abort", new_id).returncode == 0
    assert rollouts(api_url, "watch", new_id, "--interval", "0.2", "--timeout", str(WAIT)).returncode == 3


def until(api_url: str, rollout_id: str, done: Any) -> dict[str, Any]:
    """The rollout's view once `done(view)` holds: polled, however long the machine takes (up to WAIT seconds)."""
    deadline = time.monotonic() + WAIT
    while True:
        view: dict[str, Any] = json.loads(rollouts(api_url, "get", rollout_id, "-o", "json").stdout)
        if done(view) or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def test_a_paused_canary_holds_its_weights_until_resume(api_url):
    slow = spec(
        candidate={"model_name": "churn-xgb-v3", "instance_type": "ml.m5.large"},
        strategy={"type": "canary", "steps": [{"weight": 10, "bake": "1d"}, {"weight": 50, "bake": "1d"}]},
    )
    rollout_id = json.loads(rollouts(api_url, "start", "-f", "-", "-o", "json", stdin=slow).stdout)["rollout_id"]
    # The first step is baking once the view shows its weights (the step index moves first, then the weights)
    baking = until(api_url, rollout_id, lambda view: view["weights"].get("churn-xgb-v3") == 10.0)
    # The endpoint's baseline is v1, or churn-xgb-v2 once another test here promoted it
    weights = {baking["baseline_variant"]: 90.0, "churn-xgb-v3": 10.0}
    assert baking["weights"] == weights, baking

    paused = rollouts(api_url, "pause", rollout_id, "--reason", "dashboards first")
    held = until(api_url, rollout_id, lambda view: view["status"] == "Paused")
    watched = rollouts(api_url, "watch", rollout_id, "--interval", "0.2", "--timeout", str(WAIT))

    assert paused.returncode == 0, paused.stderr
    assert held["weights"] == weights  # the weights hold
    assert watched.returncode == 5, watched.stdout  # paused for an operator: CI stops waiting with its own code
    assert watched.stdout.splitlines()[-1] == (
        f"{rollout_id} is paused for an operator: rollouts resume|promote|abort {rollout_id}"
    )

    resumed = rollouts(api_url, "resume", rollout_id)
    going = until(api_url, rollout_id, lambda view: view["status"] == "Progressing")

    assert resumed.returncode == 0, resumed.stderr
    assert going["status"] == "Progressing" and going["step_index"] == 0  # the step is baked again
    assert rollouts(api_url, "abort", rollout_id).returncode == 0  # the endpoint is free for the next test
    assert rollouts(api_url, "watch", rollout_id, "--interval", "0.2", "--timeout", str(WAIT)).returncode == 3


def test_a_spec_the_api_refuses_exits_2_naming_each_field(api_url):
    refused = rollouts(api_url, "start", "-f", "-", stdin=spec(endpoint_name="no-such-endpoint"))

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "rollouts: 400 InvalidRollout",
        "  endpoint_name: no endpoint named 'no-such-endpoint' exists",
    ]
    several = rollouts(api_url, "start", "-f", "-", stdin=spec(strategy={"type": "canary", "steps": []}, candidate={}))
    assert several.returncode == 2
    assert "  strategy.canary.steps: List should have at least 1 item after validation, not 0" in several.stderr
    assert "  candidate.model_name: Field required" in several.stderr


def test_without_an_api_url_it_says_what_to_set():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROLLOUTS_", "AWS_"))}
    env["PYTHONPATH"] = str(ROOT / "cli")
    result = subprocess.run(
        [sys.executable, "-m", "rollouts_cli", "list"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 2
    assert "ROLLOUTS_API_URL" in result.stderr and "make serve" in result.stderr


def test_an_unsigned_request_gets_api_gateways_403(api_url):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{api_url}/rollouts", timeout=30)

    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {"message": "Missing Authentication Token"}


def test_a_release_policy_is_put_read_listed_and_deleted(api_url):
    policy = ROOT / "examples" / "policies" / "churn-models.yaml"

    put = rollouts(api_url, "policy", "put", "-f", str(policy))
    got = rollouts(api_url, "policy", "get", "churn-models", "-o", "json")
    listed = rollouts(api_url, "policy", "list")
    deleted = rollouts(api_url, "policy", "delete", "churn-models")
    gone = rollouts(api_url, "policy", "get", "churn-models")

    assert put.returncode == 0, put.stderr
    assert put.stdout.splitlines() == [
        "churn-models: role arn:aws:iam::123456789012:role/sagemaker-execution",
        "  -> churn-predictor: canary",
    ]
    assert json.loads(got.stdout)["targets"][0]["endpoint_name"] == "churn-predictor"
    assert "churn-models" in listed.stdout
    assert deleted.returncode == 0 and gone.returncode == 2
    assert "404 PolicyNotFound" in gone.stderr
