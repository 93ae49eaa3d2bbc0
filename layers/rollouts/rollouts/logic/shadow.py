"""The shadow strategy's tasks: the challenger shadows production, then the judge decides whether it replaces it.

Prepare Shadow applies a config with production's variant as it is and the challenger as SageMaker's shadow variant
(`ShadowProductionVariants`), which gets a copy of `sampling_percentage` percent of the requests and answers nobody;
data capture records both variants' predictions, with the request's inference id. After `duration`, Judge Shadow
compares the two on the same window: the 5XX rate and the latency from the per-variant CloudWatch metrics, and the
agreement of their predictions, matched by inference id in the captured records. Each comparison is a one-sided test
(`rollouts.judge.agreement`) whose null is "within the strategy's tolerance", at its share of
`guardrails.family_alpha` (split equally over the three, Bonferroni: an acceptable challenger is rejected by any of
them with probability at most family_alpha): the 5XX rates by the Farrington-Manning score test of a difference, the
latency by the rank test of its per-period values, the agreement by an exact binomial test (labels) or a z test (mean
score distance). Each check's evidence names its test, its alpha, its statistic and p-value. A challenger that passes
replaces
production's model through SageMaker's blue/green deployment (`logic/bluegreen.deploy_green`, with the strategy's
`promotion`); one that fails is removed by putting the original config back, which the Roll Back path does.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from rollouts import clock
from rollouts.aws import endpoints, metrics, store
from rollouts.aws.capture import captured_lines
from rollouts.judge.agreement import OneSidedTest, label_agreement_test, mean_distance_test, rate_difference_test
from rollouts.judge.family import AlphaShare, CheckAlpha, split_alpha
from rollouts.judge.outcome import Outcome
from rollouts.judge.rank import RankDesign, judge_rank, mann_whitney_greater
from rollouts.logic.decisions import record
from rollouts.logic.pending import take_commands
from rollouts.models.base import format_duration
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.strategies.shadow import ShadowStrategy

# Captured records read per variant at most: a Lambda's memory and time bound the comparison, not the traffic.
MAX_CAPTURED_RECORDS = 200_000
ERRORS, INVOCATIONS, LATENCY = "Invocation5XXErrors", "Invocations", "ModelLatency"
TESTS = ("5xx-rate", "latency", "agreement")  # the comparisons that share guardrails.family_alpha
LATENCY_MINIMUM_PERIODS = 8  # per variant, for the rank test of the latency (fewer in a shorter shadow)
MAX_PERIODS = 1440  # GetMetricStatistics' datapoints per call: a longer shadow judges longer periods


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
    test: str | None = None
    z: float | None = None
    p_value: float | None = None
    alpha: float | None = None
    alpha_source: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form for a computed property
    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.SUCCESSFUL


def _outcome(passed: bool, enough: bool = True) -> Outcome:
    """Too little data to tell is Inconclusive, whatever the figures say."""
    if not enough:
        return Outcome.INCONCLUSIVE
    return Outcome.SUCCESSFUL if passed else Outcome.FAILED


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a z at +-inf (no sampling noise left) is recorded as None, the p-value says it."""
    return value if value is None or math.isfinite(value) else None


def _tested(test: OneSidedTest, share: AlphaShare) -> dict[str, Any]:
    return {
        "test": test.test,
        "z": _finite(test.z),
        "p_value": test.p_value,
        "alpha": test.alpha,
        "alpha_source": share.source,
    }


def alpha_shares(family_alpha: float) -> dict[str, AlphaShare]:
    """The shadow's three tests split guardrails.family_alpha equally (Bonferroni)."""
    return split_alpha(family_alpha, [CheckAlpha(name, True, None) for name in TESTS])


def _agreement(strategy: ShadowStrategy, pairs: list[tuple[str, str]], share: AlphaShare) -> ShadowCheck:
    rule = strategy.agreement
    if rule.measure == "score":
        distances = [
            abs(a - b) for a, b in ((_score(p), _score(c)) for p, c in pairs) if a is not None and b is not None
        ]
        if not distances:
            return ShadowCheck(
                check="agreement",
                measure="mean score distance",
                limit=rule.max_mean_distance,
                samples=0,
                alpha=share.alpha,
                alpha_source=share.source,
                outcome=Outcome.INCONCLUSIVE,
                reason="no numeric predictions to compare",
            )
        observed = sum(distances) / len(distances)
        test = mean_distance_test(distances, rule.max_mean_distance, share.alpha)
        return ShadowCheck(
            check="agreement",
            measure="mean score distance",
            observed=observed,
            limit=rule.max_mean_distance,
            samples=len(distances),
            outcome=_outcome(not test.failed),
            reason=(
                f"mean |score difference| {observed:.4f} over {len(distances):,} matched requests, at most "
                f"{rule.max_mean_distance:g} allowed: {test.sentence()}"
            ),
            **_tested(test, share),
        )

    def label(text: str) -> str:
        score = _score(text)
        return text if score is None else str(score >= rule.label_threshold)

    if not pairs:
        return ShadowCheck(
            check="agreement",
            measure="equal labels",
            limit=rule.min_agreement,
            samples=0,
            alpha=share.alpha,
            alpha_source=share.source,
            outcome=Outcome.INCONCLUSIVE,
            reason="no matched requests",
        )
    same = sum(1 for p, c in pairs if label(p) == label(c))
    share_equal = same / len(pairs)
    test = label_agreement_test(same, len(pairs), rule.min_agreement, share.alpha)
    return ShadowCheck(
        check="agreement",
        measure="equal labels",
        observed=share_equal,
        limit=rule.min_agreement,
        samples=len(pairs),
        outcome=_outcome(not test.failed),
        reason=(
            f"equal labels on {share_equal:.1%} of {len(pairs):,} matched requests, at least {rule.min_agreement:.0%} "
            f"required: {test.sentence()}"
        ),
        **_tested(test, share),
    )


