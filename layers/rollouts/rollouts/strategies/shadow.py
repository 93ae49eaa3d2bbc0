"""Shadow / challenger: the candidate answers a copy of production's requests and is judged on them; its spec.

No `from __future__ import annotations`: the spec is a pydantic model (see `rollouts.models.base`).
"""

from typing import Any, ClassVar, Literal

from pydantic import Field

from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Candidate, Seconds, Strict, format_duration
from rollouts.strategies.base import ENDPOINT_UPDATE_SECONDS, Preflight, StrategySpec, candidate_variant
from rollouts.strategies.blue_green import BlueGreenStrategy, check_deployment_limits


class Agreement(Strict):
    """How alike the challenger's predictions must be to production's, on the same requests (by inference id).

    `label`: the share of requests where both predict the same label (a numeric output is the positive label at or
    above `label_threshold`; any other output is compared as text) must not be significantly below `min_agreement`
    (a one-sided exact binomial test). `score`: the mean absolute difference of the two numeric outputs must not be
    significantly above `max_mean_distance` (a one-sided z test). Each at its share of guardrails.family_alpha.
    """

    measure: Literal["label", "score"] = "label"
    label_threshold: float = Field(default=0.5, description="label: a numeric output at or above it is positive")
    min_agreement: float = Field(
        default=0.95, ge=0, le=1, description="label: the share of equal labels below which a test rejects"
    )
    max_mean_distance: float = Field(
        default=0.05, ge=0, description="score: the mean |difference| above which a test rejects"
    )


class ShadowStrategy(StrategySpec):
    """The candidate (the challenger) runs beside production as SageMaker's shadow variant and answers nobody.

    SageMaker copies `sampling_percentage` percent of the production variant's requests to it. For `duration`,
    the guardrails watch it (alarm rules apply to the shadow variant); then the judge compares it with production:
    its 5XX rate and latency (per-variant CloudWatch metrics) and how often it agrees with production on the same
    requests (data capture, matched by inference id). Each comparison is a one-sided test whose null is the
    tolerance below, at a third of `guardrails.family_alpha` (`rollouts.logic.shadow`): a challenger fails on
    evidence, not on a figure that crosses a margin by chance. A challenger that passes replaces production's model
    through SageMaker's blue/green deployment (`promotion`); one that fails, or has too few requests to tell, is
    removed and production goes on alone. `on_success: remove-shadow` reports the verdict without promoting.
    """

    type: Literal["shadow"] = "shadow"
    title: ClassVar[str] = "Shadow"
    pause_refusal: ClassVar[str] = (
        "the challenger has no weight to hold, only a copy of production's requests: abort removes it, promote "
        "promotes it"
    )
    data_capture_needed: ClassVar[str | None] = "a shadow rollout compares predictions from data capture"

    sampling_percentage: int = Field(
        default=100, ge=1, le=100, description="Percent of production's requests copied to the challenger"
    )
    duration: Seconds = Field(default=3600.0, description="How long the challenger shadows production: '1h'")
    max_error_rate_increase: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="Fails if the challenger's 5XX rate is significantly above production's plus this: 0.005",
    )
    latency_statistic: Literal["Average", "p50", "p90", "p99"] = "p99"
    max_latency_increase: float = Field(
        default=0.2,
        ge=0,
        description="Fails if its ModelLatency per minute is significantly higher and its median above production's "
        "times 1 + this: 0.2",
    )
    agreement: Agreement = Field(default_factory=Agreement)
    minimum_samples: int = Field(
        default=200, ge=1, description="Requests the challenger answered, and matched pairs, needed for a verdict"
    )
    on_success: Literal["promote", "remove-shadow"] = "promote"
    promotion: BlueGreenStrategy = Field(
        default_factory=BlueGreenStrategy, description="How a challenger that passes replaces production"
    )

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """The shadow config's update, the shadowing, then the promotion's deployment."""
        promotion = self.promotion.longest_run(extra_bakes, pause_seconds) if self.on_success == "promote" else 0.0
        return ENDPOINT_UPDATE_SECONDS + self.duration + promotion

    def summary(self) -> str:
        return (
            f"a shadow of {self.sampling_percentage} % of production's requests for "
            f"{format_duration(self.duration)}, then "
            + (
                "promotion through SageMaker's blue/green deployment if it passes"
                if self.on_success == "promote"
                else "a verdict without promotion"
            )
        )

    def check(self, preflight: Preflight) -> None:
        """SageMaker puts a shadow variant beside a single production variant; a challenger that passes is promoted
        through a blue/green deployment, whose exclusions are checked now rather than after the shadowing."""
        if len(preflight.variants) != 1:
            raise InvalidRolloutError(
                field="endpoint_name",
                reason=f"SageMaker allows a shadow variant only beside a single production variant; "
                f"'{preflight.endpoint_name}' has {len(preflight.variants)} ({preflight.variants})",
            )
        if self.on_success == "promote":
            check_deployment_limits(preflight)

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Production as it is, the challenger as its shadow."""
        # Relative to the production variant's weight, 1.0 here: the share of its requests that are copied.
        shadow = candidate_variant(candidates[0], self.sampling_percentage / 100.0)
        return [{**variant, "InitialVariantWeight": 1.0} for variant in production], [shadow]

    def describe_variants(self, baseline: str, candidates: list[Candidate]) -> str:
        candidate = candidates[0]
        return (
            f"production '{baseline}' answers every request, challenger '{candidate.resolved_variant_name}' (model "
            f"'{candidate.model_name}') gets a copy of {self.sampling_percentage} % of them"
        )

    def blue_green_deployment(self) -> BlueGreenStrategy | None:
        return self.promotion if self.on_success == "promote" else None
