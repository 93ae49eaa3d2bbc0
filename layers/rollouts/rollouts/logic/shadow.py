"""The shadow strategy's tasks: the challenger shadows production, then the judge decides whether it replaces it.

Prepare Shadow applies a config with production's variant as it is and the challenger as SageMaker's shadow variant
(`ShadowProductionVariants`), which gets a copy of `sampling_percentage` percent of the requests and answers nobody;
data capture records both variants' predictions, with the request's inference id. After `duration`, Judge Shadow
compares the two on the same window: the 5XX rate and the latency from the per-variant CloudWatch metrics, and the
agreement of their predictions, matched by inference id in the captured records. A challenger that passes replaces
production's model through SageMaker's blue/green deployment (`logic/bluegreen.deploy_green`, with the strategy's
`promotion`); one that fails is removed by putting the original config back, which the Roll Back path does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from rollouts import clock
from rollouts.aws import endpoints, metrics, store
from rollouts.aws.capture import captured_lines
from rollouts.judge.outcome import Outcome
from rollouts.logic.decisions import record
from rollouts.logic.pending import take_commands
from rollouts.models.base import format_duration
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.strategies.shadow import ShadowStrategy

# Captured records read per variant at most: a Lambda's memory and time bound the comparison, not the traffic.
MAX_CAPTURED_RECORDS = 200_000
ERRORS, INVOCATIONS, LATENCY = "Invocation5XXErrors", "Invocations", "ModelLatency"


def _plan(rollout: Rollout, then: str, wait_seconds: float = 0, reason: str = "") -> dict[str, Any]:
    return {
        "endpoint_name": rollout.endpoint_name,
        "next": then,
        "wait_seconds": max(1, int(wait_seconds)),
        "reason": reason,
    }


def _start(rollout: Rollout, strategy: ShadowStrategy) -> dict[str, Any]:
    now = clock.now()
    rollout = store.update_rollout(
        rollout.rollout_id,
        lambda r: r.model_copy(
            update={
                "status": RolloutStatus.PROGRESSING,
                "started_at": r.started_at or now,
                "weights": {r.baseline_variant or "": 100.0},
            }
        ),
    )
    record(
        rollout,
        DecisionKind.TRAFFIC_SHIFTED,
        f"Shadowing: challenger '{rollout.candidate_variant}' gets a copy of {strategy.sampling_percentage} % of "
        f"production's requests for {format_duration(strategy.duration)}; production '{rollout.baseline_variant}' "
        "answers them all",
        {"sampling_percentage": strategy.sampling_percentage, "duration": strategy.duration},
        dedup_key="shadow-started",
    )
    return _plan(rollout, "wait", strategy.duration)


# --- judging ----------------------------------------------------------------------------------------------------


def _rate(rollout: Rollout, variant: str, start: datetime, end: datetime) -> tuple[int, int]:
    errors = metrics.variant_sum(rollout.endpoint_name, variant, ERRORS, start, end)
    requests = metrics.variant_sum(rollout.endpoint_name, variant, INVOCATIONS, start, end)
    return int(errors), int(requests)


def _latency(rollout: Rollout, variant: str, statistic: str, start: datetime, end: datetime) -> float | None:
    dimensions = {"EndpointName": rollout.endpoint_name, "VariantName": variant}
    value, _ = metrics.window_value(metrics.NAMESPACE, LATENCY, dimensions, statistic, start, end)
    return value


@dataclass(frozen=True)
class CapturedPrediction:
    """One line of SageMaker's data capture, as the shadow's comparison reads it."""

    inference_id: str
    output: str
    inferred_at: datetime | None


def parse_capture(line: str) -> CapturedPrediction | None:
    """A captured line's inference id, prediction and time; None for a line without both an id and an output (not
    JSON, another shape, a record captured without an inference id). A time without a zone is UTC, as SageMaker
    writes it."""
    try:
        record_ = json.loads(line)
    except (ValueError, RecursionError):
        return None
    metadata = _object(record_, "eventMetadata")
    output = _output(_object(_object(record_, "captureData"), "endpointOutput"))
    inference_id = metadata.get("inferenceId")
    if not isinstance(inference_id, str | int) or isinstance(inference_id, bool) or output is None:
        return None
    if not str(inference_id):
        return None
    return CapturedPrediction(str(inference_id), output, _time(metadata.get("inferenceTime")))


def _object(value: object, key: str) -> dict[str, Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _output(output: dict[str, Any]) -> str | None:
    """A captured prediction as text: the first CSV field or the JSON's first number, else the text."""
    data = output.get("data")
    if data is None or isinstance(data, (dict, list)):
        return None
    text = str(data)
    if str(output.get("encoding", "")).upper() == "BASE64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
        except ValueError:
            return None
    text = text.strip()
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text.split(",")[0].strip()
    while isinstance(value, (list, dict)) and value:
        value = value[0] if isinstance(value, list) else next(iter(value.values()))
    return str(value)


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _score(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def captured_predictions(rollout: Rollout, variant: str, start: datetime, end: datetime) -> dict[str, str]:
    """Predictions by inference id from a variant's records captured in [start, end]."""
    endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
    config = endpoints.describe_endpoint_config(rollout.candidate_config or "") or {}
    uri = (endpoint.get("DataCaptureConfig") or config.get("DataCaptureConfig") or {}).get("DestinationS3Uri", "")
    predictions: dict[str, str] = {}
    for line in captured_lines(str(uri), rollout.endpoint_name, variant, start):
        captured = parse_capture(line)
        if captured is None:
            continue
        inferred = captured.inferred_at
        if inferred is not None and not start - timedelta(seconds=1) <= inferred <= end:
            continue
        predictions[captured.inference_id] = captured.output
        if len(predictions) >= MAX_CAPTURED_RECORDS:
            break
    return predictions


class ShadowCheck(BaseModel):
    """One comparison of the challenger with production, with the outcome every verdict of the project has."""

    model_config = ConfigDict(frozen=True)

    check: str
    outcome: Outcome
    reason: str
    observed: int | float | None = None
    baseline: int | float | None = None
    limit: int | float | None = None
    samples: int | None = None
    statistic: str | None = None
    measure: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form for a computed property
    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.SUCCESSFUL


def _outcome(passed: bool, enough: bool = True) -> Outcome:
    """Too little data to tell is Inconclusive, whatever the figures say."""
    if not enough:
        return Outcome.INCONCLUSIVE
    return Outcome.SUCCESSFUL if passed else Outcome.FAILED


def _agreement(strategy: ShadowStrategy, pairs: list[tuple[str, str]]) -> ShadowCheck:
    rule = strategy.agreement
    if rule.measure == "score":
        distances = [
            abs(a - b) for a, b in ((_score(p), _score(c)) for p, c in pairs) if a is not None and b is not None
        ]
        observed = sum(distances) / len(distances) if distances else None
        passed = observed is not None and observed <= rule.max_mean_distance
        return ShadowCheck(
            check="agreement",
            measure="mean score distance",
            observed=observed,
            limit=rule.max_mean_distance,
            samples=len(distances),
            outcome=_outcome(passed, observed is not None),
            reason=(
                f"mean |score difference| {observed:.4f} {'<=' if passed else '>'} {rule.max_mean_distance:g} over "
                f"{len(distances):,} matched requests"
                if observed is not None
                else "no numeric predictions to compare"
            ),
        )

    def label(text: str) -> str:
        score = _score(text)
        return text if score is None else str(score >= rule.label_threshold)

    same = sum(1 for p, c in pairs if label(p) == label(c))
    share = same / len(pairs) if pairs else None
    passed = share is not None and share >= rule.min_agreement
    return ShadowCheck(
        check="agreement",
        measure="equal labels",
        observed=share,
        limit=rule.min_agreement,
        samples=len(pairs),
        outcome=_outcome(passed, share is not None),
        reason=(
            f"equal labels on {share:.1%} of {len(pairs):,} matched requests "
            f"({'at least' if passed else 'below'} {rule.min_agreement:.0%})"
            if share is not None
            else "no matched requests"
        ),
    )


def _checks(rollout: Rollout, strategy: ShadowStrategy, start: datetime, end: datetime) -> list[ShadowCheck]:
    production, challenger = rollout.baseline_variant or "", rollout.candidate_variant
    checks: list[ShadowCheck] = []
    p_errors, p_requests = _rate(rollout, production, start, end)
    c_errors, c_requests = _rate(rollout, challenger, start, end)
    p_rate = p_errors / p_requests if p_requests else 0.0
    c_rate = c_errors / c_requests if c_requests else 0.0
    limit = p_rate + strategy.max_error_rate_increase
    enough = c_requests >= strategy.minimum_samples
    checks.append(
        ShadowCheck(
            check="requests",
            observed=c_requests,
            baseline=p_requests,
            limit=strategy.minimum_samples,
            outcome=_outcome(True, enough),
            reason=f"{c_requests:,} requests copied to the challenger (production answered {p_requests:,}; "
            f"at least {strategy.minimum_samples:,} needed)",
        )
    )
    checks.append(
        ShadowCheck(
            check="5xx-rate",
            observed=c_rate,
            baseline=p_rate,
            limit=limit,
            outcome=_outcome(c_rate <= limit, enough),
            reason=f"5XX rate {c_rate:.3%} ({c_errors:,} of {c_requests:,}) against production's {p_rate:.3%} "
            f"({p_errors:,} of {p_requests:,}); at most {limit:.3%} allowed",
        )
    )
    statistic = strategy.latency_statistic
    p_latency = _latency(rollout, production, statistic, start, end)
    c_latency = _latency(rollout, challenger, statistic, start, end)
    if p_latency is None or c_latency is None:
        checks.append(
            ShadowCheck(
                check="latency",
                statistic=statistic,
                outcome=Outcome.INCONCLUSIVE,
                reason=f"no ModelLatency {statistic} for both variants",
            )
        )
    else:
        allowed = p_latency * (1 + strategy.max_latency_increase)
        checks.append(
            ShadowCheck(
                check="latency",
                statistic=statistic,
                observed=c_latency,
                baseline=p_latency,
                limit=allowed,
                outcome=_outcome(c_latency <= allowed),
                reason=f"ModelLatency {statistic} {c_latency / 1000:.1f} ms against production's "
                f"{p_latency / 1000:.1f} ms; at most {allowed / 1000:.1f} ms allowed",
            )
        )
    shadowed = captured_predictions(rollout, challenger, start, end)
    answered = captured_predictions(rollout, production, start, end)
    pairs = [(answered[key], output) for key, output in shadowed.items() if key in answered]
    agreement = _agreement(strategy, pairs)
    if (agreement.samples or 0) < strategy.minimum_samples:
        agreement = agreement.model_copy(
            update={
                "outcome": Outcome.INCONCLUSIVE,
                "reason": f"{agreement.reason}; {strategy.minimum_samples:,} matched requests are needed",
            }
        )
    checks.append(agreement)
    return checks


def judge_shadow(rollout_id: str, bake: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge Shadow: the first call starts the shadowing; the next judges it: `promote`, `reject` or `keep`."""
    rollout, commands = take_commands(rollout_id, bake)
    strategy = rollout.strategy_as(ShadowStrategy)
    if "promote" in commands:
        record(
            rollout,
            DecisionKind.STEP_JUDGED,
            f"An operator asked to promote now: challenger '{rollout.candidate_variant}' replaces production "
            "without the shadow's verdict",
            {"command": "promote", "outcome": Outcome.SUCCESSFUL.value, "rule": "operator promote"},
            "shadow-promote",
        )
        return _plan(rollout, "promote")
    if rollout.started_at is None:
        return _start(rollout, strategy)

    start, end = rollout.started_at, clock.now()
    checks = _checks(rollout, strategy, start, end)
    outcomes = {check.outcome for check in checks}
    # A challenger with too little evidence (Inconclusive) is not promoted either: it is removed like a failed one.
    outcome = next((o for o in (Outcome.FAILED, Outcome.INCONCLUSIVE) if o in outcomes), Outcome.SUCCESSFUL)
    if outcome != Outcome.SUCCESSFUL:
        then = "reject"
        unmet = "; ".join(c.reason for c in checks if c.outcome == outcome)
        verdict = f"Challenger '{rollout.candidate_variant}' rejected ({outcome.value}): {unmet}"
    else:
        then = "promote" if strategy.on_success == "promote" else "keep"
        verdict = f"Challenger '{rollout.candidate_variant}' passed: " + "; ".join(c.reason for c in checks)
    judgement = [check.model_dump(mode="json") for check in checks]
    rollout = store.update_rollout(rollout_id, lambda r: r.model_copy(update={"judgement": judgement}))
    record(
        rollout,
        DecisionKind.STEP_JUDGED,
        verdict,
        {
            "outcome": outcome.value,
            "next": then,
            "checks": judgement,
            "window": [start.isoformat(), end.isoformat()],
        },
        "shadow-judged",
    )
    return _plan(rollout, then, reason=verdict[:1000])
