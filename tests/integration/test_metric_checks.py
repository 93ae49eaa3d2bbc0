"""Judge Step's metric checks on data points in (local) CloudWatch: periods read back, percentiles, verdicts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from rollouts.logic.judging import judge_metrics
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec
from sandbox import moto_ext
from sandbox.scenarios import spec

ENDPOINT = "churn-predictor"
BASELINE, CANDIDATE = "v1", "churn-xgb-v2"
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    moto_ext.install()  # ExtendedStatistics, which moto lacks
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def rollout(*checks: dict[str, Any]) -> Rollout:
    body = spec(judged=True)
    body["guardrails"]["rate_checks"] = []
    body["guardrails"]["metric_checks"] = list(checks)
    return Rollout(
        rollout_id="r-0123456789ab",
        spec=RolloutSpec.model_validate(body),
        baseline_variant=BASELINE,
        started_at=START,
    )


def publish_latency(
    cloudwatch: Any, variant: str, median_ms: float, minutes: int, seed: int, per_minute: int = 60
) -> None:
    """`minutes` minutes of raw ModelLatency values (microseconds), log-normal around `median_ms`."""
    rng = random.Random(seed)
    dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": variant}]
    for minute in range(minutes):
        values = [round(median_ms * 1000 * rng.lognormvariate(0, 0.3)) for _ in range(per_minute)]
        cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": dims,
                    "Timestamp": START + timedelta(minutes=minute, seconds=30),
                    "Values": [float(v) for v in values],
                    "Unit": "Microseconds",
                }
            ],
        )


def test_a_slower_candidate_fails_the_rank_test_on_its_p90_per_minute(cloudwatch):
    # Given 12 minutes of latencies: the baseline around 40 ms, the candidate around 60 ms
    publish_latency(cloudwatch, BASELINE, 40, minutes=12, seed=1)
    publish_latency(cloudwatch, CANDIDATE, 60, minutes=12, seed=2)

    # When the step is judged on the p90 per minute
    [verdict] = judge_metrics(rollout({"name": "latency", "statistic": "p90"}), now=START + timedelta(minutes=12))

    # Then it fails, on 12 periods a side, with the medians of the p90s and the change between them
    assert verdict.metric == "p90 ModelLatency (µs) (latency)"
    assert verdict.outcome == "Failed"
    assert verdict.evidence.rule == "SignificantIncrease"
    assert (verdict.evidence.baseline_samples, verdict.evidence.candidate_samples) == (12, 12)
    assert verdict.evidence.effect_size == pytest.approx(0.5, abs=0.15)
    assert (verdict.evidence.candidate_estimate or 0) > (verdict.evidence.baseline_estimate or 0) > 40_000


def test_an_equally_fast_candidate_passes_and_a_small_slowdown_is_within_the_allowed_change(cloudwatch):
    publish_latency(cloudwatch, BASELINE, 40, minutes=12, seed=3)
    publish_latency(cloudwatch, CANDIDATE, 41, minutes=12, seed=4)

    [verdict] = judge_metrics(rollout({"name": "latency"}), now=START + timedelta(minutes=12))

    assert verdict.outcome == "Successful"
    assert verdict.evidence.effect_size is not None
    assert verdict.evidence.effect_size < 0.1


def test_too_few_periods_is_inconclusive_and_says_how_many(cloudwatch):
    publish_latency(cloudwatch, BASELINE, 40, minutes=3, seed=5)
    publish_latency(cloudwatch, CANDIDATE, 80, minutes=3, seed=6)

    [verdict] = judge_metrics(rollout({"name": "latency"}), now=START + timedelta(minutes=3))

    assert verdict.outcome == "Inconclusive"
    assert verdict.evidence.rule == "BelowMinimumSample"
    assert "3 / 3 periods" in verdict.evidence.explanation


def test_a_threshold_check_holds_the_candidates_p99_over_the_window_to_the_limit(cloudwatch):
    publish_latency(cloudwatch, CANDIDATE, 60, minutes=5, seed=7)
    check = {"name": "p99-limit", "statistic": "p99", "test": "threshold", "threshold": 50_000}

    [verdict] = judge_metrics(rollout(check), now=START + timedelta(minutes=5))

    assert verdict.outcome == "Failed"
    assert verdict.evidence.rule == "ThresholdBreached"
    assert verdict.evidence.candidate_samples == 300  # every value of the window behind one percentile
    assert (verdict.evidence.candidate_estimate or 0) > 50_000


def test_a_custom_metric_where_lower_is_worse_finds_its_variants_by_dimension(cloudwatch):
    # Given a business metric the application publishes per variant, in its own namespace
    rng = random.Random(8)
    for minute in range(10):
        for variant, rate in ((BASELINE, 0.10), (CANDIDATE, 0.07)):
            cloudwatch.put_metric_data(
                Namespace="Shop/Checkout",
                MetricData=[
                    {
                        "MetricName": "ConversionRate",
                        "Dimensions": [{"Name": "Site", "Value": "eu"}, {"Name": "ModelVariant", "Value": variant}],
                        "Timestamp": START + timedelta(minutes=minute, seconds=10),
                        "Value": rate + rng.uniform(-0.01, 0.01),
                    }
                ],
            )
    check = {
        "name": "conversion",
        "namespace": "Shop/Checkout",
        "metric": "ConversionRate",
        "dimensions": {"Site": "eu"},
        "variant_dimension": "ModelVariant",
        "statistic": "Average",
        "direction": "lower-is-worse",
    }

    # When the step is judged
    [verdict] = judge_metrics(rollout(check), now=START + timedelta(minutes=10))

    # Then the candidate's lower conversion fails it
    assert verdict.outcome == "Failed"
    assert verdict.evidence.effect_size == pytest.approx(-0.3, abs=0.08)
