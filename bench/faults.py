"""The fault matrix: every AWS call a rollout of each strategy makes, x {one throttle, throttling that outlasts the
retries, AccessDenied}, on the local cloud, each case's end state checked against DescribeEndpoint; and the same
faults on the feedback path and on the signal path.

`make faults` runs it and writes bench/results/faults.json and docs/reliability.md. A rollout case is safe when the
rollout ends where it says it is: refused before any change with the endpoint as it was; `Promoted` with the
promoted model alone serving (the candidate's; a bandit's winner's) and no shadow variant; `RolledBack` or `Failed`
with the baseline's alone; or `RollbackFailed` with the lock still held (it says it could not restore); and every end
but `Promoted` with a reason, the decision log's explanation. A lie is a final status that DescribeEndpoint
contradicts, or one left unexplained; a stuck case has not ended after a simulated week.

A feedback case is safe when every good event posted is counted once in its arm's totals or is in the dead-letter
queue with a reason; a lie when one is lost or counted twice. A signal case is safe when the rollout whose alarm
fired still rolls back, or ends in a true state by the rollout rules above.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import ROOT, quiet

RESULTS = ROOT / "bench" / "results" / "faults.json"
DOC = ROOT / "docs" / "reliability.md"
FAULTS = {
    "one throttle": ("ThrottlingException", 1),
    "throttling past the retries": ("ThrottlingException", 8),
    "access denied": ("AccessDeniedException", 1),
}
WEEK = 7 * 86400.0
ENDPOINT = "churn-predictor"
BASELINE_MODEL, CANDIDATE_MODEL, THIRD_MODEL = "churn-xgb-v1", "churn-xgb-v2", "churn-xgb-v3"
BASELINE_VARIANT = "v1"
ENDED = ("Promoted", "RolledBack", "Failed", "RollbackFailed")
# A client's retries of a refused POST /feedback (a 5XX or a 429): more than the longest injected fault.
FEEDBACK_ATTEMPTS = 12


# -- the strategies' healthy rollouts --------------------------------------------------------------------------------


@dataclass
class Case:
    """What one run knows while it follows its rollout: the driver's own state."""

    rollout_id: str | None = None
    posted: set[str] = field(default_factory=set)
    feedback_refused: int = 0
    plane: Any = None


# Called at each look while the rollout runs, with the rollout's stored body (the observer's read): feeds it.
Driver = Callable[[Any, Case, dict[str, Any]], None]


@dataclass(frozen=True)
class Strategy:
    name: str
    setup: str  # how the healthy rollout runs, for the report
    spec: Callable[[], dict[str, Any]]
    driver: Driver | None = None
    more_models: tuple[str, ...] = ()
    healthy: str = "Promoted"


def _base_spec() -> dict[str, Any]:
    """The demo's spec: its two alarm rules and its data-quality monitoring schedule as guardrails."""
    from sandbox.scenarios import spec

    return spec()


def _row(
    part: str,
    operation: str | None,
    fault: str | None,
    api_status: int,
    status: str | None,
    model: str | None,
    config: str,
    lock: str | None,
    verdict: str,
    reason: str | None,
) -> dict[str, Any]:
    """A case's end state, as the report lists it."""
    return {
        "strategy": part,
        "operation": operation,
        "fault": fault,
        "api_status": api_status,
        "status": status,
        "serving": model,
        "config": config,
        "lock_held": lock is not None,
        "verdict": verdict,
        "reason": (reason or "")[:160],
    }


def _with_strategy(strategy: dict[str, Any]) -> dict[str, Any]:
    body = _base_spec()
    body["strategy"] = strategy
    return body


def _canary_spec() -> dict[str, Any]:
    body = _base_spec()
    body["strategy"]["steps"] = [{"weight": 10, "bake": "5m"}, {"weight": 50, "bake": "5m"}]
    return body


def _bandit_spec() -> dict[str, Any]:
    return _with_strategy(
        {
            "type": "bandit",
            "update_every": "10m",
            "min_update_interval": "10m",
            "stop_after_updates": 2,
            "max_duration": "6h",
            "more_candidates": [{"model_name": THIRD_MODEL, "instance_type": "ml.m5.large"}],
        }
    )


def _ab_spec() -> dict[str, Any]:
    return _with_strategy(
        {
            "type": "ab-test",
            "candidate_weight": 30,
            "check_every": "30m",
            "min_duration": "1h",
            "max_duration": "4h",
        }
    )


def _shadow_spec() -> dict[str, Any]:
    return _with_strategy(
        {
            "type": "shadow",
            "sampling_percentage": 100,
            "duration": "15m",
            "promotion": {"type": "blue-green", "wait_interval": "5m", "termination_wait": "0s"},
        }
    )


def _blue_green_spec() -> dict[str, Any]:
    from sandbox.scenarios import blue_green_strategy

    return _with_strategy(blue_green_strategy())


def _events(variant: str, count: int, converted: int, prefix: str) -> list[dict[str, Any]]:
    """`count` rewards for `variant`, `converted` of them 1, spread evenly."""
    return [
        {
            "event_id": f"{prefix}-{i}",
            "endpoint": ENDPOINT,
            "variant": variant,
            "reward": 1 if (i + 1) * converted // count > i * converted // count else 0,
        }
        for i in range(count)
    ]


