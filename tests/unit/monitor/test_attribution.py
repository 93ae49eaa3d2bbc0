"""Kernel SHAP, global attributions within a call budget, NDCG and the feature attribution drift check."""

from __future__ import annotations

import itertools
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
from rollouts_monitor.attribution import (
    AnalysisError,
    BaselineError,
    EmptyWindowError,
    InputError,
    ModelOutputError,
    check,
    explain,
    global_attributions,
    kernel_shap,
    ndcg,
)


class Model:
    """A model that records each call's batch."""

    def __init__(self, function: Callable[[np.ndarray], np.ndarray]) -> None:
        self.function = function
        self.batches: list[np.ndarray] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.batches.append(np.array(batch))
        return self.function(batch)


def linear(weights: Sequence[float] | np.ndarray, intercept: float = 0.0) -> Model:
    return Model(lambda batch: batch @ np.asarray(weights) + intercept)


def exact_shapley(function: Callable[[np.ndarray], np.ndarray], x: np.ndarray, background: np.ndarray) -> list[float]:
    """Shapley values of v(S) = mean over background rows of f(x on S, background elsewhere), by the subset formula."""
    features = len(x)

    def value(members: set[int]) -> float:
        rows = [[x[j] if j in members else b[j] for j in range(features)] for b in background]
        return float(sum(function(np.asarray([row]))[0] for row in rows)) / len(rows)

    phi = []
    for j in range(features):
        others = [k for k in range(features) if k != j]
        total = 0.0
        for size in range(features):
            for subset in itertools.combinations(others, size):
                weight = math.factorial(size) * math.factorial(features - size - 1) / math.factorial(features)
                total += weight * (value(set(subset) | {j}) - value(set(subset)))
        phi.append(total)
    return phi


# -- Kernel SHAP ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("features", "num_samples"), [(1, 1), (2, 5), (4, 100), (8, 60), (12, 40)])
def test_a_linear_model_gets_its_closed_form_attributions(features, num_samples):
    rng = np.random.default_rng(features)
    weights = rng.normal(size=features)
    rows, background = rng.normal(size=(6, features)), rng.normal(size=(9, features))

    phi = kernel_shap(linear(weights, 3.0), rows, background, num_samples=num_samples, seed=1)

    assert phi.shape == (6, features)
    np.testing.assert_allclose(phi, weights * (rows - background.mean(axis=0)), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=2, max_value=9),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=8, max_value=80),
)
def test_linear_attributions_are_exact_for_any_weights_and_sample_count(features, seed, num_samples):
    rng = np.random.default_rng(seed)
    weights = rng.normal(scale=3.0, size=features)
    rows, background = rng.normal(size=(2, features)), rng.normal(size=(4, features))

    phi = kernel_shap(linear(weights), rows, background, num_samples=max(num_samples, 2 * features), seed=seed)

    np.testing.assert_allclose(phi, weights * (rows - background.mean(axis=0)), atol=1e-8)


def test_enumerating_every_coalition_gives_the_exact_shapley_values_of_a_nonlinear_model():
    def function(batch: np.ndarray) -> Any:
        return batch[:, 0] * batch[:, 1] + np.sin(batch[:, 2]) + batch[:, 3] ** 2 * batch[:, 0]

    rng = np.random.default_rng(4)
    rows, background = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))

    phi = kernel_shap(function, rows, background, num_samples=14)  # 2^4 - 2 coalitions: all of them

    for x, attribution in zip(rows, phi, strict=True):
        assert attribution == pytest.approx(exact_shapley(function, x, background), abs=1e-10)


def test_sampled_coalitions_approach_the_exact_shapley_values_of_a_nonlinear_model():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(6, 6))

    def function(batch: np.ndarray) -> Any:
        return np.tanh(batch @ weights).sum(axis=1)

    rows, background = rng.normal(size=(3, 6)), rng.normal(size=(5, 6))
    exact = np.asarray([exact_shapley(function, x, background) for x in rows])

    errors = [np.abs(kernel_shap(function, rows, background, num_samples=n, seed=1) - exact).max() for n in (20, 61)]

    assert errors[1] < errors[0] < 0.1 * np.abs(exact).max()
    np.testing.assert_allclose(kernel_shap(function, rows, background, num_samples=62), exact, atol=1e-10)


