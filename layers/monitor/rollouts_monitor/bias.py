"""SageMaker Clarify's post-training bias metrics per facet, and Model Monitor's bias drift check.

Sources: ../shared/reference/sagemaker-monitoring.md section 3;
https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-measure-post-training-bias.html and its per-metric pages
(for example clarify-post-training-bias-metric-sd.html: SD = TNd/(TNd + FPd) - TNa/(TNa + FPa)); the metric code of
Clarify's open-source library, aws/amazon-sagemaker-clarify `src/smclarify/bias/metrics/{posttraining,common}.py`,
for the sign of each difference and for the facet and label selection (`src/smclarify/bias/report.py`).

Facet d is the sensitive ("disfavored") group selected by `facet_values_or_threshold`; facet a is every other row.
With counts per facet of observed positives n(1), observed negatives n(0), predicted positives n'(1), predicted
negatives n'(0) and the confusion counts TP, FP, FN, TN:

| metric | definition |
| --- | --- |
| DPPL | q'a - q'd, with q' = n'(1) / n |
| DI | q'd / q'a |
| DCA | ca - cd, with c = n(1) / n'(1) |
| DCR | rd - ra, with r = n(0) / n'(0) |
| RD | recall_a - recall_d, recall = TP / (TP + FN) |
| SD | TNR_d - TNR_a, TNR = TN / (TN + FP) |
| DAR | TPa / n'a(1) - TPd / n'd(1) |
| DRR | TNd / n'd(0) - TNa / n'a(0) |
| AD | acc_a - acc_d, acc = (TP + TN) / n |
| TE | FNd / FPd - FNa / FPa |

Choices:

- A value that needs a division by zero (an empty facet, no predicted positive in a facet for DCA or DAR, no false
  positive for TE...) is undefined: written as `"value": null` with an `"error"` saying why, the shape Clarify
  writes for a metric it could not compute. (Clarify's own code returns +-infinity for x/0 and 0 for 0/0; we do
  not invent a number.) The drift check reports a violation for every undefined value on either side, so an
  undefined metric never passes silently.
- Which rows are positive, and which are in facet d, follows Clarify: a list of values selects the rows equal to
  one of them (compared as text, so 1, 1.0 and "1" match); a threshold selects the rows strictly above it (Clarify
  builds the interval (threshold, max]). A bare number passed as `label_values_or_threshold` or
  `facet_values_or_threshold` is a threshold; a list of two or more values, or of text, is values. A one-element
  list holding a number is a threshold only when the column is continuous by Clarify's rule
  (`smclarify.bias.metrics.common.series_datatype`): float values that are not all whole numbers, or whole numbers
  of which at least 5 % are distinct; and, our addition, never a column of at most two distinct values (a 0/1
  code). Clarify's rule depends on the row count; to decide yourself, pass a bare number for a threshold
  (`40`: age > 40) or the value as text for equality (`["1"]`). Predicted labels are selected as the labels are
  (the label column decides whether it is continuous); they must be labels, not probabilities: threshold
  probabilities first.
- Without `facet_values_or_threshold`, there is one entry per distinct facet value (that value against the rest).
- Rows whose label, predicted label or facet value is missing (None, NaN, empty text) are left out and counted under
  the result's `rollouts_monitor` key, the one key of ours beside Clarify's.
- `value_or_threshold` and `label_value_or_threshold` are the configured values as text, comma-separated (the
  threshold itself for a threshold), so a baseline's entries match the next window's whatever its maximum.

The drift check (reference section 3.4): a metric violates when its current value is further from the ideal value
than the baseline's value. The ideal is 1 for DI and 0 for every other metric (TE included: it is a difference of
two ratios, 0 when they are equal); the distance is |value - ideal|. A baseline value of "Infinity" (how Clarify
writes an infinite value) accepts any finite current value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rollouts_monitor.records import flat_column

METHODS: Final = ("DPPL", "DI", "DCA", "DCR", "RD", "SD", "DAR", "DRR", "AD", "TE")
DESCRIPTIONS: Final[Mapping[str, str]] = {
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DI": "Disparate Impact (DI)",
    "DCA": "Difference in Conditional Acceptance (DCA)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "AD": "Accuracy Difference (AD)",
    "TE": "Treatment Equality (TE)",
}
IDEAL: Final[Mapping[str, float]] = {"DI": 1.0}  # every other metric: 0
UNIQUENESS_THRESHOLD: Final = 0.05  # Clarify's rule for whole-number columns
BIAS_DRIFT_CHECK: Final = "bias_drift_check"
OWN_KEY: Final = "rollouts_monitor"
SECTION: Final = "post_training_bias_metrics"

BoolArray = npt.NDArray[np.bool_]
# A list of values (equality) or a number (a threshold: the rows strictly above it); see the module docstring.
ValuesOrThreshold = Sequence[Any] | npt.NDArray[Any] | float | np.integer[Any] | np.floating[Any]


class InputError(ValueError):
    """The labels, predictions, facet column or configuration cannot be judged as given."""


class EmptyWindowError(InputError):
    """There are no usable rows."""


class BaselineError(ValueError):
    """The baseline analysis.json is not in the shape Clarify writes; the message names the path."""


class AnalysisError(ValueError):
    """The current analysis.json is not in the shape `post_training_bias` writes; the message names the path."""


# --------------------------------------------------------------------------------------------------------------------
# the metrics


@dataclass(frozen=True)
class _Counts:
    """Confusion counts of one facet."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def observed_positive(self) -> int:
        return self.tp + self.fn

    @property
    def observed_negative(self) -> int:
        return self.tn + self.fp

    @property
    def predicted_positive(self) -> int:
        return self.tp + self.fp

    @property
    def predicted_negative(self) -> int:
        return self.tn + self.fn


