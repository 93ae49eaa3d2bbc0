"""Rollback policies applied to Model Monitor violations."""

from __future__ import annotations

import pathlib
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from rollouts.monitoring import (
    DEFAULT_POLICIES,
    MonitoringAction,
    MonitoringPolicy,
    MonitoringType,
    Violation,
    evaluate_policy,
    parse_violations,
)

EVENTS = pathlib.Path(__file__).parents[2] / "events" / "monitoring"


def sample(name: str) -> list[Violation]:
    return parse_violations((EVENTS / name).read_text())


def drift(feature: str, check_type: str = "baseline_drift_check") -> Violation:
    return Violation(
        monitoring_type=MonitoringType.DATA_QUALITY,
        check_type=check_type,
        subject=feature,
        feature=feature,
        description="",
    )


@pytest.mark.parametrize(
    ("name", "monitoring_type"),
    [
        ("data_quality_violations.json", MonitoringType.DATA_QUALITY),
        ("model_quality_violations.json", MonitoringType.MODEL_QUALITY),
        ("bias_violations.json", MonitoringType.MODEL_BIAS),
        ("feature_attribution_violations.json", MonitoringType.MODEL_EXPLAINABILITY),
    ],
)
def test_default_policy_rolls_back_on_any_violation_of_every_type(name: str, monitoring_type: MonitoringType) -> None:
    outcome = evaluate_policy(sample(name), monitoring_type)

    assert outcome.breach
    assert outcome.action is MonitoringAction.ROLLBACK
    assert outcome.ignored == []


def test_default_policies_cover_all_four_types_with_rollback_on_one() -> None:
    assert set(DEFAULT_POLICIES) == set(MonitoringType)
    assert all(
        p == MonitoringPolicy(action=MonitoringAction.ROLLBACK, min_violations=1) for p in DEFAULT_POLICIES.values()
    )


def test_no_violations_means_no_action() -> None:
    outcome = evaluate_policy(sample("no_violations.json"), MonitoringType.DATA_QUALITY)

    assert not outcome.breach
    assert outcome.action is MonitoringAction.IGNORE
    assert outcome.reason == "DataQuality monitoring reported 0 violations: no action, policy rolls back on 1 or more"


def test_reason_names_each_violated_feature() -> None:
    outcome = evaluate_policy([drift("age"), drift("income", "completeness_check")], MonitoringType.DATA_QUALITY)

    assert outcome.reason == (
        "DataQuality monitoring reported 2 violations (baseline_drift_check on feature 'age', "
        "completeness_check on feature 'income'): policy rolls back on 1 or more"
    )


def test_reason_names_degraded_metrics_for_model_quality() -> None:
    outcome = evaluate_policy(sample("model_quality_violations.json"), MonitoringType.MODEL_QUALITY)

    assert outcome.reason == (
        "ModelQuality monitoring reported 2 violations (LessThanThreshold on metric 'auc', "
        "LessThanThreshold on metric 'recall'): policy rolls back on 1 or more"
    )


def test_reason_names_metric_and_facet_for_bias() -> None:
    outcome = evaluate_policy(sample("bias_violations.json"), MonitoringType.MODEL_BIAS)

    assert "bias_drift_check on DPPL for Age=40" in outcome.reason
    assert "bias_drift_check on DI for Age=40" in outcome.reason


def test_reason_names_the_label_for_feature_attribution() -> None:
    outcome = evaluate_policy(sample("feature_attribution_violations.json"), MonitoringType.MODEL_EXPLAINABILITY)

    assert outcome.reason == (
        "ModelExplainability monitoring reported 1 violation (feature_attribution_drift_check on shap attribution "
        "for label label0): policy rolls back on 1 or more"
    )


def test_reason_lists_at_most_five_violations() -> None:
    violations = [drift(f"f{i}") for i in range(8)]

    outcome = evaluate_policy(violations, MonitoringType.DATA_QUALITY)

    assert "feature 'f4', and 3 more)" in outcome.reason
    assert "'f5'" not in outcome.reason
    assert len(outcome.counted) == 8