@pytest.mark.parametrize(("num_samples", "determined"), [(3, False), (12, True), (40, True)])
def test_explain_says_whether_the_coalitions_determine_the_fit(num_samples, determined):
    rng = np.random.default_rng(1)
    rows, background = rng.normal(size=(2, 6)), rng.normal(size=(3, 6))

    analysis = explain(linear(np.ones(6)), rows, background, list("abcdef"), num_samples=num_samples, max_model_calls=2)

    assert analysis["rollouts_monitor"]["fit_determined"] is determined
    assert analysis["rollouts_monitor"]["coalitions"] == num_samples


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=2, max_value=10), st.integers(min_value=0, max_value=2**32 - 1))
def test_attributions_add_up_to_the_prediction_minus_the_expected_value(features, seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(features, features))

    def function(batch: np.ndarray) -> Any:
        return np.tanh(batch @ weights).sum(axis=1)

    rows, background = rng.normal(size=(3, features)), rng.normal(size=(5, features))

    phi = kernel_shap(function, rows, background, num_samples=30, seed=seed)

    np.testing.assert_allclose(phi.sum(axis=1), function(rows) - function(background).mean(), atol=1e-9)


def test_one_model_call_per_row_carrying_the_coalitions_times_the_background():
    model = linear([1.0, 2.0, 3.0, 4.0, 5.0])
    rows, background = np.ones((4, 5)), np.zeros((7, 5))

    kernel_shap(model, rows, background, num_samples=10, seed=0)

    assert len(model.batches) == 4
    assert [len(batch) for batch in model.batches] == [(10 + 1) * 7 + 1] * 4
    np.testing.assert_array_equal(model.batches[0][-1], rows[0])  # the row itself, last
    np.testing.assert_array_equal(model.batches[0][-8:-1], background)  # the background before it


def test_the_same_seed_gives_the_same_attributions():
    def function(batch: np.ndarray) -> Any:
        return np.exp(batch[:, 0]) * batch[:, 1:].sum(axis=1)

    rng = np.random.default_rng(0)
    rows, background = rng.normal(size=(3, 8)), rng.normal(size=(4, 8))

    first = kernel_shap(function, rows, background, num_samples=20, seed=5)

    np.testing.assert_array_equal(first, kernel_shap(function, rows, background, num_samples=20, seed=5))
    assert not np.array_equal(first, kernel_shap(function, rows, background, num_samples=20, seed=6))


# -- aggregation and explain ------------------------------------------------------------------------------------------


def test_global_attributions_aggregate_as_clarifys_agg_methods():
    local = np.array([[1.0, -2.0], [-3.0, 4.0], [2.0, 0.0]])

    assert global_attributions(local, "mean_abs", ["a", "b"]) == pytest.approx({"a": 2.0, "b": 2.0})
    assert global_attributions(local, "median", ["a", "b"]) == pytest.approx({"a": 1.0, "b": 0.0})
    assert global_attributions(local, "mean_sq", ["a", "b"]) == pytest.approx({"a": 14 / 3, "b": 20 / 3})


def test_explain_writes_clarifys_analysis_with_the_linear_closed_form():
    weights = np.array([0.5, -1.0, 2.0])
    rng = np.random.default_rng(9)
    rows, background = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    model = linear(weights, 0.25)

    analysis = explain(model, rows, background, ["f0", "f1", "f2"], num_samples=6, max_model_calls=10)

    assert analysis["version"] == "1.0"
    assert set(analysis["explanations"]) == {"kernel_shap"}
    entry = analysis["explanations"]["kernel_shap"]["label0"]
    assert set(entry) == {"global_shap_values", "expected_value"}
    local = weights * (rows - background.mean(axis=0))
    for j, name in enumerate(["f0", "f1", "f2"]):
        assert entry["global_shap_values"][name] == pytest.approx(np.mean(np.abs(local[:, j])), abs=1e-12)
    assert entry["expected_value"] == pytest.approx(float(np.mean(background @ weights) + 0.25))
    assert analysis["rollouts_monitor"]["rows_explained"] == 5
    assert analysis["rollouts_monitor"]["model_calls"] == len(model.batches) == 5
    json.dumps(analysis, allow_nan=False)


@pytest.mark.parametrize(("rows", "budget", "explained"), [(10, 3, 3), (10, 10, 10), (4, 50, 4), (1, 1, 1)])
def test_explain_never_exceeds_its_call_budget_and_says_how_many_rows_it_explained(rows, budget, explained):
    rng = np.random.default_rng(rows)
    model = linear([1.0, 1.0, 1.0, 1.0])

    analysis = explain(
        model,
        rng.normal(size=(rows, 4)),
        rng.normal(size=(3, 4)),
        ["a", "b", "c", "d"],
        num_samples=8,
        max_model_calls=budget,
        label="score",
    )

    assert len(model.batches) == explained <= budget
    own = analysis["rollouts_monitor"]
    assert (own["rows_given"], own["rows_explained"], own["model_calls"]) == (rows, explained, explained)
    assert all(len(batch) == own["rows_per_call"] for batch in model.batches)
    assert own["rows_per_call"] == (own["coalitions"] + 1) * 3 + 1
    assert set(analysis["explanations"]["kernel_shap"]) == {"score"}