class _Undefined(Exception):
    """A metric needs a division by zero."""


def _div(numerator: float, denominator: float, what: str) -> float:
    if denominator == 0:
        raise _Undefined(what)
    return numerator / denominator


def _dppl(a: _Counts, d: _Counts) -> float:
    return _div(a.predicted_positive, a.n, "facet a is empty") - _div(d.predicted_positive, d.n, "facet d is empty")


def _di(a: _Counts, d: _Counts) -> float:
    qa = _div(a.predicted_positive, a.n, "facet a is empty")
    qd = _div(d.predicted_positive, d.n, "facet d is empty")
    return _div(qd, qa, "no row of facet a is predicted positive, so the ratio q'd/q'a divides by zero")


def _dca(a: _Counts, d: _Counts) -> float:
    return _div(a.observed_positive, a.predicted_positive, "no row of facet a is predicted positive") - _div(
        d.observed_positive, d.predicted_positive, "no row of facet d is predicted positive"
    )


def _dcr(a: _Counts, d: _Counts) -> float:
    return _div(d.observed_negative, d.predicted_negative, "no row of facet d is predicted negative") - _div(
        a.observed_negative, a.predicted_negative, "no row of facet a is predicted negative"
    )


def _rd(a: _Counts, d: _Counts) -> float:
    return _div(a.tp, a.observed_positive, "facet a has no observed positive") - _div(
        d.tp, d.observed_positive, "facet d has no observed positive"
    )


def _sd(a: _Counts, d: _Counts) -> float:
    return _div(d.tn, d.observed_negative, "facet d has no observed negative") - _div(
        a.tn, a.observed_negative, "facet a has no observed negative"
    )


def _dar(a: _Counts, d: _Counts) -> float:
    return _div(a.tp, a.predicted_positive, "no row of facet a is predicted positive") - _div(
        d.tp, d.predicted_positive, "no row of facet d is predicted positive"
    )


def _drr(a: _Counts, d: _Counts) -> float:
    return _div(d.tn, d.predicted_negative, "no row of facet d is predicted negative") - _div(
        a.tn, a.predicted_negative, "no row of facet a is predicted negative"
    )


def _ad(a: _Counts, d: _Counts) -> float:
    return _div(a.tp + a.tn, a.n, "facet a is empty") - _div(d.tp + d.tn, d.n, "facet d is empty")


def _te(a: _Counts, d: _Counts) -> float:
    return _div(d.fn, d.fp, "facet d has no false positive, so FNd/FPd divides by zero") - _div(
        a.fn, a.fp, "facet a has no false positive, so FNa/FPa divides by zero"
    )


_FORMULAS: Final[Mapping[str, Callable[[_Counts, _Counts], float]]] = {
    "DPPL": _dppl,
    "DI": _di,
    "DCA": _dca,
    "DCR": _dcr,
    "RD": _rd,
    "SD": _sd,
    "DAR": _dar,
    "DRR": _drr,
    "AD": _ad,
    "TE": _te,
}