def post_feedback(cloud: Any, case: Case, events: list[dict[str, Any]]) -> bool:
    """POST the events as a client does: retried while the API answers 5XX or 429. Whether they were accepted."""
    for first in range(0, len(events), 500):
        for _ in range(FEEDBACK_ATTEMPTS):
            response = cloud.api("POST", "/feedback", {"events": events[first : first + 500]})
            if response.status == 202:
                break
            case.feedback_refused += 1
            if response.status < 500 and response.status != 429:
                return False
        else:
            return False
    return True


def _bandit_driver(cloud: Any, case: Case, body: dict[str, Any]) -> None:
    """After each reweighting, a batch of conversions: the third model converts best by far."""
    updates = int((body.get("bandit") or {}).get("updates") or 0)
    key = f"update-{updates}"
    if updates < 1 or not body.get("task_token") or key in case.posted:
        return
    case.posted.add(key)
    for variant, converted in ((BASELINE_VARIANT, 40), (CANDIDATE_MODEL, 48), (THIRD_MODEL, 100)):
        post_feedback(cloud, case, _events(variant, 400, converted, f"{key}-{variant}"))


def _ab_driver(cloud: Any, case: Case, body: dict[str, Any]) -> None:
    """Once the traffic is split: conversions at 15 % on the candidate against 10 % on the baseline."""
    if not (body.get("ab_test") or {}).get("started_at") or not body.get("task_token") or "split" in case.posted:
        return
    case.posted.add("split")
    post_feedback(cloud, case, _events(BASELINE_VARIANT, 2000, 200, "base"))
    post_feedback(cloud, case, _events(CANDIDATE_MODEL, 2000, 300, "cand"))


def _shadow_driver(cloud: Any, case: Case, body: dict[str, Any]) -> None:
    """Once the challenger shadows production: ten minutes of production's traffic, copied to it."""
    from sandbox.dataplane import DataPlane, ModelBehaviour

    if not body.get("started_at") or not body.get("task_token") or "served" in case.posted:
        return
    if not _observed_endpoint(cloud).get("ShadowProductionVariants"):
        return
    case.posted.add("served")
    behaviour = ModelBehaviour(error_rate=0.0, latency_ms=40.0)
    plane = DataPlane(cloud, ENDPOINT, {BASELINE_MODEL: behaviour, CANDIDATE_MODEL: behaviour}, requests_per_second=5)
    for _ in range(10):
        plane.step(60)
    plane.flush_capture()
    case.plane = plane


STRATEGIES = {
    s.name: s
    for s in (
        Strategy("canary", "two steps, 10 % and 50 %, five-minute bakes", _canary_spec),
        Strategy(
            "bandit",
            "three arms (the baseline and two candidates), a reweighting every 10 minutes, 1,200 rewards posted "
            "through POST /feedback after each; the third model converts best and wins after two updates at "
            "P(best) >= 0.95",
            _bandit_spec,
            _bandit_driver,
            more_models=(THIRD_MODEL,),
        ),
        Strategy(
            "abtest",
            "30 % to the candidate, a look every 30 minutes from one hour on; 4,000 rewards posted once the "
            "traffic is split (15 % against 10 %)",
            _ab_spec,
            _ab_driver,
        ),
        Strategy(
            "shadow",
            "the challenger answers a copy of every request for 15 minutes (ten minutes of traffic, 5 requests a "
            "second), is judged, and replaces production through SageMaker's blue/green deployment",
            _shadow_spec,
            _shadow_driver,
        ),
        Strategy(
            "bluegreen",
            "SageMaker's canary routing (10 % of the green fleet, five-minute wait), five minutes of watching after",
            _blue_green_spec,
        ),
    )
}


# -- looking at the end state, with the observer's own clients -------------------------------------------------------


def _observed_endpoint(cloud: Any) -> dict[str, Any]:
    return dict(cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT))


def _serving(cloud: Any) -> tuple[str | None, str]:
    """The model alone serving (None: none alone, or a shadow beside it), and the endpoint's config."""
    sm = cloud.client("sagemaker")
    endpoint = _observed_endpoint(cloud)
    live = {v["VariantName"]: float(v.get("CurrentWeight", 0)) for v in endpoint["ProductionVariants"]}
    serving = [name for name, weight in live.items() if weight > 0]
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    alone = models.get(serving[0]) if len(serving) == 1 and endpoint["EndpointStatus"] == "InService" else None
    if endpoint.get("ShadowProductionVariants") or config.get("ShadowProductionVariants"):
        alone = None
    return alone, endpoint["EndpointConfigName"]


def _promoted_model(body: dict[str, Any]) -> str:
    """The model a promotion must leave serving alone: the winner's (a variant name) or else the candidate's."""
    spec = body.get("spec") or {}
    candidates = [spec.get("candidate") or {}, *((spec.get("strategy") or {}).get("more_candidates") or [])]
    winner = body.get("winner")
    for candidate in candidates:
        if winner and winner in (candidate.get("variant_name"), candidate.get("model_name")):
            return str(candidate["model_name"])
    return str(candidates[0].get("model_name") or CANDIDATE_MODEL)


