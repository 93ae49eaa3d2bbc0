"""Shadow variants on the local cloud: the endpoint config SageMaker accepts, what DescribeEndpoint shows, and a
data plane that mirrors a share of the production traffic to the shadow, with its own metrics, alarms and capture."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.moto_ext import core
from sandbox.scenarios import BASELINE_MODEL, CANDIDATE_MODEL, ENDPOINT
from tests.waiting import until

PRODUCTION, SHADOW = "v1", "challenger"  # v1: the endpoint fixture's variant
SHADOW_CONFIG = "churn-predictor-shadow"
CAPTURE_BUCKET = "shadow-capture"


@pytest.fixture
def cloud(bare_cloud: LocalCloud) -> LocalCloud:
    """These tests do not use template.yaml: the local cloud's SageMaker, CloudWatch and S3 only."""
    return bare_cloud


def variant(name: str, model: str, weight: float) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": weight,
    }


def summary(name: str, weight: float, instances: int = 1) -> dict[str, Any]:
    """A ProductionVariantSummary as DescribeEndpoint shows it, for production and shadow variants alike."""
    return {
        "VariantName": name,
        "CurrentWeight": weight,
        "DesiredWeight": weight,
        "CurrentInstanceCount": instances,
        "DesiredInstanceCount": instances,
    }


def shadow_config(cloud: LocalCloud, weight: float, production_weight: float = 1.0, capture: bool = False) -> str:
    """The baseline in production and the candidate in shadow, at these weights."""
    extra: dict[str, Any] = {}
    if capture:
        cloud.client("s3").create_bucket(Bucket=CAPTURE_BUCKET)
        extra["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{CAPTURE_BUCKET}/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    cloud.client("sagemaker").create_endpoint_config(
        EndpointConfigName=SHADOW_CONFIG,
        ProductionVariants=[variant(PRODUCTION, BASELINE_MODEL, production_weight)],
        ShadowProductionVariants=[variant(SHADOW, CANDIDATE_MODEL, weight)],
        **extra,
    )
    return SHADOW_CONFIG


def in_service(sm: Any, config: str, timeout: float = 1200.0) -> dict[str, Any]:
    """DescribeEndpoint once the endpoint serves `config`; an update takes minutes, `timeout` simulated seconds
    allows for a few of them."""
    last: dict[str, Any] = {}

    def serving() -> dict[str, Any]:
        last.clear()
        last.update(sm.describe_endpoint(EndpointName=ENDPOINT))
        on_config = last["EndpointStatus"] == "InService" and last["EndpointConfigName"] == config
        return dict(last) if on_config else {}

    try:
        return until(serving, f"the endpoint is not InService on {config}", timeout)
    except AssertionError as error:
        raise AssertionError(f"{error}: {last}") from None


def apply(cloud: LocalCloud, config: str) -> dict[str, Any]:
    sm = cloud.client("sagemaker")
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    return in_service(sm, config)


def metric(cloud: LocalCloud, plane: DataPlane, variant_name: str, name: str, statistic: str) -> list[float]:
    """The per-minute values of one of the variant's SageMaker metrics over the plane's run."""
    points = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=name,
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": variant_name}],
        StartTime=plane.started - timedelta(minutes=1),
        EndTime=plane.now() + timedelta(minutes=1),
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    return [float(point[statistic]) for point in points]


