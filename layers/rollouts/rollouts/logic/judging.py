"""Judging a canary step on metrics: read the cumulative counts of both variants and ask the judge."""

from __future__ import annotations

from datetime import UTC, datetime

from rollouts.aws import metrics
from rollouts.judge import GroupSequentialDesign, MetricVerdict, judge_sequential
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RateCheck

INVOCATIONS = "Invocations"


def planned_fractions(rollout: Rollout) -> tuple[float, ...]:
    """Each step's share of the candidate's planned requests, cumulated: traffic is assumed steady, so a step
    contributes in proportion to its weight times its bake. Looks at these fractions keep the stated alpha when
    traffic is steady; a busier or quieter step shifts the real fractions a little."""
    steps = rollout.spec.strategy.steps
    total = sum(step.weight * step.bake for step in steps)
    running = 0.0
    fractions = []
    for step in steps:
        running += step.weight * step.bake
        fractions.append(round(running / total, 9))
    fractions[-1] = 1.0
    return tuple(fractions)


def judge_rates(rollout: Rollout, step_index: int, now: datetime | None = None) -> list[MetricVerdict]:
    """One verdict per rate check, on the counts since the candidate first got traffic."""
    checks: list[RateCheck] = rollout.spec.guardrails.rate_checks
    if not checks or rollout.canary_started_at is None:
        return []
    end = now or datetime.now(UTC)
    start = rollout.canary_started_at
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
        design = GroupSequentialDesign(
            alpha=check.alpha,
            fractions=fractions,
            minimum_samples_per_arm=check.minimum_samples,
            allowed_relative_change=check.allowed_relative_change,
        )
        label = "5XX rate" if check.metric.value == "Invocation5XXErrors" else "4XX rate"
        verdicts.append(
            judge_sequential(
                f"{label} ({check.name})",
                design,
                step_index + 1,
                errors[baseline],
                requests[baseline],
                errors[candidate],
                requests[candidate],
                critical=check.critical,
            )
        )
    return verdicts
