"""The seams between the local cloud and moto: every attribute `sandbox.moto_ext` replaces, as it was in moto 5.2.5.

An extension relies on the original it replaces: its parameters (the stand-in is called as moto calls the original,
and some call the original in turn), or its absence (an action moto did not implement). When moto changes one, the
test of that attribute fails with its name and the installed moto version: look at the extension that replaces it
(`grep -rn '"<attribute>"' sandbox/moto_ext`) before trusting the local cloud again.
"""

from __future__ import annotations

import inspect
import types

import moto
import pytest

from sandbox import moto_ext
from sandbox.moto_ext import core


class Module:
    """The attribute is a module (the extension stands in for it inside moto's module)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"module {self.name}"


ABSENT = "absent"  # moto does not have it: the extension adds it

SFN = "moto.stepfunctions"
SFN_ASL = f"{SFN}.parser.asl"
BACKEND_CALL = ("self",)  # a response handler: it reads its parameters from the request

# The attribute's qualified name -> its parameter names (a function), a Module, or ABSENT; as in moto 5.2.5.
EXPECTED: dict[str, tuple[str, ...] | Module | str] = {
    # lambda_
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke": (
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ),
    # events
    "moto.events.models.Rule.send_to_targets": ("self", "original_event", "transform_input"),
    # stepfunctions
    f"{SFN}.responses.StepFunctionResponse.send_task_failure": BACKEND_CALL,
    f"{SFN}.parser.backend.execution.BaseExecutionWorkerCommunication.terminated": ("self",),
    f"{SFN}.parser.models.StepFunctionsParserBackend.send_task_success": ("self", "task_token", "outcome"),
    f"{SFN}.parser.models.StepFunctionsParserBackend.send_task_failure": ("self", "task_token", "error", "cause"),
    f"{SFN_ASL}.eval.callback.callback.CallbackEndpoint.wait": ("self", "timeout"),
    f"{SFN_ASL}.eval.callback.callback.CallbackPoolManager.notify": ("self", "callback_id", "outcome"),
    f"{SFN_ASL}.component.state.exec.state_task.service.state_task_service_sfn.StateTaskServiceSfn"
    "._normalise_parameters": ("self", "parameters", "boto_service_name", "service_action_name"),
    # cloudwatch
    "moto.cloudwatch.models.CloudWatchBackend.set_alarm_state": (
        "self",
        "alarm_name",
        "reason",
        "reason_data",
        "state_value",
    ),
    "moto.cloudwatch.models.CloudWatchBackend.put_metric_alarm": (
        "self",
        "name",
        "namespace",
        "metric_name",
        "comparison_operator",
        "evaluation_periods",
        "period",
        "threshold",
        "statistic",
        "description",
        "dimensions",
        "alarm_actions",
        "metric_data_queries",
        "datapoints_to_alarm",
        "extended_statistic",
        "ok_actions",
        "insufficient_data_actions",
        "unit",
        "actions_enabled",
        "treat_missing_data",
        "evaluate_low_sample_count_percentile",
        "threshold_metric_id",
        "rule",
        "tags",
    ),
    "moto.cloudwatch.models.Statistics.extended_statistics": ABSENT,
    "moto.cloudwatch.responses.CloudWatchResponse.get_metric_statistics": BACKEND_CALL,
    f"{SFN_ASL}.parse.asl_parser.AmazonStateLanguageParser.parse": ("definition",),
    # cloudformation
    "moto.cloudformation.parsing.generate_resource_name": ("resource_type", "stack_name", "logical_id"),
    "moto.cloudformation.models.Stack.parse_template": ("template",),
    # clock
    "rollouts.clock.now": (),
    "moto.cloudwatch.models.utcnow": (),
    # sqs
    "moto.awslambda.models.LambdaBackend.send_sqs_batch": ("self", "function_arn", "messages", "queue_arn"),
    # dynamodb
    "moto.dynamodb.models.copy": Module("copy"),
    "moto.dynamodb.models.DynamoDBBackend.transact_write_items": ("self", "transact_items"),
    "moto.dynamodb.responses.DynamoHandler.call_action": BACKEND_CALL,
    "moto.dynamodb.models.table.Table.query": (
        "self",
        "hash_key",
        "range_comparison",
        "range_objs",
        "limit",
        "exclusive_start_key",
        "scan_index_forward",
        "projection_expressions",
        "index_name",
        "consistent_read",
        "filter_expression",
        "hash_key_conditions",
        "range_key_conditions",
        "filter_kwargs",
    ),
    "moto.dynamodb.models.get_filter_expression": ("expr", "names", "values"),
    "moto.dynamodb.models.table.get_filter_expression": ("expr", "names", "values"),
    # sagemaker
    "moto.sagemaker.models.FakeEndpoint._process_production_variants": ("self", "production_variants"),
    "moto.sagemaker.responses.SageMakerResponse.update_endpoint_weights_and_capacities": BACKEND_CALL,
    "moto.sagemakerruntime.responses.SageMakerRuntimeResponse.invoke_endpoint": BACKEND_CALL,
    "moto.sagemaker.responses.SageMakerResponse.update_endpoint": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.create_monitoring_schedule": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.describe_monitoring_schedule": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.list_monitoring_executions": ABSENT,
    "moto.sagemaker.models.SageMakerModelBackend.describe_endpoint_config": ("self", "endpoint_config_name"),
    # The Model Registry's events: the wrappers pass every argument on and read the package the ARN names.
    "moto.sagemaker.models.SageMakerModelBackend.create_model_package": (
        "self",
        "model_package_name",
        "model_package_group_name",
        "model_package_description",
        "inference_specification",
        "validation_specification",
        "source_algorithm_specification",
        "certify_for_marketplace",
        "tags",
        "model_approval_status",
        "metadata_properties",
        "model_metrics",
        "client_token",
        "customer_metadata_properties",
        "drift_check_baselines",
        "domain",
        "task",
        "sample_payload_url",
        "additional_inference_specifications",
    ),
    "moto.sagemaker.models.SageMakerModelBackend.update_model_package": (
        "self",
        "model_package_arn",
        "model_approval_status",
        "approval_description",
        "customer_metadata_properties",
        "customer_metadata_properties_to_remove",
        "additional_inference_specifications_to_add",
    ),
    "moto.sagemaker.responses.SageMakerResponse.create_endpoint_config": BACKEND_CALL,
    "moto.sagemaker.models.SageMakerModelBackend.describe_endpoint": ("self", "endpoint_name"),
    # Inference components, and the endpoint configs of endpoints that host them (no ModelName, GPU instances)
    "moto.sagemaker.responses.SageMakerResponse.create_inference_component": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.describe_inference_component": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.update_inference_component": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.delete_inference_component": ABSENT,
    "moto.sagemaker.responses.SageMakerResponse.list_inference_components": ABSENT,
    "moto.sagemaker.models.FakeEndpointConfig.validate_instance_type": ("self", "instance_type"),
    "moto.sagemaker.models.SageMakerModelBackend.validate_production_variants": ("self", "production_variants"),
}


def replaced() -> dict[str, core.Replacement]:
    moto_ext.install()
    return {replacement.qualified_name: replacement for replacement in core.REPLACED}


def what_it_is(original: object) -> tuple[str, ...] | Module | str:
    if original is core.ABSENT:
        return ABSENT
    if isinstance(original, types.ModuleType):
        return Module(original.__name__)
    if not callable(original):
        return f"a {type(original).__name__}, not a function"
    return tuple(inspect.signature(original).parameters)


@pytest.mark.parametrize("attribute", sorted(EXPECTED))
def test_the_original_of_each_replaced_attribute_is_as_the_extension_expects(attribute: str) -> None:
    replacement = replaced().get(attribute)
    assert replacement is not None, f"{attribute} is no longer replaced: drop it from EXPECTED"

    found, expected = what_it_is(replacement.original), EXPECTED[attribute]

    assert expected != ABSENT or found == ABSENT, (
        f"moto {moto.__version__} now has {attribute} ({found!r}): the extension that adds it may be dropped, or "
        "must now agree with moto's"
    )
    assert repr(found) == repr(expected), (
        f"{attribute} changed in moto {moto.__version__}: expected {expected!r}, found {found!r}; check the "
        "extension that replaces it"
    )


def test_every_replaced_attribute_has_an_expectation() -> None:
    unexpected = sorted(set(replaced()) - set(EXPECTED))

    assert not unexpected, f"replaced without an entry in EXPECTED: {unexpected}"


def test_each_attribute_is_replaced_once() -> None:
    moto_ext.install()
    names = [replacement.qualified_name for replacement in core.REPLACED]

    assert len(names) == len(set(names))
