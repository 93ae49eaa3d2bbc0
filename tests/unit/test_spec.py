"""RolloutSpec validation: what a release tool may post, and the field and reason it hears back when it may not."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from rollouts.models.spec import RolloutSpec
from rollouts.strategies.ab_test import AbTestStrategy
from rollouts.strategies.canary import CanaryStrategy
from sandbox.scenarios import spec

Edit = Callable[[dict[str, Any]], object]


def with_change(edit: Edit) -> dict[str, Any]:
    body = spec()
    edit(body)
    return body


def errors_of(body: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        RolloutSpec.model_validate(body)
    return [(tuple(error["loc"]), error["msg"]) for error in caught.value.errors(include_url=False)]


def only_error_of(body: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    errors = errors_of(body)
    assert len(errors) == 1, errors
    return errors[0]


def step(index: int, **values: Any) -> Edit:
    return lambda body: body["strategy"]["steps"][index].update(values)


def alarm_rule(index: int, **values: Any) -> Edit:
    return lambda body: body["guardrails"]["alarm_rules"][index].update(values)


# --- the spec of the demo ---------------------------------------------------------------------------------------


def canary_steps(parsed: RolloutSpec) -> list[tuple[float, float]]:
    assert isinstance(parsed.strategy, CanaryStrategy)
    return [(s.weight, s.bake) for s in parsed.strategy.steps]


def test_spec_accepts_the_demo_canary_as_posted() -> None:
    parsed = RolloutSpec.model_validate(spec())

    assert parsed.endpoint_name == "churn-predictor"
    assert parsed.candidate.model_name == "churn-xgb-v2"
    assert canary_steps(parsed) == [(10, 300), (50, 300)]
    assert [rule.name for rule in parsed.guardrails.alarm_rules] == ["5xx-rate", "latency-p99"]
    assert parsed.guardrails.alarm_rules[1].is_percentile
    assert [g.schedule_name for g in parsed.guardrails.monitoring_schedules] == ["churn-predictor-data-quality"]


def test_spec_fills_defaults_the_demo_leaves_out() -> None:
    parsed = RolloutSpec.model_validate(spec())

    assert parsed.baseline_variant is None
    assert parsed.data_capture.sampling_percentage == 100
    assert parsed.guardrails.alarms == []
    rule = parsed.guardrails.alarm_rules[0]
    assert (rule.period_seconds, rule.evaluation_periods, rule.datapoints_to_alarm) == (60, 1, None)
    assert rule.comparison.value == "GreaterThanThreshold"


def test_spec_reads_the_same_json_the_api_receives() -> None:
    assert RolloutSpec.model_validate_json(json.dumps(spec())) == RolloutSpec.model_validate(spec())


# --- durations --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bake", "seconds"),
    [
        ("5m", 300),
        ("90s", 90),
        (300, 300),
        ("1h", 3600),
        ("300", 300),
        ("2 min", 120),
        ("1.5h", 5400),
        (45.5, 45.5),
        ("2d", 172800),
    ],
)
def test_spec_reads_bake_durations_as_seconds(bake: object, seconds: float) -> None:
    parsed = RolloutSpec.model_validate(with_change(step(0, bake=bake)))

    assert canary_steps(parsed)[0][1] == seconds


@pytest.mark.parametrize("bake", ["5x", "five minutes", "1w", "-5m", ""])
def test_spec_rejects_a_bake_that_is_not_a_duration_naming_the_field(bake: str) -> None:
    loc, msg = only_error_of(with_change(step(0, bake=bake)))

    assert loc == ("strategy", "canary", "steps", 0, "bake")
    assert f"'{bake}' is not a duration" in msg
    assert "'5m'" in msg  # the message shows what a duration looks like


@pytest.mark.parametrize("bake", [0, -30, "0s", "500ms", 0.5])
def test_spec_rejects_a_bake_under_a_second(bake: object) -> None:
    # Step Functions waits in whole seconds: a shorter wait would be none, and a signal sent during it lost
    loc, msg = only_error_of(with_change(step(1, bake=bake)))

    assert loc == ("strategy", "canary", "steps", 1, "bake")
    assert msg == "Input should be greater than or equal to 1"


def test_spec_rejects_a_bake_longer_than_a_week() -> None:
    loc, msg = only_error_of(with_change(step(0, bake="169h")))

    assert loc == ("strategy", "canary", "steps", 0, "bake")
    assert msg == "Input should be less than or equal to 604800"


# --- weights ----------------------------------------------------------------------------------------------------


def test_spec_rejects_decreasing_weights_naming_the_field() -> None:
    loc, msg = only_error_of(
        with_change(lambda b: b["strategy"].update(steps=[{"weight": 50, "bake": "5m"}, {"weight": 10, "bake": "5m"}]))
    )

    assert loc == ("strategy", "canary", "steps")
    assert "weights must increase" in msg
    assert "50.0 then 10.0" in msg


def test_spec_rejects_a_repeated_weight() -> None:
    loc, msg = only_error_of(with_change(step(1, weight=10)))

    assert loc == ("strategy", "canary", "steps")
    assert "weights must increase" in msg


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (0, "Input should be greater than 0"),
        (-5, "Input should be greater than 0"),
        (100.5, "Input should be less than or equal to 100"),
    ],
)
def test_spec_rejects_a_weight_outside_0_to_100(weight: float, message: str) -> None:
    body = with_change(lambda b: b["strategy"].update(steps=[{"weight": weight, "bake": "5m"}]))

    assert only_error_of(body) == (("strategy", "canary", "steps", 0, "weight"), message)


def test_spec_accepts_a_last_step_at_100_percent() -> None:
    parsed = RolloutSpec.model_validate(with_change(step(1, weight=100)))

    assert canary_steps(parsed)[-1][0] == 100


def test_spec_needs_at_least_one_step() -> None:
    loc, msg = only_error_of(with_change(lambda b: b["strategy"].update(steps=[])))

    assert loc == ("strategy", "canary", "steps")
    assert "at least 1 item" in msg


# --- unknown fields ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "loc"),
    [
        (lambda b: b.update(endpoint="churn-predictor"), ("endpoint",)),
        (lambda b: b["candidate"].update(instance_count=2), ("candidate", "instance_count")),
        (lambda b: b["strategy"]["steps"][0].update(pause=True), ("strategy", "canary", "steps", 0, "pause")),
        (lambda b: b["guardrails"]["alarm_rules"][0].update(stat="Average"), ("guardrails", "alarm_rules", 0, "stat")),
        (lambda b: b["guardrails"].update(alarm=["x"]), ("guardrails", "alarm")),
    ],
    ids=["top-level", "candidate", "step", "alarm-rule", "guardrails"],
)
def test_spec_rejects_unknown_fields_so_a_typo_is_not_ignored(edit: Edit, loc: tuple[int | str, ...]) -> None:
    assert only_error_of(with_change(edit)) == (loc, "Extra inputs are not permitted")


def test_spec_rejects_an_unknown_strategy_type() -> None:
    loc, msg = only_error_of(with_change(lambda b: b["strategy"].update(type="linear")))

    assert loc == ("strategy",)
    assert "'linear'" in msg
    assert "'canary', 'bandit'" in msg


# --- alarm rules ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("statistic", ["Average", "Sum", "SampleCount", "Minimum", "Maximum", "p99", "p50", "p99.9"])
def test_alarm_rule_accepts_cloudwatch_statistics_and_percentiles(statistic: str) -> None:
    parsed = RolloutSpec.model_validate(with_change(alarm_rule(0, statistic=statistic)))

    rule = parsed.guardrails.alarm_rules[0]
    assert rule.statistic == statistic
    assert rule.is_percentile == statistic.startswith("p")


@pytest.mark.parametrize("statistic", ["p999x", "average", "P99", "mean", "p"])
def test_alarm_rule_rejects_an_unknown_statistic_naming_the_field(statistic: str) -> None:
    loc, msg = only_error_of(with_change(alarm_rule(1, statistic=statistic)))

    assert loc == ("guardrails", "alarm_rules", 1, "statistic")
    assert f"'{statistic}' is not a CloudWatch statistic" in msg
    assert "Average" in msg
    assert "pNN" in msg


def test_alarm_rule_rejects_an_unknown_metric() -> None:
    loc, msg = only_error_of(with_change(alarm_rule(0, metric="Invocation5xxErrors")))

    assert loc == ("guardrails", "alarm_rules", 0, "metric")
    assert "Invocation5XXErrors" in msg  # the message lists the metrics SageMaker publishes


@pytest.mark.parametrize("period", [60, 120, 300, 3600])
def test_alarm_rule_accepts_whole_minute_periods(period: int) -> None:
    parsed = RolloutSpec.model_validate(with_change(alarm_rule(0, period_seconds=period)))

    assert parsed.guardrails.alarm_rules[0].period_seconds == period


@pytest.mark.parametrize("period", [1, 10, 30, 45, 90, 61, 0, -60])
def test_alarm_rule_rejects_other_periods_naming_the_field(period: int) -> None:
    loc, msg = only_error_of(with_change(alarm_rule(0, period_seconds=period)))

    assert loc == ("guardrails", "alarm_rules", 0, "period_seconds")
    assert (
        msg == "Value error, the period must be a multiple of 60 seconds: SageMaker publishes these metrics per minute"
    )


def test_alarm_rule_accepts_m_out_of_n_datapoints() -> None:
    parsed = RolloutSpec.model_validate(with_change(alarm_rule(0, evaluation_periods=5, datapoints_to_alarm=3)))

    rule = parsed.guardrails.alarm_rules[0]
    assert (rule.datapoints_to_alarm, rule.evaluation_periods) == (3, 5)


def test_alarm_rule_rejects_more_datapoints_to_alarm_than_evaluation_periods() -> None:
    loc, msg = only_error_of(with_change(alarm_rule(1, evaluation_periods=2, datapoints_to_alarm=3)))

    assert loc == ("guardrails", "alarm_rules", 1)
    assert msg == "Value error, datapoints_to_alarm cannot exceed evaluation_periods"


def test_alarm_rule_rejects_datapoints_to_alarm_above_the_default_single_period() -> None:
    loc, msg = only_error_of(with_change(alarm_rule(0, datapoints_to_alarm=2)))

    assert loc == ("guardrails", "alarm_rules", 0)
    assert "datapoints_to_alarm cannot exceed evaluation_periods" in msg


def test_guardrails_reject_two_alarm_rules_with_the_same_name() -> None:
    loc, msg = only_error_of(with_change(alarm_rule(1, name="5xx-rate")))

    assert loc == ("guardrails",)
    assert msg == "Value error, alarm_rules names must be unique"


@pytest.mark.parametrize("name", ["5xx rate", "5xx_rate", "", "x" * 41])
def test_alarm_rule_rejects_a_name_that_cannot_go_into_an_alarm_name(name: str) -> None:
    loc, msg = only_error_of(with_change(alarm_rule(0, name=name)))

    assert loc == ("guardrails", "alarm_rules", 0, "name")
    assert msg.startswith("String should match pattern")


def test_guardrails_take_at_most_ten_alarm_rules() -> None:
    rules = [{"name": f"r{i}", "metric": "Invocation5XXErrors", "threshold": 0.01} for i in range(11)]
    loc, msg = only_error_of(with_change(lambda b: b["guardrails"].update(alarm_rules=rules)))

    assert loc == ("guardrails", "alarm_rules")
    assert "at most 10 items" in msg


# --- variants ---------------------------------------------------------------------------------------------------


def test_candidate_variant_defaults_to_the_model_name() -> None:
    parsed = RolloutSpec.model_validate(spec())

    assert parsed.candidate.variant_name is None
    assert parsed.candidate.resolved_variant_name == "churn-xgb-v2"


def test_candidate_variant_name_when_given_wins_over_the_model_name() -> None:
    parsed = RolloutSpec.model_validate(with_change(lambda b: b["candidate"].update(variant_name="canary")))

    assert parsed.candidate.resolved_variant_name == "canary"


def test_spec_rejects_a_candidate_whose_default_variant_is_the_baseline() -> None:
    loc, msg = only_error_of(with_change(lambda b: b.update(baseline_variant="churn-xgb-v2")))

    assert loc == ("candidate",)
    assert msg == "Value error, the candidate's variant name 'churn-xgb-v2' must differ from baseline_variant"


def test_spec_rejects_a_candidate_variant_named_like_the_baseline() -> None:
    def edit(body: dict[str, Any]) -> None:
        body["baseline_variant"] = "v1"
        body["candidate"]["variant_name"] = "v1"

    loc, msg = only_error_of(with_change(edit))

    assert loc == ("candidate",)
    assert "must differ from baseline_variant" in msg


def test_spec_accepts_a_baseline_variant_distinct_from_the_candidate() -> None:
    parsed = RolloutSpec.model_validate(with_change(lambda b: b.update(baseline_variant="v1")))

    assert parsed.baseline_variant == "v1"


# --- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["churn-predictor", "a", "Churn2", "churn--predictor", "a" * 63])
def test_spec_accepts_endpoint_names_sagemaker_accepts(name: str) -> None:
    assert RolloutSpec.model_validate(with_change(lambda b: b.update(endpoint_name=name))).endpoint_name == name


@pytest.mark.parametrize(
    ("edit", "loc"),
    [
        (lambda b: b.update(endpoint_name="churn_predictor"), ("endpoint_name",)),
        (lambda b: b.update(endpoint_name="-churn"), ("endpoint_name",)),
        (lambda b: b.update(endpoint_name="churn-"), ("endpoint_name",)),
        (lambda b: b.update(endpoint_name="a" * 64), ("endpoint_name",)),
        (lambda b: b.update(endpoint_name=""), ("endpoint_name",)),
        (lambda b: b.update(baseline_variant="v 1"), ("baseline_variant",)),
        (lambda b: b["candidate"].update(model_name="churn.xgb.v2"), ("candidate", "model_name")),
        (lambda b: b["candidate"].update(variant_name="-v2"), ("candidate", "variant_name")),
        (
            lambda b: b["guardrails"]["monitoring_schedules"][0].update(schedule_name="churn/dq"),
            ("guardrails", "monitoring_schedules", 0, "schedule_name"),
        ),
    ],
    ids=[
        "underscore",
        "leading-dash",
        "trailing-dash",
        "64-chars",
        "empty",
        "space",
        "dots",
        "variant-dash",
        "schedule-slash",
    ],
)
def test_spec_rejects_names_sagemaker_would_refuse_naming_the_field(edit: Edit, loc: tuple[int | str, ...]) -> None:
    found_loc, msg = only_error_of(with_change(edit))

    assert found_loc == loc
    assert msg == "String should match pattern '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$'"


@pytest.mark.parametrize("instance_type", ["m5.large", "ml.m5", "ML.M5.LARGE"])
def test_spec_rejects_an_instance_type_that_is_not_a_sagemaker_one(instance_type: str) -> None:
    loc, _ = only_error_of(with_change(lambda b: b["candidate"].update(instance_type=instance_type)))

    assert loc == ("candidate", "instance_type")


def test_spec_reports_every_bad_field_at_once() -> None:
    def edit(body: dict[str, Any]) -> None:
        body["endpoint_name"] = "churn_predictor"
        body["strategy"]["steps"][0]["bake"] = "5x"
        body["guardrails"]["alarm_rules"][0]["statistic"] = "p999x"

    locs = {loc for loc, _ in errors_of(with_change(edit))}

    assert locs == {
        ("endpoint_name",),
        ("strategy", "canary", "steps", 0, "bake"),
        ("guardrails", "alarm_rules", 0, "statistic"),
    }


@pytest.mark.parametrize(
    ("check", "field", "reason"),
    [
        ({"name": "l", "statistic": "Sum"}, "statistic", "cannot be judged per period"),
        ({"name": "l", "period_seconds": 90}, "period_seconds", "multiple of 60"),
        ({"name": "l", "metric": "Invocation5XXErrors"}, "", "error rates belong in rate_checks"),
        ({"name": "l", "dimensions": {"Site": "eu"}}, "", "take their dimensions from the endpoint"),
        ({"name": "l", "test": "threshold"}, "", "needs 'threshold'"),
        ({"name": "l", "threshold": 300_000}, "", "'threshold' is for test: threshold"),
        ({"name": "l", "direction": "up"}, "direction", "higher-is-worse"),
    ],
)
def test_a_bad_metric_check_names_the_field_and_the_reason(check, field, reason):
    body = spec()
    body["guardrails"]["metric_checks"] = [check]

    with pytest.raises(ValidationError) as raised:
        RolloutSpec.model_validate(body)

    [error] = raised.value.errors()
    assert error["loc"][:3] == ("guardrails", "metric_checks", 0)
    assert field in ".".join(str(part) for part in error["loc"])
    assert reason in str(error["msg"])


def test_a_custom_metric_check_takes_its_own_namespace_and_dimensions():
    body = spec()
    body["guardrails"]["metric_checks"] = [
        {
            "name": "conversion",
            "namespace": "Shop/Checkout",
            "metric": "ConversionRate",
            "dimensions": {"Site": "eu"},
            "variant_dimension": "ModelVariant",
            "statistic": "Average",
            "direction": "lower-is-worse",
        }
    ]

    [check] = RolloutSpec.model_validate(body).guardrails.metric_checks

    assert (check.namespace, check.variant_dimension, check.test) == ("Shop/Checkout", "ModelVariant", "rank")


# --- bandit arms -------------------------------------------------------------------------------------------------


def bandit(**strategy: Any) -> dict[str, Any]:
    body = spec()
    body["strategy"] = {"type": "bandit", **strategy}
    return body


def test_a_bandit_lists_its_candidates_in_order_and_defaults_to_removing_a_breached_arm() -> None:
    parsed = RolloutSpec.model_validate(
        bandit(more_candidates=[{"model_name": "churn-xgb-v3", "instance_type": "ml.m5.large"}])
    )

    assert [c.resolved_variant_name for c in parsed.candidates] == ["churn-xgb-v2", "churn-xgb-v3"]
    assert parsed.strategy.type == "bandit" and parsed.strategy.on_arm_breach == "remove-arm"


def test_two_arms_with_one_variant_name_are_refused_naming_the_arm() -> None:
    loc, msg = only_error_of(
        bandit(
            more_candidates=[
                {"model_name": "churn-xgb-v3", "variant_name": "churn-xgb-v2", "instance_type": "ml.m5.large"}
            ]
        )
    )

    assert loc == ("strategy",)
    assert "more_candidates.0" in msg and "'churn-xgb-v2' is already used by candidate" in msg


def test_a_canary_has_one_candidate() -> None:
    loc, _ = only_error_of(
        with_change(
            lambda s: s["strategy"].update(more_candidates=[{"model_name": "m", "instance_type": "ml.m5.large"}])
        )
    )

    assert loc[:2] == ("strategy", "canary")


def test_a_bandit_cannot_update_more_rarely_at_least_than_at_most() -> None:
    loc, msg = only_error_of(bandit(update_every="1m", min_update_interval="5m"))

    assert loc == ("strategy", "bandit")
    assert "min_update_interval (300 s) must not exceed update_every (60 s)" in msg


# --- blue/green ----------------------------------------------------------------------------------------------------


def blue_green(**strategy: Any) -> dict[str, Any]:
    body = spec()
    body["strategy"] = {"type": "blue-green", **strategy}
    return body


def test_a_blue_green_spec_becomes_sagemakers_deployment_config() -> None:
    parsed = RolloutSpec.model_validate(
        blue_green(
            traffic_routing="linear", linear_step_size={"type": "instance-count", "value": 2}, wait_interval="2m"
        )
    )

    assert parsed.strategy.type == "blue-green"
    assert parsed.strategy.deployment_config(["a", "b"]) == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2},
            },
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]},
    }


@pytest.mark.parametrize(
    ("strategy", "words"),
    [
        ({"traffic_routing": "canary"}, "needs canary_size"),
        ({"traffic_routing": "linear", "linear_step_size": {"value": 5}}, "10 to 50 %"),
        ({"canary_size": {"value": 10}}, "applies to traffic_routing 'canary' only"),
        ({"maximum_execution_timeout": "5m"}, "greater than or equal to 600"),
        ({"termination_wait": "2h"}, "less than or equal to 3600"),
    ],
)
def test_a_blue_green_spec_outside_sagemakers_rules_is_refused(strategy: dict[str, Any], words: str) -> None:
    loc, msg = only_error_of(blue_green(**strategy))

    assert loc[:2] == ("strategy", "blue-green")
    assert words in msg


# --- A/B test ------------------------------------------------------------------------------------------------------


def ab_test(**strategy: Any) -> dict[str, Any]:
    body = spec()
    body["strategy"] = {"type": "ab-test", **strategy}
    return body


def test_an_ab_test_spec_defaults_to_an_even_split_for_one_to_four_weeks() -> None:
    strategy = RolloutSpec.model_validate(ab_test()).strategy
    longer = RolloutSpec.model_validate(ab_test(max_duration="90d")).strategy

    assert isinstance(strategy, AbTestStrategy) and isinstance(longer, AbTestStrategy)
    assert strategy.candidate_weight == 50
    assert (strategy.check_every, strategy.min_duration, strategy.max_duration) == (86400, 7 * 86400, 28 * 86400)
    assert longer.max_duration == 90 * 86400


@pytest.mark.parametrize(
    ("strategy", "field", "words"),
    [
        ({"min_duration": "14d", "max_duration": "7d"}, None, "min_duration (1209600 s) must not exceed"),
        ({"check_every": "2d", "min_duration": "1d", "max_duration": "1d"}, None, "check_every (172800 s) must not"),
        ({"candidate_weight": 100}, "candidate_weight", "less than 100"),
        ({"effect_size": 0}, "effect_size", "greater than 0"),
        ({"alpha": 0.5}, "alpha", "less than 0.5"),
        ({"max_duration": "400d"}, "max_duration", "less than or equal to 31536000"),
    ],
)
def test_an_ab_test_spec_that_cannot_run_is_refused_naming_the_field(
    strategy: dict[str, Any], field: str | None, words: str
) -> None:
    loc, msg = only_error_of(ab_test(**strategy))

    assert loc[:2] == ("strategy", "ab-test")
    assert loc[2:] == ((field,) if field else ())
    assert words in msg


def component_spec(**changes: Any) -> dict[str, Any]:
    """A rolling update of inference component 'churn-ic' on the demo's endpoint."""
    body = spec()
    body.pop("guardrails")
    body["inference_component_name"] = "churn-ic"
    body["candidate"] = {"model_name": "churn-xgb-v2"}
    body["strategy"] = {"type": "rolling", "maximum_batch_size": {"type": "copy-count", "value": 1}}
    body.update(changes)
    return body


