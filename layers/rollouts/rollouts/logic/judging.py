"""Judge Step: pending signals, guard alarms and the statistical judge on the metrics of both variants.

One false-alarm rate for the whole verdict: every statistical check (rate, rank metric, feedback) takes its alpha
from `Guardrails.alpha_shares` (its own, else its share of `guardrails.family_alpha`, `rollouts.judge.family`) and
spends it over the canary's planned steps, so that an equal candidate fails the rollout with probability at most the
family's bound over every check and every look. Each verdict's evidence says which alpha it used and where it came
from (`alpha_source`, `family_alpha`), and its power against the check's `minimum_detectable_change`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rollouts import clock
from rollouts.aws import alarms, metrics, store
from rollouts.aws.feedback import rollout_totals
from rollouts.errors import GuardrailBreachedError, RolloutAbortedError
from rollouts.judge.family import AlphaShare
from rollouts.judge.means import MeanStats, judge_means
from rollouts.judge.msprt import MsprtDesign, judge_msprt
from rollouts.judge.outcome import MetricVerdict, Outcome, Rule, overall
from rollouts.judge.rank import RankDesign, judge_rank
from rollouts.judge.sequential import GroupSequentialDesign, judge_sequential
from rollouts.judge.threshold import ThresholdRule, judge_threshold
from rollouts.logic.decisions import record
from rollouts.logic.pending import commands_of, raise_pending, take_pending
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.spec import SAGEMAKER_NAMESPACE, Comparison, FeedbackCheck, MetricCheck, RateCheck
from rollouts.strategies.canary import CanaryStrategy

INVOCATIONS = "Invocations"


def planned_fractions(rollout: Rollout) -> tuple[float, ...]:
    """Each step's planned information fraction for a two-sample comparison of rates or means.

    Traffic is assumed steady, so a step brings the candidate requests in proportion to its weight times its bake,
    and the baseline the rest (100 - weight). The information of a comparison is proportional to
    1 / (1 / C_k + 1 / B_k), C_k and B_k the cumulative planned requests (or rewards) of each variant: the variance
    of a difference of rates or of means is proportional to 1 / C + 1 / B. At a fixed split it is proportional to
    C_k, the candidate's share; in a canary whose weight rises it grows faster early (weights 10 to 50 %: 0.086,
    0.243, ... instead of 0.067, 0.2, ...), and boundaries spent at the candidate's share would be slightly liberal
    at the last step. A busier or quieter step shifts the real fractions a little."""
    steps = rollout.strategy_as(CanaryStrategy).steps
    candidate = baseline = 0.0
    information = []
    for step in steps:
        candidate += step.weight * step.bake
        baseline += (100 - step.weight) * step.bake
        information.append(1 / (1 / candidate + 1 / baseline) if baseline > 0 else candidate)
    fractions = [round(value / information[-1], 9) for value in information]
    fractions[-1] = 1.0
    return tuple(fractions)


def planned_time_fractions(rollout: Rollout) -> tuple[float, ...]:
    """Each step's share of the canary's planned bake time, cumulated: the looks of a rank test, whose information
    grows with the periods judged, one value a period per variant whatever the weights."""
    steps = rollout.strategy_as(CanaryStrategy).steps
    total = sum(step.bake for step in steps)
    running = 0.0
    fractions = []
    for step in steps:
        running += step.bake
        fractions.append(round(running / total, 9))
    fractions[-1] = 1.0
    return tuple(fractions)


def with_alpha(verdict: MetricVerdict, share: AlphaShare) -> MetricVerdict:
    """The verdict with where its alpha came from in its evidence, and a word of it in its explanation."""
    evidence = verdict.evidence
    origin = "its own" if share.own else f"a share of the family's {share.family_alpha:g}"
    return verdict.model_copy(
        update={
            "evidence": evidence.model_copy(
                update={
                    "alpha_source": share.source,
                    "family_alpha": share.family_bound if share.critical else None,
                    "explanation": f"{evidence.explanation} [alpha {share.alpha:.3g}, {origin}]",
                }
            )
        }
    )


def judge_rates(rollout: Rollout, step_index: int, now: datetime | None = None) -> list[MetricVerdict]:
    """One verdict per rate check, on the counts since the candidate first got traffic."""
    checks: list[RateCheck] = rollout.spec.guardrails.rate_checks
    if not checks or rollout.started_at is None:
        return []
    shares = rollout.spec.guardrails.alpha_shares()
    end = now or clock.now()
    start = rollout.started_at
    baseline, candidate = rollout.baseline_variant or "", rollout.candidate_variant
    requests = {
        variant: int(metrics.variant_sum(rollout.endpoint_name, variant, INVOCATIONS, start, end))
        for variant in (baseline, candidate)
    }
    fractions = planned_fractions(rollout)
    verdicts = []
    for check in checks:
        errors = {
            variant: int(metrics.variant_sum(rollout.endpoint_name, variant, check.metric.value, start, end))
            for variant in (baseline, candidate)
        }
        label = "5XX rate" if check.metric.value == "Invocation5XXErrors" else "4XX rate"
        name = f"{label} ({check.name})"
        counts = (errors[baseline], requests[baseline], errors[candidate], requests[candidate])
        share = shares[check.name]
        if check.test == "msprt":
            verdict = _msprt(rollout, check, name, counts, share.alpha, fractions, step_index)
        else:
            design = GroupSequentialDesign(
                alpha=share.alpha,
                fractions=fractions,
                minimum_samples_per_arm=check.minimum_samples,
                allowed_relative_change=check.allowed_relative_change,
                detectable_change=check.minimum_detectable_change,
            )
            verdict = judge_sequential(name, design, step_index + 1, *counts, critical=check.critical)
        verdicts.append(with_alpha(verdict, share))
    return verdicts


def metric_dimensions(check: MetricCheck, endpoint_name: str, variant: str) -> dict[str, str]:
    """The dimensions of one variant's series of the check's metric."""
    if check.namespace == SAGEMAKER_NAMESPACE:
        return {"EndpointName": endpoint_name, "VariantName": variant}
    return {**check.dimensions, check.variant_dimension: variant}


def judge_metrics(rollout: Rollout, step_index: int | None = None, now: datetime | None = None) -> list[MetricVerdict]:
    """One verdict per metric check, on the data since the candidate first got traffic; a rank test at look
    `step_index + 1` of the canary's steps (None: the last)."""
    checks: list[MetricCheck] = rollout.spec.guardrails.metric_checks
    if not checks or rollout.started_at is None:
        return []
    shares = rollout.spec.guardrails.alpha_shares()
    fractions = planned_time_fractions(rollout)
    look = len(fractions) if step_index is None else min(step_index + 1, len(fractions))
    end = now or clock.now()
    start = rollout.started_at
    baseline, candidate = rollout.baseline_variant or "", rollout.candidate_variant
    verdicts = []
    for check in checks:
        unit = " (µs)" if check.namespace == SAGEMAKER_NAMESPACE else ""  # SageMaker's latencies are microseconds
        name = f"{check.statistic} {check.metric}{unit} ({check.name})"
        higher_is_worse = check.direction == "higher-is-worse"
        if check.test == "threshold":
            value, count = metrics.window_value(
                check.namespace,
                check.metric,
                metric_dimensions(check, rollout.endpoint_name, candidate),
                check.statistic,
                start,
                end,
            )
            rule = ThresholdRule(
                threshold=check.threshold or 0.0,
                comparison=Comparison.GREATER_THAN if higher_is_worse else Comparison.LESS_THAN,
                minimum_samples=check.minimum_samples,
            )
            verdicts.append(judge_threshold(name, rule, value, count, critical=check.critical))
            continue
        values = {
            variant: [
                value
                for _, value, _ in metrics.period_values(
                    check.namespace,
                    check.metric,
                    metric_dimensions(check, rollout.endpoint_name, variant),
                    check.statistic,
                    start,
                    end,
                    check.period_seconds,
                )
            ]
            for variant in (baseline, candidate)
        }
        share = shares[check.name]
        design = RankDesign(
            alpha=share.alpha,
            allowed_relative_change=check.allowed_relative_change,
            minimum_periods=check.minimum_periods,
            higher_is_worse=higher_is_worse,
            fractions=fractions,
            detectable_change=check.minimum_detectable_change,
        )
        verdict = judge_rank(name, design, values[baseline], values[candidate], critical=check.critical, look=look)
        verdicts.append(with_alpha(verdict, share))
    return verdicts


