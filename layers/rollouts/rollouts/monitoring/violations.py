"""Parse SageMaker Model Monitor constraint_violations.json files into typed violations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from rollouts.monitoring.kinds import MonitoringType

DATA_QUALITY_CHECK_TYPES = frozenset(
    {
        "data_type_check",
        "completeness_check",
        "baseline_drift_check",
        "missing_column_check",
        "extra_column_check",
        "categorical_values_check",
    }
)
# Model quality violations put the CloudWatch-style comparison operator in constraint_check_type.
MODEL_QUALITY_CHECK_TYPES = frozenset(
    {
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
        "GreaterThanThreshold",
        "GreaterThanOrEqualToThreshold",
    }
)
BIAS_DRIFT_CHECK = "bias_drift_check"
FEATURE_ATTRIBUTION_DRIFT_CHECK = "feature_attribution_drift_check"
SHAP_METRIC = "shap"

_TYPE_BY_CHECK: Mapping[str, MonitoringType] = {
    BIAS_DRIFT_CHECK: MonitoringType.MODEL_BIAS,
    FEATURE_ATTRIBUTION_DRIFT_CHECK: MonitoringType.MODEL_EXPLAINABILITY,
    **dict.fromkeys(DATA_QUALITY_CHECK_TYPES, MonitoringType.DATA_QUALITY),
}
# bool before number: in Python a bool is an int, in JSON it is not.
_JSON_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (Mapping, "an object"),
)


class ViolationsFormatError(ValueError):
    """A constraint_violations.json document does not have the shape Model Monitor writes."""


class Violation(BaseModel):
    """One entry of constraint_violations.json, normalised across the four monitoring types."""

    model_config = ConfigDict(frozen=True)

    monitoring_type: MonitoringType
    check_type: str
    subject: str
    feature: str | None = None
    metric: str | None = None
    facet: str | None = None
    facet_value: str | None = None
    label: str | None = None
    # Free text whose wording AWS does not document: show it to people, never branch on it.
    description: str = ""


def parse_violations(
    document: Mapping[str, Any] | str | bytes,
    monitoring_type: MonitoringType | None = None,
) -> list[Violation]:
    """Return the violations in a constraint_violations.json document, given as parsed JSON or as its text.

    Without `monitoring_type`, each entry's type is inferred from its check type and keys.
    Raises `ViolationsFormatError` naming what is wrong when the document is not in a Model Monitor shape.
    """
    parsed = _load(document)
    if "violations" not in parsed:
        return []
    entries = parsed["violations"]
    if not isinstance(entries, list):
        raise ViolationsFormatError(f"'violations' must be a list, got {_json_type(entries)}")
    explicit = MonitoringType(monitoring_type) if monitoring_type is not None else None
    return [_parse_entry(entry, index, explicit) for index, entry in enumerate(entries)]


def _load(document: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    if isinstance(document, str | bytes | bytearray):
        try:
            loaded: object = json.loads(document)
        except ValueError as error:
            # UnicodeDecodeError is a ValueError too, so undecodable bytes land here as well.
            raise ViolationsFormatError(f"constraint violations document is not valid JSON: {error}") from error
    else:
        loaded = document
    if not isinstance(loaded, Mapping):
        raise ViolationsFormatError(f"constraint violations document must be a JSON object, got {_json_type(loaded)}")
    return loaded


def _parse_entry(entry: object, index: int, explicit: MonitoringType | None) -> Violation:
    where = f"violations[{index}]"
    if not isinstance(entry, Mapping):
        raise ViolationsFormatError(f"{where} must be an object, got {_json_type(entry)}")
    check_type = entry.get("constraint_check_type")
    if check_type is None:
        raise ViolationsFormatError(f"{where} lacks 'constraint_check_type'")
    if not isinstance(check_type, str) or not check_type.strip():
        raise ViolationsFormatError(
            f"{where}.constraint_check_type must be a non-empty string, got {_json_type(check_type)}"
        )

    feature = _optional_text(entry, "feature_name", where)
    metric = _optional_text(entry, "metric_name", where)
    facet = _optional_text(entry, "facet", where)
    facet_value = _optional_text(entry, "facet_value", where)
    label = _optional_text(entry, "label", where)
    description = _optional_text(entry, "description", where) or ""

    kind = explicit or _infer_type(check_type, feature=feature, metric=metric, facet=facet, label=label)
    if kind is None:
        raise ViolationsFormatError(
            f"{where} has constraint_check_type {check_type!r} and keys {sorted(entry)}, which match no monitoring"
            " type; pass monitoring_type explicitly"
        )
    return Violation(
        monitoring_type=kind,
        check_type=check_type,
        subject=_subject(
            kind, check_type, feature=feature, metric=metric, facet=facet, facet_value=facet_value, label=label
        ),
        feature=feature,
        metric=metric,
        facet=facet,
        facet_value=facet_value,
        label=label,
        description=description,
    )


def _optional_text(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    # Clarify may write a numeric facet value or label index as a JSON number; the text form is what people read.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ViolationsFormatError(f"{where}.{key} must be a string, got {_json_type(value)}")
    return str(value)


def _infer_type(
    check_type: str, *, feature: str | None, metric: str | None, facet: str | None, label: str | None
) -> MonitoringType | None:
    # The check type is the documented discriminator; keys only decide for custom (BYOC) check types.
    by_check = _TYPE_BY_CHECK.get(check_type)
    if by_check is not None:
        return by_check
    if check_type in MODEL_QUALITY_CHECK_TYPES and metric is not None:
        return MonitoringType.MODEL_QUALITY
    if facet is not None:
        return MonitoringType.MODEL_BIAS
    if label is not None and metric == SHAP_METRIC:
        return MonitoringType.MODEL_EXPLAINABILITY
    return MonitoringType.DATA_QUALITY if feature is not None else None


def _subject(
    kind: MonitoringType,
    check_type: str,
    *,
    feature: str | None,
    metric: str | None,
    facet: str | None,
    facet_value: str | None,
    label: str | None,
) -> str:
    match kind:
        case MonitoringType.DATA_QUALITY:
            return feature or metric or check_type
        case MonitoringType.MODEL_QUALITY:
            return metric or feature or check_type
        case MonitoringType.MODEL_BIAS:
            name = metric or check_type
            if facet is None:
                return name
            return f"{name} for {facet}={facet_value}" if facet_value is not None else f"{name} for {facet}"
        case MonitoringType.MODEL_EXPLAINABILITY:
            attribution = f"{metric or SHAP_METRIC} attribution"
            return f"{attribution} for label {label}" if label is not None else attribution


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str) and not value.strip():
        return "an empty string"
    return next((name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind)), type(value).__name__)
