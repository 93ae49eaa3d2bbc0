"""What every spec model is built from: the strict base model, durations, and the candidate.

The strategies' spec models (`rollouts.strategies`) and the rollout spec (`rollouts.models.spec`) both build on
these, so this module imports neither. No `from __future__ import annotations`, as in `spec.py`: pydantic would
evaluate each string annotation as a ForwardRef at every cold start.
"""

import re
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from rollouts.models.names import NAME_PATTERN

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
MAX_BAKE_SECONDS = 7 * 24 * 3600


def parse_duration(value: object) -> object:
    """Accept seconds as a number or a string such as "90s", "5m", "1h" or "7d"."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"'{value}' is not a duration: use seconds or a number with s, m, h or d, e.g. '5m'")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


def format_duration(seconds: float) -> str:
    """Seconds as a person reads them: '28d', '1h 30m', '45s' (the units `parse_duration` accepts)."""
    remaining = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size or (unit == "s" and not parts):
            count, remaining = divmod(remaining, size)
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


# At least a second: Step Functions waits in whole seconds, and a shorter one would be a wait of 0.
Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=1, le=MAX_BAKE_SECONDS)]
# A Step Functions standard execution lasts at most one year.
LongSeconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=1, le=365 * 86400)]


def _numeric(annotation: Any) -> bool:
    """Whether a field holds a number: int or float, optional or not (not bool, which is an int)."""
    if annotation in (int, float):
        return True
    return any(arg in (int, float) for arg in get_args(annotation)) and bool not in get_args(annotation)


class _NotANumber:
    """A string or a boolean given for a number: the field's own validation refuses it, naming the field."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)


class Strict(BaseModel):
    """A spec model: unknown fields refused, numbers finite, and a number given as a number: "1", "NaN" or true is
    not taken for one (a duration field takes its strings, such as "5m", through its own parser)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        changed = dict(data)
        for name, field in cls.model_fields.items():
            value = data.get(field.alias or name)
            if not isinstance(value, bool | str) or not _numeric(field.annotation):
                continue
            if isinstance(value, str) and any(isinstance(m, BeforeValidator) for m in field.metadata):
                continue  # a duration: "5m"
            changed[field.alias or name] = _NotANumber(value)
        return changed


class Candidate(Strict):
    """The model to roll out, as a new production variant of the endpoint."""

    model_name: str = Field(pattern=NAME_PATTERN, description="An existing SageMaker model")
    variant_name: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Defaults to the model name, shortened to 63 characters"
    )
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$", examples=["ml.m5.large"])
    initial_instance_count: int = Field(default=1, ge=1, le=100)

    @property
    def resolved_variant_name(self) -> str:
        return self.variant_name or self.model_name[:63].rstrip("-")