def _verdict(
    status: str | None,
    lock: str | None,
    rollout_id: str | None,
    model: str | None,
    promoted_model: str,
    reason: str | None = "",
) -> str:
    if status is None:  # refused at the API: nothing may have changed
        return "safe" if model == BASELINE_MODEL and lock is None else "lie"
    if status in ("RolledBack", "Failed", "RollbackFailed") and not reason:
        return "lie"  # an end the decision log does not explain
    if status == "Promoted":
        return "safe" if model == promoted_model and lock is None else "lie"
    if status in ("RolledBack", "Failed"):
        return "safe" if model == BASELINE_MODEL and lock is None else "lie"
    if status == "RollbackFailed":
        return "safe" if lock == rollout_id else "lie"
    return "stuck"


def _item(cloud: Any, pk: str, sk: str) -> dict[str, Any]:
    """A table item read with the observer's own client: the control plane's injected faults never touch it."""
    table = cloud.environment["ROLLOUTS_TABLE_NAME"]
    response = cloud.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
    return dict(response.get("Item") or {})


def _body(cloud: Any, rollout_id: str) -> dict[str, Any]:
    item = _item(cloud, f"ROLLOUT#{rollout_id}", "META")
    if not item:
        return {}
    body: dict[str, Any] = json.loads(item["body"]["S"])
    if "task_token" in item:
        body["task_token"] = item["task_token"]["S"]
    return body


def _holder(cloud: Any) -> str | None:
    found = _item(cloud, f"ENDPOINT#{ENDPOINT}", "LOCK").get("rollout_id", {}).get("S")
    return str(found) if found else None


def _last_decisions(cloud: Any, rollout_id: str, count: int = 4) -> list[str]:
    table = cloud.environment["ROLLOUTS_TABLE_NAME"]
    items = cloud.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
        ExpressionAttributeValues={":pk": {"S": f"ROLLOUT#{rollout_id}"}, ":d": {"S": "DECISION#"}},
    )["Items"]
    decisions = [json.loads(item["body"]["S"]) for item in items]
    return [f"{d.get('kind')}: {str(d.get('message'))[:240]}" for d in decisions[-count:]]


def _create_endpoint(cloud: Any, strategy: Strategy) -> None:
    from sandbox.scenarios import create_endpoint

    create_endpoint(cloud, strategy.more_models)


def run_case(strategy: Strategy, operation: str | None, fault: str | None) -> dict[str, Any]:
    from sandbox import faults
    from sandbox.cloud import LocalCloud

    began = time.monotonic()
    with LocalCloud() as cloud:
        _create_endpoint(cloud, strategy)
        faults.install()
        if operation and fault:
            code, times = FAULTS[fault]
            cloud.inject_aws_fault(operation, code, times=times)
        started = cloud.api("POST", "/rollouts", strategy.spec())
        # A start that failed after the rollout began (its answer lost) is followed all the same, through the lock.
        case = Case(rollout_id=started.body.get("rollout_id") if started.status == 201 else _holder(cloud))
        status = None
        body: dict[str, Any] = {}
        if case.rollout_id:
            rollout_id = case.rollout_id

            def ended() -> str | None:
                body = _body(cloud, rollout_id)
                if body.get("status") in ENDED:
                    return str(body["status"])
                if strategy.driver is not None and body:
                    strategy.driver(cloud, case, body)
                return None

            status = cloud.wait_until(ended, WEEK) or _body(cloud, rollout_id).get("status")
            body = _body(cloud, rollout_id)
        model, config = _serving(cloud)
        lock = _holder(cloud)
        called = faults.operations()
        reason = body.get("reason") or ("" if case.rollout_id else f"{started.status} {started.body.get('error')}")
        verdict = _verdict(status, lock, case.rollout_id, model, _promoted_model(body), reason)
        last = _last_decisions(cloud, case.rollout_id) if case.rollout_id and verdict != "safe" else []
    return {
        **_row(strategy.name, operation, fault, started.status, status, model, config, lock, verdict, reason),
        "feedback_refused": case.feedback_refused,
        "last_decisions": last,
        "seconds": round(time.monotonic() - began, 2),
        "operations": called,
    }


def run_strategy(strategy: Strategy, operations_only: bool = False) -> dict[str, Any]:
    began = time.monotonic()
    healthy = run_case(strategy, None, None)
    print(f"{strategy.name}: healthy run {healthy['status']} -> {healthy['verdict']}", flush=True)
    if healthy["status"] != strategy.healthy or healthy["verdict"] != "safe":
        raise RuntimeError(f"the healthy {strategy.name} ended {healthy['status']} ({healthy['verdict']})")
    operations = healthy.pop("operations")
    cases = []
    for operation in [] if operations_only else operations:
        for fault in FAULTS:
            case = run_case(strategy, operation, fault)
            case.pop("operations")
            cases.append(case)
            print(
                f"  {strategy.name}: {operation} x {fault}: {case['status'] or case['api_status']} -> "
                f"{case['verdict']}",
                flush=True,
            )
    return _summary(strategy.name, strategy.setup, operations, cases, time.monotonic() - began, healthy)


