"""Parsing of the four SageMaker Model Monitor constraint_violations.json formats."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from rollouts.monitoring import MonitoringType, Violation, ViolationsFormatError, parse_violations

EVENTS = pathlib.Path(__file__).parents[2] / "events" / "monitoring"


def load_event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return document


def test_data_quality_violations_name_each_drifted_feature() -> None:
    violations = parse_violations(load_event("data_quality_violations.json"))

    assert [(v.subject, v.check_type) for v in violations] == [
        ("age", "baseline_drift_check"),
        ("income", "completeness_check"),
        ("tenure_months", "data_type_check"),
        ("state", "categorical_values_check"),
    ]
    assert {v.monitoring_type for v in violations} == {MonitoringType.DATA_QUALITY}
    assert violations[0].feature == "age"
    assert violations[0].metric is None
    assert violations[0].description == "Baseline drift distance: 0.2371 exceeds threshold: 0.1"


def test_model_quality_violations_name_the_degraded_metric_and_operator() -> None:
    violations = parse_violations(load_event("model_quality_violations.json"))

    assert [(v.monitoring_type, v.subject, v.check_type) for v in violations] == [
        (MonitoringType.MODEL_QUALITY, "auc", "LessThanThreshold"),
        (MonitoringType.MODEL_QUALITY, "recall", "LessThanThreshold"),
    ]
    assert violations[0].metric == "auc"
    assert violations[0].feature is None


def test_bias_violations_name_metric_and_facet_value() -> None:
    violations = parse_violations(load_event("bias_violations.json"))

    assert [v.subject for v in violations] == ["DPPL for Age=40", "DI for Age=40"]
    first = violations[0]
    assert first.monitoring_type is MonitoringType.MODEL_BIAS
    assert (first.metric, first.facet, first.facet_value, first.check_type) == ("DPPL", "Age", "40", "bias_drift_check")


def test_feature_attribution_violations_name_the_drifted_label() -> None:
    [violation] = parse_violations(load_event("feature_attribution_violations.json"))

    assert violation.monitoring_type is MonitoringType.MODEL_EXPLAINABILITY
    assert violation.subject == "shap attribution for label label0"
    assert (violation.label, violation.metric) == ("label0", "shap")
    assert violation.check_type == "feature_attribution_drift_check"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"feature_name": "age", "constraint_check_type": "missing_column_check"}, MonitoringType.DATA_QUALITY),
        ({"metric_name": "rmse", "constraint_check_type": "GreaterThanThreshold"}, MonitoringType.MODEL_QUALITY),
        ({"metric_name": "f1", "constraint_check_type": "LessThanOrEqualToThreshold"}, MonitoringType.MODEL_QUALITY),
        ({"facet": "Sex", "metric_name": "DI", "constraint_check_type": "bias_drift_check"}, MonitoringType.MODEL_BIAS),
        ({"metric_name": "AD", "constraint_check_type": "bias_drift_check"}, MonitoringType.MODEL_BIAS),
        (
            {"label": "churn", "metric_name": "shap", "constraint_check_type": "feature_attribution_drift_check"},
            MonitoringType.MODEL_EXPLAINABILITY,
        ),
        # Custom (bring-your-own-container) check types still infer from the keys.
        ({"feature_name": "age", "constraint_check_type": "custom_range_check"}, MonitoringType.DATA_QUALITY),
        ({"facet": "Sex", "metric_name": "DI", "constraint_check_type": "custom_bias"}, MonitoringType.MODEL_BIAS),
        (
            {"label": "label0", "metric_name": "shap", "constraint_check_type": "custom_ndcg"},
            MonitoringType.MODEL_EXPLAINABILITY,
        ),
    ],
)
def test_monitoring_type_is_inferred_per_entry(entry: dict[str, Any], expected: MonitoringType) -> None:
    [violation] = parse_violations({"violations": [entry]})

    assert violation.monitoring_type is expected


def test_one_document_may_mix_types_and_each_entry_is_inferred_on_its_own() -> None:
    # Given entries from two monitors in one document
    document = {
        "violations": [
            {"feature_name": "age", "constraint_check_type": "baseline_drift_check"},
            {"metric_name": "auc", "constraint_check_type": "LessThanThreshold"},
        ]
    }

    # When it is parsed without a type
    violations = parse_violations(document)

    # Then each entry keeps its own type
    assert [v.monitoring_type for v in violations] == [MonitoringType.DATA_QUALITY, MonitoringType.MODEL_QUALITY]


def test_explicit_monitoring_type_overrides_inference() -> None:
    # Given a custom model-quality container that reports a non-operator check type
    document = {"violations": [{"metric_name": "precision_at_10", "constraint_check_type": "custom_ranking_check"}]}

    # When the caller names the schedule's type
    [violation] = parse_violations(document, MonitoringType.MODEL_QUALITY)

    # Then the entry is read as that type
    assert violation.monitoring_type is MonitoringType.MODEL_QUALITY
    assert violation.subject == "precision_at_10"


def test_explicit_type_applies_to_every_entry_of_a_sample_file() -> None:
    violations = parse_violations(load_event("data_quality_violations.json"), MonitoringType.DATA_QUALITY)

    assert len(violations) == 4
    assert all(v.monitoring_type is MonitoringType.DATA_QUALITY for v in violations)


def test_entry_without_type_hints_is_rejected_unless_type_is_given() -> None:
    document = {"violations": [{"constraint_check_type": "mystery_check", "description": "something"}]}

    with pytest.raises(ViolationsFormatError, match=r"violations\[0\].*'mystery_check'.*pass monitoring_type"):
        parse_violations(document)

    [violation] = parse_violations(document, MonitoringType.DATA_QUALITY)
    assert violation.subject == "mystery_check"


@pytest.mark.parametrize("name", ["data_quality_violations.json", "bias_violations.json"])
def test_text_and_bytes_input_parse_like_the_json_object(name: str) -> None:
    text = (EVENTS / name).read_text()

    assert parse_violations(text) == parse_violations(json.loads(text))
    assert parse_violations(text.encode()) == parse_violations(json.loads(text))


@pytest.mark.parametrize(
    "document",
    [
        load_event("no_violations.json"),
        {},
        {"version": "1.0"},
        '{"violations": []}',
        b"{}",
    ],
)
def test_missing_or_empty_violations_mean_none(document: dict[str, Any] | str | bytes) -> None:
    assert parse_violations(document) == []


def test_descriptions_are_kept_verbatim_and_never_change_the_verdict() -> None:
    # Given two entries that differ only in their free-text description
    entry = {"feature_name": "age", "constraint_check_type": "baseline_drift_check"}
    plain, odd = parse_violations(
        {"violations": [{**entry, "description": "distance: 0.3"}, {**entry, "description": "no drift at all"}]}
    )

    # Then only the description differs
    assert plain.model_dump(exclude={"description"}) == odd.model_dump(exclude={"description"})
    assert odd.description == "no drift at all"


def test_missing_description_becomes_empty_text() -> None:
    [violation] = parse_violations(
        {"violations": [{"feature_name": "age", "constraint_check_type": "data_type_check"}]}
    )

    assert violation.description == ""


def test_numeric_facet_value_is_read_as_text() -> None:
    document = {
        "violations": [
            {"facet": "age", "facet_value": 40, "metric_name": "DPPL", "constraint_check_type": "bias_drift_check"}
        ]
    }

    [violation] = parse_violations(document)

    assert violation.facet_value == "40"
    assert violation.subject == "DPPL for age=40"


def test_bias_violation_without_facet_value_names_the_facet_only() -> None:
    document = {"violations": [{"facet": "Sex", "metric_name": "DI", "constraint_check_type": "bias_drift_check"}]}

    [violation] = parse_violations(document)

    assert violation.subject == "DI for Sex"


def test_violations_are_immutable() -> None:
    [violation] = parse_violations(load_event("feature_attribution_violations.json"))

    with pytest.raises(ValueError, match="frozen"):
        violation.label = "label1"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", r"not valid JSON"),
        (b"\xff\xfe\x00garbage", r"not valid JSON"),
        ("[1, 2]", r"must be a JSON object, got a list"),
        ('"violations"', r"must be a JSON object, got a string"),
        ({"violations": {"feature_name": "age"}}, r"'violations' must be a list, got an object"),
        ({"violations": None}, r"'violations' must be a list, got null"),
        ({"violations": "none"}, r"'violations' must be a list, got a string"),
        ({"violations": ["age"]}, r"violations\[0\] must be an object, got a string"),
        (
            {"violations": [{"feature_name": "age", "constraint_check_type": "data_type_check"}, 7]},
            r"violations\[1\] must be an object, got a number",
        ),
        ({"violations": [{"feature_name": "age"}]}, r"violations\[0\] lacks 'constraint_check_type'"),
        (
            {"violations": [{"feature_name": "age", "constraint_check_type": 3}]},
            r"violations\[0\]\.constraint_check_type must be a non-empty string, got a number",
        ),
        (
            {"violations": [{"feature_name": "age", "constraint_check_type": " "}]},
            r"violations\[0\]\.constraint_check_type must be a non-empty string, got an empty string",
        ),
        (
            {"violations": [{"feature_name": ["age"], "constraint_check_type": "data_type_check"}]},
            r"violations\[0\]\.feature_name must be a string, got a list",
        ),
    ],
)
def test_malformed_documents_raise_an_error_naming_the_problem(document: Any, message: str) -> None:
    with pytest.raises(ViolationsFormatError, match=message):
        parse_violations(document)


def test_format_error_is_a_value_error() -> None:
    assert issubclass(ViolationsFormatError, ValueError)


def test_monitoring_type_values_match_botocore() -> None:
    assert [t.value for t in MonitoringType] == ["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"]
    assert MonitoringType("ModelBias") is MonitoringType.MODEL_BIAS


def test_violation_round_trips_through_json() -> None:
    [violation] = parse_violations(load_event("bias_violations.json"))[:1]

    assert Violation.model_validate_json(violation.model_dump_json()) == violation
