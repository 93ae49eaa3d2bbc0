"""Release policies: which endpoints an approved version of a model package group rolls out to, and how.

A policy is what an ML platform team keeps per model package group (Model Registry) and changes without deploying
the stack. When a version of the group is approved, each of the policy's targets becomes a rollout: the target's
spec template, with the new version's model as the candidate.

No `from __future__ import annotations`: the policy is a pydantic model (see `rollouts.models.base`).
"""

from typing import Any

from pydantic import Field, ValidationError, field_validator

from rollouts.models.base import Strict
from rollouts.models.names import NAME_PATTERN
from rollouts.models.spec import RolloutSpec

# ModelPackageGroupName (botocore's EntityName) and the ARN of a versioned model package.
GROUP_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
ROLE_ARN_PATTERN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
# What a template may not say: the policy's target and the approved version fill these in.
FILLED_IN = ("endpoint_name", "candidate.model_name", "candidate.model_package_arn")
PLACEHOLDER_MODEL = "approved-model-version"


class PolicyTarget(Strict):
    """One endpoint an approved version rolls out to, with the spec to roll out with."""

    endpoint_name: str = Field(pattern=NAME_PATTERN)
    template: dict[str, Any] = Field(
        description=(
            "A rollout spec without `endpoint_name` and `candidate.model_name`: the target's endpoint and the "
            "approved version's model fill them in"
        ),
        examples=[
            {
                "candidate": {"instance_type": "ml.m5.large"},
                "strategy": {"type": "canary", "steps": [{"weight": 10, "bake": "10m"}, {"weight": 50, "bake": "10m"}]},
                "guardrails": {
                    "alarm_rules": [{"name": "5xx-rate", "metric": "Invocation5XXErrors", "threshold": 0.01}]
                },
            }
        ],
    )

    def spec(self, model_name: str, package_arn: str | None = None) -> RolloutSpec:
        """The template filled in for one model (ValidationError when the result is not a valid spec)."""
        candidate = {**(self.template.get("candidate") or {}), "model_name": model_name}
        if package_arn:
            candidate["model_package_arn"] = package_arn
        return RolloutSpec.model_validate(
            {**self.template, "endpoint_name": self.endpoint_name, "candidate": candidate}
        )

    @field_validator("template")
    @classmethod
    def _no_filled_in_fields(cls, template: dict[str, Any]) -> dict[str, Any]:
        candidate = template.get("candidate")
        if "endpoint_name" in template:
            raise ValueError("endpoint_name is the target's: leave it out of the template")
        if isinstance(candidate, dict) and ({"model_name", "model_package_arn"} & candidate.keys()):
            raise ValueError("the candidate's model is the approved version's: leave model_name out of the template")
        return template


class ReleasePolicy(Strict):
    """`PUT /policies/{model_package_group}`: where an approved version of the group rolls out."""

    model_package_group: str = Field(pattern=GROUP_PATTERN, description="The Model Registry's model package group")
    execution_role_arn: str = Field(
        pattern=ROLE_ARN_PATTERN,
        description="The role SageMaker's CreateModel gives the approved version's model (it reads the artifacts)",
    )
    targets: list[PolicyTarget] = Field(min_length=1, max_length=10)
    enabled: bool = Field(default=True, description="false keeps the policy but starts nothing on approval")

    @field_validator("targets")
    @classmethod
    def _each_template_is_a_valid_spec(cls, targets: list[PolicyTarget]) -> list[PolicyTarget]:
        endpoints = [target.endpoint_name for target in targets]
        if len(set(endpoints)) != len(endpoints):
            raise ValueError("each endpoint once: one rollout per endpoint and version")
        for index, target in enumerate(targets):
            try:
                target.spec(PLACEHOLDER_MODEL)
            except ValidationError as error:
                first = error.errors(include_url=False)[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValueError(
                    f"targets.{index}.template.{where}: {first['msg'].removeprefix('Value error, ')}"
                ) from None
        return targets