def captured(cloud: LocalCloud, variant_name: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The capture files' keys under the variant's folder, and their records by inference id."""
    s3 = cloud.client("s3")
    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=CAPTURE_BUCKET, Prefix=f"capture/{ENDPOINT}/{variant_name}/").get(
            "Contents", []
        )
    ]
    records = {}
    for key in keys:
        for line in s3.get_object(Bucket=CAPTURE_BUCKET, Key=key)["Body"].read().decode().splitlines():
            record = json.loads(line)
            records[record["eventMetadata"]["inferenceId"]] = record
    return keys, records


def test_endpoint_lists_its_shadow_once_updated_and_drops_it_with_a_config_without_one(cloud, endpoint):
    sm = cloud.client("sagemaker")
    core.REGISTRY.endpoint_update_seconds = 400  # simulated seconds Updating
    config = shadow_config(cloud, weight=0.5)

    assert sm.describe_endpoint_config(EndpointConfigName=config)["ShadowProductionVariants"] == [
        variant(SHADOW, CANDIDATE_MODEL, 0.5)
    ]

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    updating = sm.describe_endpoint(EndpointName=ENDPOINT)
    described = in_service(sm, config)

    assert updating["EndpointStatus"] == "Updating"
    assert "ShadowProductionVariants" not in updating  # the old config serves until the update is over
    assert described["ProductionVariants"] == [summary(PRODUCTION, 1.0)]
    assert described["ShadowProductionVariants"] == [summary(SHADOW, 0.5)]

    described = apply(cloud, f"{ENDPOINT}-v1")

    assert "ShadowProductionVariants" not in described
    assert described["ProductionVariants"] == [summary(PRODUCTION, 1.0, instances=2)]


def test_endpoint_created_on_a_shadow_config_lists_its_shadow(cloud, endpoint):
    sm = cloud.client("sagemaker")

    sm.create_endpoint(EndpointName="churn-shadowed", EndpointConfigName=shadow_config(cloud, weight=0.25))

    assert sm.describe_endpoint(EndpointName="churn-shadowed")["ShadowProductionVariants"] == [summary(SHADOW, 0.25)]


ONE_AND_ONE = (
    "If you use ShadowProductionVariants, you can only specify one variant for ProductionVariants and one variant "
    "for ShadowProductionVariants."
)


@pytest.mark.parametrize(
    ("production", "shadows", "message"),
    [
        (
            [variant("v1", BASELINE_MODEL, 1.0), variant("v2", BASELINE_MODEL, 1.0)],
            [variant(SHADOW, CANDIDATE_MODEL, 0.5)],
            re.escape(ONE_AND_ONE),
        ),
        (
            [variant("v1", BASELINE_MODEL, 1.0)],
            [variant(SHADOW, CANDIDATE_MODEL, 0.5), variant("second", CANDIDATE_MODEL, 0.5)],
            re.escape(ONE_AND_ONE),
        ),
        (
            [variant("v1", BASELINE_MODEL, 1.0)],
            [variant("v1", CANDIDATE_MODEL, 0.5)],
            "Variant names must be unique within an endpoint configuration: v1 is both a production variant and a "
            "shadow variant",
        ),
        (
            [variant("v1", BASELINE_MODEL, 1.0)],
            [variant(SHADOW, "churn-xgb-missing", 0.5)],
            "Could not find model '.*churn-xgb-missing'",
        ),
    ],
    ids=["two-production-variants", "two-shadows", "shadow-named-as-production", "shadow-model-missing"],
)
def test_shadow_config_that_sagemaker_refuses_is_refused_with_the_reason(cloud, endpoint, production, shadows, message):
    sm = cloud.client("sagemaker")

    with pytest.raises(ClientError, match=message) as refused:
        sm.create_endpoint_config(
            EndpointConfigName=SHADOW_CONFIG, ProductionVariants=production, ShadowProductionVariants=shadows
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sm.describe_endpoint_config(EndpointConfigName=SHADOW_CONFIG)


def test_shadow_gets_its_share_of_requests_with_its_own_metrics_and_alarms_while_production_alone_answers(
    cloud, endpoint
):
    # Given a shadow at 0.6 beside production at 2.0 (a share of 0.3), on a slower model, with an alarm on its latency
    share = 0.3
    apply(cloud, shadow_config(cloud, weight=0.6, production_weight=2.0))
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="challenger-latency",
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": SHADOW}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80_000,
        ComparisonOperator="GreaterThanThreshold",
    )
    answered: list[str] = []
    plane = DataPlane(
        cloud,
        ENDPOINT,
        {BASELINE_MODEL: ModelBehaviour(latency_ms=40.0), CANDIDATE_MODEL: ModelBehaviour(latency_ms=160.0)},
        on_request=lambda variant_name, *_: answered.append(variant_name),
    )

    # When two simulated minutes of traffic pass
    for _ in range(4):
        plane.step(sim_seconds=30)

    # Then the production variant answered every request, and the shadow got copies of its share of them (within
    # four binomial standard deviations)
    served = sum(metric(cloud, plane, PRODUCTION, "Invocations", "Sum"))
    mirrored = sum(metric(cloud, plane, SHADOW, "Invocations", "Sum"))
    assert set(answered) == {PRODUCTION}
    assert dict(plane.sent) == {PRODUCTION: len(answered)}
    assert served == len(answered) > 5000
    assert abs(mirrored / served - share) < 4 * math.sqrt(share * (1 - share) / served)
    # and the shadow's own metrics, under its VariantName, show its own model: slower, with an alarm that fired
    shadow_latency = metric(cloud, plane, SHADOW, "ModelLatency", "Average")
    production_latency = metric(cloud, plane, PRODUCTION, "ModelLatency", "Average")
    assert metric(cloud, plane, SHADOW, "Invocation5XXErrors", "Sum")
    assert min(shadow_latency) > 3 * max(production_latency)
    alarm = cloud.client("cloudwatch").describe_alarms(AlarmNames=["challenger-latency"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"


def test_capture_of_both_variants_matches_on_inference_id_and_shows_the_challengers_own_predictions(cloud, endpoint):
    # Given a shadow at 0.5 whose model scores 0.25 higher than the baseline, with data capture on
    score_shift = 0.25
    apply(cloud, shadow_config(cloud, weight=0.5, capture=True))
    plane = DataPlane(
        cloud,
        ENDPOINT,
        {
            BASELINE_MODEL: ModelBehaviour(error_rate=0.0),
            CANDIDATE_MODEL: ModelBehaviour(error_rate=0.0, score_shift=score_shift),
        },
    )

    # When a simulated minute of traffic passes and the capture files are written
    plane.step(sim_seconds=60)
    plane.flush_capture()

    # Then each variant's records are in its own folder, as SageMaker lays capture files out
    production_keys, production = captured(cloud, PRODUCTION)
    shadow_keys, shadow = captured(cloud, SHADOW)
    layout = r"capture/churn-predictor/{}/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/[0-9a-f]{{32}}\.jsonl"
    assert production_keys
    assert shadow_keys
    assert all(re.fullmatch(layout.format(PRODUCTION), key) for key in production_keys)
    assert all(re.fullmatch(layout.format(SHADOW), key) for key in shadow_keys)
    # and every mirrored request has a record in both, with the same inference id and input
    assert len(production) == plane.sent[PRODUCTION]
    assert 0 < len(shadow) < len(production)
    assert shadow.keys() <= production.keys()
    for inference_id, record in shadow.items():
        answer = production[inference_id]
        assert record["captureData"]["endpointInput"] == answer["captureData"]["endpointInput"]
        assert record["eventMetadata"]["eventId"] != answer["eventMetadata"]["eventId"]
        # and the challenger's prediction is its own: the baseline's score shifted, within [0, 1]
        expected = min(1.0, float(answer["captureData"]["endpointOutput"]["data"]) + score_shift)
        assert float(record["captureData"]["endpointOutput"]["data"]) == pytest.approx(expected, abs=2e-4)
