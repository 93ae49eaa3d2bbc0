"""Data quality: baseline documents in Model Monitor's shape, the six checks' arithmetic, profiles that merge."""

from __future__ import annotations

import copy
import json
import math
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts.monitoring.kinds import MonitoringType
from rollouts.monitoring.violations import parse_violations
from rollouts_monitor.data_quality import (
    ALPHA,
    BaselineError,
    EmptyWindowError,
    MonitoringConfig,
    Profile,
    check,
    chi_squared_sf,
    ks_critical_distance,
    suggest_baseline,
)
from rollouts_monitor.records import Dataset

EXAMPLES = settings(max_examples=40, deadline=None)
DOCUMENTED_MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def dataset(**columns: Any) -> Dataset:
    data = {}
    for name, values in columns.items():
        array = np.asarray(values)
        data[name] = array.astype(np.float64) if array.dtype.kind in "fiub" else np.asarray(values, dtype=object)
    return Dataset(list(columns), data)


def texts(*values: str | None) -> np.ndarray:
    return np.array(list(values), dtype=object)


def kinds(violations: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(v["feature_name"], v["constraint_check_type"]) for v in violations]


def judge(window: Dataset, baseline: Dataset) -> list[dict[str, str]]:
    statistics, constraints = suggest_baseline(baseline)
    return check(Profile.of(window, statistics), statistics, constraints)


