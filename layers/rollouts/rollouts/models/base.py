"""What every spec model is built from: the strict base model, durations, and the candidate.

The strategies' spec models (`rollouts.strategies`) and the rollout spec (`rollouts.models.spec`) both build on
these, so this module imports neither. No `from __future__ import annotations`, as in `spec.py`: pydantic would
evaluate each string annotation as a ForwardRef at every cold start.
"""

import re
from typing import TYPE_CHECKING, Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

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


def _counts(low: int, high: int) -> str | None:
    """A regular expression of whole numbers, all of them from `low` (at least 1) to `high`; not always all such."""
    if high < low:
        return None
    if high <= 9:
        return f"[{low}-{high}]"
    forms = [f"[{low}-9]"] if low <= 9 else []
    shortest = max(2, len(str(low)) + (0 if low == 10 ** (len(str(low)) - 1) else 1))
    longest = len(str(high)) - (0 if str(high) == "9" * len(str(high)) else 1)
    if shortest <= longest:
        forms.append(f"[1-9][0-9]{{{shortest - 1},{longest - 1}}}")
    return "|".join(forms) or None


def duration_schema(minimum: int, maximum: int, zero: bool = False) -> dict[str, Any]:
    """The JSON schema of a duration field: seconds as a number from `minimum` to `maximum` (or 0, when `zero`), or
    a string with a unit. The string's pattern admits only whole counts within the bounds ('90s', '5m', '2h', '7d'),
    so that whatever the document calls valid is accepted; the API reads more (`parse_duration`), bounds checked."""
    forms = []
    for unit, size in (("s", 1), ("m", 60), ("h", 3600), ("d", 86400)):
        counts = _counts(max(1, -(-minimum // size)), maximum // size)
        if counts:
            forms.append(f"({counts}){unit}")
    numbers: list[dict[str, Any]] = [{"type": "number", "minimum": max(minimum, 1 if zero else minimum),
                                      "maximum": maximum}]  # fmt: skip
    if zero:
        numbers.append({"const": 0})
    return {"anyOf": [*numbers, {"type": "string", "pattern": "^(" + "|".join(forms) + ")$"}]}


def duration(minimum: int, maximum: int, zero: bool = False) -> Any:
    """A duration field's type: seconds, or a string such as '5m', from `minimum` to `maximum` (or 0, when `zero`:
    then nothing between 0 and 1 s, which SageMaker and Step Functions would both take for 0)."""

    def _none_or_a_second(seconds: float) -> float:
        if 0 < seconds < 1:
            raise ValueError(f"{seconds:g} s: 0 for no wait, or at least 1 s")
        return seconds

    return Annotated[
        float,
        BeforeValidator(parse_duration),
        Field(ge=0 if zero else minimum, le=maximum),
        *([AfterValidator(_none_or_a_second)] if zero else []),
        WithJsonSchema(duration_schema(minimum, maximum, zero)),
    ]


if TYPE_CHECKING:
    Seconds = float
    LongSeconds = float
else:
    # At least a second: Step Functions waits in whole seconds, and a shorter one would be a wait of 0.
    Seconds = duration(1, MAX_BAKE_SECONDS)
    # A Step Functions standard execution lasts at most one year.
    LongSeconds = duration(1, 365 * 86400)


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
    model_package_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:model-package/[\S]{1,2048}$",
        description=(
            "A Model Registry version, instead of model_name: its model '<group>-v<version>' is made from the package "
            "(CreateModel) before the rollout starts. The version must be Approved"
        ),
    )
    execution_role_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$",
        description=(
            "With model_package_arn: the role CreateModel gives the model; default: the role of the group's release "
            "policy"
        ),
    )
    variant_name: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Defaults to the model name, shortened to 63 characters"
    )
    instance_type: str | None = Field(
        default=None,
        pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
        examples=["ml.m5.large"],
        description="Required, except for an inference component, which runs on its endpoint's instances",
    )
    initial_instance_count: int = Field(default=1, ge=1, le=100)

    @property
    def resolved_variant_name(self) -> str:
        return self.variant_name or self.model_name[:63].rstrip("-")
