"""Data quality as Model Monitor computes it: baseline suggestion, a window's mergeable profile, the six checks.

The documents are Model Monitor's (../shared/reference/sagemaker-monitoring.md section 1): `suggest_baseline` writes
statistics.json and constraints.json; `check` returns the entries of constraint_violations.json's `violations`
list. Existing Model Monitor baselines work as they are: a numeric feature's drift is judged against its KLL sketch
(`distribution.kll.sketch`), or against its 10 buckets when a baseline has no sketch data.

A window is profiled in partials that merge (`Profile.of` per slice, `Profile.merge`, `to_json`/`from_json` between
Step Functions Distributed Map children and a merge step); every partial of a window bins a numeric feature on the
same edges, the baseline sketch's item values (plus `sketch.EXTENSION_STEPS` edges on each side of their range), so
that histogram counts add exactly.

Our readings where AWS documents no exact rule (each is stated again where it is applied):

- Types: a present number is Integral when whole, Fractional otherwise; a text that is not a decimal number (nor
  "nan"/"inf") is String. A value matches an Integral baseline when it is a whole number, a Fractional baseline when
  it is a finite number, a String baseline always. `data_type_check` fires when the fraction of non-null values that
  do not match exceeds `datatype_check_threshold`.
- `completeness_check` fires when the window's non-null fraction is below the feature's `completeness`.
- `categorical_values_check` fires when the fraction of non-null values outside `string_constraints.domains`
  exceeds `domain_content_threshold`. Baselines suggested here give a domain to String features with at most
  `DOMAIN_MAX_DISTINCT` (120, Deequ's ColumnProfiler low-cardinality threshold) distinct values.
- `missing_column_check` / `extra_column_check`: one violation per baseline feature absent from the window / per
  window column absent from the baseline, named in `feature_name`.
- `baseline_drift_check`, numeric: see `numeric_drift`; categorical: see `categorical_drift`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rollouts_monitor.records import Dataset
from rollouts_monitor.sketch import (
    CATEGORICAL_CAP,
    CategoricalPartial,
    FloatArray,
    KllSketch,
    NumericPartial,
    SketchFormatError,
    cdf_distance_on_edges,
    equal_width_buckets,
    extend_edges,
)

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
INFERRED_TYPES = (INTEGRAL, FRACTIONAL, STRING, UNKNOWN)
NUMERIC_TYPES = frozenset({INTEGRAL, FRACTIONAL})
DOMAIN_MAX_DISTINCT = 120  # String features with at most this many distinct values get a domain constraint
BASELINE_CATEGORY_BUCKETS = 10_000  # categorical buckets written per String feature (the most frequent first)
ALPHA = 0.05  # significance level of the Robust numeric test and of the ChiSquared categorical test
PROFILE_FORMAT = "rollouts-monitor/data-quality-profile"
PROFILE_VERSION = 1

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ENABLED = {"enabled": True, "disabled": False}
_COMPARISON_METHODS = {"simple": "Simple", "robust": "Robust", "linf_simple": "Simple", "linf_robust": "Robust"}
_CATEGORICAL_METHODS = {"linfinity": "LInfinity", "chisquared": "ChiSquared"}


class EmptyWindowError(ValueError):
    """There is nothing to judge (no rows): a check answers with this reason instead of "no violations"."""


class BaselineError(ValueError):
    """A statistics.json or constraints.json document is malformed; the message names the field."""


# ----------------------------------------------------------------------------------------------------------------
# Monitoring config
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringConfig:
    """constraints.json's `monitoring_config`, with Model Monitor's documented defaults."""

    evaluate_constraints: bool = True
    emit_metrics: bool = True
    datatype_check_threshold: float = 0.1
    domain_content_threshold: float = 0.1
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float | None = None  # None: the comparison_threshold, as documented
    categorical_drift_method: str = "LInfinity"

    @property
    def categorical_threshold(self) -> float:
        if self.categorical_comparison_threshold is None:
            return self.comparison_threshold
        return self.categorical_comparison_threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluate_constraints": _switch_text(self.evaluate_constraints),
            "emit_metrics": _switch_text(self.emit_metrics),
            "datatype_check_threshold": self.datatype_check_threshold,
            "domain_content_threshold": self.domain_content_threshold,
            "distribution_constraints": {
                "perform_comparison": _switch_text(self.perform_comparison),
                "comparison_threshold": self.comparison_threshold,
                "comparison_method": self.comparison_method,
                "categorical_comparison_threshold": self.categorical_threshold,
                "categorical_drift_method": self.categorical_drift_method,
            },
        }

    def updated(self, document: object, where: str) -> MonitoringConfig:
        """This config with the keys present in `document` applied (a `monitoring_config` object, or a feature's
        `monitoringConfigOverrides`, whose distribution keys may be flat or under `distribution_constraints`)."""
        if document is None:
            return self
        if not isinstance(document, Mapping):
            raise BaselineError(f"{where} must be an object")
        changes: dict[str, Any] = {}
        for key in ("evaluate_constraints", "emit_metrics"):
            if key in document:
                changes[key] = _switch(document[key], f"{where}.{key}")
        for key in ("datatype_check_threshold", "domain_content_threshold"):
            if key in document:
                changes[key] = _threshold(document[key], f"{where}.{key}")
        nested = document.get("distribution_constraints")
        if nested is not None and not isinstance(nested, Mapping):
            raise BaselineError(f"{where}.distribution_constraints must be an object")
        changes.update(_distribution_changes(document, where))
        changes.update(_distribution_changes(nested or {}, f"{where}.distribution_constraints"))
        return replace(self, **changes)


def _distribution_changes(source: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "perform_comparison" in source:
        changes["perform_comparison"] = _switch(source["perform_comparison"], f"{prefix}.perform_comparison")
    for key in ("comparison_threshold", "categorical_comparison_threshold"):
        if key in source:
            changes[key] = _threshold(source[key], f"{prefix}.{key}")
    # An old copy of AWS's doc spells it "comparion_method"; read that spelling too.
    for key in ("comparion_method", "comparison_method"):
        if key in source:
            changes["comparison_method"] = _choice(source[key], _COMPARISON_METHODS, f"{prefix}.{key}")
    if "categorical_drift_method" in source:
        changes["categorical_drift_method"] = _choice(
            source["categorical_drift_method"], _CATEGORICAL_METHODS, f"{prefix}.categorical_drift_method"
        )
    return changes


def _switch_text(value: bool) -> str:
    return "Enabled" if value else "Disabled"


def _switch(value: object, where: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in _ENABLED:
        return _ENABLED[value.strip().lower()]
    raise BaselineError(f'{where} must be "Enabled" or "Disabled"')


def _threshold(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise BaselineError(f"{where} must be a non-negative number")
    return float(value)


def _choice(value: object, choices: Mapping[str, str], where: str) -> str:
    if isinstance(value, str) and value.strip().lower() in choices:
        return choices[value.strip().lower()]
    names = sorted(set(choices.values()))
    raise BaselineError(f"{where} must be one of {names}")


# ----------------------------------------------------------------------------------------------------------------
# Reading a baseline
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineFeature:
    """What the checks need of one statistics.json feature."""

    name: str
    inferred_type: str
    num_present: int | None
    edges: FloatArray | None  # numeric with a distribution: the bin edges every window partial uses
    cdf: FloatArray | None  # the baseline's CDF at `edges`
    distribution_source: str | None  # "sketch", "buckets" or None (no distribution in the baseline)
    categories: dict[str, int] | None  # String: the categorical buckets
    distinct_count: float | None


def read_statistics(document: object) -> list[BaselineFeature]:
    """The features of a statistics.json document; raises `BaselineError` naming the malformed field."""
    if not isinstance(document, Mapping):
        raise BaselineError("baseline statistics must be a JSON object")
    if "features" not in document:
        raise BaselineError("baseline statistics lack 'features'")
    features = document["features"]
    if not isinstance(features, list):
        raise BaselineError("baseline statistics 'features' must be a list")
    dataset = document.get("dataset")
    item_count = dataset.get("item_count") if isinstance(dataset, Mapping) else None
    if isinstance(item_count, bool) or not isinstance(item_count, int | float) or item_count != int(item_count):
        item_count = None  # informative only: a feature's own num_present comes first
    parsed: list[BaselineFeature] = []
    seen: set[str] = set()
    for index, entry in enumerate(features):
        where = f"features[{index}]"
        feature = _read_feature(entry, where, int(item_count) if item_count is not None else None)
        if feature.name in seen:
            raise BaselineError(f"{where}.name {feature.name!r} appears twice in the baseline statistics")
        seen.add(feature.name)
        parsed.append(feature)
    return parsed


def _read_feature(entry: object, where: str, item_count: int | None) -> BaselineFeature:
    if not isinstance(entry, Mapping):
        raise BaselineError(f"{where} must be an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise BaselineError(f"{where}.name must be a non-empty string")
    kind = entry.get("inferred_type")
    if kind not in INFERRED_TYPES:
        raise BaselineError(f"{where}.inferred_type must be one of {list(INFERRED_TYPES)}, got {kind!r}")
    if kind in NUMERIC_TYPES:
        stats = _object(entry.get("numerical_statistics"), f"{where}.numerical_statistics")
        present = _common_present(stats, f"{where}.numerical_statistics")
        edges, cdf, source, weight = _numeric_distribution(stats, f"{where}.numerical_statistics")
        n = present if present is not None else item_count if item_count is not None else weight
        return BaselineFeature(name, kind, n, edges, cdf, source, None, None)
    if kind == STRING:
        stats = _object(entry.get("string_statistics"), f"{where}.string_statistics")
        present = _common_present(stats, f"{where}.string_statistics")
        categories = _categories(stats, f"{where}.string_statistics")
        distinct = stats.get("distinct_count")
        if distinct is not None and (isinstance(distinct, bool) or not isinstance(distinct, int | float)):
            raise BaselineError(f"{where}.string_statistics.distinct_count must be a number")
        return BaselineFeature(name, kind, present, None, None, None, categories, _float_or_none(distinct))
    return BaselineFeature(name, kind, None, None, None, None, None, None)


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BaselineError(f"{where} must be an object")
    return value


def _common_present(stats: Mapping[str, Any], where: str) -> int | None:
    common = stats.get("common")
    if common is None:
        return None
    common = _object(common, f"{where}.common")
    present = common.get("num_present")
    if present is None:
        return None
    if isinstance(present, bool) or not isinstance(present, int | float) or present < 0 or present != int(present):
        raise BaselineError(f"{where}.common.num_present must be a non-negative integer")
    return int(present)


def _numeric_distribution(
    stats: Mapping[str, Any], where: str
) -> tuple[FloatArray | None, FloatArray | None, str | None, int | None]:
    """(edges, baseline CDF at the edges, source, the number of values it stands for): from the KLL sketch when it
    has items, else from the buckets.

    Sketch: the edges are the distinct item values and the CDF is exact at each for the sketch (error relative to
    the baseline data: the sketch's rank error, see `KllSketch`). Buckets (a baseline without sketch data): the
    edges are the lowest lower bound (CDF 0) and every upper bound (CDF the cumulative count); error relative to the
    baseline data up to the largest bucket's mass, since nothing is known inside a bucket.
    """
    distribution = stats.get("distribution")
    if distribution is None:
        return None, None, None, None
    kll = _object(_object(distribution, f"{where}.distribution").get("kll"), f"{where}.distribution.kll")
    sketch_doc = kll.get("sketch")
    if sketch_doc is not None:
        try:
            sketch = KllSketch.from_json(sketch_doc, f"{where}.distribution.kll.sketch")
        except SketchFormatError as error:
            raise BaselineError(str(error)) from error
        if sketch.item_count:
            values, cdf = sketch.distribution()
            return (*_extended(values, cdf), "sketch", sketch.total_weight)
    buckets = kll.get("buckets")
    if buckets is None:
        return None, None, None, None
    if not isinstance(buckets, list):
        raise BaselineError(f"{where}.distribution.kll.buckets must be a list")
    lows: list[float] = []
    highs: list[float] = []
    counts: list[float] = []
    for index, entry in enumerate(buckets):
        at = f"{where}.distribution.kll.buckets[{index}]"
        bucket = _object(entry, at)
        for key, target in (("lower_bound", lows), ("upper_bound", highs), ("count", counts)):
            value = bucket.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise BaselineError(f"{at}.{key} must be a finite number")
            target.append(float(value))
    total = sum(counts)
    if not buckets or total <= 0:
        return None, None, None, None
    order = np.argsort(highs, kind="stable")
    uppers = np.asarray(highs)[order]
    cumulative = np.cumsum(np.asarray(counts)[order]) / total
    points = np.concatenate([[min(lows)], uppers])
    cdf_points = np.concatenate([[0.0], cumulative])
    # Equal bounds (a constant column): keep the last, largest CDF of each distinct point.
    distinct, first = np.unique(points[::-1], return_index=True)
    return (*_extended(distinct, cdf_points[::-1][first]), "buckets", round(total))


def _extended(values: FloatArray, cdf: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The edges (`values` plus the extension edges) and the baseline CDF at each: 0 below, 1 above the values."""
    edges = extend_edges(values)
    index = np.searchsorted(values, edges, side="right") - 1
    return edges, np.where(index >= 0, cdf[np.maximum(index, 0)], 0.0)


def _categories(stats: Mapping[str, Any], where: str) -> dict[str, int] | None:
    distribution = stats.get("distribution")
    if distribution is None:
        return None
    categorical = _object(
        _object(distribution, f"{where}.distribution").get("categorical"), f"{where}.distribution.categorical"
    )
    buckets = categorical.get("buckets")
    if not isinstance(buckets, list):
        raise BaselineError(f"{where}.distribution.categorical.buckets must be a list")
    categories: dict[str, int] = {}
    for index, entry in enumerate(buckets):
        at = f"{where}.distribution.categorical.buckets[{index}]"
        bucket = _object(entry, at)
        value, count = bucket.get("value"), bucket.get("count")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BaselineError(f"{at}.value must be a string")
        if isinstance(count, bool) or not isinstance(count, int | float) or count < 0 or count != int(count):
            raise BaselineError(f"{at}.count must be a non-negative integer")
        categories[str(value)] = categories.get(str(value), 0) + int(count)
    return categories


@dataclass(frozen=True)
class FeatureConstraints:
    """One constraints.json feature."""

    name: str
    inferred_type: str
    completeness: float | None
    domain: frozenset[str] | None
    config: MonitoringConfig


def read_constraints(document: object) -> tuple[dict[str, FeatureConstraints], MonitoringConfig]:
    """The features (by name, each with its effective config: defaults <- monitoring_config <- its
    monitoringConfigOverrides) and the dataset-level config of a constraints.json document."""
    if not isinstance(document, Mapping):
        raise BaselineError("baseline constraints must be a JSON object")
    config = MonitoringConfig().updated(document.get("monitoring_config"), "monitoring_config")
    if "features" not in document:
        raise BaselineError("baseline constraints lack 'features'")
    features = document["features"]
    if not isinstance(features, list):
        raise BaselineError("baseline constraints 'features' must be a list")
    parsed: dict[str, FeatureConstraints] = {}
    for index, entry in enumerate(features):
        where = f"constraints features[{index}]"
        if not isinstance(entry, Mapping):
            raise BaselineError(f"{where} must be an object")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise BaselineError(f"{where}.name must be a non-empty string")
        if name in parsed:
            raise BaselineError(f"{where}.name {name!r} appears twice in the baseline constraints")
        kind = entry.get("inferred_type", UNKNOWN)
        if kind not in INFERRED_TYPES:
            raise BaselineError(f"{where}.inferred_type must be one of {list(INFERRED_TYPES)}, got {kind!r}")
        completeness = entry.get("completeness")
        if completeness is not None and (
            isinstance(completeness, bool) or not isinstance(completeness, int | float) or not 0 <= completeness <= 1
        ):
            raise BaselineError(f"{where}.completeness must be a number between 0 and 1")
        domain = None
        string_constraints = entry.get("string_constraints")
        if string_constraints is not None:
            domains = _object(string_constraints, f"{where}.string_constraints").get("domains")
            if domains is not None:
                if not isinstance(domains, list) or not all(isinstance(v, str | int | float) for v in domains):
                    raise BaselineError(f"{where}.string_constraints.domains must be a list of strings")
                domain = frozenset(str(v) for v in domains)
        overrides = config.updated(entry.get("monitoringConfigOverrides"), f"{where}.monitoringConfigOverrides")
        parsed[name] = FeatureConstraints(
            name, kind, float(completeness) if completeness is not None else None, domain, overrides
        )
    return parsed, config


# ----------------------------------------------------------------------------------------------------------------
# Values of a column
# ----------------------------------------------------------------------------------------------------------------


def _parse_number(text: str) -> float | None:
    stripped = text.strip()
    return float(stripped) if _NUMBER.fullmatch(stripped) else None


def _as_numbers(values: np.ndarray[Any, Any]) -> tuple[FloatArray, int]:
    """(floats with NaN for a missing value, number of non-null values that are not numbers). A float column is
    taken as it is; an object column's None and blank texts are missing, and texts that are not decimal numbers
    (including "nan", "inf") are counted and left out."""
    if values.dtype.kind == "f":
        return values.astype(np.float64, copy=False), 0
    if values.dtype.kind in "iub":
        return values.astype(np.float64), 0
    numbers = np.full(values.size, np.nan)
    non_numeric = 0
    for index, value in enumerate(values.tolist()):
        if value is None:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                numbers[index] = float(value)
            elif not math.isnan(value):
                non_numeric += 1
            continue
        text = str(value)
        if not text.strip():
            continue
        parsed = _parse_number(text)
        if parsed is None or not math.isfinite(parsed):
            non_numeric += 1
        else:
            numbers[index] = parsed
    return numbers, non_numeric


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _as_text_counts(values: np.ndarray[Any, Any]) -> tuple[Counter[str], int]:
    """(text -> count, missing): None, NaN and blank texts are missing; numbers are written as text."""
    if values.dtype.kind in "fiub":
        numbers = values.astype(np.float64, copy=False)
        present = numbers[~np.isnan(numbers)]
        counted = Counter(present.tolist())
        return Counter({_format_number(float(v)): c for v, c in counted.items()}), int(values.size - present.size)
    raw = Counter(values.tolist())
    counts: Counter[str] = Counter()
    missing = 0
    for value, count in raw.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing += count
        elif isinstance(value, str):
            if value.strip():
                counts[value] += count
            else:
                missing += count
        elif isinstance(value, float | int) and not isinstance(value, bool):
            counts[_format_number(float(value))] += count
        else:
            counts[str(value)] += count
    return counts, missing


def _check_dataset(dataset: Dataset) -> int:
    if len(set(dataset.columns)) != len(dataset.columns):
        raise ValueError("dataset columns must be distinct")
    lengths = set()
    for column in dataset.columns:
        if column not in dataset.data:
            raise ValueError(f"dataset column {column!r} has no data")
        array = dataset.data[column]
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise ValueError(f"dataset column {column!r} must be a one-dimensional numpy array")
        lengths.add(array.size)
    if len(lengths) > 1:
        raise ValueError(f"dataset columns have different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


# ----------------------------------------------------------------------------------------------------------------
# Baseline suggestion
# ----------------------------------------------------------------------------------------------------------------


def suggest_baseline(dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
    """statistics.json and constraints.json of `dataset`, in Model Monitor's format.

    Types: a column whose present values are all numbers (a float column, or an object column of decimal texts) is
    Integral when all of them are whole and Fractional otherwise; a column with any other text is String; a column
    with no present value is Unknown. +-inf in a float column cannot be written in JSON and is counted as missing.
    Numeric statistics are exact (population std_dev, as Deequ); the KLL sketch is `KllSketch.from_values` (rank
    error below 1 / 2048) and the 10 buckets are exact equal-width counts over [min, max]. String statistics list the
    `BASELINE_CATEGORY_BUCKETS` most frequent values. Constraints: `completeness` is `suggested_completeness`;
    numeric features get `num_constraints.is_non_negative` (min >= 0); String features with at most
    `DOMAIN_MAX_DISTINCT` distinct values get `string_constraints.domains` (sorted); `monitoring_config` holds the
    documented defaults. Raises `EmptyWindowError` for a dataset without rows.
    """
    rows = _check_dataset(dataset)
    if rows == 0:
        raise EmptyWindowError("the baseline dataset has no rows: there is nothing to suggest a baseline from")
    stat_features: list[dict[str, Any]] = []
    constraint_features: list[dict[str, Any]] = []
    for name in dataset.columns:
        statistics, constraints = _suggest_feature(name, dataset.data[name], rows)
        stat_features.append(statistics)
        constraint_features.append(constraints)
    statistics_doc = {"version": 0, "dataset": {"item_count": rows}, "features": stat_features}
    constraints_doc = {"version": 0, "features": constraint_features, "monitoring_config": MonitoringConfig().to_json()}
    return statistics_doc, constraints_doc


def suggested_completeness(present: int, rows: int) -> float:
    """The completeness constraint suggested for a feature `present` of `rows` times non-null: 1.0 for a complete
    one; otherwise the lower bound of the observed fraction's 95 % interval (p - 1.96 sqrt(p (1 - p) / n)), as
    Deequ's RetainCompletenessRule suggests, so that a window as complete as the baseline does not fail half the
    time by its sampling noise alone. Rounded down to 4 decimals."""
    if rows == 0:
        return 0.0
    p = present / rows
    if p >= 1.0:
        return 1.0
    bound = p - 1.96 * math.sqrt(p * (1 - p) / rows)
    return max(0.0, math.floor(bound * 10_000) / 10_000)


def _suggest_feature(name: str, values: np.ndarray[Any, Any], rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    numbers, non_numeric = _as_numbers(values)
    if non_numeric == 0:
        finite = numbers[np.isfinite(numbers)]
        if finite.size:
            kind = INTEGRAL if bool(np.all(finite == np.trunc(finite))) else FRACTIONAL
            statistics = _numeric_statistics(name, kind, finite, rows - finite.size)
            return statistics, {
                "name": name,
                "inferred_type": kind,
                "completeness": suggested_completeness(finite.size, rows),
                "num_constraints": {"is_non_negative": bool(finite.min() >= 0)},
                "monitoringConfigOverrides": {},
            }
    counts, missing = _as_text_counts(values)
    present = rows - missing
    if present == 0:
        statistics = {
            "name": name,
            "inferred_type": UNKNOWN,
            "string_statistics": _string_statistics(Counter(), 0, rows),
        }
        return statistics, {
            "name": name,
            "inferred_type": UNKNOWN,
            "completeness": 0.0,
            "monitoringConfigOverrides": {},
        }
    statistics = {
        "name": name,
        "inferred_type": STRING,
        "string_statistics": _string_statistics(counts, present, missing),
    }
    constraints: dict[str, Any] = {
        "name": name,
        "inferred_type": STRING,
        "completeness": suggested_completeness(present, rows),
    }
    if len(counts) <= DOMAIN_MAX_DISTINCT:
        constraints["string_constraints"] = {"domains": sorted(counts)}
    constraints["monitoringConfigOverrides"] = {}
    return statistics, constraints


def _numeric_statistics(name: str, kind: str, finite: FloatArray, missing: int) -> dict[str, Any]:
    minimum, maximum = float(finite.min()), float(finite.max())
    total = float(finite.sum())
    return {
        "name": name,
        "inferred_type": kind,
        "numerical_statistics": {
            "common": {"num_present": int(finite.size), "num_missing": int(missing)},
            "mean": total / finite.size,
            "sum": total,
            "std_dev": float(finite.std()),
            "min": minimum,
            "max": maximum,
            "distribution": {
                "kll": {
                    "buckets": equal_width_buckets(finite, np.ones(finite.size, dtype=np.int64), minimum, maximum),
                    "sketch": KllSketch.from_values(finite).to_json(),
                }
            },
        },
    }


def _string_statistics(
    counts: Mapping[str, int], present: int, missing: int, distinct: int | None = None
) -> dict[str, Any]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:BASELINE_CATEGORY_BUCKETS]
    return {
        "common": {"num_present": int(present), "num_missing": int(missing)},
        "distinct_count": float(len(counts) if distinct is None else distinct),
        "distribution": {
            "categorical": {"buckets": [{"value": value, "count": int(count)} for value, count in ranked]}
        },
    }


# ----------------------------------------------------------------------------------------------------------------
# Profile of a window
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class FeatureProfile:
    """The mergeable profile of one baseline feature in a window.

    Numeric baseline features keep a `NumericPartial` (on the baseline's edges) and `non_numeric`, the non-null
    values that are not numbers; String and Unknown ones a `CategoricalPartial` (numbers written as text) and, when a
    domain is known at profiling time, the exact count of non-null values outside it. `absent` counts the rows of
    merged partials whose slice lacked the column: they are missing values of the feature.
    """

    inferred_type: str
    absent: int = 0
    non_numeric: int = 0
    numeric: NumericPartial | None = None
    categorical: CategoricalPartial | None = None
    domain: frozenset[str] | None = None
    out_of_domain: int = 0

    @property
    def missing(self) -> int:
        inner = self.numeric.missing if self.numeric else self.categorical.missing if self.categorical else 0
        return self.absent + inner

    def non_null(self, rows: int) -> int:
        return rows - self.missing

    def merge(self, other: FeatureProfile) -> FeatureProfile:
        if self.inferred_type != other.inferred_type or self.domain != other.domain:
            raise ValueError("cannot merge feature profiles built against different baselines")
        return FeatureProfile(
            self.inferred_type,
            self.absent + other.absent,
            self.non_numeric + other.non_numeric,
            self.numeric.merge(other.numeric) if self.numeric and other.numeric else self.numeric or other.numeric,
            self.categorical.merge(other.categorical)
            if self.categorical and other.categorical
            else self.categorical or other.categorical,
            self.domain,
            self.out_of_domain + other.out_of_domain,
        )

    def with_absent_rows(self, rows: int) -> FeatureProfile:
        return replace(self, absent=self.absent + rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "inferred_type": self.inferred_type,
            "absent": self.absent,
            "non_numeric": self.non_numeric,
            "numeric": self.numeric.to_json() if self.numeric else None,
            "categorical": self.categorical.to_json() if self.categorical else None,
            "domain": sorted(self.domain) if self.domain is not None else None,
            "out_of_domain": self.out_of_domain,
        }

    @classmethod
    def from_json(cls, document: object, where: str) -> FeatureProfile:
        if not isinstance(document, Mapping):
            raise ValueError(f"{where} must be an object")
        kind = document.get("inferred_type")
        if kind not in INFERRED_TYPES:
            raise ValueError(f"{where}.inferred_type must be one of {list(INFERRED_TYPES)}")
        numeric, categorical, domain = document.get("numeric"), document.get("categorical"), document.get("domain")
        if domain is not None and (not isinstance(domain, list) or not all(isinstance(v, str) for v in domain)):
            raise ValueError(f"{where}.domain must be a list of strings or null")
        return cls(
            kind,
            _count(document.get("absent"), f"{where}.absent"),
            _count(document.get("non_numeric"), f"{where}.non_numeric"),
            NumericPartial.from_json(numeric, f"{where}.numeric") if numeric is not None else None,
            CategoricalPartial.from_json(categorical, f"{where}.categorical") if categorical is not None else None,
            frozenset(domain) if domain is not None else None,
            _count(document.get("out_of_domain"), f"{where}.out_of_domain"),
        )


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} must be a non-negative integer")
    return value


@dataclass
class Profile:
    """A window's mergeable data-quality profile against one baseline.

    `features` holds the baseline features present in the window (in baseline order); the baseline features it
    lacks are `missing_columns`; `extra_columns` are the window's columns the baseline does not have. Merging two
    profiles adds rows and merges features; a feature present on one side only counts the other side's rows as
    missing values (as a row without the field is a null in Model Monitor's dataset), and a column is missing only
    when no merged slice had it.
    """

    rows: int
    baseline: tuple[str, ...]
    features: dict[str, FeatureProfile] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        dataset: Dataset,
        baseline_statistics: Mapping[str, Any],
        constraints: Mapping[str, Any] | None = None,
        *,
        categorical_cap: int = CATEGORICAL_CAP,
    ) -> Profile:
        """The profile of `dataset` against `baseline_statistics`.

        Numeric features are binned on the baseline's edges (see `read_statistics`). For String features the values
        outside a domain are counted exactly: the domain of `constraints` when given, else the baseline's
        categorical values when the baseline counts at most `DOMAIN_MAX_DISTINCT` distinct values and lists them all
        (what `suggest_baseline` makes the domain). A check against a constraints domain that differs from the one
        used here counts from the tracked values instead (see `CategoricalPartial` for that count's bound).
        """
        rows = _check_dataset(dataset)
        features = read_statistics(baseline_statistics)
        domains: dict[str, frozenset[str] | None] = {}
        if constraints is not None:
            constrained, _ = read_constraints(constraints)
            domains = {name: feature.domain for name, feature in constrained.items()}
        names = {feature.name for feature in features}
        profile = cls(rows, tuple(feature.name for feature in features))
        for feature in features:
            if feature.name not in dataset.data or feature.name not in dataset.columns:
                continue
            domain = domains[feature.name] if feature.name in domains else _baseline_domain(feature)
            profile.features[feature.name] = _profile_feature(
                feature, dataset.data[feature.name], domain, categorical_cap
            )
        profile.extra_columns = [column for column in dataset.columns if column not in names]
        return profile

    @property
    def missing_columns(self) -> list[str]:
        return [name for name in self.baseline if name not in self.features]

    def merge(self, other: Profile) -> Profile:
        """The profile of both windows' rows. Raises ValueError for profiles of different baselines."""
        if self.baseline != other.baseline:
            raise ValueError("cannot merge profiles built against different baselines")
        features: dict[str, FeatureProfile] = {}
        for name in self.baseline:
            mine, theirs = self.features.get(name), other.features.get(name)
            if mine is not None and theirs is not None:
                features[name] = mine.merge(theirs)
            elif mine is not None:
                features[name] = mine.with_absent_rows(other.rows)
            elif theirs is not None:
                features[name] = theirs.with_absent_rows(self.rows)
        extra = list(self.extra_columns) + [c for c in other.extra_columns if c not in self.extra_columns]
        return Profile(self.rows + other.rows, self.baseline, features, extra)

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict (no NaN or infinities). Numeric features carry their edges and counts: about
        40 KB per feature with a 2,048-item baseline sketch, so a Distributed Map child writes it to S3 rather than
        returning it in the 256 KB state payload."""
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "baseline": list(self.baseline),
            "extra_columns": list(self.extra_columns),
            "features": {name: feature.to_json() for name, feature in self.features.items()},
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | str | bytes) -> Profile:
        """Read `to_json()`'s output (as a dict or as JSON text); raises ValueError naming a malformed field."""
        loaded: object = json.loads(document) if isinstance(document, str | bytes) else document
        if not isinstance(loaded, Mapping) or loaded.get("format") != PROFILE_FORMAT:
            raise ValueError(f"not a data quality profile: 'format' must be {PROFILE_FORMAT!r}")
        if loaded.get("version") != PROFILE_VERSION:
            raise ValueError(f"profile version {loaded.get('version')!r} is not {PROFILE_VERSION}")
        baseline, extra, features = loaded.get("baseline"), loaded.get("extra_columns"), loaded.get("features")
        if not isinstance(baseline, list) or not all(isinstance(n, str) for n in baseline):
            raise ValueError("profile 'baseline' must be a list of feature names")
        if not isinstance(extra, list) or not all(isinstance(n, str) for n in extra):
            raise ValueError("profile 'extra_columns' must be a list of column names")
        if not isinstance(features, Mapping) or not set(features) <= set(baseline):
            raise ValueError("profile 'features' must be an object keyed by baseline feature names")
        try:
            parsed = {
                name: FeatureProfile.from_json(features[name], f"features[{name!r}]")
                for name in baseline
                if name in features
            }
        except SketchFormatError as error:
            raise ValueError(str(error)) from error
        return cls(_count(loaded.get("rows"), "rows"), tuple(baseline), parsed, list(extra))

    def statistics(self) -> dict[str, Any]:
        """The window's statistics.json in Model Monitor's format, for the baseline features present in the window.

        Numeric: counts, sum, min and max exact; mean and std_dev (population) from the merged moments; the KLL
        sketch and buckets come from the histogram on the baseline's edges (`NumericPartial.sketch` and `.buckets`
        state their error). num_present counts the numbers, num_missing the nulls (and rows without the column);
        non-numeric texts are in neither (they are data type mismatches). inferred_type is the window's own
        (Integral when every number is whole). String: num_present, the tracked values as buckets (most frequent
        first) and distinct_count, a lower bound when more than the cap of distinct values were seen.
        """
        features = []
        for name in self.baseline:
            feature = self.features.get(name)
            if feature is None:
                continue
            if feature.numeric is not None:
                features.append(_numeric_window_statistics(name, feature))
            elif feature.categorical is not None:
                partial = feature.categorical
                kind = STRING if partial.present or feature.inferred_type == STRING else UNKNOWN
                string = _string_statistics(
                    partial.counts, partial.present, feature.missing, partial.distinct_bounds()[0]
                )
                features.append({"name": name, "inferred_type": kind, "string_statistics": string})
        return {"version": 0, "dataset": {"item_count": self.rows}, "features": features}


def _baseline_domain(feature: BaselineFeature) -> frozenset[str] | None:
    if feature.categories is None or feature.distinct_count is None:
        return None
    if feature.distinct_count > DOMAIN_MAX_DISTINCT or len(feature.categories) < feature.distinct_count:
        return None
    return frozenset(feature.categories)


def _profile_feature(
    feature: BaselineFeature, values: np.ndarray[Any, Any], domain: frozenset[str] | None, cap: int
) -> FeatureProfile:
    if feature.inferred_type in NUMERIC_TYPES:
        numbers, non_numeric = _as_numbers(values)
        edges = feature.edges if feature.edges is not None else np.zeros(0)
        partial = NumericPartial.of(numbers, edges)
        partial.missing -= non_numeric  # their NaN placeholders are not nulls
        return FeatureProfile(feature.inferred_type, non_numeric=non_numeric, numeric=partial)
    counts, missing = _as_text_counts(values)
    out_of_domain = sum(c for v, c in counts.items() if v not in domain) if domain is not None else 0
    categorical = CategoricalPartial.from_counts(counts, missing, cap)
    return FeatureProfile(feature.inferred_type, categorical=categorical, domain=domain, out_of_domain=out_of_domain)


def _numeric_window_statistics(name: str, feature: FeatureProfile) -> dict[str, Any]:
    partial = feature.numeric
    assert partial is not None
    if partial.count:
        kind = INTEGRAL if partial.whole == partial.count else FRACTIONAL
        minimum, maximum = partial.minimum, partial.maximum
    else:
        kind, minimum, maximum = feature.inferred_type, 0.0, 0.0
    return {
        "name": name,
        "inferred_type": kind,
        "numerical_statistics": {
            "common": {"num_present": partial.count, "num_missing": feature.missing},
            "mean": partial.mean,
            "sum": partial.total,
            "std_dev": partial.std_dev,
            "min": minimum,
            "max": maximum,
            "distribution": {"kll": {"buckets": partial.buckets(), "sketch": partial.sketch().to_json()}},
        },
    }


# ----------------------------------------------------------------------------------------------------------------
# Statistics of the checks
# ----------------------------------------------------------------------------------------------------------------


def ks_critical_distance(n: int, m: int, alpha: float = ALPHA) -> float:
    """The two-sample Kolmogorov-Smirnov critical distance c(alpha) * sqrt((n + m) / (n * m)), c(alpha) =
    sqrt(-ln(alpha / 2) / 2) (1.358 at alpha 0.05): the large-sample rejection bound for samples of n and m values."""
    if n <= 0 or m <= 0:
        return math.inf
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def chi_squared_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for X chi-squared with `dof` degrees of freedom: the regularized upper incomplete gamma
    Q(dof / 2, statistic / 2), by its series (x < a + 1) or Lentz's continued fraction (otherwise), to ~1e-14."""
    if dof <= 0:
        raise ValueError("degrees of freedom must be positive")
    return _gamma_q(dof / 2.0, statistic / 2.0)


def _gamma_q(a: float, x: float) -> float:
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(100_000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return min(1.0, max(0.0, 1.0 - total * math.exp(log_prefix)))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return min(1.0, max(0.0, math.exp(log_prefix) * h))


@dataclass(frozen=True)
class Drift:
    """The outcome of one drift comparison."""

    distance: float
    violated: bool
    description: str


def numeric_drift(
    baseline_cdf: FloatArray, window: NumericPartial, baseline_count: int | None, config: MonitoringConfig
) -> Drift:
    """L-infinity distance between the baseline's CDF and the window's, on the baseline's edges.

    distance = max over the edges of |F_baseline(e) - F_window(e)|, F_baseline from the baseline's KLL sketch (or
    buckets) and F_window exact at the edges from the window's histogram. Error: the true supremum of |F_sketch -
    F_window| over all x exceeds `distance` by at most the window's largest single-bin mass
    (`NumericPartial.largest_bin_mass`); relative to the exact two-sample distance between the baseline's data and
    the window's, add the sketch's rank error (`KllSketch`).

    comparison_method "Simple": violation when distance > comparison_threshold. "Robust" (our reading of AWS's
    "adjusts for small sample sizes, following the two-sample KS test"): violation when distance >
    comparison_threshold AND the two-sample Kolmogorov-Smirnov test rejects equality at alpha 0.05, i.e. distance >
    c(alpha) * sqrt((n + m) / (n * m)), c(alpha) = sqrt(-ln(alpha / 2) / 2), with n the baseline feature's item
    count (numerical_statistics.common.num_present, else dataset.item_count, else the sketch's total weight) and m
    the window's count of numbers.
    """
    distance = cdf_distance_on_edges(baseline_cdf, window.cdf_at_edges())
    threshold = config.comparison_threshold
    description = f"Baseline drift distance: {distance:.6g} exceeds threshold: {threshold:g}"
    if config.comparison_method == "Simple":
        return Drift(distance, distance > threshold, description)
    n = baseline_count if baseline_count else 0
    critical = ks_critical_distance(n, window.count)
    violated = distance > threshold and distance > critical
    description += (
        f" and the two-sample KS critical distance: {critical:.6g} (alpha {ALPHA:g}, n={n}, m={window.count})"
    )
    return Drift(distance, violated, description)


def categorical_drift(
    baseline: Mapping[str, int], baseline_present: int | None, window: CategoricalPartial, config: MonitoringConfig
) -> Drift | None:
    """Distance between the baseline's category proportions and the window's; None when there is nothing to compare.

    Baseline proportions: bucket count / num_present (the sum of the buckets when num_present is absent or smaller).
    "LInfinity": distance = max over the values of either side of |p_baseline(v) - p_window(v)|, the window's
    untracked values (over `CategoricalPartial.cap`) counted as one further value; error at most untracked / present.
    Violation when distance > categorical_comparison_threshold.
    "ChiSquared": Pearson's chi-squared goodness-of-fit test of the window's counts of the baseline's values (values
    the baseline lacks are left out: they are the business of categorical_values_check) against the baseline's
    proportions renormalised to those values, K - 1 degrees of freedom for K values with a positive baseline count;
    the reported distance is the p-value (`chi_squared_sf`) and the violation is p < alpha = 0.05;
    categorical_comparison_threshold is not used by this method. No test (None) with fewer than two values or no
    window count among them.
    """
    baseline_total = max(sum(baseline.values()), baseline_present or 0)
    present = window.present
    if baseline_total == 0 or present == 0:
        return None
    if config.categorical_drift_method == "LInfinity":
        threshold = config.categorical_threshold
        values = set(baseline) | set(window.counts)
        distance = max(abs(baseline.get(v, 0) / baseline_total - window.counts.get(v, 0) / present) for v in values)
        distance = max(distance, window.untracked / present)
        return Drift(
            distance, distance > threshold, f"Baseline drift distance: {distance:.6g} exceeds threshold: {threshold:g}"
        )
    categories = [v for v, c in baseline.items() if c > 0]
    observed = np.array([window.counts.get(v, 0) for v in categories], dtype=np.float64)
    if len(categories) < 2 or observed.sum() == 0:
        return None
    proportions = np.array([baseline[v] for v in categories], dtype=np.float64)
    expected = observed.sum() * proportions / proportions.sum()
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    dof = len(categories) - 1
    p_value = chi_squared_sf(statistic, dof)
    description = (
        f"Baseline drift chi-squared p-value: {p_value:.6g} is below alpha: {ALPHA:g}"
        f" (statistic {statistic:.6g}, {dof} degrees of freedom)"
    )
    return Drift(p_value, p_value < ALPHA, description)


def _mismatched(feature: FeatureProfile, expected: str) -> int:
    """Non-null values whose type does not match `expected` (see the module docstring)."""
    if expected not in NUMERIC_TYPES:
        return 0
    if feature.numeric is not None:
        partial = feature.numeric
        fractional = partial.count - partial.whole if expected == INTEGRAL else 0
        return feature.non_numeric + partial.non_finite + fractional
    if feature.categorical is None:
        return 0
    # A String baseline feature constrained as numeric: parse the tracked values (untracked ones count as matching,
    # so this is a lower bound when the partial went over its cap).
    mismatched = 0
    for text, count in feature.categorical.counts.items():
        number = _parse_number(text)
        if number is None or not math.isfinite(number) or (expected == INTEGRAL and not number.is_integer()):
            mismatched += count
    return mismatched


def _percent(value: float) -> str:
    return f"{100 * value:.4g}%"


# ----------------------------------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------------------------------


def check(
    profile: Profile, baseline_statistics: Mapping[str, Any], constraints: Mapping[str, Any]
) -> list[dict[str, str]]:
    """The violations of a window's profile against a baseline, as constraint_violations.json's `violations` entries
    (`{"feature_name", "constraint_check_type", "description"}`), per baseline feature in baseline order (missing
    column, data type, completeness, categorical values, drift), then the extra columns.

    Honours `monitoring_config` and each feature's `monitoringConfigOverrides` (the same keys, the distribution ones
    flat or under `distribution_constraints`): evaluate_constraints Disabled gives no violation (for a feature,
    none for that feature); perform_comparison Disabled, no drift check; the thresholds and methods as documented
    in `numeric_drift` and `categorical_drift`. Raises `EmptyWindowError` for a window without rows (when
    constraints are evaluated), `BaselineError` for a malformed baseline or one the profile was not built on, or
    when a drift check is asked of a feature whose baseline has no distribution.
    """
    features = read_statistics(baseline_statistics)
    constrained, config = read_constraints(constraints)
    names = [feature.name for feature in features]
    unknown = [name for name in constrained if name not in set(names)]
    if unknown:
        raise BaselineError(f"constraints features {unknown} are not in the baseline statistics")
    if not config.evaluate_constraints:
        return []
    if tuple(names) != profile.baseline:
        raise BaselineError(
            f"the profile was built against baseline features {list(profile.baseline)}, not these statistics' {names}"
        )
    if profile.rows == 0:
        raise EmptyWindowError(
            "the window has no rows: there is nothing to judge (this is not the same as no violations)"
        )
    violations: list[dict[str, str]] = []
    for feature in features:
        constraint = constrained.get(feature.name)
        feature_config = constraint.config if constraint else config
        if not feature_config.evaluate_constraints:
            continue
        observed = profile.features.get(feature.name)
        if observed is None:
            violations.append(
                _violation(
                    feature.name,
                    MISSING_COLUMN_CHECK,
                    f"Column {feature.name!r} of the baseline is missing from the current dataset (current columns: "
                    f"{len(profile.features) + len(profile.extra_columns)}, baseline columns: {len(names)})",
                )
            )
            continue
        violations.extend(_feature_violations(feature, constraint, observed, profile.rows, feature_config))
    for column in profile.extra_columns:
        violations.append(
            _violation(
                column,
                EXTRA_COLUMN_CHECK,
                f"Column {column!r} of the current dataset is not in the baseline (current columns: "
                f"{len(profile.features) + len(profile.extra_columns)}, baseline columns: {len(names)})",
            )
        )
    return violations


def _violation(feature: str, check_type: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check_type, "description": description}


def _feature_violations(
    feature: BaselineFeature,
    constraint: FeatureConstraints | None,
    observed: FeatureProfile,
    rows: int,
    config: MonitoringConfig,
) -> Iterable[dict[str, str]]:
    name = feature.name
    non_null = observed.non_null(rows)
    expected = constraint.inferred_type if constraint else feature.inferred_type
    if non_null > 0 and expected in NUMERIC_TYPES:
        mismatched = _mismatched(observed, expected)
        if mismatched / non_null > config.datatype_check_threshold:
            yield _violation(
                name,
                DATA_TYPE_CHECK,
                f"Data type match requirement is not met. Expected data type: {expected}, Expected match: "
                f"{_percent(1 - config.datatype_check_threshold)}. Observed: Only "
                f"{_percent((non_null - mismatched) / non_null)} of data is {expected}.",
            )
    if constraint is not None and constraint.completeness is not None:
        completeness = non_null / rows
        if completeness < constraint.completeness:
            yield _violation(
                name,
                COMPLETENESS_CHECK,
                f"Data completeness requirement is not met. Expected: {_percent(constraint.completeness)} complete. "
                f"Observed: Only {_percent(completeness)} of data is complete ({rows - non_null} of {rows} missing).",
            )
    if constraint is not None and constraint.domain is not None and observed.categorical is not None and non_null:
        if observed.domain == constraint.domain:
            outside, bound = observed.out_of_domain, ""
        else:
            outside = sum(c for v, c in observed.categorical.counts.items() if v not in constraint.domain)
            bound = "at least " if observed.categorical.truncated else ""
        if outside / non_null > config.domain_content_threshold:
            yield _violation(
                name,
                CATEGORICAL_VALUES_CHECK,
                f"Data domain requirement is not met. Expected: at most {_percent(config.domain_content_threshold)} "
                f"of values outside the baseline domain. Observed: {bound}{_percent(outside / non_null)} "
                f"({bound}{outside} of {non_null}).",
            )
    if not config.perform_comparison:
        return
    drift = _drift(feature, observed, config)
    if drift is not None and drift.violated:
        yield _violation(name, BASELINE_DRIFT_CHECK, drift.description)


def _drift(feature: BaselineFeature, observed: FeatureProfile, config: MonitoringConfig) -> Drift | None:
    if feature.inferred_type in NUMERIC_TYPES:
        partial = observed.numeric
        if partial is None or partial.count == 0:
            return None
        if feature.edges is None or feature.cdf is None:
            if feature.num_present == 0:
                return None
            raise BaselineError(
                f"feature {feature.name!r} has no numerical_statistics.distribution.kll sketch data or buckets to "
                "compare a window with (set perform_comparison to Disabled to skip the drift check)"
            )
        if not np.array_equal(feature.edges, partial.edges):
            raise BaselineError(f"the profile of feature {feature.name!r} was binned on another baseline's edges")
        return numeric_drift(feature.cdf, partial, feature.num_present, config)
    if feature.inferred_type == STRING and observed.categorical is not None:
        if feature.categories is None:
            raise BaselineError(
                f"feature {feature.name!r} has no string_statistics.distribution.categorical buckets to compare a "
                "window with (set perform_comparison to Disabled to skip the drift check)"
            )
        return categorical_drift(feature.categories, feature.num_present, observed.categorical, config)
    return None
