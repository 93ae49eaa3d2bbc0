"""Model quality as SageMaker Model Monitor computes it: `statistics.json`, suggested `constraints.json`, the check.

Sources: ../shared/reference/sagemaker-monitoring.md section 2, and
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html (metric names, the nesting
of the confusion matrix, the best constant classifier, the standard deviation rule).

What `metrics()` writes, and the choices made where AWS does not say:

- Every metric is `{"value": float | "NaN", "standard_deviation": float | "NaN"}`. The standard deviation is given
  only from 200 rows on: the metric is computed on 5 random subsamples of 80 % of the rows (without replacement,
  drawn from `numpy.random.default_rng(seed)`) and the population standard deviation (ddof=0) of the 5 values is
  reported. Below 200 rows it is the string "NaN", as Model Monitor writes it.
- A metric whose denominator is zero (precision when nothing is predicted positive, recall when no row is positive,
  r2 when every label is equal, AUC with a single class...) has the value "NaN" (a string, like the standard
  deviation) and its reason under `rollouts_monitor.undefined`. `check()` reports such a value as a violation of
  any constraint on it: an undefined metric never passes silently.
- `confusion_matrix` nests observed label -> predicted label -> count (`{"0": {"0": TN, "1": FP}, "1": {...}}`),
  which is what AWS's documented example implies (its recall, precision and accuracy only fit that reading).
- Binary labels are 0/1, booleans, "0"/"1" or "true"/"false" (any case, surrounding blanks ignored); 1 is positive.
  Numeric predictions that are all 0 or 1 are labels; otherwise they are probabilities in [0, 1] and a row is
  predicted positive when its probability is >= `probability_threshold` (default 0.5).
- `auc`, `au_prc` and both curves need scores: `probabilities` if given, else the predictions when they are
  probabilities. With labels only, these four are omitted (not written as NaN) and the reason is recorded under
  `rollouts_monitor.omitted`; a constraint on an omitted metric makes `check()` raise `ConstraintsError` naming it.
- `auc` is the area under the ROC curve by the trapezoidal rule over the distinct score thresholds (equal to the
  Mann-Whitney probability that a positive outranks a negative, ties counting one half); scores are sorted once
  (O(n log n)), and the 5 subsamples reuse that order (a subset of a sorted array is sorted).
- `au_prc` is the average precision: the sum over distinct thresholds of (recall gain) x precision, the step-wise
  area that does not interpolate linearly between points.
- The curves list at most `MAX_CURVE_POINTS` operating points, evenly spaced over the distinct thresholds from the
  highest to the lowest (the ROC curve starts at (0, 0) and always ends at (1, 1)); 1M distinct scores would
  otherwise write 1M points.
- The best constant classifier for binary metrics predicts the positive class for every row (AWS's example:
  recall 1, precision and accuracy equal to the positive share). For multiclass metrics it predicts the most
  frequent observed class (ties: the first in sorted label order), the constant that maximises accuracy.
- Multiclass weighted metrics weight each class by its observed share; a class never predicted has precision 0
  inside the weighted average (scikit-learn's zero_division=0 convention). F-beta is computed from counts,
  (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP).
- Multiclass labels are compared as text: 1, 1.0 and "1" are the same class; booleans are "True"/"False".
- The document carries one key of ours beside Model Monitor's: `rollouts_monitor` (problem type, threshold,
  omitted and undefined metrics with their reasons). Readers of Model Monitor's format ignore it.

`suggest_constraints()` sets every threshold to the baseline value itself, with no slack: score metrics (accuracy,
recall, auc, r2...) get `LessThanThreshold`, error metrics (mae, mse, rmse, false positive and false negative rates)
get `GreaterThanThreshold`. The best-constant-classifier values describe the labels' class balance, not the model,
and get no constraint; nor do undefined values. Review and loosen the thresholds before use, as AWS recommends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rollouts_monitor.records import flat_column

PROBLEM_TYPES: Final = ("Regression", "BinaryClassification", "MulticlassClassification")
SECTIONS: Final[Mapping[str, str]] = {
    "Regression": "regression_metrics",
    "BinaryClassification": "binary_classification_metrics",
    "MulticlassClassification": "multiclass_classification_metrics",
}
CONSTRAINT_SECTIONS: Final[Mapping[str, str]] = {
    "Regression": "regression_constraints",
    "BinaryClassification": "binary_classification_constraints",
    "MulticlassClassification": "multiclass_classification_constraints",
}
OPERATORS: Final = (
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
)
# Metrics where a larger value is worse: their suggested constraint fires when the value grows.
ERROR_METRICS: Final = frozenset({"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"})
MIN_ROWS_FOR_STANDARD_DEVIATION: Final = 200
SUBSAMPLES: Final = 5
SUBSAMPLE_FRACTION: Final = 0.8
MAX_CURVE_POINTS: Final = 100
OWN_KEY: Final = "rollouts_monitor"

_TRUE_TEXT: Final = frozenset({"1", "true", "1.0"})
_FALSE_TEXT: Final = frozenset({"0", "false", "0.0"})
_NOT_METRICS: Final = frozenset(
    {"confusion_matrix", "receiver_operating_characteristic_curve", "precision_recall_curve"}
)
_SCORE_METRICS: Final = ("auc", "au_prc")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class InputError(ValueError):
    """The labels, predictions or probabilities cannot be judged as given."""


class LabelError(InputError):
    """A label or prediction is not a value of the problem type (e.g. not binary for BinaryClassification)."""


class EmptyWindowError(InputError):
    """There are no rows to compute metrics on."""


class ConstraintsError(ValueError):
    """A constraints document names something the statistics cannot be judged against, or is malformed."""


# --------------------------------------------------------------------------------------------------------------------
# metrics


def metrics(
    problem_type: str,
    labels: Sequence[Any] | npt.NDArray[Any],
    predictions: Sequence[Any] | npt.NDArray[Any],
    probabilities: npt.NDArray[Any] | Sequence[float] | None = None,
    *,
    seed: int = 0,
    probability_threshold: float = 0.5,
) -> dict[str, Any]:
    """Model Monitor's model-quality `statistics.json` for observed `labels` and the model's `predictions`.

    `probabilities` (BinaryClassification only) are the positive-class scores used for auc, au_prc and the curves.
    Raises `EmptyWindowError` when there are no rows, `LabelError` for labels or predictions outside the problem
    type, `InputError` for other unusable input (lengths differ, NaN, unknown problem type).
    """
    if problem_type not in PROBLEM_TYPES:
        raise InputError(f"unknown problem type {problem_type!r}; expected one of {', '.join(PROBLEM_TYPES)}")
    if (
        isinstance(probability_threshold, bool)
        or not isinstance(probability_threshold, int | float)
        or not 0.0 < probability_threshold <= 1.0
    ):
        raise InputError(f"probability_threshold must be in (0, 1], got {probability_threshold!r}")
    y_raw = _one_dimensional(labels, "labels")
    p_raw = _one_dimensional(predictions, "predictions")
    if len(y_raw) == 0 and len(p_raw) == 0:
        raise EmptyWindowError("no rows: there are no labelled predictions in the window, so nothing to judge")
    if len(y_raw) != len(p_raw):
        raise InputError(f"labels and predictions differ in length: {len(y_raw)} labels, {len(p_raw)} predictions")
    s_raw = None if probabilities is None else _one_dimensional(probabilities, "probabilities")
    if s_raw is not None:
        if problem_type != "BinaryClassification":
            raise InputError(f"probabilities are only used for BinaryClassification, not {problem_type}")
        if len(s_raw) != len(y_raw):
            raise InputError(
                f"probabilities and labels differ in length: {len(s_raw)} probabilities, {len(y_raw)} labels"
            )

    rng = np.random.default_rng(seed)
    own: dict[str, Any] = {"problem_type": problem_type, "omitted": {}, "undefined": {}}
    if problem_type == "Regression":
        section = _regression(_numeric(y_raw, "labels"), _numeric(p_raw, "predictions"), rng, own)
    elif problem_type == "BinaryClassification":
        own["probability_threshold"] = probability_threshold
        own["positive_label"] = "1"
        section = _binary(y_raw, p_raw, s_raw, probability_threshold, rng, own)
    else:
        section = _multiclass(y_raw, p_raw, rng, own)
    return {
        "version": 0.0,
        "dataset": {"item_count": len(y_raw)},
        SECTIONS[problem_type]: section,
        OWN_KEY: own,
    }


def _one_dimensional(values: object, name: str) -> npt.NDArray[Any]:
    return flat_column(values, name, InputError)


def _numeric(values: npt.NDArray[Any], name: str) -> FloatArray:
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number):
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise InputError(f"{name} must be numbers: {error}") from error
    result = values.astype(np.float64, copy=False)
    bad = ~np.isfinite(result)
    if bad.any():
        raise InputError(f"{name} has {int(bad.sum())} missing or infinite value(s), first at row {_first(bad)}")
    return result


def _first(mask: BoolArray) -> int:
    return int(np.flatnonzero(mask)[0])


# -- the standard deviation over subsamples ---------------------------------------------------------------------------


def _subsample_masks(n: int, rng: np.random.Generator) -> list[BoolArray]:
    """5 masks of exactly floor(0.8 n) rows each, or none below 200 rows."""
    if n < MIN_ROWS_FOR_STANDARD_DEVIATION:
        return []
    size = int(n * SUBSAMPLE_FRACTION)
    masks = []
    for _ in range(SUBSAMPLES):
        mask = np.zeros(n, dtype=np.bool_)
        mask[rng.choice(n, size=size, replace=False)] = True
        masks.append(mask)
    return masks


def _section(
    full: Mapping[str, float], samples: list[dict[str, float]], own: dict[str, Any], reasons: Mapping[str, str]
) -> dict[str, Any]:
    """Metric entries with their standard deviation; NaN values recorded as undefined with their reason."""
    out: dict[str, Any] = {}
    for name, value in full.items():
        spread: float | str = "NaN"
        if samples:
            values = [sample[name] for sample in samples]
            if all(math.isfinite(v) for v in values):
                spread = float(np.std(values))
        if math.isfinite(value):
            out[name] = {"value": float(value), "standard_deviation": spread}
        else:
            out[name] = {"value": "NaN", "standard_deviation": spread}
            own["undefined"][name] = reasons.get(name, "the metric is undefined on these rows")
    return out


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _f_beta(beta: float, tp: float, fp: float, fn: float) -> float:
    b2 = beta * beta
    return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


# -- regression -------------------------------------------------------------------------------------------------------


def _regression_values(y: FloatArray, yhat: FloatArray) -> dict[str, float]:
    error = y - yhat
    mse = float(np.mean(error * error))
    centred = y - np.mean(y)
    total = float(np.dot(centred, centred))
    return {
        "mae": float(np.mean(np.abs(error))),
        "mse": mse,
        "rmse": math.sqrt(mse),
        "r2": 1.0 - float(np.dot(error, error)) / total if total > 0 else math.nan,
    }


def _regression(y: FloatArray, yhat: FloatArray, rng: np.random.Generator, own: dict[str, Any]) -> dict[str, Any]:
    full = _regression_values(y, yhat)
    samples = [_regression_values(y[m], yhat[m]) for m in _subsample_masks(len(y), rng)]
    reasons = {"r2": "every label has the same value, so the total sum of squares is 0"}
    return _section(full, samples, own, reasons)


# -- binary classification --------------------------------------------------------------------------------------------


def _binary_labels(values: npt.NDArray[Any], name: str) -> BoolArray:
    """0/1, booleans, "0"/"1", "true"/"false" as booleans (True is positive); anything else is a LabelError."""
    if values.dtype == np.bool_:
        already: BoolArray = values
        return already
    if np.issubdtype(values.dtype, np.number):
        is_one: BoolArray = values == 1
        bad = ~(is_one | (values == 0))
        if bad.any():
            raise LabelError(_not_binary(name, values[bad]))
        return is_one
    uniques, inverse = np.unique(values.astype(str), return_inverse=True)
    truth = np.empty(len(uniques), dtype=np.bool_)
    bad_values = []
    for index, text in enumerate(uniques):
        key = str(text).strip().lower()
        if key in _TRUE_TEXT:
            truth[index] = True
        elif key in _FALSE_TEXT:
            truth[index] = False
        else:
            bad_values.append(str(text))
    if bad_values:
        raise LabelError(_not_binary(name, np.asarray(bad_values, dtype=object)))
    result: BoolArray = truth[inverse.reshape(-1)]
    return result


def _not_binary(name: str, bad: npt.NDArray[Any]) -> str:
    distinct = list(dict.fromkeys(str(v) for v in bad.tolist()))
    shown = ", ".join(repr(v) for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
    return (
        f"{name} are not binary: {len(bad)} value(s) are not 0/1, true/false or '0'/'1' ({shown}); "
        "use MulticlassClassification or map them to 0/1"
    )


def _binary_predictions(values: npt.NDArray[Any], threshold: float) -> tuple[BoolArray, FloatArray | None]:
    """Predicted labels, and the scores when the predictions are probabilities."""
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number):
        return _binary_labels(values, "predictions"), None
    if np.issubdtype(values.dtype, np.integer):
        is_one = values == 1
        if (is_one | (values == 0)).all():
            return is_one, None
    scores = values.astype(np.float64, copy=False)
    if np.isnan(scores).any():
        raise InputError(f"predictions have {int(np.isnan(scores).sum())} missing value(s)")
    if ((scores == 0) | (scores == 1)).all():
        return scores == 1, None
    outside = (scores < 0) | (scores > 1)
    if outside.any():
        raise LabelError(
            f"predictions are neither 0/1 labels nor probabilities in [0, 1]: {int(outside.sum())} value(s) "
            f"outside, first {float(scores[outside][0])!r} at row {_first(outside)}"
        )
    return scores >= threshold, scores


def _counts(y: BoolArray, yhat: BoolArray) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN."""
    cells = np.bincount(y.view(np.int8) * 2 + yhat.view(np.int8), minlength=4)
    return int(cells[3]), int(cells[1]), int(cells[2]), int(cells[0])


