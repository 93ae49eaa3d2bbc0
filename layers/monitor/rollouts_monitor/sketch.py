"""Mergeable partial statistics of one column, and Model Monitor's KLL sketch form; each with its stated error.

A *partial* summarises one slice of a column (one capture file, one Distributed Map child) so that the partials of
the slices merge into the partial of the whole:

- `NumericPartial`: counts of present, missing (NaN) and non-finite values, the count of whole numbers, the sum, a
  mergeable variance (Chan, Golub & LeVeque's parallel update of mean and M2), min, max, and a histogram of counts on
  FIXED edges given from outside (the baseline's), so that integer counts simply add. Counts, min and max merge
  exactly; the sum, mean and M2 are floats whose merged value differs from a one-pass value by rounding only (bound
  in `NumericPartial.merge`).
- `CategoricalPartial`: value -> count, tracking at most `cap` distinct values (what happens over the cap is stated
  in the class).
- `KllSketch`: the `{"parameters": {"c": 0.64, "k": 2048.0}, "data": [[level 0], [level 1], ...]}` form Model
  Monitor writes in statistics.json (Deequ's KLL: an item of level h weighs 2^h). We write a valid sketch of a
  column's values (deterministic, not a randomised compaction) and read any sketch as a weighted CDF.

Every partial has `to_json()` (a JSON-compatible dict: `json.dumps` of it is valid JSON, no NaN or infinities) and
`from_json()`, because partials travel between Step Functions Distributed Map children and a merge step.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

KLL_K = 2048  # Deequ's default sketch size, as Model Monitor writes it ("k": 2048.0)
KLL_C = 0.64  # Deequ's default shrinking factor ("c": 0.64)
BLOCK = 65_536  # values sorted at once when binning (as numpy's own histogram does): 512 KB, fits in cache
EXTENSION_STEPS = 32  # extra edges on each side of the baseline's range, at span * 2^-4 ... span * 2^27
CATEGORICAL_CAP = 10_000  # distinct values a CategoricalPartial tracks by default


class SketchFormatError(ValueError):
    """A sketch or partial document does not have the expected shape; the message names the field."""


# ----------------------------------------------------------------------------------------------------------------
# KLL sketch form
# ----------------------------------------------------------------------------------------------------------------


def _level_for(n: int, k: int) -> int:
    """The smallest h with n / 2^h <= k."""
    h = 0
    while n > k << h:
        h += 1
    return h


def _positions(n: int, k: int) -> tuple[list[IntArray], int]:
    """Ranks (0-based, in sorted order) of the items kept per level, and the top level h.

    The sorted values are cut into consecutive blocks: floor(n / 2^h) blocks of 2^h values (level h), then the
    remaining n mod 2^h values in blocks of the powers of two of that remainder's binary digits (levels < h). Each
    block is represented by its middle value (rank offset 2^l // 2), so the item weights sum to exactly n.
    """
    h = _level_for(n, k)
    size = 1 << h
    full = n >> h
    levels: list[IntArray] = [np.zeros(0, dtype=np.int64) for _ in range(h + 1)]
    levels[h] = np.arange(full, dtype=np.int64) * size + size // 2
    start, remainder = full * size, n - full * size
    for level in range(h - 1, -1, -1):
        block = 1 << level
        if remainder & block:
            levels[level] = np.array([start + block // 2], dtype=np.int64)
            start += block
    return levels, h


@dataclass(frozen=True)
class KllSketch:
    """A quantile sketch in Deequ's KLL form: `levels[h]` holds items that each stand for 2^h values.

    Error of a sketch built here (`from_values`, `from_weighted`): the sorted values are cut into consecutive blocks
    of 2^h values (h the smallest with n / 2^h <= k) plus a tail of smaller power-of-two blocks, each block kept as
    its middle value. For any x the sketch's rank (weight of items <= x) differs from the true rank by at most half a
    block, so the CDF error is at most 2^(h-1) / n, which is below 1 / k (0.00049 at k = 2048); with n <= k every
    value is kept at level 0 and the sketch is exact. A sketch read from Model Monitor was compacted by Deequ's
    randomised KLL: its error is KLL's probabilistic O(1/k) rank error (Karnin, Lang & Liberty 2016), whose constant
    for AWS's implementation we do not know; take a few / k (about 0.001 to 0.002 at k = 2048) as its order.
    """

    levels: tuple[FloatArray, ...]
    k: float = float(KLL_K)
    c: float = KLL_C

    @classmethod
    def from_values(cls, values: npt.ArrayLike, k: int = KLL_K, c: float = KLL_C) -> KllSketch:
        """The sketch of the finite values among `values` (NaN and infinities are ignored). Sorts them: O(n log n)."""
        array = np.asarray(values, dtype=np.float64).ravel()
        ordered = np.sort(array[np.isfinite(array)])
        positions, _ = _positions(ordered.size, k)
        return cls(tuple(ordered[p] for p in positions), float(k), c)

    @classmethod
    def from_weighted(
        cls, values: npt.ArrayLike, weights: npt.ArrayLike, k: int = KLL_K, c: float = KLL_C
    ) -> KllSketch:
        """The sketch of a multiset given as ascending `values` with integer `weights` (value i repeated weights[i]
        times), e.g. a histogram's representatives. Same error as `from_values` relative to that multiset."""
        ordered = np.asarray(values, dtype=np.float64).ravel()
        counts = np.asarray(weights, dtype=np.int64).ravel()
        if ordered.shape != counts.shape:
            raise ValueError("values and weights must have the same length")
        if counts.size and int(counts.min()) < 0:
            raise ValueError("weights must be non-negative")
        cumulative = np.cumsum(counts)
        n = int(cumulative[-1]) if cumulative.size else 0
        positions, _ = _positions(n, k)
        return cls(tuple(ordered[np.searchsorted(cumulative, p, side="right")] for p in positions), float(k), c)

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "sketch") -> KllSketch:
        """Read `{"parameters": {"c", "k"}, "data": [[...], ...]}`; raises `SketchFormatError` naming the field."""
        if not isinstance(document, Mapping):
            raise SketchFormatError(f"{where} must be an object")
        parameters = document.get("parameters", {})
        if not isinstance(parameters, Mapping):
            raise SketchFormatError(f"{where}.parameters must be an object")
        k = _number(parameters.get("k", float(KLL_K)), f"{where}.parameters.k")
        c = _number(parameters.get("c", KLL_C), f"{where}.parameters.c")
        data = document.get("data")
        if not isinstance(data, list):
            raise SketchFormatError(f"{where}.data must be a list of lists of numbers")
        levels = []
        for h, level in enumerate(data):
            if not isinstance(level, list):
                raise SketchFormatError(f"{where}.data[{h}] must be a list of numbers")
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in level):
                raise SketchFormatError(f"{where}.data[{h}] must hold numbers only")
            items = np.asarray(level, dtype=np.float64)
            if not np.isfinite(items).all():
                raise SketchFormatError(f"{where}.data[{h}] holds a non-finite number")
            levels.append(items)
        return cls(tuple(levels), k, c)

    def to_json(self) -> dict[str, Any]:
        return {
            "parameters": {"c": self.c, "k": float(self.k)},
            "data": [level.tolist() for level in self.levels],
        }

    @property
    def total_weight(self) -> int:
        """The number of values the sketch stands for: the sum over levels of 2^h times the level's item count."""
        return sum(level.size << h for h, level in enumerate(self.levels))

    @property
    def item_count(self) -> int:
        return sum(level.size for level in self.levels)

    def distribution(self) -> tuple[FloatArray, FloatArray]:
        """(distinct item values ascending, CDF at each): the fraction of the total weight at or below each value."""
        if not self.item_count:
            return np.zeros(0), np.zeros(0)
        values = np.concatenate(self.levels)
        weights = np.concatenate([np.full(level.size, float(1 << h)) for h, level in enumerate(self.levels)])
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
        distinct, first = np.unique(values, return_index=True)
        cumulative = np.cumsum(weights)
        last = np.append(first[1:], values.size) - 1
        return distinct, cumulative[last] / cumulative[-1]

    def cdf(self, points: npt.ArrayLike) -> FloatArray:
        """The sketch's CDF (weight at or below each point / total weight) at `points`; 0 for an empty sketch."""
        at = np.asarray(points, dtype=np.float64)
        values, cdf = self.distribution()
        if not values.size:
            return np.zeros(at.shape)
        index = np.searchsorted(values, at, side="right") - 1
        return np.where(index >= 0, cdf[np.maximum(index, 0)], 0.0)

    def quantile(self, q: float) -> float:
        """The smallest item whose CDF reaches q (0 <= q <= 1); NaN for an empty sketch."""
        values, cdf = self.distribution()
        if not values.size:
            return math.nan
        return float(values[min(int(np.searchsorted(cdf, q, side="left")), values.size - 1)])


