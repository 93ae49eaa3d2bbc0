"""Mergeable partials and the KLL sketch form: exact merges, stated errors, JSON round trips."""

from __future__ import annotations

import json
import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollouts_monitor.sketch import (
    CategoricalPartial,
    KllSketch,
    NumericPartial,
    SketchFormatError,
    cdf_distance_on_edges,
    equal_width_buckets,
    extend_edges,
)

SMALL_FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Values on a coarse grid, so that ties between and within samples are common.
GRID = st.integers(min_value=-20, max_value=20).map(lambda i: i / 4)
EXAMPLES = settings(max_examples=60, deadline=None)


def _ecdf(sample: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Exact empirical CDF by brute force: the fraction of the sample at or below each point."""
    return np.array([np.count_nonzero(sample <= p) for p in points]) / sample.size


def _sup_distance(cdf_a, cdf_b, jumps: np.ndarray) -> float:
    """sup_x |A(x) - B(x)| for two right-continuous step CDFs that jump only at `jumps`: they are constant between
    consecutive jumps, so the jumps, the midpoints between them and one point below all of them cover every value."""
    points = np.unique(jumps)
    probes = np.concatenate([[points[0] - 1], points, (points[1:] + points[:-1]) / 2])
    return float(np.max(np.abs(cdf_a(probes) - cdf_b(probes))))


def _level(n: int, k: int) -> int:
    h = 0
    while n > k * 2**h:
        h += 1
    return h


# ----------------------------------------------------------------------------------------------------------------
# KLL sketch form
# ----------------------------------------------------------------------------------------------------------------


@EXAMPLES
@given(st.lists(SMALL_FLOATS, min_size=1, max_size=300), st.sampled_from([1, 2, 4, 8, 16, 64]))
def test_sketch_from_values_weighs_n_and_keeps_rank_error_below_half_a_block(values, k):
    data = np.array(values)
    sketch = KllSketch.from_values(data, k=k)
    h = _level(data.size, k)
    assert sketch.total_weight == data.size
    assert sketch.item_count <= k + h
    assert all(level.size == 0 for level in sketch.levels[h + 1 :])
    bound = (2 ** (h - 1) if h else 0) / data.size
    error = _sup_distance(sketch.cdf, lambda p: _ecdf(data, p), data)
    assert error <= bound + 1e-12
    assert error < 1 / k or h == 0


def test_sketch_of_at_most_k_values_is_exact():
    data = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    sketch = KllSketch.from_values(data, k=8)
    assert len(sketch.levels) == 1
    assert sorted(sketch.levels[0].tolist()) == [1.0, 2.0, 2.0, 3.0, 5.0]
    np.testing.assert_array_equal(sketch.cdf([0.0, 1.0, 2.0, 4.0, 5.0]), [0.0, 0.2, 0.6, 0.8, 1.0])


def test_sketch_levels_weigh_powers_of_two():
    # Deequ's form: level h's items weigh 2^h. Weights 1, 1, 2, 4 -> total 8.
    sketch = KllSketch.from_json({"parameters": {"c": 0.64, "k": 2048.0}, "data": [[1.0, 2.0], [3.0], [4.0]]})
    assert sketch.total_weight == 8
    np.testing.assert_allclose(sketch.cdf([0.5, 1.0, 2.0, 3.0, 4.0]), [0.0, 1 / 8, 2 / 8, 4 / 8, 1.0])
    assert sketch.quantile(0.5) == 3.0
    assert sketch.k == 2048.0
    assert sketch.c == 0.64


def test_sketch_built_at_level_h_has_empty_lower_levels_and_round_trips_through_json():
    data = np.arange(1000, dtype=float)
    sketch = KllSketch.from_values(data, k=100)  # 1000 / 2^4 = 62.5 <= 100 -> h = 4, 62 blocks of 16, tail 8
    assert [level.size for level in sketch.levels] == [0, 0, 0, 1, 62]
    document = json.loads(json.dumps(sketch.to_json(), allow_nan=False))
    assert document["parameters"] == {"c": 0.64, "k": 100.0}
    again = KllSketch.from_json(document)
    assert again.total_weight == 1000
    for mine, theirs in zip(sketch.levels, again.levels, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_weighted_sketch_equals_sketch_of_the_repeated_values():
    values, weights = np.array([1.0, 2.5, 7.0]), np.array([5, 0, 300])
    expanded = np.repeat(values, weights)
    for mine, theirs in zip(
        KllSketch.from_weighted(values, weights, k=16).levels, KllSketch.from_values(expanded, k=16).levels, strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)


def test_empty_sketch():
    sketch = KllSketch.from_values(np.array([np.nan]))
    assert sketch.total_weight == 0
    assert sketch.cdf([1.0]).tolist() == [0.0]
    assert math.isnan(sketch.quantile(0.5))


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"data": "x"}, "sketch.data"),
        ({"data": [[1.0], "x"]}, "sketch.data[1]"),
        ({"data": [[1.0, "2"]]}, "sketch.data[0]"),
        ({"data": [[True]]}, "sketch.data[0]"),
        ({"parameters": {"k": "big"}, "data": []}, "sketch.parameters.k"),
        ([], "sketch"),
    ],
)
def test_malformed_sketch_names_the_field(document, field):
    with pytest.raises(SketchFormatError, match=field.replace("[", r"\[").replace("]", r"\]")):
        KllSketch.from_json(document)


# ----------------------------------------------------------------------------------------------------------------
# Numeric partial
# ----------------------------------------------------------------------------------------------------------------


def test_histogram_counts_values_in_each_half_open_bin():
    edges = np.array([0.0, 1.0, 2.0])
    values = np.array([-5.0, 0.0, 0.5, 1.0, 1.0, 1.5, 2.0, 2.5, np.nan, np.inf, -np.inf, 7.0])
    partial = NumericPartial.of(values, edges)
    # bins: (-inf, 0], (0, 1], (1, 2], (2, inf)
    assert partial.counts.tolist() == [2, 3, 2, 2]
    assert (partial.count, partial.missing, partial.non_finite) == (9, 1, 2)
    assert partial.whole == 6  # -5, 0, 1, 1, 2, 7
    finite = values[np.isfinite(values)]
    assert partial.whole == np.count_nonzero(finite == np.trunc(finite))
    assert partial.total == pytest.approx(finite.sum())
    assert partial.mean == pytest.approx(finite.mean())
    assert partial.variance == pytest.approx(finite.var())
    assert (partial.minimum, partial.maximum) == (-5.0, 7.0)
    np.testing.assert_allclose(partial.cdf_at_edges(), [2 / 9, 5 / 9, 7 / 9])


@EXAMPLES
@given(
    st.lists(st.one_of(SMALL_FLOATS, st.just(math.nan)), min_size=0, max_size=400),
    st.lists(st.integers(min_value=0, max_value=400), max_size=4),
    st.lists(SMALL_FLOATS, min_size=0, max_size=20, unique=True),
)
def test_merge_of_any_split_equals_the_one_pass_partial(values, cuts, edge_values):
    data = np.array(values, dtype=float)
    edges = np.sort(np.array(edge_values, dtype=float))
    whole = NumericPartial.of(data, edges)
    bounds = sorted({0, data.size, *(min(c, data.size) for c in cuts)})
    parts = [NumericPartial.of(data[a:b], edges) for a, b in pairwise(bounds)]
    merged = parts[0] if parts else NumericPartial.empty(edges)
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.counts.tolist() == whole.counts.tolist()
    assert (merged.count, merged.missing, merged.non_finite, merged.whole) == (
        whole.count,
        whole.missing,
        whole.non_finite,
        whole.whole,
    )
    assert (merged.minimum, merged.maximum) == (whole.minimum, whole.maximum)
    # The stated rounding bound: |merged - one pass| <= 4 n eps sum|x|.
    finite = data[np.isfinite(data)]
    scale = 4 * max(finite.size, 1) * 2.0**-53 * float(np.abs(finite).sum())
    assert abs(merged.total - whole.total) <= scale + 1e-300
    assert abs(merged.mean - whole.mean) <= scale / max(finite.size, 1) + 1e-300
    assert merged.variance == pytest.approx(whole.variance, rel=1e-9, abs=1e-9 * (1 + whole.variance))


def test_merge_rejects_different_edges():
    with pytest.raises(ValueError, match="different edges"):
        NumericPartial.of([1.0], [0.0]).merge(NumericPartial.of([1.0], [0.5]))


def test_numeric_partial_round_trips_through_json():
    partial = NumericPartial.of(np.array([0.1, 2.0, np.nan, 3.5, np.inf]), [0.0, 1.0, 3.0])
    document = json.loads(json.dumps(partial.to_json(), allow_nan=False))
    again = NumericPartial.from_json(document)
    assert again.to_json() == partial.to_json()
    empty = NumericPartial.empty([0.0, 1.0])
    assert (
        NumericPartial.from_json(json.loads(json.dumps(empty.to_json(), allow_nan=False))).to_json() == empty.to_json()
    )


def test_numeric_partial_from_json_names_a_bad_field():
    document = NumericPartial.of(np.array([1.0, 2.0]), [1.5]).to_json()
    document["counts"] = [1, 5]
    with pytest.raises(SketchFormatError, match=r"numeric.counts must add up"):
        NumericPartial.from_json(document)
    with pytest.raises(SketchFormatError, match="strictly increasing"):
        NumericPartial.empty([1.0, 1.0])


@EXAMPLES
@given(
    st.lists(GRID | SMALL_FLOATS.map(lambda x: x / 1e5), min_size=1, max_size=120),
    st.lists(GRID | SMALL_FLOATS.map(lambda x: x / 1e5), min_size=1, max_size=120),
    st.sampled_from([4, 16, 2048]),
)
def test_distance_on_edges_is_within_the_stated_error_of_the_exact_ks_distance(baseline, window, k):
    base, win = np.array(baseline), np.array(window)
    sketch = KllSketch.from_values(base, k=k)
    items, item_cdf = sketch.distribution()
    edges = extend_edges(items)
    baseline_cdf = sketch.cdf(edges)
    partial = NumericPartial.of(win, edges)
    distance = cdf_distance_on_edges(baseline_cdf, partial.cdf_at_edges())
    bin_mass = partial.largest_bin_mass()
    # Against the sketch's CDF: 0 <= sup - distance <= the window's largest bin mass.
    sup_sketch = _sup_distance(sketch.cdf, lambda p: _ecdf(win, p), np.concatenate([items, win]))
    assert distance <= sup_sketch + 1e-12
    assert sup_sketch <= distance + bin_mass + 1e-12
    # Against the exact two-sample KS distance: add the sketch's rank error 2^(h-1) / n.
    h = _level(base.size, k)
    rank_error = (2 ** (h - 1) if h else 0) / base.size
    exact = _sup_distance(lambda p: _ecdf(base, p), lambda p: _ecdf(win, p), np.concatenate([base, win]))
    assert distance - rank_error - 1e-12 <= exact <= distance + bin_mass + rank_error + 1e-12
    np.testing.assert_allclose(item_cdf, sketch.cdf(items))


def test_window_on_the_baseline_support_gives_the_exact_ks_distance():
    # Every window value is an edge: the window's CDF jumps only at edges, so the distance is exact.
    base = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0])
    win = np.array([4.0, 5.0, 5.0, 1.0])
    sketch = KllSketch.from_values(base)
    edges = extend_edges(sketch.distribution()[0])
    distance = cdf_distance_on_edges(sketch.cdf(edges), NumericPartial.of(win, edges).cdf_at_edges())
    exact = max(abs(np.mean(base <= z) - np.mean(win <= z)) for z in np.concatenate([base, win]))
    assert distance == pytest.approx(exact)
    assert distance == pytest.approx(0.375)  # at 4: 7/8 of the baseline, 2/4 of the window


def test_extension_edges_surround_the_core():
    # span 2: offsets 2 * 2^-4 ... 2 * 2^-1 below 1 and above 3
    edges = extend_edges([1.0, 2.0, 3.0], steps=4)
    assert edges.tolist() == [0.0, 0.5, 0.75, 0.875, 1.0, 2.0, 3.0, 3.125, 3.25, 3.5, 4.0]
    wide = extend_edges([1e300, 1.5e308])  # offsets that overflow are dropped
    assert np.isfinite(wide).all()
    assert np.all(np.diff(wide) > 0)
    assert extend_edges([]).size == 0
    constant = extend_edges([5.0], steps=2)  # range 0: span max(|5|, 1) = 5
    assert constant.tolist() == [5 - 5 / 8, 5 - 5 / 16, 5.0, 5 + 5 / 16, 5 + 5 / 8]


def test_window_sketch_and_buckets_from_the_histogram_are_exact_at_the_edges():
    rng = np.random.default_rng(3)
    edges = np.linspace(-2, 2, 41)
    values = rng.normal(size=5000)
    partial = NumericPartial.of(values, edges)
    sketch = partial.sketch(k=10_000)  # k above n: the sketch keeps every representative
    np.testing.assert_allclose(sketch.cdf(edges), _ecdf(values, edges))
    assert sketch.total_weight == values.size
    assert sketch.quantile(0.0) == values.min()
    assert sketch.quantile(1.0) == values.max()
    buckets = partial.buckets()
    exact, bounds = np.histogram(values, bins=10, range=(values.min(), values.max()))
    assert [b["lower_bound"] for b in buckets] == pytest.approx(bounds[:-1].tolist())
    assert sum(b["count"] for b in buckets) == values.size
    # Each bucket errs by at most the two histogram bins at its boundaries.
    two_bins = 2 * int(partial.counts.max())
    assert all(abs(b["count"] - e) <= two_bins for b, e in zip(buckets, exact, strict=True))


def test_equal_width_buckets_of_raw_values_are_numpys_histogram():
    values = np.array([0.0, 0.1, 0.5, 0.99, 1.0, 0.3])
    buckets = equal_width_buckets(values, np.ones(values.size, dtype=np.int64), 0.0, 1.0, 4)
    assert [b["count"] for b in buckets] == np.histogram(values, bins=4, range=(0, 1))[0].tolist()
    assert all(isinstance(b["count"], int) for b in buckets)
    assert equal_width_buckets(np.array([2.0, 2.0]), np.array([1, 1]), 2.0, 2.0) == [
        {"lower_bound": 2.0, "upper_bound": 2.0, "count": 2}
    ]


# ----------------------------------------------------------------------------------------------------------------
# Categorical partial
# ----------------------------------------------------------------------------------------------------------------


@EXAMPLES
@given(
    st.lists(st.one_of(st.none(), st.sampled_from("abcdefghij")), max_size=200),
    st.lists(st.integers(min_value=0, max_value=200), max_size=4),
    st.integers(min_value=1, max_value=12),
)
def test_categorical_merge_keeps_the_stated_bounds_over_the_cap(values, cuts, cap):
    bounds = sorted({0, len(values), *(min(c, len(values)) for c in cuts)})
    parts = [CategoricalPartial.of(values[a:b], cap) for a, b in pairwise(bounds)]
    merged = parts[0] if parts else CategoricalPartial(cap=cap)
    for part in parts[1:]:
        merged = merged.merge(part)
    truth = {v: values.count(v) for v in set(values) - {None}}
    assert merged.missing == values.count(None)
    assert merged.present == sum(truth.values())
    assert len(merged.counts) <= cap
    for value, count in truth.items():
        assert merged.counts.get(value, 0) <= count <= merged.counts.get(value, 0) + merged.untracked
    low, high = merged.distinct_bounds()
    assert low <= len(truth) <= high
    if len(truth) <= cap:
        assert merged.counts == truth
        assert not merged.truncated


def test_categorical_partial_round_trips_through_json():
    partial = CategoricalPartial.of(["a", "b", "a", None, "c"], cap=2)
    assert partial.counts == {"a": 2, "b": 1}
    assert partial.untracked == 1
    again = CategoricalPartial.from_json(json.loads(json.dumps(partial.to_json())))
    assert again == partial
    with pytest.raises(SketchFormatError, match=r"categorical.counts\['a'\]"):
        CategoricalPartial.from_json({"counts": {"a": -1}, "missing": 0, "untracked": 0})