def _summary(
    name: str, setup: str, operations: list[str], cases: list[dict[str, Any]], seconds: float, healthy: Any
) -> dict[str, Any]:
    counts = Counter(case["verdict"] for case in cases)
    return {
        "strategy": name,
        "setup": setup,
        "healthy": {k: v for k, v in (healthy or {}).items() if k in ("status", "serving", "config", "seconds")},
        "operations": operations,
        "cases": len(cases),
        "safe": counts["safe"],
        "lies": counts["lie"],
        "stuck": counts["stuck"],
        "seconds": round(seconds, 1),
        "matrix": cases,
    }


# -- the feedback path ----------------------------------------------------------------------------------------------

FEEDBACK_SETUP = (
    "a bandit rollout waits for feedback after its first update (it may update a minute after the last one, once "
    "its next batch has arrived); then 300 rewards for its two arms and 20 for a variant no rollout manages, with "
    "10 labels, are posted through `POST /feedback` (the API queues them, the ingestion counts them), and a producer "
    "sends one message of 5 rewards and one malformed event straight to the feedback queue"
)


def _feedback_spec() -> dict[str, Any]:
    body = _base_spec()
    body["strategy"] = {
        "type": "bandit",
        "update_every": "12h",
        "min_update_interval": "1m",
        "stop_after_updates": 3,
        "max_duration": "7d",
    }
    return body


def _feedback_events() -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]], dict[str, Any]]:
    """The API's requests, the producer's good events, and its malformed one."""
    first = _events(BASELINE_VARIANT, 150, 15, "fb-base") + _events(CANDIDATE_MODEL, 150, 30, "fb-cand")
    labels = [{"inference_id": f"inf-{i}", "label": i % 2, "endpoint": ENDPOINT} for i in range(10)]
    second = _events("v9", 20, 5, "fb-unmanaged") + labels
    queued = _events(BASELINE_VARIANT, 5, 1, "fb-queued")
    malformed = {"event_id": "fb-malformed", "endpoint": ENDPOINT, "variant": BASELINE_VARIANT, "reward": 1.5}
    return [first, second], queued, malformed


def _event_id(event: dict[str, Any]) -> str:
    return str(event.get("event_id") or f"label:{event.get('inference_id')}")


def _scan(cloud: Any, prefix: str) -> list[dict[str, Any]]:
    table = cloud.environment["ROLLOUTS_TABLE_NAME"]
    ddb = cloud.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :p)",
        "ExpressionAttributeValues": {":p": {"S": prefix}},
    }
    while True:
        page = ddb.scan(**kwargs)
        items += page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _dead_letters(cloud: Any) -> list[tuple[list[Any], str | None]]:
    """Each dead letter's items (its events, or the item itself) and its reason."""
    sqs = cloud.client("sqs")
    url = cloud.physical["FeedbackDeadLetterQueue"]
    letters = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=3600
    ).get("Messages", []):
        for message in batch:
            try:
                data: Any = json.loads(message["Body"])
            except ValueError:
                data = message["Body"]
            items = data["events"] if isinstance(data, dict) and isinstance(data.get("events"), list) else [data]
            reason = (message.get("MessageAttributes") or {}).get("reason", {}).get("StringValue")
            letters.append((items, reason))
    return letters


def _ground_truth(cloud: Any) -> Counter[str]:
    bucket = cloud.environment["GROUND_TRUTH_S3_URI"].removeprefix("s3://").split("/")[0]
    s3 = cloud.client("s3")
    seen: Counter[str] = Counter()
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        for line in s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode().splitlines():
            if line:
                seen[str(json.loads(line)["eventMetadata"]["eventId"])] += 1
    return seen