def exact_ks(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov distance by brute force over every observed value."""
    return max(float(abs(np.mean(a <= z) - np.mean(b <= z))) for z in np.concatenate([a, b]))


@pytest.fixture
def mixed() -> Dataset:
    rng = np.random.default_rng(7)
    n = 2000
    age = rng.integers(18, 90, size=n).astype(float)
    age[:20] = np.nan
    return dataset(
        age=age,
        income=rng.lognormal(10, 1, size=n),
        state=np.array(rng.choice(["CA", "NY", "TX"], size=n, p=[0.5, 0.3, 0.2]), dtype=object),
        user=np.array([f"u{i}" for i in range(n)], dtype=object),
    )


# ----------------------------------------------------------------------------------------------------------------
# Baseline documents
# ----------------------------------------------------------------------------------------------------------------


def test_suggested_statistics_have_model_monitors_shape(mixed):
    statistics, _ = suggest_baseline(mixed)
    assert set(statistics) == {"version", "dataset", "features"}
    assert statistics["version"] == 0
    assert statistics["dataset"] == {"item_count": 2000}
    by_name = {f["name"]: f for f in statistics["features"]}
    assert [f["name"] for f in statistics["features"]] == ["age", "income", "state", "user"]
    assert by_name["age"]["inferred_type"] == "Integral"
    assert by_name["income"]["inferred_type"] == "Fractional"
    numeric = by_name["age"]["numerical_statistics"]
    assert set(numeric) == {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
    assert numeric["common"] == {"num_present": 1980, "num_missing": 20}
    assert all(isinstance(numeric[key], float) for key in ("mean", "sum", "std_dev", "min", "max"))
    present = mixed.data["age"][~np.isnan(mixed.data["age"])]
    assert numeric["sum"] == pytest.approx(present.sum())
    assert numeric["mean"] == pytest.approx(present.mean())
    assert numeric["std_dev"] == pytest.approx(present.std())
    assert (numeric["min"], numeric["max"]) == (present.min(), present.max())
    kll = numeric["distribution"]["kll"]
    assert set(kll) == {"buckets", "sketch"}
    assert len(kll["buckets"]) == 10
    assert all(set(b) == {"lower_bound", "upper_bound", "count"} for b in kll["buckets"])
    assert all(isinstance(b["count"], int) for b in kll["buckets"])
    assert [b["count"] for b in kll["buckets"]] == np.histogram(present, bins=10)[0].tolist()
    assert set(kll["sketch"]) == {"parameters", "data"}
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    assert all(isinstance(level, list) for level in kll["sketch"]["data"])
    string = by_name["state"]["string_statistics"]
    assert by_name["state"]["inferred_type"] == "String"
    assert set(string) == {"common", "distinct_count", "distribution"}
    assert string["distinct_count"] == 3.0
    buckets = string["distribution"]["categorical"]["buckets"]
    assert [b["value"] for b in buckets] == ["CA", "NY", "TX"]
    assert sum(b["count"] for b in buckets) == 2000
    assert all(set(b) == {"value", "count"} for b in buckets)
    json.dumps(statistics, allow_nan=False)


def test_suggested_constraints_have_model_monitors_shape_and_defaults(mixed):
    _, constraints = suggest_baseline(mixed)
    assert set(constraints) == {"version", "features", "monitoring_config"}
    assert constraints["monitoring_config"] == DOCUMENTED_MONITORING_CONFIG
    by_name = {f["name"]: f for f in constraints["features"]}
    # 1980 of 2000 present: the 95 % interval's lower bound, 0.99 - 1.96 * sqrt(0.99 * 0.01 / 2000) = 0.98563...
    assert by_name["age"]["completeness"] == 0.9856
    assert by_name["age"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["income"]["num_constraints"] == {"is_non_negative": True}
    assert by_name["state"]["string_constraints"] == {"domains": ["CA", "NY", "TX"]}
    assert "string_constraints" not in by_name["user"]  # 2000 distinct values: above the 120 cut-off
    assert all(f["monitoringConfigOverrides"] == {} for f in constraints["features"])
    json.dumps(constraints, allow_nan=False)


def test_types_are_inferred_from_the_present_values():
    statistics, constraints = suggest_baseline(
        dataset(
            whole=[1.0, 2.0, np.nan, -3.0],
            texts_of_numbers=texts("1", " 2.5", None, "3e2"),
            mixed=texts("1", "x", None, "2"),
            empty=[np.nan] * 4,
        )
    )
    types = {f["name"]: f["inferred_type"] for f in statistics["features"]}
    assert types == {"whole": "Integral", "texts_of_numbers": "Fractional", "mixed": "String", "empty": "Unknown"}
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["whole"]["num_constraints"] == {"is_non_negative": False}
    assert by_name["empty"]["completeness"] == 0.0
    assert by_name["mixed"]["string_constraints"] == {"domains": ["1", "2", "x"]}


def test_an_empty_baseline_dataset_is_refused():
    with pytest.raises(EmptyWindowError, match="no rows"):
        suggest_baseline(dataset(a=np.zeros(0)))


# ----------------------------------------------------------------------------------------------------------------
# The checks' arithmetic
# ----------------------------------------------------------------------------------------------------------------


def test_a_window_like_the_baseline_has_no_violation(mixed):
    assert judge(mixed, mixed) == []


@pytest.mark.parametrize("missing", [0, 1, 50])
def test_completeness_check_compares_the_counted_non_null_fraction(missing):
    baseline = dataset(x=np.arange(100.0))
    window_values = np.arange(100.0)
    window_values[:missing] = np.nan
    statistics, constraints = suggest_baseline(baseline)
    constraints["features"][0]["completeness"] = 0.99
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    violations = check(Profile.of(dataset(x=window_values), statistics), statistics, constraints)
    observed = np.count_nonzero(~np.isnan(window_values)) / window_values.size
    assert kinds(violations) == ([("x", "completeness_check")] if observed < 0.99 else [])
    if violations:
        assert f"{missing} of 100 missing" in violations[0]["description"]


@pytest.mark.parametrize(("garbage", "expected"), [(5, []), (10, []), (11, [("x", "data_type_check")])])
def test_garbage_strings_in_a_numeric_feature_are_a_data_type_check_not_a_crash(garbage, expected):
    baseline = dataset(x=np.linspace(0, 1, 200))
    values = [str(v) for v in np.linspace(0, 1, 100 - garbage)] + ["n/a!"] * garbage
    statistics, constraints = suggest_baseline(baseline)
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    profile = Profile.of(dataset(x=np.array(values, dtype=object)), statistics)
    violations = check(profile, statistics, constraints)
    # mismatched / non-null = garbage / 100 against the 0.1 threshold
    assert kinds(violations) == expected
    assert profile.statistics()["features"][0]["numerical_statistics"]["common"]["num_present"] == 100 - garbage


def test_fractions_in_an_integral_feature_do_not_match_its_type():
    statistics, constraints = suggest_baseline(dataset(n=np.arange(50.0)))
    window = dataset(n=np.concatenate([np.arange(40.0), np.arange(10.0) + 0.5]))
    violations = check(Profile.of(window, statistics), statistics, constraints)
    assert ("n", "data_type_check") in kinds(violations)
    text = next(v for v in violations if v["constraint_check_type"] == "data_type_check")["description"]
    assert "Expected data type: Integral" in text
    assert "Only 80% of data is Integral" in text
    # An edited constraint that accepts Fractional values accepts these.
    constraints["features"][0]["inferred_type"] = "Fractional"
    assert ("n", "data_type_check") not in kinds(check(Profile.of(window, statistics), statistics, constraints))


@pytest.mark.parametrize(("unknown", "violated"), [(10, False), (11, True)])
def test_categorical_values_check_counts_values_outside_the_domain(unknown, violated):
    baseline = dataset(s=texts(*(["a", "b"] * 50)))
    window = dataset(s=texts(*(["a"] * (100 - unknown) + ["zz"] * unknown)))
    statistics, constraints = suggest_baseline(baseline)
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    violations = check(Profile.of(window, statistics), statistics, constraints)
    assert kinds(violations) == ([("s", "categorical_values_check")] if violated else [])
    # With an edited domain the check counts from the tracked values.
    constraints["features"][0]["string_constraints"]["domains"] = ["a", "zz"]
    assert check(Profile.of(window, statistics), statistics, constraints) == []


def test_missing_and_extra_columns_are_named():
    statistics, constraints = suggest_baseline(dataset(a=[1.0, 2.0], b=[3.0, 4.0]))
    profile = Profile.of(dataset(a=[1.0, 2.0], c=[0.0, 0.0], d=texts("x", "y")), statistics)
    assert profile.missing_columns == ["b"]
    assert profile.extra_columns == ["c", "d"]
    assert kinds(check(profile, statistics, constraints)) == [
        ("b", "missing_column_check"),
        ("c", "extra_column_check"),
        ("d", "extra_column_check"),
    ]


def test_numeric_drift_distance_is_the_exact_ks_distance_on_the_baseline_support():
    # n <= 2048: the baseline sketch keeps every value, and every window value is a baseline value, so the
    # distance on the edges is the exact two-sample KS distance.
    rng = np.random.default_rng(11)
    baseline = rng.integers(0, 30, size=1500).astype(float)
    window = rng.integers(5, 30, size=700).astype(float)
    statistics, constraints = suggest_baseline(dataset(x=baseline))
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    violations = check(Profile.of(dataset(x=window), statistics), statistics, constraints)
    distance = exact_ks(baseline, window)
    assert distance > 0.1
    assert kinds(violations) == [("x", "baseline_drift_check")]
    assert violations[0]["description"] == f"Baseline drift distance: {distance:.6g} exceeds threshold: 0.1"


def test_robust_method_needs_the_ks_test_to_reject_as_well():
    # Small samples: a distance above the 0.1 threshold but below the KS critical distance.
    baseline = np.arange(30.0)
    window = np.arange(30.0)[6:]  # distance 0.2; critical 1.358 * sqrt((30 + 24) / (30 * 24)) = 0.372
    distance, critical = exact_ks(baseline, window), ks_critical_distance(30, 24)
    assert distance == pytest.approx(0.2)
    assert critical == pytest.approx(math.sqrt(-math.log(ALPHA / 2) / 2) * math.sqrt(54 / 720))
    statistics, constraints = suggest_baseline(dataset(x=baseline))
    profile = Profile.of(dataset(x=window), statistics)
    assert check(profile, statistics, constraints) == []  # Robust is the default
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    assert kinds(check(profile, statistics, constraints)) == [("x", "baseline_drift_check")]
    # With more data the same distance is significant: Robust fires too.
    statistics, constraints = suggest_baseline(dataset(x=np.repeat(baseline, 20)))
    robust = check(Profile.of(dataset(x=np.repeat(window, 20)), statistics), statistics, constraints)
    assert kinds(robust) == [("x", "baseline_drift_check")]
    assert "two-sample KS critical distance" in robust[0]["description"]


def test_categorical_linfinity_is_the_largest_proportion_gap():
    baseline = texts(*(["a"] * 50 + ["b"] * 30 + ["c"] * 20))
    window = texts(*(["a"] * 30 + ["b"] * 40 + ["c"] * 20 + ["d"] * 10))
    statistics, constraints = suggest_baseline(dataset(s=baseline))
    constraints["monitoring_config"]["domain_content_threshold"] = 0.5
    violations = check(Profile.of(dataset(s=window), statistics), statistics, constraints)
    # |0.5 - 0.3| = 0.2, |0.3 - 0.4| = 0.1, |0.2 - 0.2| = 0, |0 - 0.1| = 0.1
    assert kinds(violations) == [("s", "baseline_drift_check")]
    assert violations[0]["description"] == "Baseline drift distance: 0.2 exceeds threshold: 0.1"
    constraints["monitoring_config"]["distribution_constraints"]["categorical_comparison_threshold"] = 0.25
    assert check(Profile.of(dataset(s=window), statistics), statistics, constraints) == []


def test_categorical_chi_squared_against_a_hand_computed_value():
    baseline = texts(*(["a"] * 50 + ["b"] * 30 + ["c"] * 20))
    window = texts(*(["a"] * 30 + ["b"] * 40 + ["c"] * 30))
    statistics, constraints = suggest_baseline(dataset(s=baseline))
    constraints["monitoring_config"]["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    violations = check(Profile.of(dataset(s=window), statistics), statistics, constraints)
    # expected 50, 30, 20: (20^2 / 50) + (10^2 / 30) + (10^2 / 20) = 8 + 10/3 + 5; 2 degrees of freedom:
    # the survival function is exp(-x / 2).
    statistic = 8 + 10 / 3 + 5
    p_value = math.exp(-statistic / 2)
    assert kinds(violations) == [("s", "baseline_drift_check")]
    assert violations[0]["description"].startswith(f"Baseline drift chi-squared p-value: {p_value:.6g}")
    assert f"statistic {statistic:.6g}, 2 degrees of freedom" in violations[0]["description"]
    # The same proportions give no violation.
    same = texts(*(["a"] * 5 + ["b"] * 3 + ["c"] * 2))
    assert check(Profile.of(dataset(s=same), statistics), statistics, constraints) == []


@EXAMPLES
@given(st.floats(min_value=0, max_value=200, allow_nan=False), st.sampled_from([1, 2, 3, 4, 6]))
def test_chi_squared_survival_function_matches_closed_forms(x, dof):
    closed = {
        1: math.erfc(math.sqrt(x / 2)),
        2: math.exp(-x / 2),
        3: math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2),
        4: math.exp(-x / 2) * (1 + x / 2),
        6: math.exp(-x / 2) * (1 + x / 2 + (x / 2) ** 2 / 2),
    }[dof]
    assert chi_squared_sf(x, dof) == pytest.approx(closed, rel=1e-9, abs=1e-15)


def test_chi_squared_survival_function_at_known_critical_values():
    assert chi_squared_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert chi_squared_sf(11.070497693516351, 5) == pytest.approx(0.05, rel=1e-9)
    assert chi_squared_sf(124.34211340400407, 100) == pytest.approx(0.05, rel=1e-8)
    assert chi_squared_sf(0.0, 3) == 1.0


# ----------------------------------------------------------------------------------------------------------------
# monitoring_config
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def drifted() -> tuple[Profile, dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(5)
    statistics, constraints = suggest_baseline(dataset(x=rng.normal(size=5000), y=rng.normal(size=5000)))
    window = dataset(x=rng.normal(1, 1, size=5000), y=rng.normal(1, 1, size=5000), extra=np.zeros(5000))
    return Profile.of(window, statistics), statistics, constraints


def test_evaluate_constraints_disabled_gives_no_violation(drifted):
    profile, statistics, constraints = drifted
    assert len(check(profile, statistics, constraints)) == 3
    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    assert check(profile, statistics, constraints) == []


def test_perform_comparison_disabled_skips_the_drift_check(drifted):
    profile, statistics, constraints = drifted
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    assert kinds(check(profile, statistics, constraints)) == [("extra", "extra_column_check")]


def test_thresholds_and_per_feature_overrides_are_honoured(drifted):
    profile, statistics, constraints = drifted
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = 0.9
    assert kinds(check(profile, statistics, constraints)) == [("extra", "extra_column_check")]
    overrides = constraints["features"][1]["monitoringConfigOverrides"]
    overrides["comparison_threshold"] = 0.2  # flat ...
    assert ("y", "baseline_drift_check") in kinds(check(profile, statistics, constraints))
    overrides.clear()
    overrides["distribution_constraints"] = {"comparison_threshold": 0.2}  # ... or nested
    assert ("y", "baseline_drift_check") in kinds(check(profile, statistics, constraints))
    overrides["evaluate_constraints"] = "Disabled"
    assert kinds(check(profile, statistics, constraints)) == [("extra", "extra_column_check")]


def test_the_old_misspelt_comparion_method_is_read():
    config = MonitoringConfig().updated({"distribution_constraints": {"comparion_method": "Simple"}}, "m")
    assert config.comparison_method == "Simple"
    assert config.categorical_threshold == config.comparison_threshold == 0.1
    assert (
        MonitoringConfig()
        .updated({"distribution_constraints": {"comparison_threshold": 0.3}}, "m")
        .categorical_threshold
        == 0.3
    )


# ----------------------------------------------------------------------------------------------------------------
# Bad inputs
# ----------------------------------------------------------------------------------------------------------------


def test_an_empty_window_is_an_error_not_an_empty_list(mixed):
    statistics, constraints = suggest_baseline(mixed)
    empty = Dataset(mixed.columns, {name: values[:0] for name, values in mixed.data.items()})
    profile = Profile.of(empty, statistics)
    assert profile.rows == 0
    with pytest.raises(EmptyWindowError, match="no rows"):
        check(profile, statistics, constraints)
    with pytest.raises(EmptyWindowError):
        check(Profile.of(Dataset([], {}), statistics), statistics, constraints)
    # An empty slice merges as the identity.
    full = Profile.of(mixed, statistics)
    assert full.merge(profile).to_json() == full.to_json()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.pop("features"), "lack 'features'"),
        (lambda s: s.update(features={"a": 1}), "'features' must be a list"),
        (lambda s: s["features"][0].pop("name"), r"features\[0\].name"),
        (lambda s: s["features"][0].update(inferred_type="Float"), r"features\[0\].inferred_type"),
        (lambda s: s["features"][0].pop("numerical_statistics"), r"features\[0\].numerical_statistics"),
        (
            lambda s: s["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"].update(data=[["1"]]),
            r"features\[0\].numerical_statistics.distribution.kll.sketch.data\[0\]",
        ),
        (
            lambda s: s["features"][0]["numerical_statistics"]["common"].update(num_present="many"),
            r"features\[0\].numerical_statistics.common.num_present",
        ),
        (lambda s: s["features"].append(copy.deepcopy(s["features"][0])), "appears twice"),
    ],
)
def test_a_malformed_baseline_names_the_field(mutate, field):
    statistics, constraints = suggest_baseline(dataset(x=np.arange(10.0)))
    window = dataset(x=np.arange(10.0))
    mutate(statistics)
    with pytest.raises(BaselineError, match=field):
        check(Profile.of(window, statistics), statistics, constraints)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.pop("features"), "constraints lack 'features'"),
        (lambda c: c["features"][0].update(completeness=1.5), r"features\[0\].completeness"),
        (lambda c: c["monitoring_config"].update(datatype_check_threshold="high"), "datatype_check_threshold"),
        (lambda c: c["monitoring_config"].update(evaluate_constraints=True), "evaluate_constraints"),
        (
            lambda c: c["monitoring_config"]["distribution_constraints"].update(comparison_method="Fancy"),
            "comparison_method",
        ),
        (lambda c: c["features"].append({"name": "ghost"}), "not in the baseline statistics"),
    ],
)
def test_malformed_constraints_name_the_field(mutate, field):
    statistics, constraints = suggest_baseline(dataset(x=np.arange(10.0)))
    profile = Profile.of(dataset(x=np.arange(10.0)), statistics)
    mutate(constraints)
    with pytest.raises(BaselineError, match=field):
        check(profile, statistics, constraints)


def test_a_baseline_without_sketch_data_is_judged_on_its_buckets():
    rng = np.random.default_rng(2)
    statistics, constraints = suggest_baseline(dataset(x=rng.uniform(0, 10, size=10_000)))
    kll = statistics["features"][0]["numerical_statistics"]["distribution"]["kll"]
    del kll["sketch"]
    same = Profile.of(dataset(x=rng.uniform(0, 10, size=10_000)), statistics)
    assert check(same, statistics, constraints) == []
    shifted = Profile.of(dataset(x=rng.uniform(3, 13, size=10_000)), statistics)
    violations = check(shifted, statistics, constraints)
    assert kinds(violations) == [("x", "baseline_drift_check")]
    # Exact at the bucket bounds: F_baseline(10) = 1 against F_window(10) = 0.7, so the distance is about 0.3.
    distance = float(violations[0]["description"].split()[3])
    assert distance == pytest.approx(0.3, abs=0.02)
    # Empty sketch data falls back to the buckets too.
    kll["sketch"] = {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[]]}
    assert kinds(check(Profile.of(dataset(x=rng.uniform(3, 13, size=10_000)), statistics), statistics, constraints))


def test_a_baseline_without_any_distribution_cannot_be_compared():
    statistics, constraints = suggest_baseline(dataset(x=np.arange(100.0)))
    del statistics["features"][0]["numerical_statistics"]["distribution"]
    profile = Profile.of(dataset(x=np.arange(100.0)), statistics)
    with pytest.raises(BaselineError, match=r"no numerical_statistics\.distribution"):
        check(profile, statistics, constraints)
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    assert check(profile, statistics, constraints) == []


def test_an_existing_model_monitor_baseline_works_as_it_is():
    # Shaped as the reference's example: a multi-level sketch, no key of ours.
    statistics = {
        "version": 0,
        "dataset": {"item_count": 6},
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "numerical_statistics": {
                    "common": {"num_present": 6, "num_missing": 0},
                    "mean": 30.0,
                    "sum": 180.0,
                    "std_dev": 5.0,
                    "min": 20.0,
                    "max": 40.0,
                    "distribution": {
                        "kll": {
                            "buckets": [{"lower_bound": 20.0, "upper_bound": 40.0, "count": 6}],
                            "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[20.0, 25.0], [30.0, 40.0]]},
                        }
                    },
                },
            },
            {
                "name": "state",
                "inferred_type": "String",
                "string_statistics": {
                    "common": {"num_present": 6, "num_missing": 0},
                    "distinct_count": 2.0,
                    "distribution": {
                        "categorical": {"buckets": [{"value": "CA", "count": 4}, {"value": "NY", "count": 2}]}
                    },
                },
            },
        ],
    }
    constraints = {
        "version": 0,
        "features": [
            {
                "name": "age",
                "inferred_type": "Integral",
                "completeness": 1.0,
                "num_constraints": {"is_non_negative": True},
            },
            {
                "name": "state",
                "inferred_type": "String",
                "completeness": 1.0,
                "string_constraints": {"domains": ["CA", "NY"]},
            },
        ],
        "monitoring_config": DOCUMENTED_MONITORING_CONFIG,
    }
    # Sketch weights: 20, 25 (1 each), 30, 40 (2 each): CDF 1/6, 2/6, 4/6, 1.
    window = dataset(age=[20.0, 25.0, 30.0, 30.0, 40.0, 40.0] * 50, state=texts(*(["CA", "CA", "NY"] * 100)))
    assert check(Profile.of(window, statistics), statistics, constraints) == []
    old = dataset(age=[40.0] * 300, state=texts(*(["TX"] * 300)))
    assert kinds(check(Profile.of(old, statistics), statistics, constraints)) == [
        ("age", "baseline_drift_check"),
        ("state", "categorical_values_check"),
        ("state", "baseline_drift_check"),
    ]


def test_a_string_baseline_feature_reads_numbers_as_text():
    statistics, constraints = suggest_baseline(dataset(code=texts("1", "2", "x", "1")))
    profile = Profile.of(dataset(code=[1.0, 2.0, 2.0, np.nan]), statistics)
    feature = profile.statistics()["features"][0]
    assert feature["string_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert feature["string_statistics"]["distribution"]["categorical"]["buckets"] == [
        {"value": "2", "count": 2},
        {"value": "1", "count": 1},
    ]
    assert kinds(check(profile, statistics, constraints)) == [
        ("code", "completeness_check"),
        ("code", "baseline_drift_check"),
    ]


# ----------------------------------------------------------------------------------------------------------------
# Profiles: merge, JSON, statistics, violations document
# ----------------------------------------------------------------------------------------------------------------


def _without_float_moments(document: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(document)
    for feature in stripped["features"].values():
        if feature["numeric"]:
            for key in ("sum", "mean", "m2"):
                feature["numeric"].pop(key)
    return stripped


@EXAMPLES
@given(st.lists(st.integers(min_value=0, max_value=600), max_size=5), st.integers(min_value=0, max_value=2**32 - 1))
def test_merged_profile_of_random_splits_equals_the_one_pass_profile(cuts, seed):
    rng = np.random.default_rng(seed)
    n = 600
    baseline = dataset(
        a=rng.normal(size=3000),
        b=rng.integers(0, 9, size=3000).astype(float),
        s=texts(*rng.choice(["p", "q", "r"], 3000)),
    )
    statistics, _ = suggest_baseline(baseline)
    a = rng.normal(0.3, 1.2, size=n)
    a[rng.random(n) < 0.1] = np.nan
    window = dataset(
        a=a, b=rng.integers(0, 12, size=n).astype(float), s=texts(*rng.choice(["p", "q", "z"], n)), extra=np.ones(n)
    )
    one_pass = Profile.of(window, statistics)
    bounds = sorted({0, n, *cuts})
    merged = None
    for start, stop in pairwise(bounds):
        part = Profile.of(Dataset(window.columns, {c: v[start:stop] for c, v in window.data.items()}), statistics)
        part = Profile.from_json(json.loads(json.dumps(part.to_json(), allow_nan=False)))
        merged = part if merged is None else merged.merge(part)
    assert merged is not None
    assert _without_float_moments(merged.to_json()) == _without_float_moments(one_pass.to_json())
    for name in ("a", "b"):
        mine, theirs = merged.features[name].numeric, one_pass.features[name].numeric
        assert mine is not None and theirs is not None
        assert mine.total == pytest.approx(theirs.total, rel=1e-12, abs=1e-9)
        assert mine.variance == pytest.approx(theirs.variance, rel=1e-12)


def test_a_column_absent_from_one_slice_counts_its_rows_as_missing():
    statistics, constraints = suggest_baseline(dataset(a=np.arange(10.0), b=np.arange(10.0)))
    first = Profile.of(dataset(a=np.arange(6.0), b=np.arange(6.0)), statistics)
    second = Profile.of(dataset(a=np.arange(4.0), c=np.zeros(4)), statistics)
    merged = first.merge(second)
    assert merged.rows == 10
    assert merged.missing_columns == []
    assert merged.extra_columns == ["c"]
    assert merged.features["b"].missing == 4
    assert second.merge(first).to_json()["features"]["b"] == merged.to_json()["features"]["b"]
    constraints["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    assert kinds(check(merged, statistics, constraints)) == [("b", "completeness_check"), ("c", "extra_column_check")]


def test_profiles_of_different_baselines_do_not_merge():
    one, _ = suggest_baseline(dataset(a=np.arange(10.0)))
    two, _ = suggest_baseline(dataset(b=np.arange(10.0)))
    with pytest.raises(ValueError, match="different baselines"):
        Profile.of(dataset(a=[1.0]), one).merge(Profile.of(dataset(a=[1.0]), two))


def test_profile_from_json_rejects_other_documents():
    with pytest.raises(ValueError, match="not a data quality profile"):
        Profile.from_json({"rows": 1})
    statistics, _ = suggest_baseline(dataset(a=np.arange(10.0)))
    document = Profile.of(dataset(a=np.arange(5.0)), statistics).to_json()
    document["features"]["a"]["numeric"]["counts"][0] = -1
    with pytest.raises(ValueError, match="counts"):
        Profile.from_json(json.dumps(document))


def test_window_statistics_have_the_baseline_documents_shape(mixed):
    statistics, _ = suggest_baseline(mixed)
    window = Profile.of(mixed, statistics).statistics()
    json.dumps(window, allow_nan=False)
    assert set(window) == set(statistics)
    assert window["dataset"] == statistics["dataset"]
    for mine, theirs in zip(window["features"], statistics["features"], strict=True):
        assert mine["name"] == theirs["name"]
        assert mine["inferred_type"] == theirs["inferred_type"]
        kind = "numerical_statistics" if "numerical_statistics" in theirs else "string_statistics"
        assert set(mine[kind]) == set(theirs[kind])
        assert mine[kind]["common"] == theirs[kind]["common"]
        if kind == "numerical_statistics":
            for key in ("sum", "mean", "std_dev", "min", "max"):
                assert mine[kind][key] == pytest.approx(theirs[kind][key], rel=1e-9)
            assert set(mine[kind]["distribution"]["kll"]) == {"buckets", "sketch"}
            assert len(mine[kind]["distribution"]["kll"]["buckets"]) == 10
        else:
            assert mine[kind]["distribution"] == theirs[kind]["distribution"]


def test_violations_pass_the_control_planes_parser():
    rng = np.random.default_rng(9)
    statistics, constraints = suggest_baseline(
        dataset(
            x=rng.normal(size=1000),
            n=rng.integers(0, 5, 1000).astype(float),
            s=texts(*rng.choice(["a", "b"], 1000)),
            gone=np.ones(1000),
        )
    )
    n_values = np.array([str(v) for v in rng.integers(0, 5, 1000)] + ["oops"] * 200, dtype=object)
    window = dataset(
        x=np.concatenate([rng.normal(2, 1, 1000), [np.nan] * 200]),
        n=n_values,
        s=texts(*rng.choice(["a", "c"], 1200)),
        new=np.zeros(1200),
    )
    violations = check(Profile.of(window, statistics), statistics, constraints)
    assert {v["constraint_check_type"] for v in violations} == {
        "data_type_check",
        "completeness_check",
        "baseline_drift_check",
        "missing_column_check",
        "extra_column_check",
        "categorical_values_check",
    }
    parsed = parse_violations({"violations": violations}, MonitoringType.DATA_QUALITY)
    assert [(p.feature, p.check_type) for p in parsed] == kinds(violations)
    assert all(p.monitoring_type == MonitoringType.DATA_QUALITY and p.description for p in parsed)
    assert parse_violations(json.dumps({"violations": violations})) == parsed


def test_a_complete_feature_must_stay_complete_and_an_incomplete_one_gets_its_lower_bound():
    from rollouts_monitor.data_quality import suggested_completeness

    assert suggested_completeness(500, 500) == 1.0
    assert suggested_completeness(0, 500) == 0.0
    p, n = 0.9, 10_000
    assert suggested_completeness(9_000, n) == pytest.approx(p - 1.96 * (p * (1 - p) / n) ** 0.5, abs=1e-4)
    assert suggested_completeness(9_000, n) < 0.9