def test_explain_passes_the_agg_method_through():
    rng = np.random.default_rng(2)
    rows, background = rng.normal(size=(6, 2)), rng.normal(size=(3, 2))
    local = np.array([1.0, -3.0]) * (rows - background.mean(axis=0))

    analysis = explain(
        linear([1.0, -3.0]), rows, background, ["a", "b"], num_samples=2, max_model_calls=6, agg_method="median"
    )

    values = analysis["explanations"]["kernel_shap"]["label0"]["global_shap_values"]
    assert values == pytest.approx({"a": float(np.median(local[:, 0])), "b": float(np.median(local[:, 1]))})


# -- NDCG and the check -----------------------------------------------------------------------------------------------

# AWS's college admissions example (clarify-model-monitor-feature-attribution-drift).
TRAINING = {"SAT score": 0.70, "GPA": 0.50, "Class rank": 0.05}
LIVE = {"SAT score": 0.10, "GPA": 0.20, "Class rank": 0.70}


def test_ndcg_of_the_documented_example_by_hand():
    # Live ranking: Class rank, GPA, SAT score; baseline ranking: SAT score, GPA, Class rank.
    dcg = 0.05 / math.log2(2) + 0.50 / math.log2(3) + 0.70 / math.log2(4)
    ideal = 0.70 / math.log2(2) + 0.50 / math.log2(3) + 0.05 / math.log2(4)

    assert ndcg(TRAINING, LIVE) == pytest.approx(dcg / ideal)
    assert ndcg(TRAINING, LIVE) == pytest.approx(0.6876, abs=1e-4)


def test_ndcg_is_one_for_the_same_ranking_whatever_the_values():
    assert ndcg(TRAINING, {"SAT score": 9.0, "GPA": 0.3, "Class rank": 0.0}) == pytest.approx(1.0)


def test_ndcg_counts_missing_features_as_nothing_and_unknown_ones_as_zero():
    only_two = {"GPA": 0.5, "SAT score": 0.1}  # Class rank missing
    dcg = 0.50 / math.log2(2) + 0.70 / math.log2(3)
    ideal = 0.70 / math.log2(2) + 0.50 / math.log2(3) + 0.05 / math.log2(4)
    assert ndcg(TRAINING, only_two) == pytest.approx(dcg / ideal)

    with_new = {"new": 1.0, **TRAINING}
    dcg = 0.0 / math.log2(2) + 0.70 / math.log2(3) + 0.50 / math.log2(4) + 0.05 / math.log2(5)
    assert ndcg(TRAINING, with_new) == pytest.approx(dcg / ideal)


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.floats(0.001, 10.0), min_size=1))
def test_ndcg_of_nonnegative_attributions_lies_between_zero_and_one(values):
    shuffled = dict(zip(values, reversed(list(values.values())), strict=True))

    assert 0.0 <= ndcg(values, shuffled) <= 1.0 + 1e-12
    assert ndcg(values, values) == pytest.approx(1.0)


def analysis_with(values: dict[str, Any], label: str = "label0") -> dict[str, Any]:
    return {
        "version": "1.0",
        "explanations": {"kernel_shap": {label: {"global_shap_values": values, "expected_value": 0.5}}},
    }


def test_a_drifted_ranking_is_a_violation_that_parses_as_explainability():
    violations = check(analysis_with(LIVE), analysis_with(TRAINING))

    assert violations == [
        {
            "label": "label0",
            "metric_name": "shap",
            "constraint_check_type": "feature_attribution_drift_check",
            "description": f"Feature attribution drift {ndcg(TRAINING, LIVE):.4f} exceeds threshold 0.9",
        }
    ]
    [parsed] = parse_violations({"version": "1.0", "violations": violations}, MonitoringType.MODEL_EXPLAINABILITY)
    assert parsed.label == "label0"
    assert parsed.subject == "shap attribution for label label0"
    assert parse_violations({"violations": violations}) == [parsed]


def test_the_threshold_decides():
    score = ndcg(TRAINING, LIVE)

    assert check(analysis_with(LIVE), analysis_with(TRAINING), threshold=score) == []
    assert len(check(analysis_with(LIVE), analysis_with(TRAINING), threshold=min(1.0, score + 1e-6))) == 1
    assert check(analysis_with(TRAINING), analysis_with(TRAINING)) == []


