"""Clarify post-training bias: each metric from counts done by hand, facet selection, the drift check, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollouts.monitoring.kinds import MonitoringType
from rollouts.monitoring.violations import parse_violations
from rollouts_monitor.bias import (
    METHODS,
    AnalysisError,
    BaselineError,
    EmptyWindowError,
    InputError,
    check,
    post_training_bias,
)

Cells = dict[tuple[int, int], int]


def table(cells_a: Cells, cells_d: Cells) -> tuple[list[int], list[int], list[str]]:
    """Rows (label, predicted, facet) from confusion counts {(label, predicted): count} of facets a ("a") and d."""
    rows: list[tuple[int, int, str]] = []
    for facet, cells in (("a", cells_a), ("d", cells_d)):
        for (label, predicted), count in cells.items():
            rows += [(label, predicted, facet)] * count
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def metrics_of(analysis: dict[str, Any], facet: str = "sex", index: int = 0) -> dict[str, Any]:
    entry = analysis["post_training_bias_metrics"]["facets"][facet][index]
    return {m["name"]: m["value"] for m in entry["metrics"]}


# The confusion matrices of AWS's specificity-difference page (clarify-post-training-bias-metric-sd):
# facet a: TN 20, FN 5, FP 10, TP 65; facet d: TN 18, FN 7, FP 5, TP 20. (label, predicted) -> count.
DOC_A = {(0, 0): 20, (1, 0): 5, (0, 1): 10, (1, 1): 65}
DOC_D = {(0, 0): 18, (1, 0): 7, (0, 1): 5, (1, 1): 20}


def analysis_of(cells_a: Cells, cells_d: Cells, methods: tuple[str, ...] | None = None) -> dict[str, Any]:
    labels, predicted, facets = table(cells_a, cells_d)
    return post_training_bias(
        labels,
        predicted,
        facets,
        label_values_or_threshold=[1],
        facet_values_or_threshold=["d"],
        facet_name="sex",
        label_name="target",
        methods=methods or METHODS,
    )


def test_every_metric_matches_its_definition_on_the_documented_confusion_matrices():
    tn_a, fn_a, fp_a, tp_a = 20, 5, 10, 65
    tn_d, fn_d, fp_d, tp_d = 18, 7, 5, 20
    n_a, n_d = 100, 50
    expected = {
        "DPPL": (tp_a + fp_a) / n_a - (tp_d + fp_d) / n_d,
        "DI": ((tp_d + fp_d) / n_d) / ((tp_a + fp_a) / n_a),
        "DCA": (tp_a + fn_a) / (tp_a + fp_a) - (tp_d + fn_d) / (tp_d + fp_d),
        "DCR": (tn_d + fp_d) / (tn_d + fn_d) - (tn_a + fp_a) / (tn_a + fn_a),
        "RD": tp_a / (tp_a + fn_a) - tp_d / (tp_d + fn_d),
        "SD": tn_d / (tn_d + fp_d) - tn_a / (tn_a + fp_a),
        "DAR": tp_a / (tp_a + fp_a) - tp_d / (tp_d + fp_d),
        "DRR": tn_d / (tn_d + fn_d) - tn_a / (tn_a + fn_a),
        "AD": (tp_a + tn_a) / n_a - (tp_d + tn_d) / n_d,
        "TE": fn_d / fp_d - fn_a / fp_a,
    }

    values = metrics_of(analysis_of(DOC_A, DOC_D))

    assert values == pytest.approx(expected, abs=1e-12)
    assert values["SD"] == pytest.approx(0.1159, abs=5e-5)  # the page's own result


@given(
    st.lists(st.integers(0, 6), min_size=4, max_size=4),
    st.lists(st.integers(0, 6), min_size=4, max_size=4),
)
def test_metrics_from_any_counts_match_a_hand_computation_or_are_null(counts_a, counts_d):
    cells_a = dict(zip([(0, 0), (1, 0), (0, 1), (1, 1)], counts_a, strict=True))
    cells_d = dict(zip([(0, 0), (1, 0), (0, 1), (1, 1)], counts_d, strict=True))
    if not sum(counts_a) or not sum(counts_d):
        return  # an empty facet has its own test
    tn_a, fn_a, fp_a, tp_a = counts_a
    tn_d, fn_d, fp_d, tp_d = counts_d

    def div(x: float, y: float) -> float | None:
        return None if y == 0 else x / y

    def minus(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else x - y

    n_a, n_d = sum(counts_a), sum(counts_d)
    qa, qd = (tp_a + fp_a) / n_a, (tp_d + fp_d) / n_d
    expected = {
        "DPPL": qa - qd,
        "DI": div(qd, qa),
        "DCA": minus(div(tp_a + fn_a, tp_a + fp_a), div(tp_d + fn_d, tp_d + fp_d)),
        "DCR": minus(div(tn_d + fp_d, tn_d + fn_d), div(tn_a + fp_a, tn_a + fn_a)),
        "RD": minus(div(tp_a, tp_a + fn_a), div(tp_d, tp_d + fn_d)),
        "SD": minus(div(tn_d, tn_d + fp_d), div(tn_a, tn_a + fp_a)),
        "DAR": minus(div(tp_a, tp_a + fp_a), div(tp_d, tp_d + fp_d)),
        "DRR": minus(div(tn_d, tn_d + fn_d), div(tn_a, tn_a + fn_a)),
        "AD": (tp_a + tn_a) / n_a - (tp_d + tn_d) / n_d,
        "TE": minus(div(fn_d, fp_d), div(fn_a, fp_a)),
    }

    analysis = analysis_of(cells_a, cells_d)
    values = metrics_of(analysis)

    for name, reference in expected.items():
        if reference is None:
            assert values[name] is None, name
        else:
            assert values[name] == pytest.approx(reference, abs=1e-12), name
    json.dumps(analysis, allow_nan=False)


def test_the_analysis_has_clarifys_keys_and_shapes():
    analysis = analysis_of(DOC_A, DOC_D)

    assert analysis["version"] == "1.0"
    section = analysis["post_training_bias_metrics"]
    assert section["label"] == "target"
    assert section["label_value_or_threshold"] == "1"
    [entry] = section["facets"]["sex"]
    assert entry["value_or_threshold"] == "d"
    assert [m["name"] for m in entry["metrics"]] == list(METHODS)
    for metric in entry["metrics"]:
        assert set(metric) == {"name", "description", "value"}
        assert metric["description"].endswith(f"({metric['name']})")


def test_methods_select_and_order_the_metrics():
    analysis = analysis_of(DOC_A, DOC_D, methods=("TE", "DI"))

    assert list(metrics_of(analysis)) == ["TE", "DI"]


def test_an_undefined_value_is_null_with_the_reason():
    # Nobody in facet a is predicted positive: DI divides by q'a = 0, DCA and DAR by n'a(1) = 0.
    analysis = analysis_of({(0, 0): 3, (1, 0): 2}, DOC_D)

    entries = {m["name"]: m for m in analysis["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]}
    for name in ("DI", "DCA", "DAR", "TE"):
        assert entries[name]["value"] is None
        assert "facet a" in entries[name]["error"]
    assert entries["DPPL"]["value"] == pytest.approx(0.0 - 25 / 50)
    json.dumps(analysis, allow_nan=False)


def test_an_empty_facet_makes_every_metric_null():
    labels, predicted, facets = table(DOC_A, {})

    analysis = post_training_bias(
        labels,
        predicted,
        facets,
        label_values_or_threshold=[1],
        facet_values_or_threshold=["d"],
        facet_name="sex",
        label_name="target",
    )

    entries = analysis["post_training_bias_metrics"]["facets"]["sex"][0]["metrics"]
    assert all(m["value"] is None and m["error"] == "facet d is empty" for m in entries)


# -- selecting facets and labels --------------------------------------------------------------------------------------


def test_a_numeric_threshold_selects_the_rows_strictly_above_it():
    ages = [20.5, 30.0, 40.0, 40.5, 55.0, 70.0]
    labels = [1, 0, 1, 0, 1, 1]
    predicted = [1, 1, 0, 0, 1, 0]

    analysis = post_training_bias(
        labels,
        predicted,
        ages,
        label_values_or_threshold=[1],
        facet_values_or_threshold=[40],
        facet_name="age",
        label_name="target",
        methods=("DPPL",),
    )

    # d = ages above 40: 40.5, 55, 70 -> predicted 0, 1, 0; a = 20.5, 30, 40 -> predicted 1, 1, 0.
    [entry] = analysis["post_training_bias_metrics"]["facets"]["age"]
    assert entry["value_or_threshold"] == "40"
    assert entry["metrics"][0]["value"] == pytest.approx(2 / 3 - 1 / 3)


def test_a_bare_number_is_a_threshold_and_text_is_a_value_on_a_whole_number_column():
    ages = [40, 41, 39, 40, 60, 40] * 100  # whole numbers, 4 distinct: categorical by Clarify's 5 % rule
    labels = [1, 0, 1, 0, 1, 1] * 100
    predicted = [1, 1, 0, 0, 1, 0] * 100
    common: dict[str, Any] = {
        "label_values_or_threshold": [1],
        "facet_name": "age",
        "label_name": "y",
        "methods": ("DPPL",),
    }

    as_threshold = post_training_bias(labels, predicted, ages, facet_values_or_threshold=40, **common)
    as_list = post_training_bias(labels, predicted, ages, facet_values_or_threshold=[40], **common)
    as_text = post_training_bias(labels, predicted, ages, facet_values_or_threshold=["40"], **common)

    # above 40: 41, 60 -> predicted 1, 1 (q'd = 1); rest -> 1, 0, 0, 0 (q'a = 1/4)
    assert metrics_of(as_threshold, "age")["DPPL"] == pytest.approx(1 / 4 - 1)
    # equal to 40: rows 0, 3, 5 -> predicted 1, 0, 0 (q'd = 1/3); rest -> 1, 0, 1 (q'a = 2/3)
    assert metrics_of(as_list, "age")["DPPL"] == pytest.approx(2 / 3 - 1 / 3)
    assert metrics_of(as_text, "age") == metrics_of(as_list, "age")


def test_several_facet_values_form_one_group():
    analysis = post_training_bias(
        [1, 0, 1, 0],
        [1, 1, 0, 0],
        ["x", "y", "z", "x"],
        label_values_or_threshold=[1],
        facet_values_or_threshold=["y", "z"],
        facet_name="f",
        label_name="t",
        methods=("DPPL",),
    )

    [entry] = analysis["post_training_bias_metrics"]["facets"]["f"]
    assert entry["value_or_threshold"] == "y,z"
    assert entry["metrics"][0]["value"] == pytest.approx(1 / 2 - 1 / 2)


def test_without_facet_values_each_distinct_value_is_judged_against_the_rest():
    analysis = post_training_bias(
        [1, 0, 1, 0, 1],
        [1, 1, 0, 0, 1],
        ["x", "y", "z", "x", "y"],
        label_values_or_threshold=[1],
        facet_name="f",
        label_name="t",
        methods=("DPPL",),
    )

    entries = analysis["post_training_bias_metrics"]["facets"]["f"]
    assert [e["value_or_threshold"] for e in entries] == ["x", "y", "z"]
    # x: rows 0, 3 -> q'd 1/2, rest 1, 0, 1 -> q'a 2/3; y: rows 1, 4 -> 1, rest 1, 0, 0 -> 1/3; z: 0 vs 3/4
    assert [e["metrics"][0]["value"] for e in entries] == pytest.approx([2 / 3 - 1 / 2, 1 / 3 - 1, 3 / 4 - 0])


def test_labels_match_values_as_text_and_a_numeric_label_threshold_selects_above_it():
    text_labels = post_training_bias(
        ["1", "0", "1"],
        [1.0, 0.0, 0.0],
        ["a", "b", "b"],
        label_values_or_threshold=[1],
        facet_values_or_threshold=["b"],
        facet_name="f",
        label_name="t",
        methods=("RD",),
    )
    scores = post_training_bias(
        [0.9, 0.2, 0.8, 0.1],
        [0.7, 0.1, 0.3, 0.6],
        ["a", "a", "b", "b"],
        label_values_or_threshold=0.5,
        facet_values_or_threshold=["b"],
        facet_name="f",
        label_name="t",
        methods=("RD", "DPPL"),
    )

    assert metrics_of(text_labels, "f")["RD"] == pytest.approx(1.0 - 0.0)
    assert scores["post_training_bias_metrics"]["label_value_or_threshold"] == "0.5"
    # positives: a row 0 (predicted 0.7 > 0.5: TP), b row 2 (0.3: FN)
    assert metrics_of(scores, "f") == pytest.approx({"RD": 1.0 - 0.0, "DPPL": 1 / 2 - 1 / 2})


def test_rows_missing_a_value_are_left_out_and_counted():
    analysis = post_training_bias(
        [1, None, 1, 0, 1],
        [1, 1, float("nan"), 0, 0],
        ["a", "b", "b", None, "b"],
        label_values_or_threshold=[1],
        facet_values_or_threshold=["b"],
        facet_name="f",
        label_name="t",
        methods=("DPPL",),
    )

    assert analysis["rollouts_monitor"] == {
        "rows": 5,
        "rows_used": 2,
        "rows_left_out": {"missing_label": 1, "missing_predicted_label": 1, "missing_facet": 1},
    }
    assert metrics_of(analysis, "f")["DPPL"] == pytest.approx(1.0 - 0.0)


# -- the drift check --------------------------------------------------------------------------------------------------


def analysis_with(values: dict[str, Any], facet: str = "Age", facet_value: str = "40") -> dict[str, Any]:
    metrics = [{"name": name, "description": name, "value": value} for name, value in values.items()]
    return {
        "version": "1.0",
        "post_training_bias_metrics": {
            "label": "target",
            "label_value_or_threshold": "1",
            "facets": {facet: [{"value_or_threshold": facet_value, "metrics": metrics}]},
        },
    }


@pytest.mark.parametrize(
    ("metric", "baseline", "current", "violated"),
    [
        ("DPPL", 0.2, 0.1, False),  # the reference's example: closer to 0 is fine
        ("DPPL", 0.2, -0.3, True),  # further from 0 on the other side violates
        ("DPPL", 0.2, -0.2, False),
        ("TE", -1.0, 1.5, True),
        ("DI", 0.8, 1.1, False),  # DI's ideal is 1
        ("DI", 0.8, 1.3, True),
        ("DI", 0.8, 0.7, True),
        ("DI", "Infinity", 5.0, False),  # how Clarify writes an infinite baseline
    ],
)
def test_a_violation_is_a_value_further_from_the_ideal_than_the_baseline(metric, baseline, current, violated):
    violations = check(analysis_with({metric: current}), analysis_with({metric: baseline}))

    assert bool(violations) is violated


@pytest.mark.parametrize(
    ("baseline", "current", "words"),
    [(0.1, None, "undefined in the current"), (None, 0.1, "baseline value"), (None, None, "both")],
)
def test_an_undefined_value_on_either_side_is_reported(baseline, current, words):
    [violation] = check(analysis_with({"RD": current}), analysis_with({"RD": baseline}))

    assert words in violation["description"]


def test_violations_name_facet_value_and_metric_and_parse_as_bias():
    baseline = analysis_with({"DPPL": 0.2, "DI": 0.9, "AD": 0.0})
    current = analysis_with({"DPPL": -0.3, "DI": 0.95, "AD": 0.05})

    violations = check(current, baseline)

    assert [v["metric_name"] for v in violations] == ["DPPL", "AD"]
    assert violations[0] == {
        "facet": "Age",
        "facet_value": "40",
        "metric_name": "DPPL",
        "constraint_check_type": "bias_drift_check",
        "description": violations[0]["description"],
    }
    assert violations[0]["description"].startswith("Value -0.3 does not meet the constraint requirement")
    parsed = parse_violations({"version": "1.0", "violations": violations}, MonitoringType.MODEL_BIAS)
    assert [p.subject for p in parsed] == ["DPPL for Age=40", "AD for Age=40"]
    assert parse_violations({"violations": violations}) == parsed


def test_a_baseline_metric_the_current_analysis_lacks_is_reported():
    [violation] = check(analysis_with({"DPPL": 0.0}), analysis_with({"DPPL": 0.0, "TE": 0.1}))

    assert violation["metric_name"] == "TE"
    assert "not computed" in violation["description"]


def test_metrics_only_in_the_current_analysis_have_no_baseline_to_violate():
    assert check(analysis_with({"DPPL": 0.0, "TE": 9.0}), analysis_with({"DPPL": 0.0})) == []


def test_a_computed_analysis_checks_against_itself_without_violations_unless_undefined():
    analysis = analysis_of(DOC_A, DOC_D)

    assert check(analysis, analysis) == []
    assert check(json.loads(json.dumps(analysis)), analysis) == []


def test_a_drifted_window_against_a_computed_baseline():
    baseline = analysis_of(DOC_A, DOC_D)
    worse = analysis_of(DOC_A, {(0, 0): 18, (1, 0): 17, (0, 1): 5, (1, 1): 10})  # d loses positive predictions

    names = {v["metric_name"] for v in check(worse, baseline)}

    assert {"DPPL", "DI", "RD"} <= names
    assert all(v["facet"] == "sex" and v["facet_value"] == "d" for v in check(worse, baseline))


@pytest.mark.parametrize(
    ("baseline", "path"),
    [
        ({"version": "1.0"}, "post_training_bias_metrics"),
        ({"post_training_bias_metrics": {"label": "t"}}, "post_training_bias_metrics.facets"),
        ({"post_training_bias_metrics": {"facets": {"Age": {}}}}, "post_training_bias_metrics.facets.Age"),
        (
            {"post_training_bias_metrics": {"facets": {"Age": [{"metrics": []}]}}},
            r"post_training_bias_metrics.facets.Age\[0\].value_or_threshold",
        ),
        (
            {"post_training_bias_metrics": {"facets": {"Age": [{"value_or_threshold": "40"}]}}},
            r"Age\[0\].metrics",
        ),
        (
            {
                "post_training_bias_metrics": {
                    "facets": {"Age": [{"value_or_threshold": "40", "metrics": [{"value": 1}]}]}
                }
            },
            r"Age\[0\].metrics\[0\].name",
        ),
        (
            {
                "post_training_bias_metrics": {
                    "facets": {"Age": [{"value_or_threshold": "40", "metrics": [{"name": "DI"}]}]}
                }
            },
            r"metrics\[0\].value: missing",
        ),
        (analysis_with({"DI": "high"}), r"Age\[0\].metrics\[0\].value: expected a number"),
        ([], "JSON object"),
    ],
)
def test_a_malformed_baseline_is_an_error_naming_the_path(baseline, path):
    with pytest.raises(BaselineError, match=path):
        check(analysis_with({"DI": 1.0}), baseline)


def test_a_malformed_current_analysis_is_an_analysis_error():
    with pytest.raises(AnalysisError, match="post_training_bias_metrics"):
        check({"version": "1.0"}, analysis_with({"DI": 1.0}))


# -- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"labels": [1, 0], "predicted_labels": [1], "facet_column": ["a", "b"]}, InputError, "differ in length"),
        ({"labels": [], "predicted_labels": [], "facet_column": []}, EmptyWindowError, "no rows"),
        ({"labels": [None], "predicted_labels": [1], "facet_column": ["a"]}, EmptyWindowError, "no rows"),
        ({"methods": ("DPPL", "XYZ")}, InputError, "XYZ"),
        ({"methods": ()}, InputError, "method"),
        ({"facet_values_or_threshold": 3}, InputError, "threshold"),
        ({"facet_values_or_threshold": []}, InputError, "must not be empty"),
        ({"label_values_or_threshold": math.inf}, InputError, "finite"),
        ({"labels": [[1, 0]], "predicted_labels": [[1, 0]], "facet_column": [["a", "b"]]}, InputError, "dimensional"),
    ],
)
def test_bad_input_is_a_value_error_that_says_what_is_wrong(arguments, error, message):
    call = {
        "labels": [1, 0, 1],
        "predicted_labels": [1, 1, 0],
        "facet_column": ["a", "b", "b"],
        "label_values_or_threshold": [1],
        "facet_values_or_threshold": ["b"],
        "facet_name": "f",
        "label_name": "t",
        **arguments,
    }
    labels, predicted, facets = call.pop("labels"), call.pop("predicted_labels"), call.pop("facet_column")

    with pytest.raises(error, match=message) as raised:
        post_training_bias(labels, predicted, facets, **call)

    assert isinstance(raised.value, ValueError)


def test_numpy_columns_work_like_lists():
    labels, predicted, facets = table(DOC_A, DOC_D)

    from_lists = analysis_of(DOC_A, DOC_D)
    from_arrays = post_training_bias(
        np.asarray(labels, dtype=np.float64),
        np.asarray(predicted, dtype=np.int64),
        np.asarray(facets, dtype=object),
        label_values_or_threshold=[1],
        facet_values_or_threshold=["d"],
        facet_name="sex",
        label_name="target",
    )

    assert from_arrays["post_training_bias_metrics"] == from_lists["post_training_bias_metrics"]


def test_numpy_scalars_configure_like_python_numbers():
    ages = np.asarray([20, 30, 40, 50, 60, 70] * 10)
    labels, predicted = [1, 0, 1, 0, 1, 1] * 10, [1, 1, 0, 0, 1, 0] * 10
    common: dict[str, Any] = {"facet_name": "age", "label_name": "y", "methods": ("DPPL",)}

    numpy_threshold = post_training_bias(
        labels,
        predicted,
        ages,
        label_values_or_threshold=np.asarray([1]),
        facet_values_or_threshold=np.int64(40),
        **common,
    )
    python_threshold = post_training_bias(
        labels, predicted, ages, label_values_or_threshold=[1], facet_values_or_threshold=40, **common
    )

    assert metrics_of(numpy_threshold, "age") == metrics_of(python_threshold, "age")
    # above 40: 50, 60, 70 -> predicted 0, 1, 0; the rest 1, 1, 0
    assert metrics_of(python_threshold, "age")["DPPL"] == pytest.approx(2 / 3 - 1 / 3)


def test_ragged_columns_are_an_input_error():
    with pytest.raises(InputError, match="flat list"):
        post_training_bias(
            [[1, 0], [1]], [1, 0], ["a", "b"], label_values_or_threshold=[1], facet_name="f", label_name="t"
        )