def _threshold_values(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    positives, negatives, n = tp + fn, fp + tn, tp + fp + fn + tn
    return {
        "recall": _ratio(tp, positives),
        "precision": _ratio(tp, tp + fp),
        "accuracy": _ratio(tp + tn, n),
        "recall_best_constant_classifier": _ratio(positives, positives),
        "precision_best_constant_classifier": _ratio(positives, n),
        "accuracy_best_constant_classifier": _ratio(positives, n),
        "true_positive_rate": _ratio(tp, positives),
        "true_negative_rate": _ratio(tn, negatives),
        "false_positive_rate": _ratio(fp, negatives),
        "false_negative_rate": _ratio(fn, positives),
        "f0_5": _f_beta(0.5, tp, fp, fn),
        "f1": _f_beta(1.0, tp, fp, fn),
        "f2": _f_beta(2.0, tp, fp, fn),
        "f0_5_best_constant_classifier": _f_beta(0.5, positives, negatives, 0),
        "f1_best_constant_classifier": _f_beta(1.0, positives, negatives, 0),
        "f2_best_constant_classifier": _f_beta(2.0, positives, negatives, 0),
    }


class _Ranking:
    """Cumulative true and false positives at each distinct score threshold, highest score first."""

    def __init__(self, y_desc: BoolArray, s_desc: FloatArray) -> None:
        n = len(y_desc)
        last = np.flatnonzero(s_desc[1:] != s_desc[:-1])  # the last row of each run of equal scores
        ends = np.append(last, n - 1) if n else last
        cumulative = np.cumsum(y_desc, dtype=np.int64)
        self.tps: IntArray = cumulative[ends] if n else np.zeros(0, dtype=np.int64)
        self.fps: IntArray = ends.astype(np.int64, copy=False) + 1 - self.tps
        self.positives = int(self.tps[-1]) if n else 0
        self.negatives = int(self.fps[-1]) if n else 0

    def auc(self) -> float:
        if not self.positives or not self.negatives:
            return math.nan
        tpr = np.concatenate(([0.0], self.tps / self.positives))
        fpr = np.concatenate(([0.0], self.fps / self.negatives))
        return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)

    def average_precision(self) -> float:
        if not self.positives:
            return math.nan
        gains = np.diff(np.concatenate(([0], self.tps)))
        precision = self.tps / (self.tps + self.fps)
        return float(np.sum(gains * precision) / self.positives)

    def curves(self) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
        count = len(self.tps)
        picks = np.unique(np.linspace(0, count - 1, min(count, MAX_CURVE_POINTS)).round().astype(np.int64))
        tps, fps = self.tps[picks], self.fps[picks]
        fpr = [0.0, *(fps / self.negatives).tolist()] if self.negatives else []
        tpr = [0.0, *(tps / self.positives).tolist()] if self.positives else []
        roc = {"false_positive_rates": fpr if tpr else [], "true_positive_rates": tpr if fpr else []}
        pr = {
            "precisions": (tps / (tps + fps)).tolist() if self.positives else [],
            "recalls": (tps / self.positives).tolist() if self.positives else [],
        }
        return roc, pr