def judge_feedback(rollout: Rollout, step_index: int) -> list[MetricVerdict]:
    """One verdict per feedback check, on the rewards counted for both arms since the rollout began."""
    checks: list[FeedbackCheck] = rollout.spec.guardrails.feedback_checks
    if not checks:
        return []
    totals = rollout_totals(rollout.rollout_id)
    arms = {}
    for variant in (rollout.baseline_variant or "", rollout.candidate_variant):
        arm = totals.get(variant)
        arms[variant] = MeanStats(arm.count, arm.reward_sum, arm.reward_sq_sum) if arm else MeanStats(0, 0.0, 0.0)
    fractions = planned_fractions(rollout)
    shares = rollout.spec.guardrails.alpha_shares()
    verdicts = []
    for check in checks:
        share = shares[check.name]
        design = GroupSequentialDesign(
            alpha=share.alpha,
            fractions=fractions,
            minimum_samples_per_arm=check.minimum_samples,
            allowed_relative_change=check.allowed_relative_change,
            detectable_change=check.minimum_detectable_change,
        )
        verdict = judge_means(
            f"feedback reward ({check.name})",
            design,
            step_index + 1,
            arms[rollout.baseline_variant or ""],
            arms[rollout.candidate_variant],
            higher_is_worse=check.direction == "higher-is-worse",
            critical=check.critical,
        )
        verdicts.append(with_alpha(verdict, share))
    return verdicts


