"""Outcomes: combining metric verdicts into a step's outcome, the evidence's shape, and plain threshold rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.judge.outcome import Evidence, MetricVerdict, Outcome, Rule, overall, percent, relative_change
from rollouts.judge.threshold import ThresholdRule, judge_threshold
from rollouts.models.spec import Comparison


def verdict(outcome: Outcome, critical: bool = False) -> MetricVerdict:
    evidence = Evidence(statistic_name="z", rule=Rule.BOUNDARY_NOT_CROSSED, explanation="")
    return MetricVerdict(metric="m", outcome=outcome, critical=critical, evidence=evidence)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([(Outcome.FAILED, True), (Outcome.SUCCESSFUL, False)], Outcome.FAILED),
        ([(Outcome.FAILED, True), (Outcome.INCONCLUSIVE, True)], Outcome.FAILED),
        ([(Outcome.INCONCLUSIVE, True), (Outcome.SUCCESSFUL, True)], Outcome.INCONCLUSIVE),
        ([(Outcome.SUCCESSFUL, True), (Outcome.SUCCESSFUL, True)], Outcome.SUCCESSFUL),
        # A non-critical check is advisory: it neither fails nor holds the step.
        ([(Outcome.FAILED, False), (Outcome.SUCCESSFUL, True)], Outcome.SUCCESSFUL),
        ([(Outcome.FAILED, False), (Outcome.INCONCLUSIVE, True)], Outcome.INCONCLUSIVE),
        ([(Outcome.INCONCLUSIVE, False), (Outcome.SUCCESSFUL, True)], Outcome.SUCCESSFUL),
        ([(Outcome.FAILED, False)], Outcome.SUCCESSFUL),
        ([], Outcome.SUCCESSFUL),
    ],
)
def test_overall_outcome_of_a_step(outcomes: list[tuple[Outcome, bool]], expected: Outcome) -> None:
    assert overall(verdict(outcome, critical) for outcome, critical in outcomes) is expected


@given(st.lists(st.sampled_from(list(Outcome)), max_size=6), st.sampled_from(list(Outcome)))
def test_adding_a_verdict_never_improves_the_step(outcomes: list[Outcome], added: Outcome) -> None:
    rank = {Outcome.SUCCESSFUL: 0, Outcome.INCONCLUSIVE: 1, Outcome.FAILED: 2}
    before = overall(verdict(outcome, critical=True) for outcome in outcomes)
    after = overall(verdict(outcome, critical=True) for outcome in [*outcomes, added])
    assert rank[after] >= rank[before]


def test_a_verdict_serialises_to_json_for_the_api_and_events() -> None:
    body = json.loads(verdict(Outcome.FAILED, critical=True).model_dump_json())
    assert body["outcome"] == "Failed"
    assert body["critical"] is True
    assert body["evidence"]["rule"] == "BoundaryNotCrossed"


def test_verdicts_are_immutable() -> None:
    with pytest.raises(ValueError, match="frozen"):
        verdict(Outcome.FAILED).outcome = Outcome.SUCCESSFUL  # type: ignore[misc]


@pytest.mark.parametrize(("rate", "text"), [(0.021, "2.1 %"), (0.01, "1.0 %"), (0.0004, "0.04 %"), (0.0, "0.00 %")])
def test_rates_read_as_percentages(rate: float, text: str) -> None:
    assert percent(rate) == text


def test_relative_change_has_no_value_from_zero() -> None:
    assert relative_change(0.01, 0.015) == pytest.approx(0.5)
    assert relative_change(0.0, 0.01) is None


@pytest.mark.parametrize(
    ("comparison", "value", "outcome"),
    [
        (Comparison.GREATER_THAN, 0.02, Outcome.FAILED),
        (Comparison.GREATER_THAN, 0.01, Outcome.SUCCESSFUL),
        (Comparison.GREATER_THAN_OR_EQUAL, 0.01, Outcome.FAILED),
        (Comparison.LESS_THAN, 0.005, Outcome.FAILED),
        (Comparison.LESS_THAN, 0.01, Outcome.SUCCESSFUL),
        (Comparison.LESS_THAN_OR_EQUAL, 0.01, Outcome.FAILED),
    ],
)
def test_threshold_rules_fail_when_the_comparison_holds(comparison: Comparison, value: float, outcome: Outcome) -> None:
    result = judge_threshold("5XX rate", ThresholdRule(threshold=0.01, comparison=comparison), value, samples=5_000)
    assert result.outcome is outcome
    assert result.evidence.boundary == 0.01
    assert result.evidence.statistic == value
    assert result.evidence.explanation.endswith(outcome.value)


def test_threshold_explanation_reads_as_a_sentence() -> None:
    rule = ThresholdRule(threshold=300_000)
    result = judge_threshold("ModelLatency p99", rule, 412_000, samples=1_200, critical=True)
    assert result.evidence.explanation == (
        "ModelLatency p99 = 412,000 over 1,200 samples is above the limit 300,000: Failed"
    )
    assert result.evidence.rule is Rule.THRESHOLD_BREACHED
    assert result.critical


def test_threshold_without_data_or_with_too_few_samples_is_inconclusive() -> None:
    rule = ThresholdRule(threshold=0.01, minimum_samples=100)
    no_data = judge_threshold("5XX rate", rule, None)
    too_few = judge_threshold("5XX rate", rule, 0.5, samples=20)
    assert (no_data.outcome, no_data.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.NO_DATA)
    assert (too_few.outcome, too_few.evidence.rule) == (Outcome.INCONCLUSIVE, Rule.BELOW_MINIMUM_SAMPLE)