def test_fewer_violations_than_threshold_take_no_action() -> None:
    # Given a policy that tolerates up to two drifted features
    policy = MonitoringPolicy(min_violations=3)

    # When two features drift
    outcome = evaluate_policy([drift("age"), drift("income")], MonitoringType.DATA_QUALITY, policy)

    # Then nothing is rolled back, and the reason says why
    assert not outcome.breach
    assert outcome.action is MonitoringAction.IGNORE
    assert len(outcome.counted) == 2
    assert outcome.reason.endswith(": no action, policy rolls back on 3 or more")


def test_reaching_the_threshold_rolls_back() -> None:
    policy = MonitoringPolicy(min_violations=3)

    outcome = evaluate_policy([drift("age"), drift("income"), drift("state")], MonitoringType.DATA_QUALITY, policy)

    assert outcome.breach
    assert outcome.action is MonitoringAction.ROLLBACK
    assert outcome.reason.endswith(": policy rolls back on 3 or more")


def test_ignored_check_types_do_not_count() -> None:
    # Given a policy that does not care about type drift
    policy = MonitoringPolicy(ignore_check_types=["data_type_check"])
    violations = [drift("age", "data_type_check"), drift("income", "data_type_check")]

    # When only type checks fail
    outcome = evaluate_policy(violations, MonitoringType.DATA_QUALITY, policy)

    # Then there is no breach, and the reason shows what was set aside
    assert not outcome.breach
    assert outcome.counted == []
    assert outcome.ignored == violations
    assert outcome.reason == (
        "DataQuality monitoring reported 2 violations, 0 counted, 2 ignored (data_type_check on feature 'age', "
        "data_type_check on feature 'income'): no action, policy rolls back on 1 or more"
    )


def test_ignored_check_types_leave_other_checks_counting() -> None:
    policy = MonitoringPolicy(ignore_check_types=["data_type_check"])

    outcome = evaluate_policy(sample("data_quality_violations.json"), MonitoringType.DATA_QUALITY, policy)

    assert outcome.breach
    assert [v.feature for v in outcome.counted] == ["age", "income", "state"]
    assert [v.feature for v in outcome.ignored] == ["tenure_months"]
    assert "3 counted (" in outcome.reason
    assert "1 ignored (data_type_check on feature 'tenure_months')" in outcome.reason


def test_only_subjects_counts_just_the_listed_features() -> None:
    # Given a policy watching only the features the model leans on
    policy = MonitoringPolicy(only_subjects=["income", "credit_score"])

    # When age drifts but income does not
    outcome = evaluate_policy([drift("age")], MonitoringType.DATA_QUALITY, policy)

    # Then age is set aside
    assert not outcome.breach
    assert outcome.ignored == [drift("age")]

    # And when income drifts, it counts
    assert evaluate_policy([drift("age"), drift("income")], MonitoringType.DATA_QUALITY, policy).breach


def test_only_subjects_matches_model_quality_metrics() -> None:
    policy = MonitoringPolicy(only_subjects=["recall"])

    outcome = evaluate_policy(sample("model_quality_violations.json"), MonitoringType.MODEL_QUALITY, policy)

    assert [v.metric for v in outcome.counted] == ["recall"]
    assert [v.metric for v in outcome.ignored] == ["auc"]


def test_only_subjects_matches_bias_metric_or_full_subject() -> None:
    violations = sample("bias_violations.json")

    by_metric = evaluate_policy(violations, MonitoringType.MODEL_BIAS, MonitoringPolicy(only_subjects=["DI"]))
    by_subject = evaluate_policy(
        violations, MonitoringType.MODEL_BIAS, MonitoringPolicy(only_subjects=["DPPL for Age=40"])
    )

    assert [v.metric for v in by_metric.counted] == ["DI"]
    assert [v.metric for v in by_subject.counted] == ["DPPL"]