def _binary(
    y_raw: npt.NDArray[Any],
    p_raw: npt.NDArray[Any],
    s_raw: npt.NDArray[Any] | None,
    threshold: float,
    rng: np.random.Generator,
    own: dict[str, Any],
) -> dict[str, Any]:
    y = _binary_labels(y_raw, "labels")
    yhat, scores = _binary_predictions(p_raw, threshold)
    if s_raw is not None:
        scores = _numeric(s_raw, "probabilities")

    tp, fp, fn, tn = _counts(y, yhat)
    full = _threshold_values(tp, fp, fn, tn)
    masks = _subsample_masks(len(y), rng)
    code = y.view(np.int8) * 2 + yhat.view(np.int8)
    samples = []
    for mask in masks:
        cells = np.bincount(code[mask], minlength=4)
        samples.append(_threshold_values(int(cells[3]), int(cells[1]), int(cells[2]), int(cells[0])))

    ranking = None
    if scores is not None:
        order = np.argsort(scores)[::-1]  # equal scores form one threshold, so their order does not matter
        y_desc, s_desc = y[order], scores[order]
        ranking = _Ranking(y_desc, s_desc)
        full["auc"], full["au_prc"] = ranking.auc(), ranking.average_precision()
        for sample, mask in zip(samples, masks, strict=True):
            kept = mask[order]
            part = _Ranking(y_desc[kept], s_desc[kept])
            sample["auc"], sample["au_prc"] = part.auc(), part.average_precision()
    else:
        for name in (*_SCORE_METRICS, "receiver_operating_characteristic_curve", "precision_recall_curve"):
            own["omitted"][name] = (
                "no probabilities: the predictions are labels and no probabilities were given, so the metrics "
                "that rank rows by score cannot be computed"
            )

    no_positive, no_negative = "no row has a positive label", "no row has a negative label"
    reasons = {
        "recall": no_positive,
        "true_positive_rate": no_positive,
        "false_negative_rate": no_positive,
        "recall_best_constant_classifier": no_positive,
        "true_negative_rate": no_negative,
        "false_positive_rate": no_negative,
        "precision": "no row is predicted positive",
        "auc": "the labels hold a single class, so no positive can be ranked against a negative",
        "au_prc": no_positive,
        **dict.fromkeys(("f0_5", "f1", "f2"), "no row is positive, predicted or observed"),
    }
    section: dict[str, Any] = {
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
        **_section(full, samples, own, reasons),
    }
    if ranking is not None:
        roc, pr = ranking.curves()
        section["receiver_operating_characteristic_curve"] = roc
        section["precision_recall_curve"] = pr
    return section