def _metric_entry(name: str, a: _Counts, d: _Counts) -> dict[str, Any]:
    """One `{"name", "description", "value"}` entry; an undefined value is null with an `error`."""
    if a.n == 0 or d.n == 0:
        reason = "facet d is empty" if d.n == 0 else "facet a (every row outside facet d) is empty"
        return {"name": name, "description": DESCRIPTIONS[name], "value": None, "error": reason}
    try:
        value = _FORMULAS[name](a, d)
    except _Undefined as undefined:
        return {"name": name, "description": DESCRIPTIONS[name], "value": None, "error": str(undefined)}
    return {"name": name, "description": DESCRIPTIONS[name], "value": float(value)}


# -- selecting rows ---------------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """The text a value is compared as: 1, 1.0 and "1" are all "1"."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return _text(number) if math.isfinite(number) else text


def _missing(values: npt.NDArray[Any]) -> BoolArray:
    if np.issubdtype(values.dtype, np.floating):
        nan: BoolArray = np.isnan(values)
        return nan
    if values.dtype.kind in "biu":
        return np.zeros(len(values), dtype=np.bool_)
    return np.fromiter(
        (
            v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())
            for v in values.tolist()
        ),
        dtype=np.bool_,
        count=len(values),
    )


def _as_numbers(values: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    """The column as floats when every value is a number (not a boolean), else None."""
    if values.dtype == np.bool_:
        return None
    if np.issubdtype(values.dtype, np.number):
        return values.astype(np.float64)
    try:
        if any(isinstance(v, bool) for v in values.tolist()):
            return None
        return values.astype(np.float64)
    except (TypeError, ValueError):
        return None


def _is_continuous(numbers: npt.NDArray[np.float64] | None) -> bool:
    """Clarify's rule: floats are continuous; whole numbers are when at least 5 % of them are distinct. Ours on top:
    a column of at most two distinct values is a binary code, never continuous (Clarify's rule alone would make a
    0/1 column of fewer than 40 rows continuous)."""
    if numbers is None or len(numbers) == 0:
        return False
    distinct = len(np.unique(numbers))
    if distinct <= 2:
        return False
    if not np.all(numbers == np.round(numbers)):
        return True
    return distinct / len(numbers) >= UNIQUENESS_THRESHOLD


@dataclass(frozen=True)
class _Selector:
    """Values or a threshold, as configured."""

    values: tuple[str, ...] | None
    threshold: float | None

    @property
    def text(self) -> str:
        return _text(self.threshold) if self.threshold is not None else ",".join(self.values or ())

    def select(self, column: npt.NDArray[Any], numbers: npt.NDArray[np.float64] | None, name: str) -> BoolArray:
        if self.threshold is not None:
            if numbers is None:
                raise InputError(f"{name} has values that are not numbers, so it cannot be compared to a threshold")
            selected: BoolArray = numbers > self.threshold
            return selected
        wanted = set(self.values or ())
        texts = np.asarray([_text(v) for v in column.tolist()], dtype=object)
        uniques, inverse = np.unique(texts.astype(str), return_inverse=True)
        hit = np.asarray([u in wanted for u in uniques.tolist()], dtype=np.bool_)
        chosen: BoolArray = hit[inverse.reshape(-1)]
        return chosen


def _selector(config: object, numbers: npt.NDArray[np.float64] | None, name: str) -> _Selector:
    if isinstance(config, str | bool | np.bool_):
        return _Selector(values=(_text(config),), threshold=None)
    if isinstance(config, Real):
        if not math.isfinite(config):
            raise InputError(f"{name} threshold must be finite, got {config!r}")
        return _Selector(values=None, threshold=float(config))
    if not isinstance(config, Iterable):
        raise InputError(f"{name} must be a list of values or a numeric threshold, got {config!r}")
    items = list(config)
    if not items:
        raise InputError(f"{name} must not be empty")
    single = items[0]
    is_number = isinstance(single, Real) and not isinstance(single, bool | np.bool_)
    if len(items) == 1 and is_number and _is_continuous(numbers):
        if not math.isfinite(single):
            raise InputError(f"{name} threshold must be finite, got {single!r}")
        return _Selector(values=None, threshold=float(single))
    return _Selector(values=tuple(_text(v) for v in items), threshold=None)


def _column(values: object, name: str) -> npt.NDArray[Any]:
    return flat_column(values, name, InputError)


def post_training_bias(
    labels: Sequence[Any] | npt.NDArray[Any],
    predicted_labels: Sequence[Any] | npt.NDArray[Any],
    facet_column: Sequence[Any] | npt.NDArray[Any],
    *,
    label_values_or_threshold: ValuesOrThreshold,
    facet_values_or_threshold: ValuesOrThreshold | None = None,
    facet_name: str,
    label_name: str,
    methods: Sequence[str] = METHODS,
) -> dict[str, Any]:
    """Clarify's `analysis.json` with the post-training bias metrics of one facet column.

    Raises `InputError` for unusable input (lengths differ, unknown method, a threshold on text) and
    `EmptyWindowError` when no row is left to judge.
    """
    unknown = [m for m in methods if m not in _FORMULAS]
    if unknown or not methods:
        raise InputError(f"unknown bias method(s) {unknown or list(methods)}; expected some of {', '.join(METHODS)}")
    y_raw, p_raw, f_raw = (
        _column(labels, "labels"),
        _column(predicted_labels, "predicted_labels"),
        _column(facet_column, "facet_column"),
    )
    if not len(y_raw) == len(p_raw) == len(f_raw):
        raise InputError(
            f"labels, predicted_labels and facet_column differ in length: {len(y_raw)}, {len(p_raw)}, {len(f_raw)}"
        )
    missing = {"label": _missing(y_raw), "predicted_label": _missing(p_raw), "facet": _missing(f_raw)}
    keep = ~(missing["label"] | missing["predicted_label"] | missing["facet"])
    y_raw, p_raw, f_raw = y_raw[keep], p_raw[keep], f_raw[keep]
    if len(y_raw) == 0:
        raise EmptyWindowError(
            "no rows to judge: the window is empty or every row lacks a label, a predicted label or a facet value"
        )

    y_numbers, p_numbers = _as_numbers(y_raw), _as_numbers(p_raw)
    # Clarify decides from the label column whether it is continuous; predicted labels are selected the same way.
    label_selector = _selector(label_values_or_threshold, y_numbers, "label_values_or_threshold")
    positive = label_selector.select(y_raw, y_numbers, "labels")
    predicted_positive = label_selector.select(p_raw, p_numbers, "predicted_labels")

    f_numbers = _as_numbers(f_raw)
    if facet_values_or_threshold is None:
        texts = np.asarray([_text(v) for v in f_raw.tolist()], dtype=object).astype(str)
        groups = [(_Selector((str(u),), None), texts == u) for u in np.unique(texts).tolist()]
    else:
        selector = _selector(facet_values_or_threshold, f_numbers, "facet_values_or_threshold")
        groups = [(selector, selector.select(f_raw, f_numbers, "facet_column"))]

    entries = []
    for selector, in_d in groups:
        a, d = _facet_counts(positive, predicted_positive, ~in_d), _facet_counts(positive, predicted_positive, in_d)
        entries.append({"value_or_threshold": selector.text, "metrics": [_metric_entry(m, a, d) for m in methods]})
    return {
        "version": "1.0",
        SECTION: {
            "label": label_name,
            "label_value_or_threshold": label_selector.text,
            "facets": {facet_name: entries},
        },
        OWN_KEY: {
            "rows": len(keep),
            "rows_used": int(keep.sum()),
            "rows_left_out": {f"missing_{what}": int(mask.sum()) for what, mask in missing.items() if mask.any()},
        },
    }


def _facet_counts(positive: BoolArray, predicted: BoolArray, member: BoolArray) -> _Counts:
    cells = np.bincount(positive[member].view(np.int8) * 2 + predicted[member].view(np.int8), minlength=4)
    return _Counts(tp=int(cells[3]), fp=int(cells[1]), fn=int(cells[2]), tn=int(cells[0]))


# --------------------------------------------------------------------------------------------------------------------
# the drift check

_Key = tuple[str, str, str]  # facet, facet value, metric


def check(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[dict[str, str]]:
    """The bias drift violations of `current` against `baseline` (both Clarify analysis.json documents).

    Every metric of the baseline is judged: a violation when the current value is further from the ideal value
    than the baseline's, or when either value is undefined (null), or when the current analysis lacks it.
    Metrics only in the current analysis have no baseline and are not judged.
    Raises `BaselineError` / `AnalysisError` naming the path of what is malformed.
    """
    base = _read(baseline, BaselineError, "baseline")
    now = _read(current, AnalysisError, "current analysis")
    violations = []
    for (facet, facet_value, metric), base_value in base.items():
        key = (facet, facet_value, metric)
        if key not in now:
            description = (
                f"Metric {metric} for facet {facet}={facet_value} is in the baseline but was not computed in the "
                "current analysis, so it cannot be judged"
            )
        else:
            description = _judge(metric, now[key], base_value) or ""
            if not description:
                continue
        violations.append(
            {
                "facet": facet,
                "facet_value": facet_value,
                "metric_name": metric,
                "constraint_check_type": BIAS_DRIFT_CHECK,
                "description": description,
            }
        )
    return violations


def _judge(metric: str, current: float | None, baseline: float | None) -> str | None:
    """The description of a violation, or None when the current value meets the baseline."""
    ideal = IDEAL.get(metric, 0.0)
    if current is None and baseline is None:
        return f"Value of {metric} is undefined in both the current analysis and the baseline, so it cannot be judged"
    if current is None:
        return (
            f"Value of {metric} is undefined in the current analysis (the baseline's is {_number(baseline)}), "
            "so it cannot meet the constraint requirement"
        )
    if baseline is None:
        return (
            f"Value {_number(current)} cannot be judged: the baseline value of {metric} is undefined, so there is "
            "no constraint requirement to meet"
        )
    if math.isnan(current) or abs(current - ideal) > abs(baseline - ideal):
        return (
            f"Value {_number(current)} does not meet the constraint requirement: it is further from the ideal "
            f"{_number(ideal)} than the baseline value {_number(baseline)}"
        )
    return None


def _number(value: float | None) -> str:
    return "null" if value is None else f"{value:.4g}"


def _read(document: object, error: type[ValueError], what: str) -> dict[_Key, float | None]:
    """(facet, facet value, metric) -> value from an analysis.json's post_training_bias_metrics."""
    if not isinstance(document, Mapping):
        raise error(f"the {what} must be a JSON object, got {type(document).__name__}")
    section = document.get(SECTION)
    if not isinstance(section, Mapping):
        raise error(f"{SECTION}: the {what} has no post-training bias metrics object")
    facets = section.get("facets")
    if not isinstance(facets, Mapping) or not facets:
        raise error(f"{SECTION}.facets: the {what} must map each facet name to a list of facet values")
    values: dict[_Key, float | None] = {}
    for facet, entries in facets.items():
        path = f"{SECTION}.facets.{facet}"
        if not isinstance(entries, list) or not entries:
            raise error(f"{path}: the {what} must hold a non-empty list of facet values")
        for index, entry in enumerate(entries):
            where = f"{path}[{index}]"
            if not isinstance(entry, Mapping):
                raise error(f"{where}: must be an object")
            facet_value = entry.get("value_or_threshold")
            if facet_value is None or isinstance(facet_value, Mapping | list):
                raise error(f"{where}.value_or_threshold: missing or not a value")
            metric_list = entry.get("metrics")
            if not isinstance(metric_list, list) or not metric_list:
                raise error(f"{where}.metrics: must be a non-empty list of metrics")
            for position, item in enumerate(metric_list):
                spot = f"{where}.metrics[{position}]"
                name = item.get("name") if isinstance(item, Mapping) else None
                if not isinstance(name, str) or not name:
                    raise error(f"{spot}.name: missing or not a string")
                if "value" not in item:
                    raise error(f"{spot}.value: missing")
                values[(str(facet), _text(facet_value), name)] = _value(item["value"], f"{spot}.value", error)
    return values


def _value(raw: object, path: str, error: type[ValueError]) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in {"infinity", "inf", "+infinity"}:
            return math.inf
        if text in {"-infinity", "-inf"}:
            return -math.inf
        raise error(f"{path}: expected a number, null or 'Infinity', got {raw!r}")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise error(f"{path}: expected a number, null or 'Infinity', got {raw!r}")
    return float(raw)