def test_a_computed_analysis_meets_its_own_baseline():
    rng = np.random.default_rng(3)
    rows, background = rng.normal(size=(8, 3)), rng.normal(size=(4, 3))
    analysis = explain(linear([3.0, -1.0, 0.2]), rows, background, ["a", "b", "c"], num_samples=6, max_model_calls=8)

    assert check(analysis, json.loads(json.dumps(analysis))) == []


@pytest.mark.parametrize(
    ("baseline", "path"),
    [
        (analysis_with(TRAINING, label="label1"), "explanations.kernel_shap.label0"),
        ({"explanations": {"kernel_shap": {"label0": {"expected_value": 0.5}}}}, "label0.global_shap_values"),
        ({"explanations": {"kernel_shap": {"label0": {"global_shap_values": {}}}}}, "label0.global_shap_values"),
        (analysis_with({"GPA": "high"}), r"label0.global_shap_values.GPA"),
        ({"version": "1.0"}, "explanations"),
        ({"explanations": {}}, "explanations.kernel_shap"),
        (analysis_with({"GPA": 0.0, "SAT score": 0.0}), "ideal DCG of 0"),
    ],
)
def test_a_baseline_missing_the_label_or_its_values_is_an_error_naming_the_path(baseline, path):
    with pytest.raises(BaselineError, match=path):
        check(analysis_with(LIVE), baseline)


def test_a_current_analysis_missing_a_baseline_label_is_an_analysis_error():
    baseline = {
        "explanations": {
            "kernel_shap": {
                "label0": {"global_shap_values": TRAINING},
                "label1": {"global_shap_values": TRAINING},
            }
        }
    }

    with pytest.raises(AnalysisError, match=r"explanations\.kernel_shap\.label1"):
        check(analysis_with(TRAINING), baseline)


# -- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "background", "kwargs", "error", "message"),
    [
        (np.zeros((0, 3)), np.zeros((2, 3)), {}, EmptyWindowError, "no rows"),
        (np.zeros((2, 3)), np.zeros((2, 4)), {}, InputError, "3 features but the background has 4"),
        (np.zeros((2, 3)), np.zeros((0, 3)), {}, InputError, "background"),
        (np.full((2, 3), np.nan), np.zeros((2, 3)), {}, InputError, "missing"),
        ([["a", "b"]], np.zeros((2, 2)), {}, InputError, "numbers"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"num_samples": 0}, InputError, "num_samples"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"max_model_calls": 0}, InputError, "max_model_calls"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"agg_method": "max"}, InputError, "agg_method"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"headers": ["a", "b"]}, InputError, "headers"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {"headers": ["a", "a", "b"]}, InputError, "headers"),
    ],
)
def test_bad_input_is_a_value_error_that_says_what_is_wrong(rows, background, kwargs, error, message):
    call = {"headers": ["a", "b", "c"], "num_samples": 4, "max_model_calls": 5, **kwargs}
    model = linear([1.0, 1.0, 1.0])

    with pytest.raises(error, match=message) as raised:
        explain(model, rows, background, call.pop("headers"), **call)

    assert isinstance(raised.value, ValueError)
    assert model.batches == []


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda batch: np.zeros(len(batch) - 1), "one score per row"),
        (lambda batch: np.zeros((len(batch), 2)), "one score per row"),
        (lambda batch: np.full(len(batch), np.nan), "non-finite"),
        (lambda batch: ["x"] * len(batch), "not numbers"),
    ],
)
def test_a_model_returning_the_wrong_shape_is_a_model_output_error(function, message):
    with pytest.raises(ModelOutputError, match=message):
        kernel_shap(function, np.zeros((1, 3)), np.zeros((2, 3)), num_samples=4)


def test_a_column_of_scores_is_accepted():
    phi = kernel_shap(
        lambda batch: (batch @ np.array([2.0, 1.0]))[:, None], np.ones((1, 2)), np.zeros((3, 2)), num_samples=2
    )

    np.testing.assert_allclose(phi, [[2.0, 1.0]])


def test_ndcg_and_check_refuse_bad_values():
    with pytest.raises(InputError, match="no feature attributions"):
        ndcg({}, LIVE)
    with pytest.raises(InputError, match="finite"):
        ndcg(TRAINING, {"GPA": math.nan})
    with pytest.raises(InputError, match="threshold"):
        check(analysis_with(LIVE), analysis_with(TRAINING), threshold=1.5)
