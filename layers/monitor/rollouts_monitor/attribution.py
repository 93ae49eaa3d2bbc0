"""Global SHAP attributions as SageMaker Clarify computes them, within a bound on model calls; NDCG drift check.

Sources: ../shared/reference/sagemaker-monitoring.md section 4;
https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-model-monitor-feature-attribution-drift.html (NDCG);
https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-model-monitor-shap-baseline.html (analysis.json, agg_method);
Lundberg & Lee, "A Unified Approach to Interpreting Model Predictions" (NeurIPS 2017), Theorem 2 (Kernel SHAP).

How the attributions are computed (Kernel SHAP):

- The value of a coalition z (a set of features) for a row x is v(z) = mean over the background rows b of
  f(x on z, b elsewhere). phi(x) solves the weighted least squares fit of v(z) - v(empty) by sum_j z_j phi_j over
  the sampled coalitions, with the Shapley kernel weight (M - 1) / (C(M, |z|) |z| (M - |z|)), under the efficiency
  constraint sum_j phi_j = f(x) - E f(background) (imposed exactly by eliminating the last feature).
- `num_samples` coalitions are used, as the `shap` package's KernelExplainer chooses them: whole sizes first, size
  s together with size M - s, from s = 1 up, each coalition with its kernel weight, while the budget holds all of
  a size's coalitions; the rest of the budget is drawn from the remaining sizes: a size with probability
  proportional to the kernel's total weight (M - 1) / (s (M - s)) at that size, a uniform subset of that size, and,
  in turn, its complement (paired sampling), each drawn coalition weighing its share of the remaining kernel mass.
  When `num_samples` >= 2^M - 2 every coalition is enumerated and the result is the exact Shapley value of v.
  From `num_samples` >= 2M every single-feature coalition and its complement are in, so the fit is determined;
  below that it may not be (then the least-norm solution is taken, and the result reports it). The same
  coalitions serve every row.
- For a linear model f(x) = w.x + c the fit is exact: phi_j = w_j (x_j - mean of background_j).
- `global_attributions` aggregates the local values per feature as Clarify's `agg_method`: `mean_abs` (mean of
  |phi|), `median` (median of phi), `mean_sq` (mean of phi^2).

What it costs in endpoint calls: one model call per explained row. The call carries, in one batch,
(coalitions + 1) x len(background) + 1 synthetic rows: for each coalition one row per background row, then the
background rows themselves (E f(background), v of the empty coalition) and the row x itself (f(x)). So a call's
batch holds about num_samples x len(background) rows, and explaining k rows costs exactly k calls. `explain` never
makes more than `max_model_calls` calls: it explains min(len(rows), max_model_calls) rows, a seeded random choice
when it has to leave rows out. It reports how many under the result's `rollouts_monitor` key, the one key of ours
beside Clarify's (`rows_given`, `rows_explained`, `model_calls`, `rows_per_call`, `coalitions`, `fit_determined`...).

The drift check (reference section 4.2): NDCG = DCG / iDCG where DCG sums a(f) / log2(i + 1) over the live ranking
(features sorted by current global SHAP value, highest first, i from 1) and iDCG the same over the baseline ranking,
a(f) being the feature's baseline attribution. Equal values rank by feature name. A feature of the baseline missing
from the current analysis adds nothing to the DCG (so its absence lowers the NDCG); a current feature unknown to the
baseline has a(f) = 0 and takes a place in the live ranking. A label whose NDCG is below the threshold (0.9, the
documented default) is a violation. Values are used as given: with `median` aggregation they may be negative, and
the NDCG is then not bounded by 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any, Final

import numpy as np
import numpy.typing as npt

AGG_METHODS: Final = ("mean_abs", "median", "mean_sq")
DEFAULT_THRESHOLD: Final = 0.9
FEATURE_ATTRIBUTION_DRIFT_CHECK: Final = "feature_attribution_drift_check"
SHAP_METRIC: Final = "shap"
OWN_KEY: Final = "rollouts_monitor"

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Predict = Callable[[FloatArray], Any]


class InputError(ValueError):
    """Rows, background, headers or settings cannot be used as given."""


class EmptyWindowError(InputError):
    """There are no rows to explain."""


class ModelOutputError(ValueError):
    """The model returned something other than one finite score per row of the batch."""


class BaselineError(ValueError):
    """The baseline analysis.json is not in the shape Clarify writes; the message names the path."""


class AnalysisError(ValueError):
    """The current analysis.json is not in the shape `explain` writes; the message names the path."""


# --------------------------------------------------------------------------------------------------------------------
# Kernel SHAP


def _matrix(values: object, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name} must be numbers: {error}") from error
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise InputError(f"{name} must be a 2-D array of rows x features, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise InputError(f"{name} has missing or infinite values")
    return array


def _kernel_weight(features: int, size: int) -> float:
    return (features - 1) / (math.comb(features, size) * size * (features - size))


def _all_of_sizes(features: int, sizes: Sequence[int]) -> list[BoolArray]:
    masks = []
    for size in sizes:
        for members in combinations(range(features), size):
            mask = np.zeros(features, dtype=np.bool_)
            mask[list(members)] = True
            masks.append(mask)
    return masks


def _coalitions(features: int, num_samples: int, rng: np.random.Generator) -> tuple[BoolArray, FloatArray]:
    """The coalitions (rows of a features-wide mask) and their regression weights."""
    if features < 2:
        return np.zeros((0, features), dtype=np.bool_), np.zeros(0)
    masks: list[BoolArray] = []
    weights: list[float] = []
    remaining = num_samples
    left = list(range(1, features))
    # Whole sizes first, a size with its complement's size, smallest first (they carry the most kernel weight),
    # while the budget holds all their coalitions.
    for size in range(1, features // 2 + 1):
        group = sorted({size, features - size})
        count = sum(math.comb(features, s) for s in group)
        if count > remaining:
            break
        for s in group:
            enumerated = _all_of_sizes(features, [s])
            masks += enumerated
            weights += [_kernel_weight(features, s)] * len(enumerated)
            left.remove(s)
        remaining -= count
    if remaining and left:
        sizes = np.asarray(left)
        mass = (features - 1) / (sizes * (features - sizes))  # the kernel's total weight at each size
        drawn = rng.choice(sizes, size=(remaining + 1) // 2, p=mass / mass.sum())
        ranks = np.argsort(np.argsort(rng.random((len(drawn), features)), axis=1), axis=1)
        first = ranks < drawn[:, None]
        paired = np.empty((2 * len(drawn), features), dtype=np.bool_)
        paired[0::2], paired[1::2] = first, ~first
        masks += list(paired[:remaining])
        weights += [float(mass.sum()) / remaining] * remaining
    return np.asarray(masks, dtype=np.bool_).reshape(-1, features), np.asarray(weights)


class _CountedModel:
    """The model, counting its calls and refusing any beyond the budget."""

    def __init__(self, predict: Predict, budget: int | None) -> None:
        self.predict, self.budget, self.calls = predict, budget, 0

    def __call__(self, batch: FloatArray) -> FloatArray:
        if self.budget is not None and self.calls >= self.budget:
            raise RuntimeError(f"model call budget of {self.budget} exhausted")  # a bug here, never the caller's
        self.calls += 1
        raw = self.predict(batch)
        try:
            scores = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ModelOutputError(f"the model's output is not numbers: {error}") from error
        if scores.ndim == 2 and scores.shape[1] == 1:
            scores = scores[:, 0]
        if scores.shape != (len(batch),):
            raise ModelOutputError(
                f"the model must return one score per row: a batch of {len(batch)} rows gave shape {scores.shape}"
            )
        if not np.isfinite(scores).all():
            raise ModelOutputError(f"the model returned {int((~np.isfinite(scores)).sum())} non-finite score(s)")
        return scores


def _explain_rows(
    model: Callable[[FloatArray], FloatArray],
    rows: FloatArray,
    background: FloatArray,
    num_samples: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, float, int, bool]:
    """Local SHAP values per row, E f(background), the number of coalitions, and whether they determine the fit."""
    features = rows.shape[1]
    masks, weights = _coalitions(features, num_samples, rng)
    coalitions, n_bg = len(masks), len(background)
    # Synthetic rows, coalition by coalition: x where the coalition has the feature, the background row elsewhere.
    fill = np.repeat(masks, n_bg, axis=0)
    tiled = np.tile(background, (coalitions, 1))
    sqrt_w = np.sqrt(weights)
    design = (masks[:, :-1].astype(np.float64) - masks[:, -1:].astype(np.float64)) * sqrt_w[:, None]
    determined = features < 2 or int(np.linalg.matrix_rank(design)) == features - 1
    phi = np.empty_like(rows)
    expected = math.nan
    for index, x in enumerate(rows):
        synthetic = np.where(fill, x[None, :], tiled)
        scores = model(np.concatenate([synthetic, background, x[None, :]]))
        values = scores[: coalitions * n_bg].reshape(coalitions, n_bg).mean(axis=1)
        expected = float(scores[coalitions * n_bg : -1].mean())
        total = float(scores[-1]) - expected
        if features == 1:
            phi[index] = total
            continue
        target = (values - expected - masks[:, -1] * total) * sqrt_w
        solution, *_ = np.linalg.lstsq(design, target, rcond=None)
        phi[index, :-1] = solution
        phi[index, -1] = total - solution.sum()
    return phi, expected, coalitions, determined


def _validate(rows: object, background: object, num_samples: int) -> tuple[FloatArray, FloatArray]:
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise InputError(f"num_samples must be a positive integer, got {num_samples!r}")
    x, bg = _matrix(rows, "rows"), _matrix(background, "background")
    if x.size == 0 or len(x) == 0:
        raise EmptyWindowError("no rows to explain")
    if len(bg) == 0 or bg.shape[1] == 0:
        raise InputError("the background must hold at least one row of features")
    if bg.shape[1] != x.shape[1]:
        raise InputError(f"rows have {x.shape[1]} features but the background has {bg.shape[1]}")
    return x, bg


def kernel_shap(
    predict: Callable[[np.ndarray], np.ndarray],
    rows: np.ndarray,
    background: np.ndarray,
    *,
    num_samples: int,
    seed: int = 0,
) -> np.ndarray:
    """Local SHAP values, rows x features, by Kernel SHAP; one `predict` call per row (see the module docstring)."""
    x, bg = _validate(rows, background, num_samples)
    phi, _, _, _ = _explain_rows(_CountedModel(predict, None), x, bg, num_samples, np.random.default_rng(seed))
    return phi


def global_attributions(
    local: np.ndarray, agg_method: str = "mean_abs", headers: Sequence[str] | None = None
) -> dict[str, float]:
    """Per-feature aggregate of local SHAP values as Clarify's `agg_method` (mean_abs, median, mean_sq)."""
    values = np.asarray(local, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise InputError(f"local SHAP values must be a non-empty 2-D array of rows x features, got {values.shape}")
    names = list(headers) if headers is not None else [f"feature_{j}" for j in range(values.shape[1])]
    if len(names) != values.shape[1] or len(set(names)) != len(names):
        raise InputError(f"headers must name the {values.shape[1]} features once each, got {names!r}")
    if agg_method == "mean_abs":
        aggregate = np.mean(np.abs(values), axis=0)
    elif agg_method == "median":
        aggregate = np.median(values, axis=0)
    elif agg_method == "mean_sq":
        aggregate = np.mean(values * values, axis=0)
    else:
        raise InputError(f"agg_method must be one of {', '.join(AGG_METHODS)}, got {agg_method!r}")
    return {name: float(value) for name, value in zip(names, aggregate, strict=True)}


def explain(
    predict: Callable[[np.ndarray], np.ndarray],
    rows: np.ndarray,
    background: np.ndarray,
    headers: Sequence[str],
    *,
    num_samples: int,
    max_model_calls: int,
    agg_method: str = "mean_abs",
    label: str = "label0",
    seed: int = 0,
) -> dict[str, Any]:
    """Clarify's explainability analysis.json for `rows`, in at most `max_model_calls` calls of `predict`."""
    if isinstance(max_model_calls, bool) or not isinstance(max_model_calls, int) or max_model_calls < 1:
        raise InputError(f"max_model_calls must be a positive integer, got {max_model_calls!r}")
    if agg_method not in AGG_METHODS:
        raise InputError(f"agg_method must be one of {', '.join(AGG_METHODS)}, got {agg_method!r}")
    if not isinstance(label, str) or not label:
        raise InputError(f"label must be a non-empty string, got {label!r}")
    x, bg = _validate(rows, background, num_samples)
    names = list(headers)
    if len(names) != x.shape[1] or len(set(names)) != len(names):
        raise InputError(f"headers must name the {x.shape[1]} features once each, got {names!r}")
    rng = np.random.default_rng(seed)
    explained = x
    if len(x) > max_model_calls:
        explained = x[np.sort(rng.choice(len(x), size=max_model_calls, replace=False))]
    model = _CountedModel(predict, max_model_calls)
    phi, expected, coalitions, determined = _explain_rows(model, explained, bg, num_samples, rng)
    return {
        "version": "1.0",
        "explanations": {
            "kernel_shap": {
                label: {"global_shap_values": global_attributions(phi, agg_method, names), "expected_value": expected}
            }
        },
        OWN_KEY: {
            "rows_given": len(x),
            "rows_explained": len(explained),
            "model_calls": model.calls,
            "max_model_calls": max_model_calls,
            "rows_per_call": (coalitions + 1) * len(bg) + 1,
            "coalitions": coalitions,
            "fit_determined": determined,
            "background_rows": len(bg),
            "agg_method": agg_method,
        },
    }


# --------------------------------------------------------------------------------------------------------------------
# NDCG and the drift check


def _ranking(values: Mapping[str, float]) -> list[str]:
    return sorted(values, key=lambda name: (-values[name], name))


def ndcg(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    """NDCG of the current ranking of features against the baseline's, as Clarify defines it (module docstring)."""
    if not baseline:
        raise InputError("the baseline has no feature attributions")
    for which, values in (("baseline", baseline), ("current", current)):
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"the {which} attribution of {name!r} must be a finite number, got {value!r}")
    ideal = sum(baseline[f] / math.log2(i + 1) for i, f in enumerate(_ranking(baseline), start=1))
    if ideal == 0:
        raise InputError("the baseline attributions sum to an ideal DCG of 0, so the NDCG is undefined")
    live = sum(baseline.get(f, 0.0) / math.log2(i + 1) for i, f in enumerate(_ranking(current), start=1))
    return live / ideal


def check(
    current: Mapping[str, Any], baseline: Mapping[str, Any], threshold: float = DEFAULT_THRESHOLD
) -> list[dict[str, str]]:
    """The feature attribution drift violations: one per label whose NDCG is below `threshold`.

    Raises `BaselineError` / `AnalysisError` naming the path when a document lacks a label the other has, or its
    global SHAP values are missing or malformed.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise InputError(f"threshold must be in (0, 1], got {threshold!r}")
    now = _labels(current, AnalysisError, "current analysis")
    base = _labels(baseline, BaselineError, "baseline")
    for label in now:
        if label not in base:
            raise BaselineError(f"explanations.kernel_shap.{label}: the baseline has no attributions for this label")
    for label in base:
        if label not in now:
            raise AnalysisError(f"explanations.kernel_shap.{label}: the current analysis has no attributions for it")
    violations = []
    for label, current_values in now.items():
        try:
            score = ndcg(base[label], current_values)
        except InputError as error:
            raise BaselineError(f"explanations.kernel_shap.{label}.global_shap_values: {error}") from error
        if score < threshold:
            violations.append(
                {
                    "label": label,
                    "metric_name": SHAP_METRIC,
                    "constraint_check_type": FEATURE_ATTRIBUTION_DRIFT_CHECK,
                    "description": f"Feature attribution drift {score:.4f} exceeds threshold {threshold:g}",
                }
            )
    return violations


def _labels(document: object, error: type[ValueError], what: str) -> dict[str, dict[str, float]]:
    if not isinstance(document, Mapping):
        raise error(f"the {what} must be a JSON object, got {type(document).__name__}")
    explanations = document.get("explanations")
    if not isinstance(explanations, Mapping):
        raise error(f"explanations: missing from the {what}")
    kernel = explanations.get("kernel_shap")
    if not isinstance(kernel, Mapping) or not kernel:
        raise error(f"explanations.kernel_shap: missing or empty in the {what}")
    labels: dict[str, dict[str, float]] = {}
    for label, entry in kernel.items():
        path = f"explanations.kernel_shap.{label}.global_shap_values"
        values = entry.get("global_shap_values") if isinstance(entry, Mapping) else None
        if not isinstance(values, Mapping) or not values:
            raise error(f"{path}: missing or empty in the {what}")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise error(f"{path}.{name}: expected a finite number in the {what}, got {value!r}")
        labels[str(label)] = {str(name): float(value) for name, value in values.items()}
    return labels
