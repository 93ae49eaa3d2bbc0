"""A simulated SageMaker data plane: traffic by live weights, per-model behaviour, metrics, alarms, data capture
and Model Monitor executions that write real result files.

Behaviour belongs to a model (a candidate's error rate, latency, input shift and predictions), so it follows the
model from variant to variant. A shadow variant gets a copy of its share of the requests the production variant
serves (see `sandbox.moto_ext.sagemaker` on the share): it publishes its own metrics and captures its own
predictions, with the same `eventMetadata.inferenceId` as the production variant's record of the request, and answers
nobody. Time is simulated (`sandbox.moto_ext.clock`): each step serves one tick of simulated traffic while the
virtual clock stands still.

A plane can serve an inference component of the endpoint instead (`component`): its requests go to the component's
model (during a rolling update, the share of its copies on the new model serves, `sandbox.components`), it publishes
the component's own invocation metrics (dimension InferenceComponentName) and evaluates the alarms on them.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from rollouts.judge.threshold import breaches
from rollouts.models.spec import Comparison
from sandbox import components, deployments
from sandbox.cloud import LocalCloud
from sandbox.moto_ext import clock, cloudwatch, core, events

FEATURES = ("age", "income", "tenure_months")
FEATURE_SCALES = {"age": (41.0, 11.0), "income": (52_000.0, 14_000.0), "tenure_months": (30.0, 15.0)}
# PutMetricData takes at most 150 values in one metric datum.
LATENCY_VALUES = 150
# A step serves at most this many ticks of traffic; see DataPlane.step.
MAX_TICKS_PER_STEP = 3
MONITOR_BUCKET = "local-model-monitor"


# One line of SageMaker's data capture (JSON Lines), as `json.dumps` writes it. Every field filled in is a number, a
# hex id or a timestamp, none of which JSON escapes, so formatting the line costs a fraction of encoding a dict:
# the data plane writes one per request, thousands per real second in the tests.
_CAPTURE_RECORD = (
    '{{"captureData": {{"endpointInput": {{"observedContentType": "text/csv", "mode": "INPUT", "data": "{inputs}", '
    '"encoding": "CSV"}}, "endpointOutput": {{"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT", '
    '"data": "{score}", "encoding": "CSV"}}}}, "eventMetadata": {{"eventId": "{event_id}", '
    '"inferenceId": "{inference_id}", "inferenceTime": "{time}"}}, "eventVersion": "0"}}'
)


_CAPTURE_INPUTS = ",".join(f"{{{feature}:.2f}}" for feature in FEATURES)  # "{age:.2f},{income:.2f},..."

# The version (4) and variant (RFC 4122) bits of a random UUID.
_UUID4_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


@dataclass
class ModelBehaviour:
    """How a model serves: its 5XX rate, its latency (log-normal, in ms), a shift of its inputs, and how often the
    users it answers convert (the reward that simulated users, `sandbox/users.py`, report as feedback).
    `score_shift` is added to the baseline's score (clamped to [0, 1]): a challenger that predicts otherwise."""

    error_rate: float = 0.001
    latency_ms: float = 40.0
    latency_spread: float = 0.35
    input_shift: dict[str, float] = field(default_factory=dict)
    conversion_rate: float = 0.0
    score_shift: float = 0.0
    # The feature the model's score rises with (FEATURE_SCALES: its centre and spread): another feature is a model
    # that learned something else, whose SHAP attributions rank the features otherwise.
    score_on: str = "tenure_months"
    # A bias against one group: (feature, threshold, shift) adds `shift` to the score of rows whose feature is below
    # the threshold.
    shift_below: tuple[str, float, float] | None = None

    def score(self, row: dict[str, float]) -> float:
        """The model's score of one request's inputs, in [0, 1]."""
        centre, spread = FEATURE_SCALES[self.score_on]
        value = 1 / (1 + math.exp(-(row[self.score_on] - centre) / spread)) + self.score_shift
        if self.shift_below is not None and row[self.shift_below[0]] < self.shift_below[1]:
            value += self.shift_below[2]
        return min(1.0, max(0.0, value))