def test_ignore_action_never_rolls_back_but_still_reports_the_breach() -> None:
    # Given bias monitoring in report-only mode
    policy = MonitoringPolicy(action=MonitoringAction.IGNORE)

    # When bias drifts
    outcome = evaluate_policy(sample("bias_violations.json"), MonitoringType.MODEL_BIAS, policy)

    # Then the breach is recorded but nothing is rolled back
    assert outcome.breach
    assert outcome.action is MonitoringAction.IGNORE
    assert outcome.reason.startswith("ModelBias monitoring reported 2 violations (bias_drift_check on DPPL for Age=40")
    assert outcome.reason.endswith(": no action, policy ignores ModelBias violations")


def test_explicit_policy_replaces_the_default_for_its_type() -> None:
    violations = sample("model_quality_violations.json")

    assert evaluate_policy(violations, MonitoringType.MODEL_QUALITY).breach
    assert not evaluate_policy(violations, MonitoringType.MODEL_QUALITY, MonitoringPolicy(min_violations=3)).breach


def test_every_violation_is_judged_whatever_type_it_was_parsed_as() -> None:
    # A mislabelled entry must not hide a rollback.
    outcome = evaluate_policy(sample("model_quality_violations.json"), MonitoringType.DATA_QUALITY)

    assert outcome.breach
    assert len(outcome.counted) == 2


@pytest.mark.parametrize(
    "settings",
    [
        {"min_violations": 0},
        {"min_violations": -1},
        {"action": "page"},
        {"ignore_check_type": ["data_type_check"]},
    ],
)
def test_invalid_policies_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MonitoringPolicy.model_validate(settings)


def test_policy_reads_from_configuration_text() -> None:
    policy = MonitoringPolicy.model_validate_json(
        '{"action": "ignore", "min_violations": 2, "ignore_check_types": ["extra_column_check"]}'
    )

    assert policy.action is MonitoringAction.IGNORE
    assert policy.min_violations == 2
    assert policy.ignore_check_types == ["extra_column_check"]
    assert policy.only_subjects == []


def test_policy_and_outcome_are_immutable() -> None:
    policy = MonitoringPolicy()
    outcome = evaluate_policy([], MonitoringType.DATA_QUALITY, policy)

    with pytest.raises(ValidationError):
        policy.min_violations = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        outcome.breach = True  # type: ignore[misc]


CHECK_TYPES = ["baseline_drift_check", "completeness_check", "data_type_check", "missing_column_check"]
FEATURES = ["age", "income", "state", "tenure_months"]

violations_strategy = st.lists(
    st.builds(drift, feature=st.sampled_from(FEATURES), check_type=st.sampled_from(CHECK_TYPES)), max_size=8
)
policies_strategy = st.builds(
    MonitoringPolicy,
    action=st.sampled_from(MonitoringAction),
    min_violations=st.integers(min_value=1, max_value=6),
    ignore_check_types=st.lists(st.sampled_from(CHECK_TYPES), unique=True, max_size=3),
    only_subjects=st.lists(st.sampled_from(FEATURES), unique=True, max_size=3),
)


@given(before=violations_strategy, added=violations_strategy, policy=policies_strategy)
def test_adding_violations_never_turns_a_breach_into_no_breach(
    before: list[Violation], added: list[Violation], policy: MonitoringPolicy
) -> None:
    first = evaluate_policy(before, MonitoringType.DATA_QUALITY, policy)
    more = evaluate_policy(before + added, MonitoringType.DATA_QUALITY, policy)

    if first.breach:
        assert more.breach
        assert more.action is first.action


def test_a_spec_does_not_load_the_violation_parsers() -> None:
    """The API imports the spec and its policies; only a monitoring signal needs the parsers (cold start)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    probe = "import sys, rollouts.models.spec; print('rollouts.monitoring.violations' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)

    assert result.stdout.strip() == "False"