def cdf_distance_on_edges(baseline_cdf: FloatArray, window_cdf: FloatArray) -> float:
    """max |F_b(e) - F_w(e)| over the edges e: the L-infinity distance between the two CDFs, evaluated on the edges.

    Error: between two consecutive edges each CDF is monotone, so the supremum over all x exceeds the value on the
    edges by at most the largest single-bin mass of either side (the mass strictly between consecutive edges). When
    the edges are the baseline sketch's item values, the baseline CDF is constant between them and only the window's
    bin masses count: 0 <= sup_x |F_b - F_w| - distance <= max_j window_mass_j.
    """
    if not baseline_cdf.size:
        return 0.0
    return float(np.max(np.abs(baseline_cdf - window_cdf)))


def extend_edges(core: npt.ArrayLike, steps: int = EXTENSION_STEPS) -> FloatArray:
    """`core` (ascending, distinct) plus `steps` edges below and above it at geometric distances span * 2^i
    (i = -4 ... steps - 5, span the core's range or max(|core|, 1) when the range is 0), so that a window that
    drifted out of the baseline's range is still binned within a factor of two of its distance from that range."""
    edges = np.unique(np.asarray(core, dtype=np.float64))
    if not edges.size:
        return edges
    low, high = float(edges[0]), float(edges[-1])
    span = high - low
    if not (math.isfinite(span) and span > 0):
        span = max(abs(low), abs(high), 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        offsets = span * np.exp2(np.arange(-4, steps - 4, dtype=np.float64))
        extended = np.concatenate([low - offsets, edges, high + offsets])
    return np.unique(extended[np.isfinite(extended)])


# ----------------------------------------------------------------------------------------------------------------
# Numeric partial
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class NumericPartial:
    """Mergeable statistics of one numeric column on fixed histogram edges.

    `counts[i]` is the number of finite values x with edges[i-1] < x <= edges[i] (edges[-1] = -inf, edges[len] =
    +inf), so `cumsum(counts)[j]` is exactly the number of values <= edges[j]. NaN counts as missing; +-inf as
    non-finite (neither in the histogram nor in the sums). `whole` counts finite values that are whole numbers.

    Errors: `count`, `missing`, `non_finite`, `whole`, `counts`, `minimum` and `maximum` are exact and merge exactly
    (integers add, min/max are order-free). `total` (the sum), `mean` and `m2` (the sum of squared deviations,
    Chan et al.'s parallel update) are floats: a merged value differs from a one-pass value by rounding only,
    |merged - one_pass| <= 4 * n * eps * sum|x| for the sum (eps = 2^-53), and similarly small relative errors for
    the mean and the variance.
    """

    edges: FloatArray
    counts: IntArray
    count: int = 0
    missing: int = 0
    non_finite: int = 0
    whole: int = 0
    total: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    @classmethod
    def empty(cls, edges: npt.ArrayLike) -> NumericPartial:
        bins = _check_edges(np.asarray(edges, dtype=np.float64))
        return cls(bins, np.zeros(bins.size + 1, dtype=np.int64))

    @classmethod
    def of(cls, values: npt.ArrayLike, edges: npt.ArrayLike) -> NumericPartial:
        """The partial of `values` (float64; NaN missing). Vectorised: the finite values are sorted in blocks of
        `BLOCK` and the edges searched in each sorted block (as numpy's histogram does), which on this machine is
        ten times faster than searching each value among the edges; no full-length sort or copy beyond one block."""
        partial = cls.empty(edges)
        array = np.asarray(values, dtype=np.float64).ravel()
        finite = np.isfinite(array)
        count = int(np.count_nonzero(finite))
        if count < array.size:
            partial.missing = int(np.count_nonzero(np.isnan(array)))
            partial.non_finite = array.size - count - partial.missing
            array = array[finite]
        cumulative = np.zeros(partial.edges.size, dtype=np.int64)
        for start in range(0, count, BLOCK):
            block = np.sort(array[start : start + BLOCK])
            cumulative += np.searchsorted(block, partial.edges, side="right")
            size = block.size
            block_sum = float(block.sum())
            block_mean = block_sum / size
            deviations = block - block_mean
            # Not np.dot: BLAS would wake its thread pool (which spins on the other cores) for a 64k-long dot.
            partial._absorb(size, block_sum, block_mean, float(np.einsum("i,i->", deviations, deviations)))
            partial.whole += int(np.count_nonzero(block == np.trunc(block)))
            partial.minimum = min(partial.minimum, float(block[0]))
            partial.maximum = max(partial.maximum, float(block[-1]))
        partial.counts = np.diff(cumulative, prepend=0, append=count)
        return partial

    def _absorb(self, n: int, total: float, mean: float, m2: float) -> None:
        """Chan et al.'s update of (count, mean, M2) with another group's (n, mean, M2)."""
        if n == 0:
            return
        combined = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / combined
        self.m2 += m2 + delta * delta * self.count * n / combined
        self.total += total
        self.count = combined

    def merge(self, other: NumericPartial) -> NumericPartial:
        """The partial of both slices. Raises ValueError when the two were binned on different edges."""
        if not np.array_equal(self.edges, other.edges):
            raise ValueError("cannot merge numeric partials binned on different edges")
        merged = NumericPartial(
            self.edges,
            self.counts + other.counts,
            count=self.count,
            missing=self.missing + other.missing,
            non_finite=self.non_finite + other.non_finite,
            whole=self.whole + other.whole,
            total=self.total,
            mean=self.mean,
            m2=self.m2,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
        )
        merged._absorb(other.count, other.total, other.mean, other.m2)
        return merged

    @property
    def variance(self) -> float:
        """Population variance (Deequ's StandardDeviation is the population one); 0 with no value."""
        return self.m2 / self.count if self.count else 0.0

    @property
    def std_dev(self) -> float:
        return math.sqrt(max(self.variance, 0.0))

    def cdf_at_edges(self) -> FloatArray:
        """The window's exact CDF at each edge: (number of values <= edge) / count; zeros with no value."""
        if not self.count:
            return np.zeros(self.edges.size)
        return np.cumsum(self.counts[:-1]) / self.count

    def largest_bin_mass(self) -> float:
        """The largest fraction of values in one bin between two edges (the outer two bins excluded): the bound on
        the error of a CDF distance evaluated on the edges (see `cdf_distance_on_edges`)."""
        if not self.count or self.counts.size <= 2:
            return 0.0
        return float(self.counts[1:-1].max()) / self.count

    def representatives(self) -> tuple[FloatArray, IntArray]:
        """The histogram as a weighted multiset: each non-empty bin's values replaced by one value, its upper edge
        (the window's maximum for the last bin, the window's minimum for the first). The multiset's CDF equals the
        window's exactly at every edge and errs elsewhere by at most the mass of the bin the point falls in."""
        if not self.count:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        values = np.concatenate([[self.minimum], self.edges[1:], [self.maximum]])
        values = np.clip(values, self.minimum, self.maximum)
        keep = self.counts > 0
        return values[keep], self.counts[keep]

    def sketch(self, k: int = KLL_K) -> KllSketch:
        """A KLL-form sketch of the window, built from `representatives()`: rank error at most the largest bin mass
        (of the bin a point falls in) plus 2^(h-1) / count (< 1 / k) from the sketch itself."""
        values, weights = self.representatives()
        return KllSketch.from_weighted(values, weights, k)

    def buckets(self, number: int = 10) -> list[dict[str, float | int]]:
        """`number` equal-width buckets over [minimum, maximum] in Model Monitor's shape, counted from
        `representatives()`: a bin of the histogram that straddles a bucket boundary is counted wholly on one side,
        so a bucket's count errs by at most the counts of the two histogram bins at its boundaries. One bucket when
        minimum == maximum; none without a value."""
        values, weights = self.representatives()
        return equal_width_buckets(values, weights, self.minimum, self.maximum, number)

    def to_json(self) -> dict[str, Any]:
        return {
            "edges": self.edges.tolist(),
            "counts": self.counts.tolist(),
            "count": self.count,
            "missing": self.missing,
            "non_finite": self.non_finite,
            "whole": self.whole,
            "sum": self.total,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.minimum if self.count else None,
            "max": self.maximum if self.count else None,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "numeric") -> NumericPartial:
        if not isinstance(document, Mapping):
            raise SketchFormatError(f"{where} must be an object")
        edges = _check_edges(np.asarray(_numbers(document.get("edges"), f"{where}.edges"), dtype=np.float64))
        counts = np.asarray(_integers(document.get("counts"), f"{where}.counts"), dtype=np.int64)
        if counts.size != edges.size + 1:
            raise SketchFormatError(f"{where}.counts must have one more entry than {where}.edges")
        count = _integer(document.get("count"), f"{where}.count")
        if int(counts.sum()) != count:
            raise SketchFormatError(f"{where}.counts must add up to {where}.count")
        present = count > 0
        return cls(
            edges,
            counts,
            count=count,
            missing=_integer(document.get("missing"), f"{where}.missing"),
            non_finite=_integer(document.get("non_finite"), f"{where}.non_finite"),
            whole=_integer(document.get("whole"), f"{where}.whole"),
            total=_number(document.get("sum"), f"{where}.sum"),
            mean=_number(document.get("mean"), f"{where}.mean"),
            m2=_number(document.get("m2"), f"{where}.m2"),
            minimum=_number(document.get("min"), f"{where}.min") if present else math.inf,
            maximum=_number(document.get("max"), f"{where}.max") if present else -math.inf,
        )


def equal_width_buckets(
    values: FloatArray, weights: IntArray, minimum: float, maximum: float, number: int = 10
) -> list[dict[str, float | int]]:
    """Model Monitor's `distribution.kll.buckets`: `number` equal-width buckets [lower, upper) over [minimum, maximum],
    the last one closed, with the weight of the values in each. Exact for raw values (unit weights)."""
    if not values.size:
        return []
    if not maximum > minimum:
        return [{"lower_bound": float(minimum), "upper_bound": float(maximum), "count": int(weights.sum())}]
    bounds = np.linspace(minimum, maximum, number + 1)
    index = np.clip(np.searchsorted(bounds, values, side="right") - 1, 0, number - 1)
    counts = np.bincount(index, weights=weights, minlength=number)
    return [
        {"lower_bound": float(bounds[i]), "upper_bound": float(bounds[i + 1]), "count": round(counts[i])}
        for i in range(number)
    ]


# ----------------------------------------------------------------------------------------------------------------
# Categorical partial
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class CategoricalPartial:
    """Value -> count of one text column, tracking at most `cap` distinct values.

    Over the cap: the `cap` most frequent values are kept (ties by value, so the choice is deterministic) and the
    others' occurrences are added to `untracked`, their identities dropped. A merge adds the two sides' counts and
    truncates again in the same way. Hence, exactly: for every value v, counts.get(v, 0) <= true count of v <=
    counts.get(v, 0) + untracked; `present` (= sum of counts + untracked) and `missing` are exact; the number of
    distinct values lies in [len(counts) + (1 if untracked else 0), len(counts) + untracked]. Any proportion
    computed from `counts` errs by at most untracked / present. With at most `cap` distinct values overall nothing
    is ever dropped and every count is exact.
    """

    counts: dict[str, int] = field(default_factory=dict)
    missing: int = 0
    untracked: int = 0
    cap: int = CATEGORICAL_CAP

    @classmethod
    def of(cls, values: Iterable[str | None], cap: int = CATEGORICAL_CAP) -> CategoricalPartial:
        """The partial of `values`; None is missing."""
        counter = Counter(values)
        missing = counter.pop(None, 0)
        return cls.from_counts({str(value): count for value, count in counter.items()}, missing, cap)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], missing: int = 0, cap: int = CATEGORICAL_CAP) -> CategoricalPartial:
        """The partial of values already counted (value -> count), truncated to `cap` as stated above."""
        partial = cls(dict(counts), missing, 0, cap)
        partial._truncate()
        return partial

    def _truncate(self) -> None:
        if len(self.counts) <= self.cap:
            return
        ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
        self.counts = dict(ranked[: self.cap])
        self.untracked += sum(count for _, count in ranked[self.cap :])

    def merge(self, other: CategoricalPartial) -> CategoricalPartial:
        counts = Counter(self.counts)
        counts.update(other.counts)
        merged = CategoricalPartial(
            dict(counts), self.missing + other.missing, self.untracked + other.untracked, min(self.cap, other.cap)
        )
        merged._truncate()
        return merged

    @property
    def present(self) -> int:
        return sum(self.counts.values()) + self.untracked

    @property
    def truncated(self) -> bool:
        return self.untracked > 0

    def distinct_bounds(self) -> tuple[int, int]:
        return len(self.counts) + (1 if self.untracked else 0), len(self.counts) + self.untracked

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "missing": self.missing, "untracked": self.untracked, "cap": self.cap}

    @classmethod
    def from_json(cls, document: Mapping[str, Any], where: str = "categorical") -> CategoricalPartial:
        if not isinstance(document, Mapping):
            raise SketchFormatError(f"{where} must be an object")
        counts = document.get("counts")
        if not isinstance(counts, Mapping):
            raise SketchFormatError(f"{where}.counts must be an object of value -> count")
        parsed = {str(value): _integer(count, f"{where}.counts[{value!r}]") for value, count in counts.items()}
        return cls(
            parsed,
            _integer(document.get("missing"), f"{where}.missing"),
            _integer(document.get("untracked"), f"{where}.untracked"),
            _integer(document.get("cap", CATEGORICAL_CAP), f"{where}.cap"),
        )


# ----------------------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------------------


def _check_edges(edges: FloatArray) -> FloatArray:
    if edges.ndim != 1 or not np.isfinite(edges).all() or (edges.size > 1 and not (np.diff(edges) > 0).all()):
        raise SketchFormatError("histogram edges must be finite and strictly increasing")
    return edges


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SketchFormatError(f"{where} must be a finite number")
    return float(value)


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SketchFormatError(f"{where} must be a non-negative integer")
    return value


def _numbers(value: object, where: str) -> Sequence[float]:
    if not isinstance(value, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise SketchFormatError(f"{where} must be a list of numbers")
    return value


def _integers(value: object, where: str) -> Sequence[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise SketchFormatError(f"{where} must be a list of non-negative integers")
    return value