def _msprt(
    rollout: Rollout,
    check: RateCheck,
    name: str,
    counts: tuple[int, int, int, int],
    alpha: float,
    fractions: tuple[float, ...],
    step_index: int,
) -> MetricVerdict:
    """The always-valid test: its p-value only falls, so the previous step's p-value is carried over."""
    last = step_index + 1 == len(fractions)
    previous = next(
        (
            float(v["evidence"]["p_value"])
            for v in rollout.judgement
            if v.get("metric") == name and v.get("evidence", {}).get("p_value") is not None
        ),
        1.0,
    )
    design = MsprtDesign(
        alpha=alpha,
        mixing_sd=check.msprt_mixing_sd,
        minimum_samples_per_arm=check.minimum_samples,
        # The canary's last step is the test's horizon: not crossed by then is Successful.
        maximum_samples_per_arm=max(1, counts[3]) if last else None,
        allowed_relative_change=check.allowed_relative_change,
        fractions=fractions,
        detectable_change=check.minimum_detectable_change,
    )
    return judge_msprt(
        name,
        design,
        *counts,
        previous_p_value=previous,
        critical=check.critical,
        look=min(step_index + 1, len(fractions)),
    )


def judge_step(rollout_id: str, step_index: int, bake: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge Step: after the bake, decide whether to go on, promote now, or roll back."""
    pending = take_pending(rollout_id)
    rollout = store.get_rollout(rollout_id)
    steps = rollout.strategy_as(CanaryStrategy).step_count()
    label = f"Step {step_index + 1}/{steps}"
    # A step baked again after an operator's pause is judged again: its decisions get keys of their own.
    key = f"judge-{step_index}-{rollout.extra_bakes}" + (
        f"-p{rollout.operator_pauses}" if rollout.operator_pauses else ""
    )
    try:
        raise_pending(pending)
    except (GuardrailBreachedError, RolloutAbortedError) as error:
        record(rollout, DecisionKind.STEP_JUDGED, f"{label} failed: {error}", {"outcome": "Failed"}, key)
        raise
    commands = commands_of(pending, bake)
    last = step_index + 1 >= steps
    if "pause" in commands and "promote" not in commands and rollout.status == RolloutStatus.PROGRESSING:
        return _operator_pause(rollout, step_index, label, key)
    if "promote" in commands or "resume" in commands:
        command = "promote" if "promote" in commands else "resume"
        rebake = command == "resume" and rollout.operator_paused
        if rollout.status == RolloutStatus.PAUSED:
            rollout = store.update_rollout(
                rollout_id,
                lambda r: r.model_copy(update={"status": RolloutStatus.PROGRESSING, "operator_paused": False}),
            )
        if rebake:  # the operator held the weights mid-step: the step is baked and judged again
            record(
                rollout,
                DecisionKind.STEP_JUDGED,
                f"{label}: an operator resumed; baking the step again",
                {"outcome": Outcome.INCONCLUSIVE.value, "rule": "operator resume"},
                f"{key}-resume",
            )
            return _plan(rollout, "extend", step_index)
        then = "promote" if command == "promote" or last else "shift"
        record(
            rollout,
            DecisionKind.STEP_JUDGED,
            f"{label}: an operator asked to {command}" + ("; promoting" if then == "promote" else "; next step"),
            {"outcome": "Successful", "rule": f"operator {command}"},
            f"{key}-{command}",
        )
        return _plan(rollout, then, step_index + 1)
    firing = alarms.firing(rollout.guard_alarm_names)
    evidence: dict[str, Any] = {"alarms_checked": rollout.guard_alarm_names, "alarms_firing": firing}
    if firing:
        names = ", ".join(alarm["alarm"] for alarm in firing)
        record(
            rollout,
            DecisionKind.STEP_JUDGED,
            f"{label} failed: alarm in ALARM: {names}",
            {**evidence, "outcome": "Failed"},
            key,
        )
        raise GuardrailBreachedError(f"alarm in ALARM at the end of step {step_index + 1}: {names}")
    verdicts = (
        judge_rates(rollout, step_index) + judge_metrics(rollout, step_index) + judge_feedback(rollout, step_index)
    )
    evidence["metrics"] = [verdict.model_dump(mode="json") for verdict in verdicts]
    if verdicts:
        rollout = store.update_rollout(rollout_id, lambda r: r.model_copy(update={"judgement": evidence["metrics"]}))
    outcome = overall(verdicts)
    explained = "; ".join(
        verdict.evidence.explanation if verdict.critical else f"advisory: {verdict.evidence.explanation}"
        for verdict in verdicts
    )
    limit = rollout.spec.guardrails.extra_bakes_when_inconclusive
    too_few = any(
        verdict.critical and verdict.evidence.rule in (Rule.BELOW_MINIMUM_SAMPLE, Rule.NO_DATA) for verdict in verdicts
    )
    if outcome == Outcome.INCONCLUSIVE and too_few and rollout.extra_bakes < limit:
        rollout = store.update_rollout(rollout_id, lambda r: r.model_copy(update={"extra_bakes": r.extra_bakes + 1}))
        record(
            rollout,
            DecisionKind.STEP_JUDGED,
            f"{label} inconclusive: {explained}; baking again ({rollout.extra_bakes}/{limit})",
            {**evidence, "outcome": Outcome.INCONCLUSIVE.value},
            key,
        )
        return _plan(rollout, "extend", step_index)
    if outcome == Outcome.FAILED:
        # The headline names what failed; every verdict stays in the evidence.
        explained = "; ".join(v.evidence.explanation for v in verdicts if v.critical and v.outcome == Outcome.FAILED)
    # Too little data and no bake left to get more (or the last step, where nothing comes after): the policy decides.
    stuck = outcome == Outcome.INCONCLUSIVE and (too_few or last)
    policy = rollout.spec.guardrails.when_inconclusive
    if stuck and policy == "pause":
        return _pause(rollout, step_index, label, explained, {**evidence, "outcome": Outcome.INCONCLUSIVE.value}, key)
    if outcome == Outcome.FAILED or (stuck and (policy == "fail" or last)):
        record(
            rollout,
            DecisionKind.STEP_JUDGED,
            f"{label} failed: {explained}",
            {**evidence, "outcome": Outcome.FAILED.value},
            key,
        )
        raise GuardrailBreachedError(f"step {step_index + 1} judged Failed: {explained}")
    record(
        rollout,
        DecisionKind.STEP_JUDGED,
        f"{label} passed: no guardrail fired during the bake"
        + (f"; {explained}" if explained else "")
        + ("; promoting" if last else ""),
        {**evidence, "outcome": Outcome.SUCCESSFUL.value if last or not verdicts else outcome.value},
        key,
    )
    return _plan(rollout, "promote" if last else "shift", step_index + 1)


def _plan(rollout: Rollout, then: str, next_step: int, wait_seconds: int = 0) -> dict[str, Any]:
    """What Judge Step hands the state machine: the next state, the next step, and how long a pause waits."""
    return {"endpoint_name": rollout.endpoint_name, "next": then, "next_step": next_step, "wait_seconds": wait_seconds}


def _operator_pause(rollout: Rollout, step_index: int, label: str, key: str) -> dict[str, Any]:
    """Hold the weights for an operator who asked to: until resume (the step is baked again), promote or abort; the
    pause's timeout rolls back, as a pause for too little data does."""
    timeout = int(rollout.spec.guardrails.pause_timeout)
    rollout = store.update_rollout(
        rollout.rollout_id,
        lambda r: r.model_copy(
            update={"status": RolloutStatus.PAUSED, "operator_paused": True, "operator_pauses": r.operator_pauses + 1}
        ),
    )
    weight = rollout.strategy_as(CanaryStrategy).steps[step_index].weight
    record(
        rollout,
        DecisionKind.ROLLOUT_PAUSED,
        f"Paused by an operator at {label.lower()} with the candidate at {weight:g} %. POST "
        f"/rollouts/{rollout.rollout_id}/resume bakes the step again, /promote promotes, /abort rolls back; with no "
        f"command in {timeout:,} s the rollout rolls back",
        {"step": step_index + 1, "weight": weight, "timeout_seconds": timeout, "by": "operator"},
        f"{key}-operator-pause-{rollout.operator_pauses}",
    )
    return _plan(rollout, "pause", step_index, wait_seconds=timeout)


def _pause(
    rollout: Rollout, step_index: int, label: str, explained: str, evidence: dict[str, Any], key: str
) -> dict[str, Any]:
    """Hold the weights until an operator resumes, promotes or aborts; the wait's timeout rolls back."""
    timeout = int(rollout.spec.guardrails.pause_timeout)
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"status": RolloutStatus.PAUSED}))
    record(rollout, DecisionKind.STEP_JUDGED, f"{label} inconclusive: {explained}; pausing", evidence, key)
    weight = rollout.strategy_as(CanaryStrategy).steps[step_index].weight
    record(
        rollout,
        DecisionKind.ROLLOUT_PAUSED,
        f"Paused at {label.lower()} with the candidate at {weight:g} %: too little data to judge. POST "
        f"/rollouts/{rollout.rollout_id}/resume goes on, /promote promotes, /abort rolls back; with no command in "
        f"{timeout:,} s the rollout rolls back",
        {
            "step": step_index + 1,
            "weight": weight,
            "timeout_seconds": timeout,
            "judgement": evidence.get("metrics", []),
        },
        f"{key}-pause",
    )
    return _plan(rollout, "pause", step_index, wait_seconds=timeout)
