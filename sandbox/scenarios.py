"""Named scenarios: a SageMaker endpoint, a candidate with a behaviour, a canary rollout, and what happened."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sandbox.cloud import LocalCloud
from sandbox.dataplane import FEATURES, DataPlane, ModelBehaviour, create_data_quality_schedule
from sandbox.labels import Labeller
from sandbox.moto_ext import clock, core

ENDPOINT = "churn-predictor"
BASELINE_MODEL = "churn-xgb-v1"
CANDIDATE_MODEL = "churn-xgb-v2"
SCHEDULE = "churn-predictor-data-quality"
DEMO_TIME_SCALE = 1 / 60  # one real second is one simulated minute; None runs the local cloud as fast as it goes
# Simulated seconds a canary scenario may take: the judged ones need about half an hour.
SCENARIO_LIMIT = 90 * 60.0

Out = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    candidate: ModelBehaviour
    monitor_after_seconds: float | None = None  # simulated seconds into the first step
    baseline: ModelBehaviour = field(default_factory=lambda: ModelBehaviour(error_rate=0.0002))
    judged: bool = False  # the 5XX rate is judged by the statistical judge instead of a threshold alarm
    latency_judged: bool = False  # and the p90 ModelLatency per minute by the rank test
    # One of the control plane's own monitors guards the rollout (`sandbox.baselines`): data-quality,
    # model-quality, bias-drift or feature-attribution. It runs at each bake's end, and on schedule at
    # monitor_after_seconds.
    monitor: str | None = None
    labels: bool = False  # users' outcomes come back as labels (`sandbox.labels`), for model quality and bias
    # A smoke test runs as the canary's after_step hook (`smoke_test_hook`): it scores known rows on the candidate.
    smoke_test: bool = False


@dataclass
class ScenarioResult:
    name: str
    outcome: str
    reason: str
    summary: str
    rollout: dict[str, Any]
    signal_to_restore_seconds: float | None = None  # simulated
    elapsed_seconds: float = 0.0  # real: how long the run took
    timeline: list[str] = field(default_factory=list)
    chart: Path | None = None  # a PNG the scenario wrote (the bandit's weights over time)
    endpoint: dict[str, Any] = field(default_factory=dict)  # DescribeEndpoint at the end

    @property
    def result_line(self) -> str:
        return f"RESULT {self.name} {self.outcome} {self.reason}"


class Timeline:
    """The demo's live timeline: each line stamped with wall seconds and the data plane's simulated clock."""

    def __init__(self, out: Out) -> None:
        self.out = out
        self.began = time.monotonic()
        self.lines: list[str] = []
        self.plane: DataPlane | None = None

    def say(self, line: str) -> None:
        sim = self.plane.sim_time if self.plane else 0.0
        text = f"  {time.monotonic() - self.began:6.2f}s  sim {int(sim // 60):02d}:{int(sim % 60):02d}  {line}"
        self.lines.append(text)
        self.out(text)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("healthy", "a healthy candidate is promoted step by step", ModelBehaviour(error_rate=0.0002)),
        Scenario(
            "error-spike",
            "the candidate's 5XX rate rises; its alarm fires during a bake",
            ModelBehaviour(error_rate=0.08),
        ),
        Scenario(
            "drift",
            "the candidate's inputs drift; the data-quality monitor's scheduled run reports violations",
            ModelBehaviour(error_rate=0.0002, input_shift={"income": 1.6, "age": 0.8}),
            monitor_after_seconds=150,
            monitor="data-quality",
        ),
        Scenario(
            "model-quality",
            "labels arrive a minute late; the candidate's accuracy falls below the baseline's constraint",
            ModelBehaviour(error_rate=0.0002, score_shift=0.4),
            monitor="model-quality",
            labels=True,
        ),
        Scenario(
            "bias-drift",
            "the candidate under-predicts churn for users of 40 or younger: DPPL and DI drift from the baseline's",
            ModelBehaviour(error_rate=0.0002, shift_below=("age", 40.0, -0.35)),
            monitor="bias-drift",
            labels=True,
        ),
        Scenario(
            "feature-attribution",
            "the candidate scores on income, not tenure: its SHAP ranking drifts (NDCG below 0.90)",
            ModelBehaviour(error_rate=0.0002, score_on="income"),
            monitor="feature-attribution",
        ),
        Scenario(
            "hook-veto",
            "the candidate scores known rows 0.4 too high: the smoke test run as an after-step hook vetoes",
            ModelBehaviour(error_rate=0.0002, score_shift=0.4),
            smoke_test=True,
        ),
        Scenario(
            "small-regression",
            "the candidate's 5XX rate doubles, 1 % to 2 %: too small for a threshold, caught by the judge",
            ModelBehaviour(error_rate=0.02),
            baseline=ModelBehaviour(error_rate=0.01),
            judged=True,
        ),
        Scenario(
            "slow-candidate",
            "the candidate answers 50 % slower, under the 300 ms p99 alarm: the rank test on p90 latency catches it",
            ModelBehaviour(error_rate=0.0002, latency_ms=60.0),
            judged=True,
            latency_judged=True,
        ),
        Scenario(
            "no-regression",
            "the candidate errs as often as the baseline, 1 %: the judge lets it through",
            ModelBehaviour(error_rate=0.01),
            baseline=ModelBehaviour(error_rate=0.01),
            judged=True,
        ),
    )
}


# The bandit's race runs its own loop (sandbox/bandit_race.py); its name and title are listed with the others.
BANDIT = "bandit"
BANDIT_TITLE = "three models convert at different rates; a bandit follows the delayed feedback, promotes the best"
# The blue/green deployment, too, runs its own loop (sandbox/blue_green_demo.py).
BLUE_GREEN = "blue-green"
BLUE_GREEN_TITLE = (
    "SageMaker deploys blue/green; drift found by monitoring trips the abort switch, SageMaker rolls back"
)
# And the rolling update (sandbox/rolling_demo.py).
ROLLING = "rolling"
ROLLING_TITLE = "SageMaker replaces the fleet one instance at a time; the candidate's 5XX alarm rolls it back natively"
# And the rolling update of a model hosted as an inference component (sandbox/rolling_component_demo.py).
ROLLING_COMPONENT = "rolling-component"
ROLLING_COMPONENT_TITLE = (
    "SageMaker moves an inference component's copies one at a time; the 5XX alarm on its own metrics rolls it back"
)
# And the A/B test (sandbox/ab_test_demo.py).
AB_TEST = "ab-test"
AB_TEST_TITLE = "users convert at 10 % and 13 %; an always-valid A/B test names the winner after its minimum duration"
# And the shadow rollout (sandbox/shadow_demo.py).
SHADOW = "shadow"
SHADOW_TITLE = (
    "a challenger answers a copy of half the requests; judged on latency, errors and agreement, it replaces production"
)
# And a version approved in the Model Registry (sandbox/model_approved_demo.py).
MODEL_APPROVED = "model-approved"
MODEL_APPROVED_TITLE = "a version approved in the Model Registry rolls out by its group's release policy, no glue code"
# The scenarios that run their own loop, and their modules.
OWN_LOOPS = {
    BANDIT: "bandit_race",
    BLUE_GREEN: "blue_green_demo",
    ROLLING: "rolling_demo",
    ROLLING_COMPONENT: "rolling_component_demo",
    AB_TEST: "ab_test_demo",
    SHADOW: "shadow_demo",
    MODEL_APPROVED: "model_approved_demo",
}
TITLES = {
    **{s.name: s.title for s in SCENARIOS.values()},
    MODEL_APPROVED: MODEL_APPROVED_TITLE,
    BANDIT: BANDIT_TITLE,
    BLUE_GREEN: BLUE_GREEN_TITLE,
    ROLLING: ROLLING_TITLE,
    ROLLING_COMPONENT: ROLLING_COMPONENT_TITLE,
    AB_TEST: AB_TEST_TITLE,
    SHADOW: SHADOW_TITLE,
}


def spec(judged: bool = False, latency_judged: bool = False) -> dict[str, Any]:
    """The canary the demo posts. Judged: three steps and a group-sequential check of the 5XX rate (alpha 0.001,
    so that a demo of equal models almost never fails), in place of the 5XX threshold alarm. Latency judged: also
    a rank test of the p90 ModelLatency per minute against the baseline's (+10 % allowed), from 5 minutes on."""
    if judged:
        body = spec()
        body["strategy"]["steps"] = [{"weight": w, "bake": "5m"} for w in (10, 25, 50)]
        body["guardrails"]["alarm_rules"] = body["guardrails"]["alarm_rules"][1:]
        body["guardrails"]["rate_checks"] = [{"name": "5xx-rate", "alpha": 0.001, "minimum_samples": 200}]
        if latency_judged:
            body["guardrails"]["metric_checks"] = [
                {"name": "latency-p90", "statistic": "p90", "allowed_relative_change": 0.1, "minimum_periods": 5}
            ]
        return body
    return {
        "endpoint_name": ENDPOINT,
        "candidate": {"model_name": CANDIDATE_MODEL, "instance_type": "ml.m5.large", "initial_instance_count": 1},
        "strategy": {"type": "canary", "steps": [{"weight": 10, "bake": "5m"}, {"weight": 50, "bake": "5m"}]},
        "guardrails": {
            "alarm_rules": [
                {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02},
                {"name": "latency-p99", "metric": "ModelLatency", "statistic": "p99", "threshold": 300000},
            ],
            "monitoring_schedules": [{"schedule_name": SCHEDULE}],
        },
    }


