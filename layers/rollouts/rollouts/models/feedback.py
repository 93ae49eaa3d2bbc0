"""Feedback events: rewards per variant (what a bandit or an A/B test learns from) and ground-truth labels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from rollouts.models.names import NAME_PATTERN

EVENT_ID_PATTERN = r"^[A-Za-z0-9._:/#@=+-]{1,128}$"
# An API request or a queue message may carry this many events at most (a message stays under SQS's 256 KiB).
MAX_EVENTS_PER_MESSAGE = 500
# |reward| <= 1e12: a square is at most 1e24, and the sum of squares of a billion of them stays far below DynamoDB's
# largest number (9.9999999999999999999999999999999999999E+125) and exact to its 38 digits' use here.
MAX_REAL_REWARD = 1e12


def _iso_8601(value: Any) -> Any:
    """A time as JSON carries it: an ISO 8601 string with its offset ('2026-12-04T10:00:00Z'). Not a number, which
    could be seconds or milliseconds, and not a time without an offset, which could be any zone's."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "iso_8601", "give an ISO 8601 date-time string with an offset, such as 2026-12-04T10:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("iso_8601", "'{value}' is not an ISO 8601 date-time", {"value": value[:40]}) from None
    if parsed.tzinfo is None:
        raise PydanticCustomError(
            "iso_8601", "give the time's offset (Z for UTC): '{value}' has none", {"value": value[:40]}
        )
    return parsed


Instant = Annotated[datetime, BeforeValidator(_iso_8601)]


class Reward(BaseModel):
    """The outcome of one inference on one variant: a conversion (0 to 1), or a real value when `kind` says so."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # The reward's range depends on its kind: the document says so as the validator below checks it.
        json_schema_extra={
            "anyOf": [
                {"properties": {"kind": {"const": "conversion"}, "reward": {"minimum": 0, "maximum": 1}}},
                {
                    "required": ["kind"],
                    "properties": {
                        "kind": {"const": "real"},
                        "reward": {"minimum": -MAX_REAL_REWARD, "maximum": MAX_REAL_REWARD},
                    },
                },
            ]
        },
    )

    event_id: str = Field(pattern=EVENT_ID_PATTERN, description="Unique per fact: a resend has the same id")
    endpoint: str = Field(pattern=NAME_PATTERN)
    variant: str = Field(pattern=NAME_PATTERN)
    inference_id: str | None = Field(default=None, max_length=64, description="As passed to InvokeEndpoint")
    reward: float = Field(strict=True, allow_inf_nan=False, description="A number: not a string, not a boolean")
    kind: Literal["conversion", "real"] = Field(
        default="conversion", description="conversion: a reward from 0 to 1; real: any finite value"
    )
    occurred_at: Instant | None = None

    @model_validator(mode="after")
    def _conversion_in_range(self) -> Reward:
        if self.kind == "conversion" and not 0.0 <= self.reward <= 1.0:
            raise ValueError(f"a conversion reward is from 0 to 1, got {self.reward:g}; set kind to 'real' otherwise")
        if abs(self.reward) > MAX_REAL_REWARD:
            raise ValueError(
                f"a real reward is at most {MAX_REAL_REWARD:g} in magnitude, got {self.reward:g}: the arm's sum of "
                "squares must stay a number DynamoDB can store"
            )
        return self


class Label(BaseModel):
    """The ground truth of one inference, for Model Monitor's model-quality and bias jobs to merge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inference_id: str = Field(min_length=1, max_length=64, description="The InferenceId of the captured request")
    label: str | int | float | bool
    endpoint: str | None = Field(default=None, pattern=NAME_PATTERN, description="Files the label under the endpoint")
    event_id: str | None = Field(
        default=None, pattern=EVENT_ID_PATTERN, description="Defaults to 'label:<inference_id>': one label each"
    )
    occurred_at: Instant | None = None

    @property
    def key(self) -> str:
        return self.event_id or f"label:{self.inference_id}"

    @property
    def csv(self) -> str:
        """The label as Model Monitor's ground truth `data` (CSV): booleans as 1 or 0."""
        if isinstance(self.label, bool):
            return "1" if self.label else "0"
        return str(self.label)


Feedback = Reward | Label


class FeedbackBatch(BaseModel):
    """What `POST /feedback` takes: `{"events": [...]}`, each a reward or a label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_EVENTS_PER_MESSAGE)


_REWARD = TypeAdapter(Reward)
_LABEL = TypeAdapter(Label)


def parse_feedback(item: object) -> Feedback:
    """One event: a label if it has a `label`, else a reward. Raises ValueError (pydantic's) when malformed."""
    if isinstance(item, dict) and "label" in item:
        return _LABEL.validate_python(item)
    return _REWARD.validate_python(item)


def event_key(event: Feedback) -> str:
    return event.key if isinstance(event, Label) else event.event_id