# -- multiclass classification ----------------------------------------------------------------------------------------


def _class_text(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "nan"
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return _class_text(number) if math.isfinite(number) else text


def _classes(values: npt.NDArray[Any], name: str) -> list[str]:
    if np.issubdtype(values.dtype, np.floating) and np.isnan(values).any():
        raise LabelError(f"{name} have {int(np.isnan(values).sum())} missing value(s)")
    texts = [_class_text(v) for v in values.tolist()]
    missing = [i for i, text in enumerate(texts) if text in {"", "None", "nan"}]
    if missing:
        raise LabelError(f"{name} have {len(missing)} missing value(s), first at row {missing[0]}")
    return texts


def _multiclass_values(y: IntArray, yhat: IntArray, k: int) -> dict[str, float]:
    n = len(y)
    matrix = np.bincount(y * k + yhat, minlength=k * k).reshape(k, k).astype(np.float64)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    tp = np.diag(matrix)
    fp, fn = predicted - tp, support - tp
    weights = support / n
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)

    def weighted_f(beta: float, tp_: FloatArray, fp_: FloatArray, fn_: FloatArray) -> float:
        b2 = beta * beta
        denominator = (1 + b2) * tp_ + b2 * fn_ + fp_
        per_class = np.divide((1 + b2) * tp_, denominator, out=np.zeros(k), where=denominator > 0)
        return float(np.dot(weights, per_class))

    majority = int(np.argmax(support))  # argmax takes the first of equal counts: the first class in sorted order
    share = float(weights[majority])
    # The constant classifier predicts `majority` for every row.
    c_tp = np.zeros(k)
    c_tp[majority] = support[majority]
    c_fp = np.zeros(k)
    c_fp[majority] = n - support[majority]
    return {
        "accuracy": float(tp.sum() / n),
        "weighted_recall": float(np.dot(weights, recall)),
        "weighted_precision": float(np.dot(weights, precision)),
        "weighted_f0_5": weighted_f(0.5, tp, fp, fn),
        "weighted_f1": weighted_f(1.0, tp, fp, fn),
        "weighted_f2": weighted_f(2.0, tp, fp, fn),
        "accuracy_best_constant_classifier": share,
        "weighted_recall_best_constant_classifier": share,
        "weighted_precision_best_constant_classifier": share * share,
        "weighted_f0_5_best_constant_classifier": weighted_f(0.5, c_tp, c_fp, support - c_tp),
        "weighted_f1_best_constant_classifier": weighted_f(1.0, c_tp, c_fp, support - c_tp),
        "weighted_f2_best_constant_classifier": weighted_f(2.0, c_tp, c_fp, support - c_tp),
    }


