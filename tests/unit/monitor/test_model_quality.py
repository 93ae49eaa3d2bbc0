"""Model quality: every metric against a plain-Python computation, the documented formats, the check, bad input."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.monitoring.kinds import MonitoringType
from rollouts.monitoring.violations import parse_violations
from rollouts_monitor.model_quality import (
    MAX_CURVE_POINTS,
    PROBLEM_TYPES,
    ConstraintsError,
    EmptyWindowError,
    InputError,
    LabelError,
    check,
    metrics,
    suggest_constraints,
)

BINARY = "binary_classification_metrics"
MULTI = "multiclass_classification_metrics"
REGRESSION = "regression_metrics"


def value(statistics: dict[str, Any], section: str, name: str) -> Any:
    return statistics[section][name]["value"]


# -- plain-Python references ------------------------------------------------------------------------------------------


def confusion_by_hand(labels: Sequence[bool], predictions: Sequence[bool]) -> tuple[int, int, int, int]:
    tp = fp = fn = tn = 0
    for y, p in zip(labels, predictions, strict=True):
        if y and p:
            tp += 1
        elif p:
            fp += 1
        elif y:
            fn += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def f_beta_by_hand(beta: float, precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None if precision is None and recall is None else 0.0
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def auc_by_pairs(labels: Sequence[int], scores: Sequence[float]) -> float:
    """The probability that a positive outranks a negative, ties counting one half."""
    positives = [s for y, s in zip(labels, scores, strict=True) if y]
    negatives = [s for y, s in zip(labels, scores, strict=True) if not y]
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def average_precision_by_hand(labels: Sequence[int], scores: Sequence[float]) -> float:
    total_positive = sum(labels)
    result, previous_recall = 0.0, 0.0
    for threshold in sorted(set(scores), reverse=True):
        chosen = [y for y, s in zip(labels, scores, strict=True) if s >= threshold]
        recall = sum(chosen) / total_positive
        precision = sum(chosen) / len(chosen)
        result += (recall - previous_recall) * precision
        previous_recall = recall
    return result


def assert_same(actual: Any, expected: float | None) -> None:
    if expected is None:
        assert actual == "NaN"
    else:
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)


# -- formats ----------------------------------------------------------------------------------------------------------


def test_the_documented_binary_example_gives_the_documented_values():
    # AWS's example (model-monitor-model-quality-metrics): confusion {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}.
    statistics = metrics("BinaryClassification", [0, 0, 0, 1], [0, 1, 1, 1])

    section = statistics[BINARY]
    assert statistics["version"] == 0.0
    assert statistics["dataset"] == {"item_count": 4}
    assert section["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    expected = {
        "recall": 1.0,
        "precision": 1 / 3,
        "accuracy": 0.5,
        "recall_best_constant_classifier": 1.0,
        "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25,
        "true_positive_rate": 1.0,
        "true_negative_rate": 1 / 3,
        "false_positive_rate": 2 / 3,
        "false_negative_rate": 0.0,
    }
    for name, documented in expected.items():
        assert section[name] == {"value": pytest.approx(documented), "standard_deviation": "NaN"}


def test_every_binary_metric_is_present_with_value_and_standard_deviation():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(labels * 0.4 + rng.random(300) * 0.6, 0, 1)

    section = metrics("BinaryClassification", labels, (scores >= 0.5).astype(int), scores)[BINARY]

    names = {
        "recall",
        "precision",
        "accuracy",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
        "auc",
        "au_prc",
        "f0_5",
        "f1",
        "f2",
        *(f"{m}_best_constant_classifier" for m in ("recall", "precision", "accuracy", "f0_5", "f1", "f2")),
    }
    assert set(section) == names | {
        "confusion_matrix",
        "receiver_operating_characteristic_curve",
        "precision_recall_curve",
    }
    for name in names:
        assert set(section[name]) == {"value", "standard_deviation"}
        assert isinstance(section[name]["value"], float)
        assert isinstance(section[name]["standard_deviation"], float)
    assert set(section["receiver_operating_characteristic_curve"]) == {"false_positive_rates", "true_positive_rates"}
    assert set(section["precision_recall_curve"]) == {"precisions", "recalls"}


def test_the_documents_are_strict_json_even_with_undefined_metrics():
    statistics = metrics("BinaryClassification", [0, 0, 0], [0, 0, 0], [0.1, 0.2, 0.3])  # no positive at all

    text = json.dumps(statistics, allow_nan=False)

    assert json.loads(text)[BINARY]["recall"] == {"value": "NaN", "standard_deviation": "NaN"}
    assert "no row has a positive label" in statistics["rollouts_monitor"]["undefined"]["recall"]
    assert json.dumps(suggest_constraints(statistics, "BinaryClassification"), allow_nan=False)


# -- binary arithmetic ------------------------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_threshold_metrics_match_the_confusion_counts_done_by_hand(pairs):
    labels = [y for y, _ in pairs]
    predictions = [p for _, p in pairs]
    tp, fp, fn, tn = confusion_by_hand(labels, predictions)
    positives, negatives, n = tp + fn, fp + tn, len(pairs)

    statistics = metrics("BinaryClassification", [int(y) for y in labels], [int(p) for p in predictions])
    section = statistics[BINARY]

    assert section["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    precision, recall = ratio(tp, tp + fp), ratio(tp, positives)
    expected = {
        "recall": recall,
        "precision": precision,
        "accuracy": (tp + tn) / n,
        "true_positive_rate": recall,
        "true_negative_rate": ratio(tn, negatives),
        "false_positive_rate": ratio(fp, negatives),
        "false_negative_rate": ratio(fn, positives),
        "recall_best_constant_classifier": 1.0 if positives else None,
        "precision_best_constant_classifier": positives / n,
        "accuracy_best_constant_classifier": positives / n,
    }
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        expected[name] = f_beta_by_hand(beta, precision, recall)
        # The constant classifier predicts every row positive: precision is the positive share, recall 1.
        expected[f"{name}_best_constant_classifier"] = f_beta_by_hand(beta, positives / n, 1.0 if positives else None)
    for name, reference in expected.items():
        assert_same(section[name]["value"], reference)


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0])),
        min_size=2,
        max_size=40,
    ).filter(lambda rows: 0 < sum(y for y, _ in rows) < len(rows))
)
def test_auc_counts_concordant_pairs_and_au_prc_is_the_average_precision(rows):
    labels = [int(y) for y, _ in rows]
    scores = [s for _, s in rows]

    predictions = [int(s >= 0.5) for s in scores]

    section = metrics("BinaryClassification", labels, predictions, scores)[BINARY]

    assert section["auc"]["value"] == pytest.approx(auc_by_pairs(labels, scores), abs=1e-12)
    assert section["au_prc"]["value"] == pytest.approx(average_precision_by_hand(labels, scores), abs=1e-12)


def test_probabilities_are_thresholded_at_the_given_threshold_inclusive():
    labels = [1, 0, 1, 0]
    probabilities = [0.7, 0.7, 0.3, 0.5]

    at_half = metrics("BinaryClassification", labels, probabilities)[BINARY]["confusion_matrix"]
    at_seven = metrics("BinaryClassification", labels, probabilities, probability_threshold=0.7)[BINARY]

    assert at_half == {"0": {"0": 0, "1": 2}, "1": {"0": 1, "1": 1}}  # 0.5 >= 0.5 is positive
    assert at_seven["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}


def test_separate_probabilities_give_the_auc_while_predictions_give_the_counts():
    labels = [0, 0, 1, 1]
    statistics = metrics("BinaryClassification", labels, [1, 1, 0, 0], probabilities=[0.1, 0.2, 0.8, 0.9])

    section = statistics[BINARY]
    assert section["accuracy"]["value"] == 0.0
    assert section["auc"]["value"] == 1.0
    assert section["au_prc"]["value"] == 1.0


@pytest.mark.parametrize(
    ("labels", "predictions"),
    [
        ([True, False, True, False], [True, True, False, False]),
        (["1", "0", "1", "0"], ["1", "1", "0", "0"]),
        (["true", "false", " TRUE ", "False"], ["True", "true", "false", "FALSE"]),
        ([1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]),
        (np.array([1, 0, 1, 0], dtype=object), np.array([True, 1, "0", "false"], dtype=object)),
    ],
)
def test_binary_labels_are_accepted_in_every_documented_spelling(labels, predictions):
    section = metrics("BinaryClassification", labels, predictions)[BINARY]

    assert section["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}


def test_curves_start_at_the_origin_end_at_one_and_stay_bounded():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 5000)
    scores = rng.random(5000)

    section = metrics("BinaryClassification", labels, scores)[BINARY]
    roc = section["receiver_operating_characteristic_curve"]
    pr = section["precision_recall_curve"]

    assert len(roc["false_positive_rates"]) == len(roc["true_positive_rates"]) <= MAX_CURVE_POINTS + 1
    assert (roc["false_positive_rates"][0], roc["true_positive_rates"][0]) == (0.0, 0.0)
    assert (roc["false_positive_rates"][-1], roc["true_positive_rates"][-1]) == (1.0, 1.0)
    assert np.all(np.diff(roc["false_positive_rates"]) >= 0)
    assert len(pr["precisions"]) == len(pr["recalls"]) <= MAX_CURVE_POINTS
    assert pr["recalls"][-1] == 1.0
    assert pr["precisions"][-1] == pytest.approx(labels.mean())


def test_small_curves_list_every_threshold():
    section = metrics("BinaryClassification", [1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1])[BINARY]

    assert section["receiver_operating_characteristic_curve"] == {
        "false_positive_rates": [0.0, 0.0, 0.5, 0.5, 1.0],
        "true_positive_rates": [0.0, 0.5, 0.5, 1.0, 1.0],
    }
    assert section["precision_recall_curve"] == {
        "precisions": [1.0, 0.5, pytest.approx(2 / 3), 0.5],
        "recalls": [0.5, 0.5, 1.0, 1.0],
    }


def test_without_probabilities_the_ranking_metrics_are_omitted_with_the_reason():
    statistics = metrics("BinaryClassification", [0, 1, 1], [0, 1, 0])

    for name in ("auc", "au_prc", "receiver_operating_characteristic_curve", "precision_recall_curve"):
        assert name not in statistics[BINARY]
        assert "no probabilities" in statistics["rollouts_monitor"]["omitted"][name]


# -- the standard deviation -------------------------------------------------------------------------------------------


def test_the_standard_deviation_is_nan_below_200_rows_and_a_number_from_200():
    rng = np.random.default_rng(8)
    labels, scores = rng.integers(0, 2, 200), rng.random(200)

    small = metrics("BinaryClassification", labels[:199], scores[:199])[BINARY]
    large = metrics("BinaryClassification", labels, scores)[BINARY]

    assert small["auc"]["standard_deviation"] == "NaN"
    assert isinstance(large["auc"]["standard_deviation"], float)
    assert large["auc"]["standard_deviation"] > 0


def test_the_standard_deviation_is_that_of_five_seeded_80_percent_subsamples():
    rng = np.random.default_rng(11)
    labels, predictions = rng.integers(0, 2, 250), rng.integers(0, 2, 250)

    statistics = metrics("BinaryClassification", labels, predictions, seed=42)

    draws = np.random.default_rng(42)
    accuracies = []
    for _ in range(5):
        chosen = draws.choice(250, size=200, replace=False)
        accuracies.append(sum(int(labels[i] == predictions[i]) for i in chosen) / 200)
    mean = sum(accuracies) / 5
    expected = math.sqrt(sum((a - mean) ** 2 for a in accuracies) / 5)
    assert statistics[BINARY]["accuracy"]["standard_deviation"] == pytest.approx(expected, rel=1e-12)


def test_the_standard_deviation_is_reproducible_for_a_seed():
    rng = np.random.default_rng(1)
    labels, scores = rng.integers(0, 2, 400), rng.random(400)

    first = metrics("BinaryClassification", labels, scores, seed=7)
    again = metrics("BinaryClassification", labels, scores, seed=7)
    other = metrics("BinaryClassification", labels, scores, seed=8)

    assert first == again
    assert first[BINARY]["auc"]["standard_deviation"] != other[BINARY]["auc"]["standard_deviation"]
    assert first[BINARY]["auc"]["value"] == other[BINARY]["auc"]["value"]


# -- regression and multiclass ----------------------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=1,
        max_size=50,
    )
)
def test_regression_metrics_follow_their_formulas(pairs):
    labels = [y for y, _ in pairs]
    predictions = [p for _, p in pairs]
    n = len(pairs)
    mae = sum(abs(y - p) for y, p in pairs) / n
    mse = sum((y - p) ** 2 for y, p in pairs) / n
    mean = sum(labels) / n
    total = sum((y - mean) ** 2 for y in labels)

    section = metrics("Regression", labels, predictions)[REGRESSION]

    assert section["mae"]["value"] == pytest.approx(mae, rel=1e-9, abs=1e-9)
    assert section["mse"]["value"] == pytest.approx(mse, rel=1e-9, abs=1e-9)
    assert section["rmse"]["value"] == pytest.approx(math.sqrt(mse), rel=1e-9, abs=1e-9)
    if total > 1e-6:
        r2 = 1 - sum((y - p) ** 2 for y, p in pairs) / total
        assert section["r2"]["value"] == pytest.approx(r2, rel=1e-6, abs=1e-6)


def test_r2_of_constant_labels_is_undefined_and_says_why():
    statistics = metrics("Regression", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0])

    assert statistics[REGRESSION]["r2"]["value"] == "NaN"
    assert "same value" in statistics["rollouts_monitor"]["undefined"]["r2"]


def multiclass_by_hand(labels: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    classes = sorted({str(c) for c in labels} | {str(c) for c in predictions})
    n = len(labels)
    per_class = {}
    for c in classes:
        tp = sum(1 for y, p in zip(labels, predictions, strict=True) if y == c and p == c)
        fp = sum(1 for y, p in zip(labels, predictions, strict=True) if y != c and p == c)
        fn = sum(1 for y, p in zip(labels, predictions, strict=True) if y == c and p != c)
        per_class[c] = (tp, fp, fn, sum(1 for y in labels if y == c))

    def weighted(score: Callable[[int, int, int], float]) -> float:
        return sum(support / n * score(tp, fp, fn) for tp, fp, fn, support in per_class.values())

    def f(beta: float) -> Callable[[int, int, int], float]:
        def score(tp: int, fp: int, fn: int) -> float:
            denominator = (1 + beta**2) * tp + beta**2 * fn + fp
            return (1 + beta**2) * tp / denominator if denominator else 0.0

        return score

    return {
        "accuracy": sum(1 for y, p in zip(labels, predictions, strict=True) if y == p) / n,
        "weighted_recall": weighted(lambda tp, fp, fn: tp / (tp + fn) if tp + fn else 0.0),
        "weighted_precision": weighted(lambda tp, fp, fn: tp / (tp + fp) if tp + fp else 0.0),
        "weighted_f0_5": weighted(f(0.5)),
        "weighted_f1": weighted(f(1.0)),
        "weighted_f2": weighted(f(2.0)),
    }


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abcd")), min_size=1, max_size=40))
def test_multiclass_weighted_metrics_match_per_class_counts_by_hand(pairs):
    labels = [y for y, _ in pairs]
    predictions = [p for _, p in pairs]

    section = metrics("MulticlassClassification", labels, predictions)[MULTI]

    for name, reference in multiclass_by_hand(labels, predictions).items():
        assert section[name]["value"] == pytest.approx(reference, abs=1e-12)
    for y in set(labels):
        for p in set(predictions):
            expected = sum(1 for a, b in pairs if a == y and b == p)
            assert section["confusion_matrix"][y][p] == expected


def test_the_multiclass_best_constant_classifier_predicts_the_most_frequent_class():
    labels = ["a", "b", "b", "c", "b", "a"]
    section = metrics("MulticlassClassification", labels, ["a"] * 6)[MULTI]

    constant = multiclass_by_hand(labels, ["b"] * 6)
    for name, reference in constant.items():
        assert section[f"{name}_best_constant_classifier"]["value"] == pytest.approx(reference)


def test_multiclass_labels_compare_as_text():
    section = metrics("MulticlassClassification", [1, 2, 3], [1.0, "2", 3])[MULTI]

    assert section["accuracy"]["value"] == 1.0
    assert set(section["confusion_matrix"]) == {"1", "2", "3"}


# -- constraints and the check ----------------------------------------------------------------------------------------


def test_suggested_constraints_use_the_baseline_values_and_the_right_operators():
    statistics = metrics("Regression", [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.5, 4.5])

    constraints = suggest_constraints(statistics, "Regression")

    assert constraints["version"] == 0.0
    rules = constraints["regression_constraints"]
    for name in ("mae", "mse", "rmse"):
        assert rules[name] == {
            "threshold": value(statistics, REGRESSION, name),
            "comparison_operator": "GreaterThanThreshold",
        }
    assert rules["r2"] == {"threshold": value(statistics, REGRESSION, "r2"), "comparison_operator": "LessThanThreshold"}


def test_binary_suggestion_skips_best_constant_values_and_constrains_error_rates_from_above():
    statistics = metrics("BinaryClassification", [0, 1, 1, 0, 1], [0.2, 0.9, 0.4, 0.6, 0.8])

    rules = suggest_constraints(statistics, "BinaryClassification")["binary_classification_constraints"]

    assert not any(name.endswith("_best_constant_classifier") for name in rules)
    assert rules["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert rules["false_negative_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert rules["auc"]["comparison_operator"] == "LessThanThreshold"
    assert "confusion_matrix" not in rules


@pytest.mark.parametrize("problem", PROBLEM_TYPES)
def test_a_baseline_meets_its_own_suggested_constraints(problem):
    rng = np.random.default_rng(2)
    labels: np.ndarray
    predictions: np.ndarray
    if problem == "Regression":
        labels, predictions = rng.normal(size=300), rng.normal(size=300)
    elif problem == "BinaryClassification":
        labels, predictions = rng.integers(0, 2, 300), rng.random(300)
    else:
        labels, predictions = rng.choice(["x", "y", "z"], 300), rng.choice(["x", "y", "z"], 300)
    statistics = metrics(problem, labels, predictions)

    assert check(statistics, suggest_constraints(statistics, problem)) == []


def test_a_degraded_window_violates_and_the_violations_parse_as_model_quality():
    baseline = metrics("BinaryClassification", [0, 0, 1, 1, 1, 0], [0.1, 0.2, 0.9, 0.8, 0.7, 0.3])
    worse = metrics("BinaryClassification", [0, 0, 1, 1, 1, 0], [0.9, 0.2, 0.1, 0.8, 0.7, 0.3])

    violations = check(worse, suggest_constraints(baseline, "BinaryClassification"))

    by_metric = {v["metric_name"]: v for v in violations}
    assert by_metric["auc"]["constraint_check_type"] == "LessThanThreshold"
    assert by_metric["auc"]["description"] == (
        f"Metric auc with {value(worse, BINARY, 'auc'):.4g} was LessThanThreshold 1"
    )
    assert by_metric["false_positive_rate"]["constraint_check_type"] == "GreaterThanThreshold"
    parsed = parse_violations({"violations": violations}, MonitoringType.MODEL_QUALITY)
    assert {p.subject for p in parsed} == set(by_metric)
    assert all(p.monitoring_type == MonitoringType.MODEL_QUALITY and p.metric == p.subject for p in parsed)
    assert parse_violations({"violations": violations}) == parsed  # inferred from the operator and metric_name


@pytest.mark.parametrize(
    ("operator", "threshold", "violated"),
    [
        ("LessThanThreshold", 0.5, False),
        ("LessThanThreshold", 0.6, True),
        ("LessThanOrEqualToThreshold", 0.5, True),
        ("LessThanOrEqualToThreshold", 0.4, False),
        ("GreaterThanThreshold", 0.5, False),
        ("GreaterThanThreshold", 0.4, True),
        ("GreaterThanOrEqualToThreshold", 0.5, True),
        ("GreaterThanOrEqualToThreshold", 0.6, False),
    ],
)
def test_each_operator_names_the_violating_side_of_its_threshold(operator, threshold, violated):
    statistics = metrics("BinaryClassification", [1, 0, 1, 0], [1, 1, 0, 0])  # accuracy 0.5
    constraints = {
        "binary_classification_constraints": {"accuracy": {"threshold": threshold, "comparison_operator": operator}}
    }

    violations = check(statistics, constraints)

    assert bool(violations) is violated
    if violated:
        assert violations[0]["constraint_check_type"] == operator
        assert parse_violations({"violations": violations}, MonitoringType.MODEL_QUALITY)[0].check_type == operator


def test_an_undefined_metric_violates_any_constraint_on_it():
    statistics = metrics("BinaryClassification", [1, 0, 1], [0, 0, 0])  # nothing predicted positive
    for operator in ("LessThanThreshold", "GreaterThanThreshold"):
        constraints = {
            "binary_classification_constraints": {"precision": {"threshold": 0.5, "comparison_operator": operator}}
        }

        [violation] = check(statistics, constraints)

        assert violation["metric_name"] == "precision"
        assert "undefined" in violation["description"]


def test_a_constrained_metric_missing_from_the_statistics_is_an_error_with_the_reason():
    statistics = metrics("BinaryClassification", [0, 1, 1], [0, 1, 0])
    constraints = {
        "binary_classification_constraints": {"auc": {"threshold": 0.8, "comparison_operator": "LessThanThreshold"}}
    }

    with pytest.raises(ConstraintsError, match=r"'auc'.*no probabilities"):
        check(statistics, constraints)


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ({"version": 0.0}, "nothing to check"),
        (
            {"regression_constraints": {"mae": {"threshold": 1, "comparison_operator": "GreaterThanThreshold"}}},
            "regression_metrics",
        ),
        (
            {"binary_classification_constraints": {"f1": {"threshold": 0.5, "comparison_operator": "Below"}}},
            "comparison_operator",
        ),
        (
            {
                "binary_classification_constraints": {
                    "f1": {"threshold": "high", "comparison_operator": "LessThanThreshold"}
                }
            },
            "threshold",
        ),
        (
            {
                "binary_classification_constraints": {
                    "nope": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"}
                }
            },
            "'nope'",
        ),
        ({"binary_classification_constraints": ["f1"]}, "binary_classification_constraints"),
    ],
)
def test_malformed_constraints_are_errors_naming_the_problem(constraints, message):
    statistics = metrics("BinaryClassification", [0, 1], [0, 1])

    with pytest.raises(ConstraintsError, match=message):
        check(statistics, constraints)


# -- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", PROBLEM_TYPES)
def test_no_rows_is_an_empty_window_error(problem):
    with pytest.raises(EmptyWindowError, match="no rows"):
        metrics(problem, [], [])


@pytest.mark.parametrize(
    ("problem", "labels", "predictions", "probabilities", "error", "message"),
    [
        ("BinaryClassification", [0, 1, 1], [0, 1], None, InputError, "differ in length"),
        ("BinaryClassification", [0, 1], [0, 1], [0.5], InputError, "differ in length"),
        ("BinaryClassification", [0, 1, 2], [0, 1, 1], None, LabelError, r"not binary.*'2'"),
        ("BinaryClassification", ["yes", "no"], [0, 1], None, LabelError, r"labels are not binary.*'no', 'yes'"),
        ("BinaryClassification", [0, 1], [0, 1.5], None, LabelError, "probabilities in"),
        ("BinaryClassification", [0, None], [0, 1], None, LabelError, "not binary"),
        ("BinaryClassification", [0, 1], [0.2, float("nan")], None, InputError, "missing"),
        ("BinaryClassification", [0, 1], [0, 1], [0.2, float("nan")], InputError, "probabilities"),
        ("Regression", [1.0, float("nan")], [1.0, 2.0], None, InputError, r"labels has 1 missing"),
        ("Regression", ["a", "b"], [1.0, 2.0], None, InputError, "must be numbers"),
        ("Regression", [1.0, 2.0], [1.0, 2.0], [0.1, 0.2], InputError, "only used for BinaryClassification"),
        ("MulticlassClassification", ["a", None], ["a", "b"], None, LabelError, "missing"),
        ("Ranking", [1], [1], None, InputError, "unknown problem type"),
        ("BinaryClassification", [[0, 1], [1, 0]], [[0, 1], [1, 0]], None, InputError, "one-dimensional"),
    ],
)
def test_bad_input_is_a_value_error_that_says_what_is_wrong(
    problem, labels, predictions, probabilities, error, message
):
    with pytest.raises(error, match=message) as raised:
        metrics(problem, labels, predictions, probabilities)

    assert isinstance(raised.value, ValueError)


def test_a_probability_threshold_outside_zero_to_one_is_refused():
    with pytest.raises(InputError, match="probability_threshold"):
        metrics("BinaryClassification", [0, 1], [0.2, 0.7], probability_threshold=1.5)


@settings(max_examples=30)
@given(st.integers(min_value=200, max_value=2000), st.integers(min_value=0, max_value=2**32 - 1))
def test_large_windows_give_finite_numbers_and_strict_json(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    labels[0], labels[1] = 0, 1
    scores = rng.random(n)

    statistics = metrics("BinaryClassification", labels, scores, seed=seed)

    json.dumps(statistics, allow_nan=False)
    for name, entry in statistics[BINARY].items():
        if "value" in entry:
            assert math.isfinite(entry["value"]), name
            assert 0.0 <= entry["value"] <= 1.0, name


@pytest.mark.parametrize("threshold", ["0.5", None, float("nan"), True])
def test_a_probability_threshold_that_is_not_a_number_is_refused(threshold):
    with pytest.raises(InputError, match="probability_threshold"):
        metrics("BinaryClassification", [0, 1], [0.2, 0.7], probability_threshold=threshold)


def test_ragged_labels_are_an_input_error():
    with pytest.raises(InputError, match="flat list"):
        metrics("Regression", [[1.0, 2.0], [3.0]], [1.0, 2.0])