def true_probability(row: dict[str, float]) -> float:
    """The chance that the user of a request churns, which the baseline model's score estimates: what labels are
    drawn from."""
    centre, spread = FEATURE_SCALES["tenure_months"]
    return 1 / (1 + math.exp(-(row["tenure_months"] - centre) / spread))


@dataclass
class Sample:
    at: float
    error: bool
    latency_us: float


def training_row(rng: random.Random) -> dict[str, float]:
    return {
        "age": max(18.0, rng.gauss(41.0, 11.0)),
        "income": max(0.0, rng.gauss(52_000.0, 14_000.0)),
        "tenure_months": rng.expovariate(1 / 30.0),
    }


Listener = Callable[[str, str], None]
# (variant, current weight, model) as DescribeEndpoint and DescribeEndpointConfig show it.
Variant = tuple[str, float, str]
# Told of every request answered (never of a shadow's copy): its variant, the model's behaviour, its simulated
# time, and whether it failed.
RequestHook = Callable[[str, ModelBehaviour, float, bool], None]
# Told of every request answered without an error (never of a shadow's copy): its inference id, its inputs and its
# simulated time; what labels the users' outcomes (`sandbox.labels`).
AnswerHook = Callable[[str, dict[str, float], float], None]


class DataPlane:
    """Sends requests to one endpoint until stopped; evaluates the endpoint's alarms on what it sent.

    With `component`, the requests go to that inference component of the endpoint, served as one "variant" named
    after it (weight 1, the model DescribeInferenceComponent names); its metrics are published, and its alarms
    evaluated, under SageMaker's per-component dimension InferenceComponentName."""

    def __init__(
        self,
        cloud: LocalCloud,
        endpoint_name: str,
        behaviours: dict[str, ModelBehaviour],
        requests_per_second: float = 50.0,
        tick_seconds: float = 10.0,
        seed: int = 7,
        listener: Listener | None = None,
        on_request: RequestHook | None = None,
        on_answer: AnswerHook | None = None,
        component: str | None = None,
    ) -> None:
        self.cloud = cloud
        self.endpoint_name = endpoint_name
        self.component = component
        self.behaviours = behaviours
        self.rps = requests_per_second
        self.tick = tick_seconds
        self.rng = random.Random(seed)
        # Ids come from a generator of their own, so that the simulation's draws do not depend on how many there are.
        self._ids = random.Random(seed + 1)
        self._stamp_second = -1
        self._stamp_text = ""
        self.listener = listener or (lambda kind, text: None)
        self.on_request = on_request
        self.on_answer = on_answer
        self.samples: dict[str, list[Sample]] = defaultdict(list)
        self.fresh: dict[str, list[Sample]] = defaultdict(list)
        self.capture: dict[str, list[str]] = defaultdict(list)
        self.sent: dict[str, int] = defaultdict(int)
        # (simulated time, {variant: weight}) each time the live weights were seen to change: what was served.
        self.weight_history: list[tuple[float, dict[str, float]]] = []
        self.sim_time = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_alarm_period: dict[str, int] = {}
        self._last_flush = 0.0
        self._models_by_config: dict[str, dict[str, str]] = {}
        self._last_alarm_check = -1
        self._sm = cloud.client("sagemaker")
        self._cw = cloud.client("cloudwatch")
        self._s3 = cloud.client("s3")
        # Simulated time: the local cloud's clock, which the control plane's metric windows read too.
        self.started = clock.now()
        # InvokeEndpoint on this endpoint answers with the serving model's scores (`sandbox.moto_ext.sagemaker`).
        with core.REGISTRY.lock:
            core.REGISTRY.scorers[endpoint_name] = self.score_rows

    def score_rows(self, variant: str | None, rows: list[list[float]]) -> list[float]:
        """The scores the model behind `variant` (the first live one when None) gives rows of FEATURES."""
        models = self.models_by_variant()
        model = models.get(variant, "") if variant else next(iter(models.values()), "")
        if variant and variant not in models:
            raise ValueError(f"endpoint {self.endpoint_name} has no variant {variant}")
        behaviour = self.behaviours.get(model, ModelBehaviour())
        return [behaviour.score(dict(zip(FEATURES, row, strict=True))) for row in rows]

    def models_by_variant(self) -> dict[str, str]:
        """Each variant's model as the endpoint serves now, production variants first."""
        live, shadows = self.live_variants()
        return {name: model for name, _, model in live + shadows}

    # -- running -------------------------------------------------------------------------------------------------

    def start(self) -> DataPlane:
        self._thread = threading.Thread(target=self._run, name="data-plane", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        # The virtual clock stands still while a step runs: each step serves one tick of simulated traffic.
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as error:  # the simulation must not die silently mid-demo
                self.listener("data plane", f"error: {error!r}")
            self._stop.wait(self.tick)

    def now(self) -> datetime:
        return self.started + timedelta(seconds=self.sim_time)

    def live_variants(self) -> tuple[list[Variant], list[Variant]]:
        """The endpoint as it serves now: its production variants and its shadow variants. For an inference
        component, the component alone, with the model DescribeInferenceComponent names."""
        if self.component is not None:
            described = self._sm.describe_inference_component(InferenceComponentName=self.component)
            return [(self.component, 1.0, str((described.get("Specification") or {}).get("ModelName") or ""))], []
        endpoint = self._sm.describe_endpoint(EndpointName=self.endpoint_name)
        name = endpoint["EndpointConfigName"]
        if name not in self._models_by_config:
            config = self._sm.describe_endpoint_config(EndpointConfigName=name)
            self._models_by_config[name] = {
                v["VariantName"]: v["ModelName"]
                for v in config["ProductionVariants"] + config.get("ShadowProductionVariants", [])
            }
        models = self._models_by_config[name]

        def variants(key: str) -> list[Variant]:
            return [
                (v["VariantName"], float(v.get("CurrentWeight", 0.0)), models.get(v["VariantName"], ""))
                for v in endpoint.get(key, [])
            ]

        return variants("ProductionVariants"), variants("ShadowProductionVariants")

    def step(self, sim_seconds: float | None = None) -> None:
        """Serve the requests of the next `sim_seconds`; by default, of the time since the last step, by the clock.

        Following the clock, a step serves at most `MAX_TICKS_PER_STEP` ticks of traffic: when this thread falls
        behind (a busy machine), the older part of the gap passes with no requests, rather than each late step
        serving more and running later still. The data stays stamped with the clock the control plane reads.
        """
        begun = self.sim_time
        if sim_seconds is None:
            target = (clock.now() - self.started).total_seconds()
            if target <= begun:
                return
            longest = MAX_TICKS_PER_STEP * self.tick
            begun = max(begun, target - longest)
            sim_seconds = target - begun
        self.sim_time = begun + sim_seconds
        self.serve_requests(begun, sim_seconds)
        self._publish_metrics()
        self._evaluate_alarms()
        if self.sim_time - self._last_flush >= 60:
            self.flush_capture()

    def serve_requests(self, begun: float, sim_seconds: float) -> None:
        """The requests of `sim_seconds` from simulated second `begun`, each to a variant drawn by the live weights."""
        live, shadows = self.live_variants()
        weights_now = {name: weight for name, weight, _ in live}
        if not self.weight_history or self.weight_history[-1][1] != weights_now:
            self.weight_history.append((begun, weights_now))
        variants = [v for v in live if v[1] > 0]
        total = sum(weight for _, weight, _ in variants)
        if total > 0:
            expected = self.rps * sim_seconds
            count = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
            names = [name for name, _, _ in variants]
            weights = [weight for _, weight, _ in variants]
            models = {name: model for name, _, model in variants}
            moments = sorted(begun + self.rng.random() * sim_seconds for _ in range(count))
            # SageMaker allows a shadow only beside a single production variant (see `sandbox.moto_ext.sagemaker`).
            shadow, share, shadow_model = shadows[0] if shadows else ("", 0.0, "")
            share = min(1.0, share / weights[0]) if share > 0 else 0.0
            for at, name in zip(moments, self.rng.choices(names, weights=weights, k=count), strict=True):
                # During a blue/green deployment one variant name has two fleets, and during a component's rolling
                # update its copies run two models: the request goes to one.
                if self.component is not None:
                    model = components.serving_model(self.component, models[name], self.rng)
                else:
                    model = deployments.serving_model(self.endpoint_name, name, models[name], self.rng)
                # The simulated clients pass InferenceId to InvokeEndpoint, so that capture records can be matched.
                inference_id = self._uuid()
                row = self._serve(name, self.behaviours.get(model, ModelBehaviour()), at, inference_id)
                # `rng` is drawn from only while a shadow takes a part of the traffic, so a simulation without
                # shadows keeps its sequence.
                if share >= 1.0 or (share > 0.0 and self.rng.random() < share):
                    self._serve(shadow, self.behaviours.get(shadow_model, ModelBehaviour()), at, inference_id, row)

    def _serve(
        self,
        variant: str,
        behaviour: ModelBehaviour,
        at: float,
        inference_id: str,
        mirrored: dict[str, float] | None = None,
    ) -> dict[str, float]:
        """Serve one request and return its inputs. `mirrored` holds the inputs of a request the production variant
        answered, when this is a shadow's copy of it: the copy counts in the shadow's metrics and capture only."""
        error = self.rng.random() < behaviour.error_rate
        latency_ms = behaviour.latency_ms * math.exp(self.rng.gauss(0, behaviour.latency_spread))
        sample = Sample(at, error, latency_ms * 1000)
        self.samples[variant].append(sample)
        self.fresh[variant].append(sample)
        if mirrored is None:
            self.sent[variant] += 1
            if self.on_request is not None:
                self.on_request(variant, behaviour, at, error)
            row = training_row(self.rng)
            for feature, factor in behaviour.input_shift.items():
                row[feature] *= factor
        else:
            row = mirrored
        if not error:
            score = behaviour.score(row)
            if mirrored is None and self.on_answer is not None:
                self.on_answer(inference_id, row, at)
            self.capture[variant].append(
                _CAPTURE_RECORD.format(
                    inputs=_CAPTURE_INPUTS.format(**row),
                    score=f"{score:.4f}",
                    event_id=self._uuid(),
                    inference_id=inference_id,
                    time=self._stamp(at),
                )
            )
        return row

    def _uuid(self) -> str:
        """A random version-4 UUID, as `uuid.uuid4` makes them, drawn from the plane's seeded id generator."""
        text = f"{self._ids.getrandbits(128) & _UUID4_MASK | _UUID4_BITS:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def _stamp(self, at: float) -> str:
        """The capture's inferenceTime of simulated second `at`; requests come in time order, so one is kept."""
        second = int(at)
        if second != self._stamp_second:
            self._stamp_second = second
            self._stamp_text = (self.started + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self._stamp_text

    # -- CloudWatch ----------------------------------------------------------------------------------------------

    def _publish_metrics(self) -> None:
        """The per-variant metrics SageMaker publishes, one data point set per variant and minute, stamped with it."""
        data = []
        for variant, fresh in self.fresh.items():
            dims = [{"Name": "EndpointName", "Value": self.endpoint_name}, {"Name": "VariantName", "Value": variant}]
            if self.component is not None:
                # SageMaker's per-component invocation metrics carry the one dimension InferenceComponentName.
                dims = [{"Name": "InferenceComponentName", "Value": variant}]
            by_minute: dict[int, list[Sample]] = defaultdict(list)
            for sample in fresh:
                by_minute[int(sample.at // 60)].append(sample)
            for minute, samples in sorted(by_minute.items()):
                stamp = self.started + timedelta(seconds=minute * 60)
                errors = sum(s.error for s in samples)
                # One 0-or-1 data point per request, as SageMaker publishes them: Average is the rate, Sum the count.
                count = float(len(samples))
                per_request = {"SampleCount": count, "Sum": float(errors), "Minimum": 0.0, "Maximum": float(errors > 0)}
                invocations = {"SampleCount": count, "Sum": count, "Minimum": 1.0, "Maximum": 1.0}
                common = {"Dimensions": dims, "Timestamp": stamp}
                data += [
                    {"MetricName": "Invocations", "StatisticValues": invocations, "Unit": "Count", **common},
                    {"MetricName": "Invocation5XXErrors", "StatisticValues": per_request, "Unit": "Count", **common},
                ]
                # Raw latencies, so that CloudWatch computes percentiles; a uniform sample of at most
                # LATENCY_VALUES per variant and minute keeps the local CloudWatch small.
                chosen = samples if len(samples) <= LATENCY_VALUES else self.rng.sample(samples, LATENCY_VALUES)
                data.append(
                    {
                        "MetricName": "ModelLatency",
                        "Values": [float(round(s.latency_us)) for s in chosen],
                        "Unit": "Microseconds",
                        **common,
                    }
                )
        self.fresh.clear()
        for start in range(0, len(data), 20):
            self._cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=data[start : start + 20])

    def _statistic(self, values: list[float], statistic: str) -> float:
        if statistic == "Average":
            return sum(values) / len(values)
        if statistic == "Sum":
            return sum(values)
        if statistic == "SampleCount":
            return float(len(values))
        if statistic == "Minimum":
            return min(values)
        if statistic == "Maximum":
            return max(values)
        return cloudwatch.percentile(values, statistic)

    def _evaluate_alarms(self) -> None:
        """CloudWatch evaluates an alarm when a period ends, on the periods that ended."""
        # Alarm periods are multiples of 10 s: nothing can end between two 10-second marks.
        mark = int(self.sim_time // 10)
        if mark == self._last_alarm_check:
            return
        self._last_alarm_check = mark
        for alarm in self._cw.describe_alarms()["MetricAlarms"]:
            dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            key = self._samples_key(alarm.get("Namespace"), dims)
            if key is None:
                continue
            period = int(alarm["Period"])
            ended = int(self.sim_time // period)
            if self._last_alarm_period.get(alarm["AlarmName"]) == ended:
                continue
            self._last_alarm_period[alarm["AlarmName"]] = ended
            verdicts = []
            for index in range(ended - alarm["EvaluationPeriods"], ended):
                window = [s for s in self.samples.get(key, []) if index * period <= s.at < (index + 1) * period]
                if not window:
                    continue  # missing data: the rollout's alarms treat it as not breaching
                values = [
                    {"Invocation5XXErrors": float(s.error), "ModelLatency": s.latency_us, "Invocations": 1.0}.get(
                        alarm["MetricName"], 0.0
                    )
                    for s in window
                ]
                value = self._statistic(values, alarm.get("Statistic") or alarm.get("ExtendedStatistic", "Average"))
                verdicts.append((value, breaches(value, alarm["Threshold"], Comparison(alarm["ComparisonOperator"]))))
            needed = alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]
            breaching = [value for value, breach in verdicts if breach]
            state = "ALARM" if len(breaching) >= needed else "OK"
            if state != alarm["StateValue"] and (state == "ALARM" or verdicts):
                latest = verdicts[-1][0] if verdicts else 0.0
                reason = (
                    f"Threshold Crossed: {len(breaching)} out of the last {len(verdicts)} datapoints "
                    f"[{latest:.4g}] was {alarm['ComparisonOperator']} the threshold ({alarm['Threshold']:g})"
                )
                self._cw.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state, StateReason=reason[:1023])
                self.listener("alarm", f"{alarm['AlarmName']} → {state}: {reason}")

    def _samples_key(self, namespace: str | None, dims: dict[str, str]) -> str | None:
        """Whose samples an alarm watches, or None when it watches nothing this plane serves: a variant of the
        endpoint (EndpointName, VariantName), or the plane's inference component (InferenceComponentName)."""
        if namespace != "AWS/SageMaker":
            return None
        if self.component is not None:
            return self.component if dims.get("InferenceComponentName") == self.component else None
        return dims.get("VariantName", "") if dims.get("EndpointName") == self.endpoint_name else None

    # -- data capture and Model Monitor --------------------------------------------------------------------------

    def _capture_root(self) -> tuple[str, str] | None:
        if self.component is not None:
            return None  # data capture of an inference component's requests is not modelled: none is written
        endpoint = self._sm.describe_endpoint(EndpointName=self.endpoint_name)
        capture = endpoint.get("DataCaptureConfig") or {}
        uri = capture.get("DestinationS3Uri")
        if not uri:
            config = self._sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
            uri = (config.get("DataCaptureConfig") or {}).get("DestinationS3Uri")
        if not uri:
            return None
        parsed = urlparse(uri)
        return parsed.netloc, parsed.path.strip("/")

    def flush_capture(self) -> None:
        self._last_flush = self.sim_time
        root = self._capture_root()
        if root is None:
            self.capture.clear()
            return
        bucket, prefix = root
        stamp = self.now().strftime("%Y/%m/%d/%H")
        for variant, lines in list(self.capture.items()):
            if not lines:
                continue
            key = f"{prefix}/{self.endpoint_name}/{variant}/{stamp}/{uuid.uuid4().hex}.jsonl".lstrip("/")
            self._s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
            self.capture[variant] = []

    def captured_inputs(self, variant: str) -> dict[str, list[float]]:
        root = self._capture_root()
        values: dict[str, list[float]] = {f: [] for f in FEATURES}
        if root is None:
            return values
        bucket, prefix = root
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/{self.endpoint_name}/{variant}/".lstrip("/")):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
                for line in body.splitlines():
                    data = json.loads(line)["captureData"]["endpointInput"]["data"].split(",")
                    for feature, value in zip(FEATURES, data, strict=True):
                        values[feature].append(float(value))
        return values


def create_data_quality_schedule(cloud: Any, schedule_name: str, endpoint_name: str) -> None:
    """An hourly data-quality monitoring schedule on the endpoint, its baseline and results in MONITOR_BUCKET."""
    sm = cloud.client("sagemaker")
    sm.create_monitoring_schedule(
        MonitoringScheduleName=schedule_name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringType": "DataQuality",
            "MonitoringJobDefinition": {
                "BaselineConfig": {
                    "ConstraintsResource": {"S3Uri": f"s3://{MONITOR_BUCKET}/baseline/constraints.json"},
                    "StatisticsResource": {"S3Uri": f"s3://{MONITOR_BUCKET}/baseline/statistics.json"},
                },
                "MonitoringInputs": [
                    {"EndpointInput": {"EndpointName": endpoint_name, "LocalPath": "/opt/ml/processing/input"}}
                ],
                "MonitoringOutputConfig": {
                    "MonitoringOutputs": [
                        {
                            "S3Output": {
                                "S3Uri": f"s3://{MONITOR_BUCKET}/monitoring",
                                "LocalPath": "/opt/ml/processing/output",
                            }
                        }
                    ]
                },
                "MonitoringResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
                },
                "MonitoringAppSpecification": {
                    "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
                },
                "RoleArn": f"arn:aws:iam::{core.ACCOUNT}:role/model-monitor",
            },
        },
    )


class DataQualityMonitor:
    """A Model Monitor data-quality schedule on one variant's capture, run on demand like an hourly execution: it
    computes with the control plane's own monitor (`rollouts_monitor`), as SageMaker's analyzer would, and writes
    an execution's files and event as Model Monitor does, for the path that reads Model Monitor's results."""

    def __init__(self, plane: DataPlane, schedule_name: str, variant: str) -> None:
        import numpy as np

        from rollouts_monitor import data_quality
        from rollouts_monitor.records import Dataset

        self.plane = plane
        self.schedule_name = schedule_name
        self.variant = variant
        rng = random.Random(11)
        rows = [training_row(rng) for _ in range(2000)]
        training = Dataset(list(FEATURES), {f: np.asarray([row[f] for row in rows]) for f in FEATURES})
        self.statistics, self.constraints = data_quality.suggest_baseline(training)
        s3 = plane.cloud.client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=MONITOR_BUCKET)
        if schedule_name not in core.REGISTRY.monitoring_schedules:  # the scenario's endpoint may have made it
            create_data_quality_schedule(plane.cloud, schedule_name, plane.endpoint_name)

    def run(self) -> dict[str, Any]:
        """One execution: compare the captured inputs with the baseline, write the files, emit the event."""
        import numpy as np
        from moto.sagemaker.models import sagemaker_backends

        from rollouts_monitor import data_quality
        from rollouts_monitor.records import Dataset

        plane = self.plane
        plane.flush_capture()
        current = plane.captured_inputs(self.variant)
        window = Dataset(list(FEATURES), {f: np.asarray(current[f], dtype=float) for f in FEATURES})
        profile = data_quality.Profile.of(window, self.statistics)
        violations = data_quality.check(profile, self.statistics, self.constraints)
        statistics = profile.statistics()
        now = plane.now()
        job_name = f"model-monitoring-{now:%Y%m%d%H%M}-{uuid.uuid4().hex[:8]}"
        output = (
            f"s3://{MONITOR_BUCKET}/monitoring/{plane.endpoint_name}/{self.schedule_name}/{now:%Y/%m/%d/%H}/{job_name}"
        )
        key = urlparse(output).path.strip("/")
        s3 = plane.cloud.client("s3")
        s3.put_object(
            Bucket=MONITOR_BUCKET,
            Key=f"{key}/constraint_violations.json",
            Body=json.dumps({"violations": violations}, indent=2).encode(),
        )
        s3.put_object(Bucket=MONITOR_BUCKET, Key=f"{key}/statistics.json", Body=json.dumps(statistics).encode())
        backend = sagemaker_backends[core.ACCOUNT][core.REGION]
        job = backend.create_processing_job(
            app_specification={
                "ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
            },
            experiment_config={},
            network_config={},
            processing_inputs=[],
            processing_job_name=job_name,
            processing_output_config={
                "Outputs": [
                    {
                        "OutputName": "result",
                        "S3Output": {
                            "S3Uri": output,
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            role_arn=f"arn:aws:iam::{core.ACCOUNT}:role/model-monitor",
            tags=[],
            stopping_condition={"MaxRuntimeInSeconds": 3600},
        )
        status = "CompletedWithViolations" if violations else "Completed"
        schedule = core.REGISTRY.monitoring_schedules[self.schedule_name]
        with core.REGISTRY.lock:
            core.REGISTRY.monitoring_executions[self.schedule_name].append(
                {
                    "MonitoringScheduleName": self.schedule_name,
                    "ScheduledTime": now,
                    "CreationTime": now,
                    "LastModifiedTime": now,
                    "MonitoringExecutionStatus": status,
                    "ProcessingJobArn": job.arn,
                    "EndpointName": plane.endpoint_name,
                    "MonitoringType": "DataQuality",
                }
            )
        exit_message = (
            f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
            if violations
            else "Completed: Job completed successfully with no violations."
        )
        events.put_event(
            "aws.sagemaker",
            "SageMaker Processing Job State Change",
            {
                "ProcessingJobName": job_name,
                "ProcessingJobArn": job.arn,
                "ProcessingJobStatus": "Completed",
                "ExitMessage": exit_message,
                "MonitoringScheduleArn": schedule["MonitoringScheduleArn"],
                "Environment": {
                    "sagemaker_endpoint_name": plane.endpoint_name,
                    "sagemaker_monitoring_schedule_name": self.schedule_name,
                },
                "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": output}}]},
            },
            [job.arn],
        )
        plane.listener("monitor", f"{self.schedule_name}: {status} ({len(violations)} violations)")
        return {"status": status, "violations": violations, "output": output}