def _multiclass(
    y_raw: npt.NDArray[Any], p_raw: npt.NDArray[Any], rng: np.random.Generator, own: dict[str, Any]
) -> dict[str, Any]:
    y_text, p_text = _classes(y_raw, "labels"), _classes(p_raw, "predictions")
    names, codes = np.unique(np.asarray(y_text + p_text, dtype=object).astype(str), return_inverse=True)
    k, n = len(names), len(y_text)
    y, yhat = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    full = _multiclass_values(y, yhat, k)
    samples = [_multiclass_values(y[m], yhat[m], k) for m in _subsample_masks(n, rng)]
    matrix = np.bincount(y * k + yhat, minlength=k * k).reshape(k, k)
    labels = [str(name) for name in names]
    confusion = {labels[i]: {labels[j]: int(matrix[i, j]) for j in range(k)} for i in range(k)}
    return {"confusion_matrix": confusion, **_section(full, samples, own, {})}


# --------------------------------------------------------------------------------------------------------------------
# constraints


def suggest_constraints(statistics: Mapping[str, Any], problem_type: str) -> dict[str, Any]:
    """Model Monitor's model-quality `constraints.json` from baseline `statistics` (see the module docstring)."""
    if problem_type not in PROBLEM_TYPES:
        raise ConstraintsError(f"unknown problem type {problem_type!r}; expected one of {', '.join(PROBLEM_TYPES)}")
    section_name = SECTIONS[problem_type]
    section = statistics.get(section_name) if isinstance(statistics, Mapping) else None
    if not isinstance(section, Mapping):
        raise ConstraintsError(f"the statistics have no {section_name!r} section to suggest constraints from")
    constraints: dict[str, Any] = {}
    for name, entry in section.items():
        if name in _NOT_METRICS or name.endswith("_best_constant_classifier"):
            continue
        value = _metric_value(entry, f"{section_name}.{name}")
        if not math.isfinite(value):
            continue
        operator = "GreaterThanThreshold" if name in ERROR_METRICS else "LessThanThreshold"
        constraints[name] = {"threshold": value, "comparison_operator": operator}
    if not constraints:
        raise ConstraintsError(f"the statistics' {section_name!r} section has no defined metric to constrain")
    return {"version": 0.0, CONSTRAINT_SECTIONS[problem_type]: constraints}