def blue_green_strategy(**changes: Any) -> dict[str, Any]:
    """A blue/green strategy through SageMaker's canary routing: 10 % of the green fleet, then the rest, with
    five-minute bakes and a five-minute watch after the switch."""
    return {
        "type": "blue-green",
        "traffic_routing": "canary",
        "canary_size": {"type": "capacity-percent", "value": 10},
        "wait_interval": "5m",
        "termination_wait": "5m",
        "maximum_execution_timeout": "1h",
        "watch_after_promotion": "5m",
        **changes,
    }


def create_endpoint(cloud: LocalCloud, more_models: tuple[str, ...] = (), capture_to: str | None = None) -> None:
    """Endpoint ENDPOINT serving BASELINE_MODEL on variant v1; CANDIDATE_MODEL and `more_models` exist beside it.
    With `capture_to` (an S3 URI), the endpoint captures its requests and responses there from the start."""
    sm = cloud.client("sagemaker")
    for model in (BASELINE_MODEL, CANDIDATE_MODEL, *more_models):
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=f"arn:aws:iam::{core.ACCOUNT}:role/sagemaker-execution",
            PrimaryContainer={"Image": f"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1#{model}"},
        )
    capture: dict[str, Any] = {}
    if capture_to:
        capture["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": capture_to,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    sm.create_endpoint_config(
        **capture,
        EndpointConfigName=f"{ENDPOINT}-v1",
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": BASELINE_MODEL,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-v1")
    # The data-quality schedule the demo spec names as a guardrail; a DataQualityMonitor runs its executions.
    create_data_quality_schedule(cloud, SCHEDULE, ENDPOINT)


def until_ended(cloud: LocalCloud, look: Callable[[], T | None], name: str, limit: float) -> T:
    """Call `look` whenever the local cloud is idle (after any of its threads ran) until it returns a value, and
    return that; TimeoutError once `limit` simulated seconds have passed first."""
    result = cloud.wait_until(look, limit)
    if result is None:
        raise TimeoutError(f"scenario {name} did not finish in {limit / 60:g} simulated minutes")
    return result


def follow_decisions(
    cloud: LocalCloud,
    rollout_id: str,
    say: Out,
    name: str,
    limit: float,
    each_look: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Print each new decision until the rollout ends, running `each_look` at every look; the last view. Fails
    after `limit` simulated seconds."""
    seen = 0

    def look() -> dict[str, Any] | None:
        nonlocal seen
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            say(f"{decision['kind']}: {decision['message']}")
        seen = len(view["decisions"])
        if each_look is not None:
            each_look()
        return view if view["status"] in ("Promoted", "RolledBack") else None

    return until_ended(cloud, look, name, limit)


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:g} %" for name, value in sorted(weights.items()))


def run(
    name: str, out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None
) -> ScenarioResult:
    """Run one scenario on a fresh local cloud, printing its timeline; `output_dir` takes files it writes.
    `time_scale`: real seconds a simulated second lasts at least (the demo's watchable pace); None: no pace."""
    module = OWN_LOOPS.get(name)
    if module is not None:
        # Each imports this module: loaded only when asked for.
        result: ScenarioResult = importlib.import_module(f"sandbox.{module}").run(out, time_scale, output_dir)
        return result
    scenario = SCENARIOS[name]
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    signals: list[float] = []

    def listener(kind: str, text: str) -> None:
        if (kind == "alarm" and "→ ALARM" in text) or (kind == "monitor" and "CompletedWithViolations" in text):
            signals.append(clock.monotonic())
        say(f"[{kind}] {text}")

    out(f"\n== {scenario.name}: {scenario.title}")
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_endpoint(cloud)
        plane = DataPlane(
            cloud, ENDPOINT, {BASELINE_MODEL: scenario.baseline, CANDIDATE_MODEL: scenario.candidate}, listener=listener
        )
        live.plane = plane
        labeller = Labeller(cloud, ENDPOINT) if scenario.labels else None
        if labeller is not None:
            plane.on_answer = labeller.answered
        body = spec(scenario.judged, scenario.latency_judged)
        if scenario.smoke_test:
            cloud.add_function(SMOKE_TEST, smoke_test_hook(cloud, scenario.baseline))
            body["hooks"] = {"after_step": [{"function": SMOKE_TEST, "timeout": "1m"}]}
            say(f"hook '{SMOKE_TEST}' registered: after each step it scores known rows on the candidate")
        if scenario.monitor is not None:
            body["guardrails"]["monitors"] = [_monitor(cloud, scenario)]
            say(f"baseline for the {scenario.monitor} monitor written, as `rollouts baseline` writes it")
        plane.start()
        if labeller is not None:
            labeller.start(lambda: plane.sim_time)
        started = cloud.api("POST", "/rollouts", body)
        if started.status != 201:
            raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
        rollout_id = started.body["rollout_id"]
        say(f"POST /rollouts → 201, rollout {rollout_id}")
        view = _follow(cloud, plane, scenario, rollout_id, say, signals)
        plane.stop()
        if labeller is not None:
            labeller.stop()
        restore = _restore_time(signals, BASELINE_MODEL, view)
        endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    result = _summarise(scenario, view, endpoint, restore, time.monotonic() - began, plane)
    result.timeline = timeline
    out("")
    out(result.summary)
    return result


SMOKE_TEST = "rollout-hook-smoke-test"
# Known rows and how far from the baseline model's scores the candidate may answer them.
SMOKE_ROWS = [[35.0, 48_000.0, 12.0], [52.0, 61_000.0, 40.0], [28.0, 39_000.0, 75.0]]
SMOKE_TOLERANCE = 0.1


def smoke_test_hook(cloud: LocalCloud, expected: ModelBehaviour) -> Callable[[dict[str, Any], Any], dict[str, str]]:
    """A team's smoke test as a traffic hook: it sends SMOKE_ROWS to the candidate's variant and fails when a score is
    further than SMOKE_TOLERANCE from what the current model answers."""
    runtime = cloud.client("sagemaker-runtime")
    wanted = [expected.score(dict(zip(FEATURES, row, strict=True))) for row in SMOKE_ROWS]

    def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
        body = "\n".join(",".join(str(value) for value in row) for row in SMOKE_ROWS)
        answer = runtime.invoke_endpoint(
            EndpointName=event["endpoint_name"],
            TargetVariant=event["candidate"]["variant_name"],
            ContentType="text/csv",
            Body=body.encode(),
        )
        scores = [float(line) for line in answer["Body"].read().decode().split()]
        off = [abs(score - want) for score, want in zip(scores, wanted, strict=True)]
        bad = sum(gap > SMOKE_TOLERANCE for gap in off)
        if bad:
            message = f"{bad} of {len(off)} smoke rows scored more than {SMOKE_TOLERANCE} off (worst {max(off):.2f})"
            return {"status": "fail", "message": message}
        return {"status": "pass", "message": f"{len(off)} smoke rows within {SMOKE_TOLERANCE} (worst {max(off):.2f})"}

    return handler


def _monitor(cloud: LocalCloud, scenario: Scenario) -> dict[str, Any]:
    """The scenario's `guardrails.monitors` entry, its baseline made from the baseline model's training data."""
    from sandbox import baselines  # loads numpy and the monitor: only for the scenarios that use them

    model = scenario.baseline
    match scenario.monitor:
        case "data-quality":
            return baselines.data_quality_monitor(cloud)
        case "model-quality":
            return baselines.model_quality_monitor(cloud, model)
        case "bias-drift":
            return baselines.bias_monitor(cloud, model)
        case "feature-attribution":
            return baselines.explainability_monitor(cloud, model)
    raise ValueError(f"no monitor named {scenario.monitor!r}")


def _follow(
    cloud: LocalCloud,
    plane: DataPlane,
    scenario: Scenario,
    rollout_id: str,
    say: Out,
    signals: list[float],
) -> dict[str, Any]:
    """Print each new decision until the rollout ends; fire the monitors' schedule when the scenario asks for it
    (noting the moment in `signals`: the run's result is the signal, and the clock stands still while it runs)."""
    seen = 0
    first_step_at: float | None = None
    monitored = False

    def look() -> dict[str, Any] | None:
        nonlocal seen, first_step_at, monitored
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            say(f"{decision['kind']}: {decision['message']}")
        seen = len(view["decisions"])
        if view["step_index"] >= 0 and first_step_at is None:
            first_step_at = plane.sim_time
        if (
            scenario.monitor_after_seconds is not None
            and not monitored
            and first_step_at is not None
            and plane.sim_time - first_step_at >= scenario.monitor_after_seconds
        ):
            monitored = True
            plane.flush_capture()
            signals.append(clock.monotonic())
            for answer in cloud.run_schedules("RunMonitorFunction"):
                say(f"monitor schedule: started {len(answer.get('started', []))} run(s)")
        return view if view["status"] in ("Promoted", "RolledBack") else None

    return until_ended(cloud, look, scenario.name, SCENARIO_LIMIT)


def _subjects(evidence: dict[str, Any]) -> list[str]:
    """What the counted violations were about, one word each: a feature, a metric, or a label for SHAP's."""
    names: list[str] = []
    for violation in evidence.get("violations", []):
        metric = violation.get("metric") if violation.get("metric") != "shap" else None
        name = violation.get("feature") or metric or violation.get("label") or violation.get("subject", "")
        if name not in names:
            names.append(str(name))
    return names or [str(v) for v in evidence["violated"]]


def _restore_time(signals: list[float], baseline_model: str, view: dict[str, Any]) -> float | None:
    """Simulated seconds from the first breach signal to the call that gave the baseline all the traffic."""
    if not signals:
        return None
    baseline = view.get("baseline_variant")
    for call in core.REGISTRY.calls:
        weights = call.get("weights") or {}
        if (
            call["operation"] == "UpdateEndpointWeightsAndCapacities"
            and call["at"] >= signals[0]
            and weights.get(baseline) == 1.0
        ):
            return float(call["at"] - signals[0])
    return None


def _summarise(
    scenario: Scenario,
    view: dict[str, Any],
    endpoint: dict[str, Any],
    restore: float | None,
    elapsed: float,
    plane: DataPlane,
) -> ScenarioResult:
    served = ", ".join(f"{variant} {count}" for variant, count in sorted(plane.sent.items()))
    live = _weights({v["VariantName"]: 100 * float(v.get("CurrentWeight", 0)) for v in endpoint["ProductionVariants"]})
    if view["status"] == "Promoted":
        outcome, reason = "promoted", "all-steps-passed"
        summary = (
            f"Summary ({scenario.name}): the candidate passed {view['steps']} canary steps with no guardrail firing, "
            f"took all the traffic and was promoted; endpoint '{ENDPOINT}' now runs config "
            f"'{endpoint['EndpointConfigName']}' with {live}. Requests served: {served}. Took {elapsed:.1f} s."
        )
    else:
        breach = next(
            (
                d
                for d in view["decisions"]
                if d["kind"] in ("Guardrail Breached", "Step Judged")
                and ("breached" in d["message"] or "failed" in d["message"])
            ),
            None,
        )
        evidence = (breach or {}).get("evidence", {})
        vetoed = next(
            (d for d in view["decisions"] if d["kind"] == "Hook Called" and d["evidence"]["status"] == "fail"), None
        )
        if vetoed is not None:
            reason = f"hook:{vetoed['evidence']['function']}"
            breach = vetoed
        elif evidence.get("alarm"):
            prefix = f"rollouts-{view['rollout_id']}-"
            reason = f"alarm:{str(evidence['alarm']).removeprefix(prefix)}"
        elif any(m["outcome"] == "Failed" for m in evidence.get("metrics", [])):
            failed = [m["metric"] for m in evidence["metrics"] if m["outcome"] == "Failed"]
            reason = "judged:" + ",".join(name.split("(")[-1].rstrip(")") for name in failed)
        elif evidence.get("violated"):
            reason = f"{evidence.get('monitoring_type', 'monitoring')}-violations:{','.join(_subjects(evidence))}"
        else:
            reason = (view.get("reason") or "unknown").split(":")[0]
        timing = (
            f" Traffic was back on the baseline {restore:.0f} simulated seconds after the signal."
            if restore is not None
            else ""
        )
        how = (
            "The hook failed the step after its bake; the control plane"
            if vetoed is not None
            else "The judge failed the step at the end of its bake; the control plane"
            if (breach or {}).get("kind") == "Step Judged"
            else "The control plane ended the bake at once,"
        )
        summary = (
            f"Summary ({scenario.name}): {(breach or {}).get('message', view.get('reason'))}. {how} gave the baseline "
            f"100 % and restored config '{endpoint['EndpointConfigName']}' ({live}).{timing} Requests served: "
            f"{served}. Took {elapsed:.1f} s."
        )
        outcome = "rolled back"
    return ScenarioResult(scenario.name, outcome, reason, summary, view, restore, elapsed)