def test_an_inference_component_is_rolled_with_its_own_copies_not_instances() -> None:
    parsed = RolloutSpec.model_validate(component_spec())

    assert parsed.inference_component_name == "churn-ic"
    assert parsed.candidate.instance_type is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"strategy": {"type": "canary", "steps": [{"weight": 10, "bake": "1m"}]}}, "strategy", "type 'rolling'"),
        ({"candidate": {"model_name": "churn-xgb-v2", "instance_type": "ml.m5.large"}}, "candidate", "instance_type"),
        ({"baseline_variant": "v1"}, "inference_component_name", "leave baseline_variant out"),
        ({"guardrails": {"monitoring_schedules": [{"schedule_name": "churn-data-quality"}]}}, "guardrails",
         "alarm_rules"),
    ],
)  # fmt: skip
def test_what_an_inference_component_cannot_take_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    errors = errors_of(component_spec(**changes))

    assert any(loc[0] == field and words in message for loc, message in errors), errors


def test_a_variants_candidate_still_needs_its_instance_type() -> None:
    body = spec()
    del body["candidate"]["instance_type"]

    loc, message = only_error_of(body)

    assert loc == ("candidate",)
    assert "instance_type is required" in message


def test_a_components_spec_reads_back_as_it_was_stored() -> None:
    # A rollout's spec is stored with every field written, defaults included, and read back by each task
    parsed = RolloutSpec.model_validate(component_spec())

    assert RolloutSpec.model_validate(parsed.model_dump(mode="json")) == parsed