def _metric_value(entry: object, path: str) -> float:
    """A metric entry's value as a float (NaN for "NaN"); a ConstraintsError naming `path` when malformed."""
    value = entry.get("value") if isinstance(entry, Mapping) else None
    if isinstance(value, str) and value.strip().lower() == "nan":
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConstraintsError(f"{path}.value must be a number or 'NaN', got {value!r}")
    return float(value)


_COMPARISONS: Final[Mapping[str, Callable[[float, float], bool]]] = {
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
}


def check(statistics: Mapping[str, Any], constraints: Mapping[str, Any]) -> list[dict[str, str]]:
    """The violations of `constraints` by `statistics`, as `constraint_violations.json` lists them.

    An operator names the violating condition: `LessThanThreshold` with threshold 0.85 is violated by 0.80.
    An undefined ("NaN") value violates any constraint on it. Raises `ConstraintsError` naming the metric when a
    constrained metric is absent from the statistics (with the reason it was omitted, when known), or when the
    constraints are malformed or constrain nothing.
    """
    if not isinstance(constraints, Mapping):
        raise ConstraintsError(f"constraints must be a JSON object, got {type(constraints).__name__}")
    if not isinstance(statistics, Mapping):
        raise ConstraintsError(f"statistics must be a JSON object, got {type(statistics).__name__}")
    own = statistics.get(OWN_KEY)
    omitted = own.get("omitted", {}) if isinstance(own, Mapping) else {}
    sections = [name for name in CONSTRAINT_SECTIONS.values() if name in constraints]
    if not sections:
        raise ConstraintsError(
            f"the constraints have none of the sections {', '.join(CONSTRAINT_SECTIONS.values())}: nothing to check"
        )
    violations: list[dict[str, str]] = []
    for section_name in sections:
        rules = constraints[section_name]
        if not isinstance(rules, Mapping):
            raise ConstraintsError(f"{section_name} must be an object of metric constraints")
        stats_name = section_name.removesuffix("_constraints") + "_metrics"
        stats_section = statistics.get(stats_name)
        if not isinstance(stats_section, Mapping):
            raise ConstraintsError(
                f"the constraints have {section_name!r} but the statistics have no {stats_name!r} section"
            )
        for metric, rule in rules.items():
            operator, threshold = _rule(rule, f"{section_name}.{metric}")
            if metric not in stats_section:
                reason = omitted.get(metric) if isinstance(omitted, Mapping) else None
                raise ConstraintsError(
                    f"metric {metric!r} is constrained in {section_name} but absent from the statistics' {stats_name}"
                    + (f": {reason}" if reason else "")
                )
            value = _metric_value(stats_section[metric], f"{stats_name}.{metric}")
            if math.isnan(value):
                description = (
                    f"Metric {metric} is undefined (NaN) on this window and cannot meet its constraint "
                    f"{operator} {_number(threshold)}"
                )
            elif _COMPARISONS[operator](value, threshold):
                description = f"Metric {metric} with {_number(value)} was {operator} {_number(threshold)}"
            else:
                continue
            violations.append({"metric_name": metric, "constraint_check_type": operator, "description": description})
    return violations


def _rule(rule: object, path: str) -> tuple[str, float]:
    if not isinstance(rule, Mapping):
        raise ConstraintsError(f"{path} must be an object with threshold and comparison_operator")
    operator = rule.get("comparison_operator")
    if operator not in _COMPARISONS:
        raise ConstraintsError(f"{path}.comparison_operator must be one of {', '.join(OPERATORS)}, got {operator!r}")
    threshold = rule.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ConstraintsError(f"{path}.threshold must be a finite number, got {threshold!r}")
    return str(operator), float(threshold)


def _number(value: float) -> str:
    return f"{value:.4g}"