def _queue_empty(cloud: Any) -> bool:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.physical["FeedbackQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in attributes.values())


def _feedback_check(cloud: Any, rollout_id: str, accepted: list[dict[str, Any]]) -> tuple[str, str]:
    """(verdict, what was found): every accepted good event counted once or dead-lettered with a reason."""
    remembered = {item["pk"]["S"].removeprefix("FEEDBACK_EVENT#") for item in _scan(cloud, "FEEDBACK_EVENT#")}
    letters = _dead_letters(cloud)
    lettered = {_event_id(item) for items, _ in letters for item in items if isinstance(item, dict)}
    problems = []
    if any(not reason for _, reason in letters):
        problems.append(f"{sum(1 for _, reason in letters if not reason)} dead letters without a reason")
    if "fb-malformed" not in lettered:
        problems.append("the malformed event is not in the dead-letter queue")
    good = [event for event in accepted if event.get("event_id") != "fb-malformed"]
    lost = [_event_id(e) for e in good if _event_id(e) not in remembered and _event_id(e) not in lettered]
    if lost:
        problems.append(f"{len(lost)} events lost (first {lost[0]})")
    totals = {item["sk"]["S"].removeprefix("VARIANT#"): int(item["count"]["N"]) for item in _scan(cloud, "FEEDBACK#")}
    arms = {
        item["sk"]["S"].removeprefix("ARM#"): int(item["count"]["N"])
        for item in _scan(cloud, f"ROLLOUT#{rollout_id}")
        if item["sk"]["S"].startswith("ARM#")
    }
    expected: Counter[str] = Counter(str(e["variant"]) for e in good if "variant" in e and _event_id(e) in remembered)
    for variant in sorted(set(expected) | set(totals)):
        if totals.get(variant, 0) != expected[variant]:
            problems.append(f"{variant} counted {totals.get(variant, 0)} times for {expected[variant]} events")
        if variant in (BASELINE_VARIANT, CANDIDATE_MODEL) and arms.get(variant, 0) != expected[variant]:
            problems.append(f"the rollout counted {arms.get(variant, 0)} of {expected[variant]} {variant} events")
    truth = _ground_truth(cloud)
    labels = [_event_id(e) for e in good if "inference_id" in e]
    wrong = [key for key in labels if truth[key.removeprefix("label:")] != (1 if key in remembered else 0)]
    if wrong:
        problems.append(f"{len(wrong)} labels written {truth[wrong[0].removeprefix('label:')]} times ({wrong[0]})")
    found = (
        f"{len(good)} good events accepted: {len(remembered & {_event_id(e) for e in good})} counted, "
        f"{len(lettered & {_event_id(e) for e in good})} dead-lettered; {len(letters)} dead letters"
    )
    return ("lie" if problems else "safe"), "; ".join(problems) or found


def run_feedback_case(operation: str | None, fault: str | None) -> dict[str, Any]:
    from sandbox import faults
    from sandbox.cloud import LocalCloud
    from sandbox.moto_ext import clock, core

    began = time.monotonic()
    with LocalCloud() as cloud:
        _create_endpoint(cloud, STRATEGIES["bandit"])
        faults.install()  # before the control plane makes its clients: they copy the session's hooks
        started = cloud.api("POST", "/rollouts", _feedback_spec())
        if started.status != 201:
            raise RuntimeError(f"the feedback path's rollout did not start: {started.status} {started.body}")
        rollout_id = started.body["rollout_id"]
        waiting = cloud.wait_until(lambda: int((_body(cloud, rollout_id).get("bandit") or {}).get("updates") or 0))
        if not waiting:
            raise RuntimeError("the feedback path's bandit never updated")
        due = clock.monotonic() + 120
        cloud.wait_until(lambda: clock.monotonic() >= due)
        with core.REGISTRY.lock:
            core.REGISTRY.control_plane_calls.clear()
        if operation and fault:
            code, times = FAULTS[fault]
            cloud.inject_aws_fault(operation, code, times=times)
        case = Case(rollout_id=rollout_id)
        requests, queued, malformed = _feedback_events()
        accepted: list[dict[str, Any]] = []
        refused = 0
        for events in requests:
            if post_feedback(cloud, case, events):
                accepted += events
            else:
                refused += len(events)
        cloud.client("sqs").send_message(
            QueueUrl=cloud.physical["FeedbackQueue"], MessageBody=json.dumps({"events": [*queued, malformed]})
        )
        accepted += [*queued, malformed]
        drained = cloud.wait_until(lambda: _queue_empty(cloud), WEEK)
        called = faults.operations()
        verdict, found = (
            _feedback_check(cloud, rollout_id, accepted) if drained else ("stuck", "the queue never drained")
        )
        if refused:
            found = f"{refused} events refused at the API after {FEEDBACK_ATTEMPTS} tries (the client knows); {found}"
    return {
        "strategy": "feedback",
        "operation": operation,
        "fault": fault,
        "api_status": 202 if not refused else 503,
        "status": None,
        "serving": None,
        "verdict": verdict,
        "reason": found[:240],
        "feedback_refused": case.feedback_refused,
        "seconds": round(time.monotonic() - began, 2),
        "operations": called,
    }


def run_feedback() -> dict[str, Any]:
    began = time.monotonic()
    healthy = run_feedback_case(None, None)
    print(f"feedback: healthy run -> {healthy['verdict']} ({healthy['reason']})", flush=True)
    if healthy["verdict"] != "safe":
        raise RuntimeError(f"the healthy feedback path: {healthy['reason']}")
    operations = healthy.pop("operations")
    cases = []
    for operation in operations:
        for fault in FAULTS:
            case = run_feedback_case(operation, fault)
            case.pop("operations")
            cases.append(case)
            print(f"  feedback: {operation} x {fault}: {case['verdict']} ({case['reason'][:100]})", flush=True)
    return _summary("feedback", FEEDBACK_SETUP, operations, cases, time.monotonic() - began, healthy)


# -- the signal path ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """An alarm's breach while a rollout of `strategy` waits at `moment`."""

    strategy: str
    moment: str
    spec: Callable[[], dict[str, Any]]
    waiting: Callable[[Any, dict[str, Any]], bool]  # (cloud, the rollout's stored body): the moment has come


def _signal_canary() -> dict[str, Any]:
    body = _canary_spec()
    body["strategy"]["steps"] = [{"weight": 10, "bake": "1h"}, {"weight": 50, "bake": "5m"}]
    return body


def _signal_bandit() -> dict[str, Any]:
    body = _bandit_spec()
    # A breach on an arm rolls everything back (the default removes the arm, and the bandit goes on with the rest).
    body["strategy"].update(update_every="12h", min_update_interval="12h", max_duration="2d", on_arm_breach="roll-back")
    return body


def _signal_ab() -> dict[str, Any]:
    body = _ab_spec()
    body["strategy"].update(check_every="4h", max_duration="8h")
    return body


def _signal_shadow() -> dict[str, Any]:
    body = _shadow_spec()
    body["strategy"]["duration"] = "12h"
    return body


def _signal_blue_green() -> dict[str, Any]:
    body = _blue_green_spec()
    body["strategy"]["wait_interval"] = "1h"
    return body


def _deployment_baking(cloud: Any, body: dict[str, Any]) -> bool:
    pending = _observed_endpoint(cloud).get("PendingDeploymentSummary") or {}
    return any(
        status["Status"] == "Baking"
        for variant in pending.get("ProductionVariants", [])
        for status in variant.get("VariantStatus", [])
    )


LABELS = {"canary": "canary", "bandit": "bandit", "abtest": "A/B test", "shadow": "shadow", "bluegreen": "blue/green"}
SIGNALS = {
    f"signal-{s.strategy}": s
    for s in (
        Signal(
            "canary",
            "bakes its first step (10 %, an hour's bake)",
            _signal_canary,
            lambda cloud, body: bool(body.get("task_token")) and int(body.get("step_index", -1)) >= 0,
        ),
        Signal(
            "bandit",
            "waits for feedback after its first update (every 12 hours), a breach on an arm rolling everything back",
            _signal_bandit,
            lambda cloud, body: bool(body.get("task_token")) and int(body["bandit"]["updates"]) >= 1,
        ),
        Signal(
            "abtest",
            "has split the traffic and waits for its first look (in 4 hours)",
            _signal_ab,
            lambda cloud, body: bool(body.get("task_token")) and bool(body["ab_test"].get("started_at")),
        ),
        Signal(
            "shadow",
            "shadows production (for 12 hours)",
            _signal_shadow,
            lambda cloud, body: bool(body.get("task_token")) and bool(body.get("started_at")),
        ),
        Signal(
            "bluegreen",
            "is in SageMaker's deployment, whose canary bakes (an hour's wait; SageMaker itself rolls back on the "
            "alarm, and the control plane must see it)",
            _signal_blue_green,
            _deployment_baking,
        ),
    )
}


def run_signal_case(signal: Signal, operation: str | None, fault: str | None) -> dict[str, Any]:
    from sandbox import faults
    from sandbox.cloud import LocalCloud
    from sandbox.moto_ext import core

    began = time.monotonic()
    with LocalCloud() as cloud:
        _create_endpoint(cloud, STRATEGIES[signal.strategy])
        faults.install()  # before the control plane makes its clients: they copy the session's hooks
        started = cloud.api("POST", "/rollouts", signal.spec())
        if started.status != 201:
            raise RuntimeError(f"the signal path's rollout did not start: {started.status} {started.body}")
        rollout_id = started.body["rollout_id"]

        def ready() -> bool:
            body = _body(cloud, rollout_id)
            return bool(body.get("alarm_names")) and signal.waiting(cloud, body)

        if not cloud.wait_until(ready):
            raise RuntimeError(f"the signal path's {signal.strategy} never came to where it {signal.moment}")
        with core.REGISTRY.lock:
            core.REGISTRY.control_plane_calls.clear()
        if operation and fault:
            code, times = FAULTS[fault]
            cloud.inject_aws_fault(operation, code, times=times)
        cloud.client("cloudwatch").set_alarm_state(
            AlarmName=f"rollouts-{rollout_id}-5xx-rate", StateValue="ALARM", StateReason="5XX rate above 2 %"
        )

        def ended() -> str | None:
            status = _body(cloud, rollout_id).get("status")
            return str(status) if status in ENDED else None

        status = cloud.wait_until(ended, WEEK) or _body(cloud, rollout_id).get("status")
        body = _body(cloud, rollout_id)
        model, config = _serving(cloud)
        lock = _holder(cloud)
        called = faults.operations()
        verdict = _verdict(status, lock, rollout_id, model, _promoted_model(body), str(body.get("reason") or ""))
        last = _last_decisions(cloud, rollout_id) if verdict != "safe" or status != "RolledBack" else []
    reason = str(body.get("reason") or "")
    return {
        **_row(
            f"signal-{signal.strategy}", operation, fault, started.status, status, model, config, lock, verdict, reason
        ),
        "last_decisions": last,
        "seconds": round(time.monotonic() - began, 2),
        "operations": called,
    }


def run_signal(name: str) -> dict[str, Any]:
    signal = SIGNALS[name]
    began = time.monotonic()
    healthy = run_signal_case(signal, None, None)
    print(f"{name}: healthy run {healthy['status']} -> {healthy['verdict']}", flush=True)
    if healthy["status"] != "RolledBack" or healthy["verdict"] != "safe":
        raise RuntimeError(f"the healthy {name} ended {healthy['status']} ({healthy['verdict']})")
    operations = healthy.pop("operations")
    cases = []
    for operation in operations:
        for fault in FAULTS:
            case = run_signal_case(signal, operation, fault)
            case.pop("operations")
            cases.append(case)
            print(f"  {name}: {operation} x {fault}: {case['status']} -> {case['verdict']}", flush=True)
    setup = (
        f"the {LABELS[signal.strategy]} rollout {signal.moment}. Its 5XX alarm goes to ALARM, and CloudWatch's "
        "state change reaches the signal handler through EventBridge. The faults start when the alarm fires: the "
        "operations are those called from the signal to the end of the rollback"
    )
    return _summary(name, setup, operations, cases, time.monotonic() - began, healthy)


# -- the whole matrix ------------------------------------------------------------------------------------------------

PARTS = [*STRATEGIES, "feedback", *SIGNALS]


def _run_part(name: str) -> dict[str, Any]:
    if name == "feedback":
        return run_feedback()
    if name in SIGNALS:
        return run_signal(name)
    return run_strategy(STRATEGIES[name])


def run(names: list[str] | None = None) -> dict[str, Any]:
    quiet()
    began = time.monotonic()
    parts = [_run_part(name) for name in names or PARTS]
    return {
        "command": "make faults",
        "cases": sum(p["cases"] for p in parts),
        "safe": sum(p["safe"] for p in parts),
        "lies": sum(p["lies"] for p in parts),
        "stuck": sum(p["stuck"] for p in parts),
        "seconds": round(time.monotonic() - began, 1),
        "strategies": {p["strategy"]: p for p in parts},
    }


# -- the report ------------------------------------------------------------------------------------------------------


def _figures(part: dict[str, Any]) -> str:
    return (
        f"**{part['cases']} cases: {part['safe']} safe, {part['lies']} lies, {part['stuck']} stuck**, in "
        f"{part['seconds']:.0f} s."
    )


def _intro(name: str, part: dict[str, Any]) -> str:
    healthy = part["healthy"]
    calls = f"{len(part['operations'])} AWS operations"
    if name == "feedback":
        return (
            f"The feedback path: {part['setup']}. The faults start with the first POST; the operations are those "
            f"called from then until the queue is empty ({calls}, the bandit's update that the feedback starts "
            "included). Safe: every good event accepted is counted once in its variant's totals (and in the rollout's "
            "for the variants it manages; a label is written once as ground truth) or is in the dead-letter queue "
            "with a reason; an event the API refused after every retry is one the client knows it must send again. "
            "The local cloud delivers a failed message again at once, not after the queue's visibility timeout: "
            "throttling past the retries outlasts its five receives, where on AWS it would likely have passed. "
            f"The healthy run: {healthy.get('reason')}."
        )
    if name.startswith("signal"):
        return (
            f"The signal path: {part['setup']}. The healthy run ends `{healthy.get('status')}` with "
            f"{healthy.get('serving')} alone on config `{healthy.get('config')}`, after {calls}. Safe: the rollout "
            "still rolls back, or ends in a state DescribeEndpoint confirms, by the rollout rules above."
        )
    return (
        f"The healthy run: {part['setup']}. It ends `{healthy.get('status')}` with {healthy.get('serving')} alone on "
        f"config `{healthy.get('config')}`, after calling {calls}."
    )


def _rows(name: str, part: dict[str, Any]) -> list[str]:
    if name == "feedback":
        rows = ["| operation | fault | verdict | found |", "| --- | --- | --- | --- |"]
        return rows + [
            f"| `{c['operation']}` | {c['fault']} | {c['verdict']} | {c['reason'].replace('|', '/')} |"
            for c in part["matrix"]
        ]
    rows = ["| operation | fault | API | status | serving | verdict |", "| --- | --- | ---: | --- | --- | --- |"]
    return rows + [
        f"| `{c['operation']}` | {c['fault']} | {c['api_status']} | {c['status'] or 'refused'} | "
        f"{c['serving'] or 'no model alone'} | {c['verdict']} |"
        for c in part["matrix"]
    ]


def render(data: dict[str, Any]) -> str:
    lines = [
        "# Reliability: the fault matrix",
        "",
        f"Generated by `{data['command']}` (`bench/faults.py`); do not edit by hand. Raw figures: "
        "`bench/results/faults.json`.",
        "",
        "For each of the five strategies (canary, bandit, A/B test, shadow, blue/green), a healthy rollout on the "
        "local cloud is run first and the AWS operations the control plane calls are recorded (every spec has the "
        "demo's guardrails: two alarm rules, 5XX rate and p99 latency, and a data-quality monitoring schedule). Each "
        "is then failed in turn, in a fresh local cloud, from its first call on: once with `ThrottlingException`, "
        "eight times in a row with it (more than a task's six retries), and once with `AccessDeniedException`. The "
        "end state is then read from DescribeEndpoint, with a client of the observer's that the faults never touch: "
        "safe when the rollout is where its status says (refused before any change and the endpoint as it was; "
        "`Promoted` with the promoted model alone serving, the candidate's or a bandit's winner's, and no shadow "
        "variant left; `RolledBack` or `Failed` with the baseline's alone; `RollbackFailed` with the lock held; every"
        " end but `Promoted` with its reason), a lie when DescribeEndpoint contradicts the status or the rollout "
        "does not say why it ended so, stuck when it has not ended after a simulated week. Faults"
        " hit every call of the control plane in the run, those of the feedback a bandit or an A/B test is sent "
        "through `POST /feedback` included (the harness, as a client would, retries a 5XX or 429 up to "
        f"{FEEDBACK_ATTEMPTS} times). The same three faults are then put on every call of the feedback path (the API "
        "and the queue's ingestion) and of the signal path (an alarm's breach reaching a rollout of each strategy "
        "while it waits).",
        "",
        f"**All: {data['cases']} cases: {data['safe']} safe, {data['lies']} lies, {data['stuck']} stuck**, in "
        f"{data['seconds']:.0f} s.",
        "",
        "| part | operations | cases | safe | lies | stuck | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, part in data["strategies"].items():
        lines.append(
            f"| {name} | {len(part['operations'])} | {part['cases']} | {part['safe']} | {part['lies']} | "
            f"{part['stuck']} | {part['seconds']:.0f} |"
        )
    for name, part in data["strategies"].items():
        lines += ["", f"## {name}", "", _intro(name, part), "", _figures(part), "", *_rows(name, part)]
    lines += ["", *_notable(data), *FIXED, "", *NOT_COVERED, ""]
    return "\n".join(lines)


def _notable(data: dict[str, Any]) -> list[str]:
    """Safe cases worth a look: a rollback that could not restore, feedback that went to the dead letters."""
    lines = ["## Safe, but worth knowing", ""]
    for name, part in data["strategies"].items():
        for case in part["matrix"]:
            where = f"{name}, `{case['operation']}` x {case['fault']}"
            if case.get("status") == "RollbackFailed":
                said = (case.get("last_decisions") or ["(no decision)"])[-1]
                lines.append(
                    f"- {where}: `RollbackFailed`, the lock held for an operator's abort. Last decision: {said}"
                )
            elif name == "feedback" and " 0 dead-lettered" not in case["reason"]:
                lines.append(
                    f"- {where}: {case['reason']}. A dead-lettered message may hold events already counted (its "
                    "other events'): their ids are remembered, so a replay does not count them again."
                )
    if len(lines) == 2:
        lines.append("- Nothing: every case ended as its healthy run did, or refused before any change.")
    return [*lines, ""]


FIXED = [
    "Defects this matrix found, fixed (each with a test that failed before its fix):",
    "",
    "- The local cloud's DynamoDB undid a cancelled transaction only in part: of two items of one partition that it "
    "updated, the first kept its update. A redelivered feedback batch whose event ids were already remembered then "
    "counted its rewards twice (feedback, `TransactWriteItems` x one throttle: 207 counted for 155 events). Test: "
    "`tests/integration/test_local_dynamodb.py::"
    "test_a_cancelled_transaction_undoes_its_updates_of_items_that_share_a_partition`.",
    "- The feedback ingestion let a failed look-up of the rollout that manages a variant (the endpoint's lock, "
    "`GetItem`) escape the handler: the whole batch failed, and after five receives the queue moved the message to "
    "the dead letters with no reason (feedback, `GetItem` x throttling past the retries). It is now a failed write of "
    "the batch's messages, which reach the dead letters with the reason. Test: `tests/integration/test_feedback.py::"
    "test_a_message_whose_rollout_lookup_keeps_failing_goes_to_the_dead_letters_with_the_reason`.",
]


NOT_COVERED = [
    "## Not covered",
    "",
    "- Each strategy runs in one healthy shape, so the faults meet only the calls of the path it takes: the monitoring"
    " schedule named as a guardrail is checked to exist (DescribeMonitoringSchedule) but none of its executions runs, "
    "so its results are never read; no statistical judge of a canary's step, no operator pause, promote or abort, no "
    "losing candidate (a bandit or an A/B test that keeps the baseline, a rejected challenger), no bandit arm removed "
    "on its own breach (the signal path's bandit rolls everything back), and no data plane sending traffic except the "
    "shadow's copies.",
    "- The signal path fires one alarm at one moment of each strategy (a canary's bake, a bandit's or an A/B test's "
    "wait, the shadowing, SageMaker's blue/green bake); not while the endpoint is being updated, nor in the watch "
    "after a promotion, nor an alarm's return to OK, a duplicated delivery or a monitoring violation.",
    "- A fault starts at an operation's first call; a fault in the middle of a run (the fifth PutItem, say) or "
    "faults on two operations at once are not tried. Errors other than throttling and AccessDenied (a 500, a "
    "timeout, a validation error) are not tried, nor are faults in the local cloud's own machinery (Step "
    "Functions' state transitions, EventBridge's delivery, SQS's redelivery).",
    "- The feedback path's dead letters are checked by their content and reason, not replayed; events sent on "
    "EventBridge are not in it.",
]


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    names = list(argv if argv is not None else sys.argv[1:])
    data = run(names or None)
    if not names:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(data, indent=2, default=str) + "\n")
        DOC.write_text(render(data))
    for name, part in data["strategies"].items():
        print(
            f"{name}: {part['cases']} cases: {part['safe']} safe, {part['lies']} lies, {part['stuck']} stuck; "
            f"{part['seconds']} s"
        )
    print(
        f"{data['cases']} cases: {data['safe']} safe, {data['lies']} lies, {data['stuck']} stuck; "
        f"{data['seconds']} s; {DOC}"
    )
    return 0 if data["lies"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
