"""What Validate And Lock refuses of an inference component before anything changes, on DescribeInferenceComponent
answers the local cloud does not make (it models components with one Specification of a model)."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.aws import components, endpoints
from rollouts.errors import InvalidRolloutError
from rollouts.logic import validation
from rollouts.models.spec import RolloutSpec


def component_spec() -> RolloutSpec:
    return RolloutSpec.model_validate(
        {
            "endpoint_name": "churn-shared",
            "inference_component_name": "churn-ic",
            "candidate": {"model_name": "churn-xgb-v2"},
            "strategy": {"type": "rolling", "maximum_batch_size": {"type": "copy-count", "value": 1}},
        }
    )


def described(**changes: Any) -> dict[str, Any]:
    return {
        "InferenceComponentName": "churn-ic",
        "EndpointName": "churn-shared",
        "VariantName": "v1",
        "InferenceComponentStatus": "InService",
        "Specification": {"ModelName": "churn-xgb-v1", "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1024}},
        "RuntimeConfig": {"DesiredCopyCount": 4, "CurrentCopyCount": 4},
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"Specification": {"Container": {"DeployedImage": {"SpecifiedImage": "img"}}}}, "container of its own"),
        ({"Specifications": [{"InstanceType": "ml.g5.2xlarge"}, {"InstanceType": "ml.g6.2xlarge"}]}, "Specifications"),
        ({"InferenceComponentStatus": "Updating"}, "is Updating"),
        ({"EndpointName": "churn-other"}, "runs on endpoint 'churn-other'"),
        ({"RuntimeConfig": {"DesiredCopyCount": 1, "CurrentCopyCount": 1}}, "at least 2"),
    ],
)
def test_a_component_the_rollout_cannot_update_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], words: str
) -> None:
    monkeypatch.setattr(components, "describe", lambda name: described(**changes))
    monkeypatch.setattr(endpoints, "describe_model", lambda name: {"ModelName": name})

    with pytest.raises(InvalidRolloutError, match=words) as refused:
        validation._check_component(component_spec(), {"EndpointConfigName": "churn-shared-components"})

    assert refused.value.field == "inference_component_name"


def test_a_component_kept_for_the_rollback_carries_its_resources_not_its_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        components, "describe", lambda name: described(Specification={**described()["Specification"], "Container": {}})
    )
    monkeypatch.setattr(endpoints, "describe_model", lambda name: {"ModelName": name})

    facts = validation._check_component(component_spec(), {"EndpointConfigName": "churn-shared-components"})

    assert facts == {
        "baseline_variant": "v1",
        "original_config": "churn-shared-components",
        "original_component": {
            "ModelName": "churn-xgb-v1",
            "ComputeResourceRequirements": {"MinMemoryRequiredInMb": 1024},
        },
    }