def _error_rate(
    strategy: ShadowStrategy, production: tuple[int, int], challenger: tuple[int, int], share: AlphaShare
) -> ShadowCheck:
    (p_errors, p_requests), (c_errors, c_requests) = production, challenger
    p_rate = p_errors / p_requests if p_requests else 0.0
    c_rate = c_errors / c_requests if c_requests else 0.0
    margin = strategy.max_error_rate_increase
    figures = (
        f"5XX rate {c_rate:.3%} ({c_errors:,} of {c_requests:,}) against production's {p_rate:.3%} "
        f"({p_errors:,} of {p_requests:,}), at most +{margin:.3%} allowed"
    )
    common = {"check": "5xx-rate", "observed": c_rate, "baseline": p_rate, "limit": p_rate + margin}
    if c_requests < strategy.minimum_samples or not p_requests:
        return ShadowCheck(
            **common,
            alpha=share.alpha,
            alpha_source=share.source,
            outcome=Outcome.INCONCLUSIVE,
            reason=f"{figures}: too few requests to test",
        )
    test = rate_difference_test(p_errors, p_requests, c_errors, c_requests, margin, share.alpha)
    return ShadowCheck(
        **common, outcome=_outcome(not test.failed), reason=f"{figures}: {test.sentence()}", **_tested(test, share)
    )


def _latency_check(
    rollout: Rollout, strategy: ShadowStrategy, start: datetime, end: datetime, share: AlphaShare
) -> ShadowCheck:
    """The rank test of the challenger's latency statistic per period against production's (one look)."""
    statistic = strategy.latency_statistic
    # One value a period per variant; a shadow longer than MAX_PERIODS minutes is judged on longer periods.
    period = 60 * max(1, math.ceil(strategy.duration / 60 / MAX_PERIODS))
    minimum = max(2, min(LATENCY_MINIMUM_PERIODS, int(strategy.duration // period)))
    values = {
        variant: [
            value
            for _, value, _ in metrics.period_values(
                metrics.NAMESPACE,
                LATENCY,
                {"EndpointName": rollout.endpoint_name, "VariantName": variant},
                statistic,
                start,
                end,
                period,
            )
        ]
        for variant in (rollout.baseline_variant or "", rollout.candidate_variant)
    }
    production, challenger = values[rollout.baseline_variant or ""], values[rollout.candidate_variant]
    unit = "minute" if period == 60 else f"{period // 60} minutes"
    if min(len(production), len(challenger)) < minimum:
        return ShadowCheck(
            check="latency",
            statistic=statistic,
            samples=len(challenger),
            alpha=share.alpha,
            alpha_source=share.source,
            outcome=Outcome.INCONCLUSIVE,
            reason=f"ModelLatency {statistic} per {unit}: {len(challenger)} / {len(production)} periods with data, "
            f"{minimum} per variant needed for the rank test",
        )
    design = RankDesign(
        alpha=share.alpha,
        allowed_relative_change=strategy.max_latency_increase,
        minimum_periods=minimum,
        higher_is_worse=True,
    )
    verdict = judge_rank(f"ModelLatency {statistic}", design, production, challenger, critical=True)
    evidence = verdict.evidence
    p_median, c_median = evidence.baseline_estimate or 0.0, evidence.candidate_estimate or 0.0
    p_value = evidence.p_value if evidence.p_value is not None else 1.0
    test = OneSidedTest(
        f"one-sided Mann-Whitney rank test ({len(challenger)} / {len(production)} periods)",
        mann_whitney_greater(challenger, production).z,
        p_value,
        share.alpha,
    )
    if verdict.outcome == Outcome.FAILED:
        gate = ", and the median is beyond the allowed"
    elif test.failed:
        gate = ", but the median is within the allowed"
    else:
        gate = ""
    return ShadowCheck(
        check="latency",
        statistic=statistic,
        observed=c_median,
        baseline=p_median,
        limit=p_median * (1 + strategy.max_latency_increase),
        samples=len(challenger),
        outcome=verdict.outcome,
        reason=f"ModelLatency {statistic} per {unit}: median {c_median / 1000:.1f} ms against production's "
        f"{p_median / 1000:.1f} ms, at most +{strategy.max_latency_increase:.0%} allowed: {test.sentence()}{gate}",
        **_tested(test, share),
    )


def _checks(rollout: Rollout, strategy: ShadowStrategy, start: datetime, end: datetime) -> list[ShadowCheck]:
    production, challenger = rollout.baseline_variant or "", rollout.candidate_variant
    shares = alpha_shares(rollout.spec.guardrails.family_alpha)
    checks: list[ShadowCheck] = []
    p_errors, p_requests = _rate(rollout, production, start, end)
    c_errors, c_requests = _rate(rollout, challenger, start, end)
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
    checks.append(_error_rate(strategy, (p_errors, p_requests), (c_errors, c_requests), shares["5xx-rate"]))
    checks.append(_latency_check(rollout, strategy, start, end, shares["latency"]))
    shadowed = captured_predictions(rollout, challenger, start, end)
    answered = captured_predictions(rollout, production, start, end)
    pairs = [(answered[key], output) for key, output in shadowed.items() if key in answered]
    agreement = _agreement(strategy, pairs, shares["agreement"])
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
            "family_alpha": rollout.spec.guardrails.family_alpha,
            "window": [start.isoformat(), end.isoformat()],
        },
        "shadow-judged",
    )
    return _plan(rollout, then, reason=verdict[:1000])
