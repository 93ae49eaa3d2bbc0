"""Extensions to moto: in-process Lambda handlers, EventBridge targets, alarm events, scaled time, SageMaker calls.

Each patch is installed once per process by `install()`; the state it uses lives in module-level registries that
`LocalCloud` fills and clears.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import math
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.session
from botocore.validate import ParamValidator

from sandbox import callbacks
from sandbox.virtual_time import VirtualClock

ACCOUNT = "123456789012"
REGION = "us-east-1"

Handler = Callable[[dict[str, Any], Any], Any]


_GENERATIONS = itertools.count(1)


@dataclass
class Registry:
    """What the patches read: handlers by function name, the time scale, injected faults, a log of calls."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    time_scale: float | None = None  # real seconds a simulated second lasts at least; None: no pace
    clock: VirtualClock | None = None
    endpoint_update_seconds: float = 120.0
    faults: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    monitoring_schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    monitoring_executions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    emit_endpoint_events: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_origin: tuple[datetime, float] = field(default_factory=lambda: (datetime.now(UTC), 0.0))
    # Which local cloud this is: work queued by one (a delivery, a retry) must not run in the next one.
    generation: int = field(default_factory=lambda: next(_GENERATIONS))

    def retire(self) -> None:
        """The local cloud stops: what it left queued or scheduled is dropped when its time comes."""
        self.generation = next(_GENERATIONS)

    def scaled(self, seconds: float) -> float:
        """Simulated seconds are the virtual clock's own: a wait of 600 s is a wait of 600 s of its time."""
        return max(0.0, float(seconds))

    def now(self) -> float:
        """Simulated seconds since the local cloud started."""
        return self.clock.now() if self.clock is not None else 0.0

    def start_clock(self, time_scale: float | None) -> None:
        """Run the local cloud on virtual time, paced to `time_scale` real seconds per simulated one if given."""
        self.time_scale = time_scale
        self.clock = VirtualClock(pace=time_scale).start()
        self.clock_origin = (datetime.now(UTC), self.clock.now())

    def stop_clock(self) -> None:
        if self.clock is not None:
            self.clock.stop()

    def sim_now(self) -> datetime:
        """The simulated wall clock: the wall clock when the cloud started, plus the virtual clock's seconds."""
        wall, origin = self.clock_origin
        return wall + timedelta(seconds=self.now() - origin)

    def take_fault(self, operation: str) -> dict[str, Any] | None:
        with self.lock:
            queue = self.faults.get(operation) or []
            return queue.pop(0) if queue else None

    def log_call(self, operation: str, **details: Any) -> None:
        with self.lock:
            # `at` is simulated seconds; `real_at` is time.monotonic(), for benchmarks that time the reaction itself.
            self.calls.append({"operation": operation, "at": self.now(), "real_at": time.monotonic(), **details})


REGISTRY = Registry()
_log = logging.getLogger("sandbox")


def _submit(work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run a delivery on the pool, in this local cloud only; a delivery that fails is logged, as AWS would count it
    in the target's metrics."""
    generation = REGISTRY.generation

    def deliver() -> None:
        if REGISTRY.generation == generation:
            work(*args, **kwargs)

    def run() -> None:
        try:
            deliver()
        except Exception as error:
            _log.warning("An EventBridge delivery failed: %s: %s", type(error).__name__, error)

    # A thread per delivery: a pool's idle workers block where the virtual clock cannot see them.
    threading.Thread(target=run, name="local-cloud-delivery", daemon=True).start()


def _submit_later(seconds: float, work: Callable[..., Any], *args: Any) -> None:
    """`_submit` after `seconds` of the local clock, without holding one of the pool's threads meanwhile."""
    generation = REGISTRY.generation

    def due() -> None:
        if REGISTRY.generation == generation:
            _submit(work, *args)

    timer = threading.Timer(REGISTRY.scaled(seconds), due)
    timer.daemon = True
    timer.start()


@functools.cache
def install() -> None:
    _install_lambda()
    _install_events_targets()
    callbacks.install()
    _install_alarm_events()
    _install_task_failure_cause()
    _install_time_scale()
    _install_asl_parse_cache()
    _install_stable_names()
    _install_json_templates()
    _install_sim_clock()
    _install_sqs_event_source()
    _install_dynamodb()
    _install_dynamodb_shortcuts()
    _install_sagemaker()


# --- Lambda: run the project's real handlers in process -------------------------------------------------------


def _install_lambda() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(self: Any, function_name: str, qualifier: str, body: Any, headers: Any, response_headers: Any) -> bytes:
        fn = self.get_function(function_name, qualifier)
        handler = REGISTRY.handlers.get(fn.function_name)
        if handler is None:
            raise RuntimeError(f"the local cloud has no handler for function {fn.function_name}")
        context = SimpleNamespace(
            function_name=fn.function_name,
            invoked_function_arn=fn.function_arn,
            memory_limit_in_mb=fn.memory_size,
            aws_request_id=str(uuid.uuid4()),
            function_version="$LATEST",
            log_group_name=f"/aws/lambda/{fn.function_name}",
            log_stream_name="local",
            get_remaining_time_in_millis=lambda: 30000,
        )
        payload = json.loads(body) if body else {}
        try:
            result = handler(payload, context)
        except Exception as error:  # the Lambda runtime reports any error this way
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exc().splitlines(),
            }
        finally:
            _drop_disabled_metrics()
        return json.dumps(result, default=str).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


def _drop_disabled_metrics() -> None:
    """With metrics disabled (as the local cloud runs), Powertools keeps each invocation's metrics instead of
    dropping them, and prints them anyway once a metric holds 100 values (after 100 feedback batches, say). In Lambda
    an invocation's metrics are gone when it ends: here too. Every `Metrics` shares one metric set."""
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() == "true":
        from aws_lambda_powertools import Metrics

        Metrics().clear_metrics()


# --- EventBridge: rules reach Lambda and Step Functions targets ------------------------------------------------


_clients: dict[tuple[int, str], Any] = {}
_clients_lock = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)


def _client(service: str) -> Any:
    # One client per service and local cloud, shared by the delivery threads (botocore clients are thread-safe):
    # building a client costs more than the call it makes, and a client built between two local clouds would have
    # found no credentials, and kept failing in the next one.
    key = (REGISTRY.generation, service)
    with _clients_lock:
        if key not in _clients:
            for stale in [k for k in _clients if k[0] != key[0]]:
                del _clients[stale]
            _clients[key] = _session().client(service)
        return _clients[key]


# Lambda retries a failed asynchronous invocation twice, after about 1 and then 2 minutes.
ASYNC_RETRY_DELAYS = (60.0, 120.0)


def _invoke_async(function_arn: str, event: dict[str, Any], attempt: int = 0) -> None:
    """One attempt of an asynchronous invocation; a failed one is tried again later, twice at most."""
    try:
        response = _client("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        error = json.loads(response["Payload"].read() or b"{}") if "FunctionError" in response else None
    except Exception as failure:  # the invocation itself failed: EventBridge tries such a delivery again too
        error = {"errorType": type(failure).__name__, "errorMessage": str(failure)}
    if error is None:
        return
    _log.warning(
        "%s failed on %s (attempt %d of 3): %s: %s",
        function_arn.rsplit(":", 1)[-1],
        event.get("detail-type", "an event"),
        attempt + 1,
        error.get("errorType"),
        error.get("errorMessage"),
    )
    if attempt < len(ASYNC_RETRY_DELAYS):
        _submit_later(ASYNC_RETRY_DELAYS[attempt], _invoke_async, function_arn, event, attempt + 1)


def _install_events_targets() -> None:
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets
    lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if parse_arn(t["Arn"]).service in ("lambda", "states")]
        for target in ours:
            transformer = target.get("InputTransformer", {})
            event = EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
            if parse_arn(target["Arn"]).service == "lambda":
                _submit(_invoke_async, target["Arn"], event)
            else:
                _submit(
                    _client("stepfunctions").start_execution,
                    stateMachineArn=target["Arn"],
                    name=f"eb-{uuid.uuid4().hex[:12]}",
                    input=json.dumps(event),
                )
        others = [t for t in self.targets if t not in ours]
        if others:
            with lock:
                saved, self.targets = self.targets, others
                try:
                    original(self, original_event, transform_input)
                finally:
                    self.targets = saved

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


def put_event(source: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
    """Emit an AWS service event on the default bus, as the service itself would."""
    from moto.events.models import events_backends

    events_backends[ACCOUNT][REGION].put_events(
        [
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=str),
                "Resources": resources,
                "EventBusName": "default",
            }
        ]
    )


# --- CloudWatch: alarm state changes reach EventBridge ----------------------------------------------------------


def _cloudwatch_fault(operation: str) -> None:
    """An injected failure of a CloudWatch call (`LocalCloud.inject_fault`), as a LimitExceeded (400): the SDK
    retries a 5XX or a throttling by itself, so those would not reach the caller."""
    from moto.cloudwatch.exceptions import CloudWatchException  # moto serialises an error by its service's module

    fault = REGISTRY.take_fault(operation)
    if fault:
        raise CloudWatchException("LimitExceeded", fault.get("message", f"injected failure of {operation}"))


def _install_alarm_events() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.set_alarm_state
    put_metric_alarm = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm_or_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        _cloudwatch_fault("PutMetricAlarm")
        return put_metric_alarm(self, *args, **kwargs)

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        _cloudwatch_fault("SetAlarmState")
        alarm = self.alarms.get(alarm_name)
        previous = alarm.state_value if alarm else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is None or previous == state_value:
            return
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        detail = {
            "alarmName": alarm_name,
            "state": {"value": state_value, "reason": reason, "reasonData": reason_data or "{}", "timestamp": now},
            "previousState": {"value": previous, "reason": "", "timestamp": now},
            "configuration": {
                "description": alarm.description or "",
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": alarm.namespace,
                                "name": alarm.metric_name,
                                "dimensions": {d.name: d.value for d in alarm.dimensions},
                            },
                            "period": alarm.period,
                            "stat": alarm.statistic or alarm.extended_statistic,
                        },
                        "returnData": True,
                    }
                ],
            },
        }
        put_event("aws.cloudwatch", "CloudWatch Alarm State Change", detail, [alarm.alarm_arn])

    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto
    CloudWatchBackend.put_metric_alarm = put_metric_alarm_or_fail  # type: ignore[method-assign]  # deliberate monkeypatch of moto


# --- Step Functions: waits, task timeouts and retry intervals follow the local clock ----------------------------


def _install_task_failure_cause() -> None:
    # moto 5.2.5 drops SendTaskFailure's cause; Step Functions passes it to the Catch as "Cause".
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


def _install_time_scale() -> None:
    import moto.stepfunctions.parser.asl.component.common.retry.retrier_decl as retrier
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def timeout_eval_body(self: Any, env: Any) -> None:
        env.stack.append(REGISTRY.scaled(self._eval_seconds(env=env)))

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(REGISTRY.scaled(wait_seconds))

    class _ScaledTime:
        time = staticmethod(time.time)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(REGISTRY.scaled(seconds))

    Timeout._eval_body = timeout_eval_body  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto
    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto
    retrier.time = _ScaledTime  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


def _install_asl_parse_cache() -> None:
    """Parse each definition once per process: moto parses it with ANTLR at every CreateStateMachine and every
    StartExecution (about a second for each of the project's definitions). The parse tree is kept; the evaluation
    components, which hold an execution's state, are still built afresh from it each time."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = AmazonStateLanguageParser.parse
    trees: dict[str, Any] = {}

    def parse(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, trees[definition] = original(definition)
            return program, trees[definition]
        return Preprocessor().visit(tree), tree

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]  # deliberate monkeypatch of moto


def _install_stable_names() -> None:
    """CloudFormation names a resource with a random suffix; here the suffix comes from the stack and the logical id,
    so that every local cloud gets the same names and the same state machine definitions (whose parse is cached)."""
    import hashlib

    from moto.cloudformation import parsing

    original = parsing.generate_resource_name

    def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
        digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()
        saved = vars(parsing)["random_suffix"]
        setattr(parsing, "random_suffix", lambda: digest)  # noqa: B010 - a name moto does not export
        try:
            return str(original(resource_type, stack_name, logical_id))
        finally:
            setattr(parsing, "random_suffix", saved)  # noqa: B010

    parsing.generate_resource_name = generate_resource_name  # deliberate monkeypatch of moto


def _install_json_templates() -> None:
    """moto reads every template body with the pure-Python YAML parser first (seconds for the translated template);
    a JSON body, as the local cloud sends, is read as JSON."""
    from moto.cloudformation.models import Stack

    original = Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        if template.lstrip().startswith("{"):
            try:
                document = json.loads(template)
            except ValueError:
                pass
            else:
                if isinstance(document, dict):
                    return document
        result: dict[str, Any] = original(template)
        return result

    Stack.parse_template = staticmethod(parse_template)  # type: ignore[method-assign]  # deliberate monkeypatch of moto


def percentile(values: list[float], statistic: str) -> float:
    """CloudWatch's pNN of raw values, nearest rank: the smallest value with at least NN % of them at or below."""
    ordered = sorted(values)
    rank = math.ceil(float(statistic[1:]) / 100 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def _install_sim_clock() -> None:
    """One simulated clock for the metrics and the windows they are judged on.

    With waits scaled, a 10-minute bake lasts a fraction of a second; the data plane stamps its metrics with the
    simulated clock, CloudWatch stamps data points that carry no timestamp with it, and the control plane's
    `rollouts.clock.now` (the ends of its metric windows) reads it too. Per-minute periods then exist as on AWS.
    """
    import moto.cloudwatch.models as cloudwatch_models
    from moto.cloudwatch.models import Statistics
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    import rollouts.clock

    rollouts.clock.now = REGISTRY.sim_now  # type: ignore[assignment]  # deliberate: the simulated clock
    cloudwatch_models.utcnow = lambda: REGISTRY.sim_now().replace(tzinfo=None)  # type: ignore[attr-defined]  # deliberate monkeypatch of moto

    # moto ignores ExtendedStatistics; CloudWatch computes percentiles from the raw values of each period.
    original = CloudWatchResponse.get_metric_statistics

    def get_metric_statistics(self: Any) -> Any:
        requested = self._get_param("ExtendedStatistics") or []
        if not requested:
            return original(self)
        stats = self._get_param("Statistics", [])
        datapoints = self.cloudwatch_backend.get_metric_statistics(
            self._get_param("Namespace"),
            self._get_param("MetricName"),
            self._get_param("StartTime"),
            self._get_param("EndTime"),
            self._get_int_param("Period"),
            stats,
            unit=self._get_param("Unit"),
            dimensions=self._get_param("Dimensions", []),
        )
        for point in datapoints:
            values = point.metric_single_values_list
            point._extended = {name: percentile(values, name) for name in requested} if values else None
        return ActionResult({"Label": self._get_param("MetricName"), "Datapoints": datapoints})

    Statistics.extended_statistics = property(lambda self: getattr(self, "_extended", None))  # type: ignore[attr-defined]  # deliberate monkeypatch of moto
    CloudWatchResponse.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]  # deliberate monkeypatch of moto


def _install_sqs_event_source() -> None:
    """SQS event source mappings as Lambda runs them: one invoke per batch, `ReportBatchItemFailures` honoured.

    moto invokes the function once per message and deletes the messages unless the invoke errs. Here a batch goes
    in one event with each message's receive count; the messages a response lists in `batchItemFailures` (or the
    whole batch, when the function errs) are delivered again, at once rather than after the visibility timeout,
    until they succeed or have been received `maxReceiveCount` times; then the queue's redrive policy moves them
    to its dead-letter queue, as SQS does.
    """
    from moto.awslambda.models import LambdaBackend
    from moto.sqs.models import sqs_backends

    def send_sqs_batch(self: Any, function_arn: str, messages: Any, queue_arn: str) -> bool:
        sqs = sqs_backends[self.account_id][self.region_name]
        queue = next(q for q in sqs.queues.values() if q.queue_arn == queue_arn)
        policy = queue.redrive_policy or {}
        limit = int(policy.get("maxReceiveCount", 0)) or 10
        receives = dict.fromkeys((m.id for m in messages), 1)
        waiting = list(messages)
        while waiting:
            event = {
                "Records": [
                    {
                        "messageId": m.id,
                        "receiptHandle": m.receipt_handle,
                        "body": m.body,
                        "attributes": {
                            "ApproximateReceiveCount": str(receives[m.id]),
                            "SentTimestamp": str(m.sent_timestamp or 0),
                            "SenderId": m.sender_id,
                            "ApproximateFirstReceiveTimestamp": str(m.sent_timestamp or 0),
                        },
                        "messageAttributes": {},
                        "md5OfBody": m.body_md5,
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": self.region_name,
                    }
                    for m in waiting
                ]
            }
            headers: dict[str, Any] = {}
            raw = self.invoke(function_arn, None, json.dumps(event), {}, headers)
            if "x-amz-function-error" in headers:
                failed = {m.id for m in waiting}
            else:
                result = json.loads(raw) if raw else {}
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            retry = []
            for message in waiting:
                if message.id not in failed:
                    continue
                if receives[message.id] >= limit and queue.dead_letter_queue is not None:
                    # Redriven, as SQS does after maxReceiveCount receives.
                    sqs.send_message(queue.dead_letter_queue.name, message.body, message.message_attributes)
                elif receives[message.id] < limit:
                    receives[message.id] += 1
                    retry.append(message)
            waiting = retry
        return True  # every message was handled here: moto deletes them from the source queue

    LambdaBackend.send_sqs_batch = send_sqs_batch  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


_DYNAMODB_LOCK = threading.RLock()
_transaction = threading.local()


def _install_dynamodb() -> None:
    """DynamoDB as the handlers' threads need it: one request at a time, and transactions that back a table up once.

    Every function runs on a thread of this one process, and moto's DynamoDB is not thread-safe: a transaction
    deep-copies its tables (to undo itself) while another thread's write changes them. Requests are therefore
    serialised, as DynamoDB serialises the writes to one item. moto also deep-copies a table (every item) once per
    action of a transaction, up to 100 times, to restore it if the transaction is cancelled: a cost that grows with
    the table, so that counting feedback (a transaction per 100 event ids, each id an item) slowed down as it went.
    Here each table is backed up once per transaction, and only as deep as the transaction can reach (`_backup`).
    """
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    def _backup(table: Table, keys: list[dict[str, Any]]) -> Table:
        """The table as it was before a transaction, for moto to put back if the transaction is cancelled.

        A write changes only the dicts and the items under the keys it names: a put or a delete replaces or removes
        an item in its hash key's dict, an update changes an item in place. So the backup shares everything else
        with the table, and copies those dicts (shallow) and items (deep). A table with a stream (its records) is
        copied deeply, as moto does.
        """
        if table.stream_shard is not None:
            return copy.deepcopy(table)
        backup = copy.copy(table)
        backup.items = copy.copy(table.items)  # a dict's copy reuses the keys' hashes: DynamoType's are slow
        for key in keys:
            if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue  # moto refuses the action, and puts the backup back
            hash_value = DynamoType(key[table.hash_key_attr])
            if hash_value not in table.items:
                continue
            if table.range_key_attr is None:
                backup.items[hash_value] = copy.deepcopy(table.items[hash_value])
                continue
            entry = backup.items[hash_value] = dict(table.items[hash_value])
            range_value = DynamoType(key[table.range_key_attr])
            if range_value in entry:
                entry[range_value] = copy.deepcopy(entry[range_value])
        return backup

    class _CopyEachTableOnce:
        """moto's `copy` module inside DynamoDBBackend: tables are backed up once per transaction, by `_backup`."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            backups = getattr(_transaction, "backups", None)
            if backups is None or not isinstance(value, Table):
                return copy.deepcopy(value, memo)
            if id(value) not in backups:
                backups[id(value)] = _backup(value, _transaction.keys.get(value.name, []))
            return backups[id(value)]

    transact_write_items = DynamoDBBackend.transact_write_items

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        keys: dict[str, list[dict[str, Any]]] = {}
        for action in transact_items:
            for operation in action.values():
                if isinstance(operation, dict) and "TableName" in operation:
                    keys.setdefault(operation["TableName"], []).append(
                        operation.get("Key") or operation.get("Item") or {}
                    )
        _transaction.backups, _transaction.keys = {}, keys
        try:
            transact_write_items(self, transact_items)
        finally:
            _transaction.backups, _transaction.keys = None, {}

    call_action = DynamoHandler.call_action

    def serialised(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return call_action(self)

    dynamodb_models.copy = _CopyEachTableOnce()  # type: ignore[assignment,attr-defined]  # deliberate monkeypatch of moto
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]  # deliberate monkeypatch of moto
    DynamoHandler.call_action = serialised  # type: ignore[method-assign]  # deliberate monkeypatch of moto


def _install_dynamodb_shortcuts() -> None:
    """Two costs of moto's DynamoDB that grow with the table or repeat on every request, cut with the same results.

    A query of the table itself (not of an index) sorted every item of the table to pick out its partition: with
    the feedback's event ids in the table (one item each), every read of a rollout's decisions or arms slowed down
    as feedback came in. Here it reads the partition alone. And each conditional write parsed its condition again,
    the same text for every event id; here a condition is parsed once per text, names and values (the parsed
    expression only reads the item it is given).
    """
    import moto.dynamodb.models as dynamodb_models
    import moto.dynamodb.models.table as table_module
    from moto.dynamodb import comparisons
    from moto.dynamodb.models.table import Table

    table_query = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None:
            return table_query(self, hash_key, *args, **kwargs)
        entry = self.items.get(hash_key)
        partition = [] if entry is None else list(entry.values()) if self.range_key_attr else [entry]
        # moto's query reads `all_items()` and keeps the partition's; requests are serialised, so the instance's
        # stand-in for the method lasts exactly this query.
        self.all_items = lambda: partition  # type: ignore[method-assign]  # deliberate monkeypatch of moto
        try:
            return table_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]  # deliberate monkeypatch of moto

    parse = comparisons.get_filter_expression

    @functools.lru_cache(maxsize=256)
    def parse_text(expression: str | None, names: str, values: str) -> Any:
        return parse(expression, json.loads(names), json.loads(values))

    def get_filter_expression(expression: str | None, names: Any, values: Any) -> Any:
        try:
            key = (json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))
        except TypeError:  # binary values: parse as moto does
            return parse(expression, names, values)
        return parse_text(expression, *key)

    for module in (comparisons, dynamodb_models, table_module):
        module.get_filter_expression = get_filter_expression  # type: ignore[attr-defined]  # deliberate monkeypatch of moto


# --- SageMaker: the calls the control plane makes that moto lacks or simplifies ---------------------------------

_model = botocore.session.get_session().get_service_model("sagemaker")
_validator = ParamValidator()


def _validate(operation: str, params: dict[str, Any]) -> None:
    """Refuse what the real API refuses: parameters are checked against botocore's service model."""
    from moto.sagemaker.exceptions import AWSValidationException

    report = _validator.validate(params, _model.operation_model(operation).input_shape)
    if report.has_errors():
        raise AWSValidationException(report.generate_report())


def _fault(operation: str) -> None:
    from moto.sagemaker.exceptions import AWSValidationException

    fault = REGISTRY.take_fault(operation)
    if fault and fault.get("when", "call") == "call":
        raise AWSValidationException(fault.get("message", f"injected failure of {operation}"))


def _variants(config_variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # moto drops a weight of 0.0 (it tests truthiness); SageMaker keeps it.
    result = []
    for variant in config_variants:
        weight = float(variant.get("InitialVariantWeight", 1.0))
        count = variant.get("InitialInstanceCount")
        entry: dict[str, Any] = {
            "VariantName": variant["VariantName"],
            "CurrentWeight": weight,
            "DesiredWeight": weight,
        }
        if count is not None:
            entry.update({"CurrentInstanceCount": count, "DesiredInstanceCount": count})
        if variant.get("ServerlessConfig"):
            entry["CurrentServerlessConfig"] = entry["DesiredServerlessConfig"] = variant["ServerlessConfig"]
        result.append(entry)
    return result


# --- shadow variants: moto 5.2.5 drops CreateEndpointConfig's ShadowProductionVariants ---------------------------
#
# A shadow variant answers nobody: SageMaker replicates a share of the requests the production variant serves to
# it, publishes its per-variant metrics and captures its requests under its own VariantName. The share is the
# shadow's InitialVariantWeight relative to the production variant's, capped at every request: a shadow at 0.5
# beside a production variant at 1.0 mirrors 50 % of requests; at 1.0 beside 1.0, every request. AWS's pages say
# only that the shadow "receives a percentage of the incoming requests, replicated from the production variant"
# (developer guide, shadow-tests-create; ShadowModelVariantConfig.SamplingPercentage, at most 100), and their
# example (model-shadow-deployment) gives both variants weight 1 without saying what follows; the ratio is the rule
# third-party guides state (production 1 and shadow 0.1: 10 % mirrored). Assumed, not found documented: a shadow
# weighted above the production variant mirrors every request rather than being refused.


def _check_shadow_variants(production: list[dict[str, Any]], shadows: list[dict[str, Any]]) -> None:
    """SageMaker's rules for shadow variants in CreateEndpointConfig, refused before anything is stored."""
    from moto.sagemaker.exceptions import AWSValidationException

    # botocore's ShadowProductionVariants documentation; developer guide, shadow-tests-create ("a maximum of one
    # shadow variant per endpoint. For an endpoint with a shadow variant, there can be a maximum of one production
    # variant"). SageMaker's own error text was not found: the message is the documented sentence.
    if len(production) != 1 or len(shadows) != 1:
        raise AWSValidationException(
            "If you use ShadowProductionVariants, you can only specify one variant for ProductionVariants and one "
            "variant for ShadowProductionVariants."
        )
    # Metrics and data capture tell variants apart by VariantName alone. Assumed: SageMaker refuses a name used by
    # both lists, as it refuses a repeated production variant name (mlflow/mlflow#6486); the message is written in
    # SageMaker's manner.
    repeated = {v["VariantName"] for v in production} & {v["VariantName"] for v in shadows}
    if repeated:
        raise AWSValidationException(
            f"Variant names must be unique within an endpoint configuration: {', '.join(sorted(repeated))} is "
            "both a production variant and a shadow variant."
        )


def _install_shadow_variants() -> None:
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    create_config = SageMakerResponse.create_endpoint_config
    describe_endpoint = SageMakerModelBackend.describe_endpoint
    describe_config = SageMakerModelBackend.describe_endpoint_config

    def create_endpoint_config(self: Any) -> Any:
        params = json.loads(self.body or "{}")
        _validate("CreateEndpointConfig", params)
        _fault("CreateEndpointConfig")
        shadows = params.get("ShadowProductionVariants")
        if shadows:
            _check_shadow_variants(params["ProductionVariants"], shadows)
            self.sagemaker_backend.validate_production_variants(shadows)  # each model exists, as for production
        result = create_config(self)
        if shadows:
            # moto serialises a config from its attributes: DescribeEndpointConfig now returns them.
            self.sagemaker_backend.endpoint_configs[params["EndpointConfigName"]].shadow_production_variants = shadows
        return result

    def describe_endpoint_with_shadows(self: Any, endpoint_name: str) -> dict[str, Any]:
        # The shadows are those of the config the endpoint serves: CreateEndpoint, UpdateEndpoint once its Updating
        # phase is over, and a blue/green deployment that lands all set EndpointConfigName when they apply one.
        _fault("DescribeEndpoint")
        response: dict[str, Any] = describe_endpoint(self, endpoint_name)
        config = self.endpoint_configs.get(response["EndpointConfigName"])
        shadows = getattr(config, "shadow_production_variants", None)
        if shadows:
            response["ShadowProductionVariants"] = _variants(shadows)
        return response

    def describe_endpoint_config_or_fail(self: Any, endpoint_config_name: str) -> Any:
        _fault("DescribeEndpointConfig")
        return describe_config(self, endpoint_config_name)

    SageMakerModelBackend.describe_endpoint_config = describe_endpoint_config_or_fail  # type: ignore[method-assign]  # deliberate monkeypatch of moto
    SageMakerResponse.create_endpoint_config = create_endpoint_config  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto
    SageMakerModelBackend.describe_endpoint = describe_endpoint_with_shadows  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto


def event_status(status: str) -> str:
    """An endpoint status as SageMaker's events spell it: InService -> IN_SERVICE."""
    return "".join(f"_{c}" if c.isupper() else c for c in status).lstrip("_").upper()


def _endpoint_event(endpoint: Any) -> None:
    """SageMaker's "Endpoint State Change" event, with the status spelled as the documented example spells it."""
    if not REGISTRY.emit_endpoint_events:
        return
    detail = {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "ProductionVariants": [
            {"VariantName": v["VariantName"], "DesiredWeight": v.get("DesiredWeight")}
            for v in endpoint.production_variants
        ],
        "EndpointStatus": event_status(endpoint.endpoint_status),
        "LastModifiedTime": endpoint.last_modified_time.timestamp() * 1000,
        "Tags": {},
    }
    put_event("aws.sagemaker", "SageMaker Endpoint State Change", detail, [endpoint.arn])


def _sagemaker_imports() -> tuple[Any, Any]:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import AWSValidationException

    return ActionResult, AWSValidationException


def update_endpoint(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    _validate("UpdateEndpoint", params)
    backend = self.sagemaker_backend
    endpoint = backend.endpoints.get(params["EndpointName"])
    if endpoint is None:
        raise AWSValidationException(f'Could not find endpoint "{params["EndpointName"]}".')
    config = backend.endpoint_configs.get(params["EndpointConfigName"])
    if config is None:
        raise AWSValidationException(f'Could not find endpoint configuration "{params["EndpointConfigName"]}".')
    if endpoint.endpoint_status != "InService":
        raise AWSValidationException(
            f'Cannot update in-progress endpoint "{endpoint.arn}".'
            if endpoint.endpoint_status == "Updating"
            else f"Endpoint is in {endpoint.endpoint_status} state"
        )
    from sandbox import deployments  # it imports this module

    if deployments.start(endpoint, config, params):  # a DeploymentConfig: SageMaker's blue/green with guardrails
        return ActionResult({"EndpointArn": endpoint.arn})
    fault = REGISTRY.take_fault("UpdateEndpoint")
    if fault and fault.get("when", "call") == "call":
        raise AWSValidationException(fault.get("message", "injected failure of UpdateEndpoint"))
    REGISTRY.log_call("UpdateEndpoint", endpoint=endpoint.endpoint_name, config=config.endpoint_config_name)
    endpoint.endpoint_status = "Updating"
    endpoint.last_modified_time = datetime.now(UTC)
    _endpoint_event(endpoint)
    generation = REGISTRY.generation

    def finish() -> None:
        if REGISTRY.generation != generation:
            return  # that local cloud has stopped: its endpoint's event must not reach the next one
        with REGISTRY.lock:
            if fault:
                # SageMaker keeps serving from the old config and returns to InService with a reason.
                endpoint.failure_reason = fault.get("message", "injected update failure")
            else:
                endpoint.endpoint_config_name = config.endpoint_config_name
                endpoint.production_variants = _variants(config.production_variants)
                endpoint.data_capture_config = config.data_capture_config
                endpoint.failure_reason = None
            endpoint.endpoint_status = "InService"
            endpoint.last_modified_time = datetime.now(UTC)
        _endpoint_event(endpoint)

    timer = threading.Timer(REGISTRY.scaled(REGISTRY.endpoint_update_seconds), finish)
    timer.daemon = True
    timer.start()
    return ActionResult({"EndpointArn": endpoint.arn})


def update_endpoint_weights_and_capacities(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    _validate("UpdateEndpointWeightsAndCapacities", params)
    _fault("UpdateEndpointWeightsAndCapacities")
    endpoint = self.sagemaker_backend.endpoints.get(params["EndpointName"])
    if endpoint is None:
        raise AWSValidationException(f'Could not find endpoint "{params["EndpointName"]}".')
    if endpoint.endpoint_status != "InService":
        raise AWSValidationException(f'Cannot update in-progress endpoint "{endpoint.arn}".')
    by_name = {v["VariantName"]: v for v in endpoint.production_variants}
    for desired in params["DesiredWeightsAndCapacities"]:
        if desired["VariantName"] not in by_name:
            raise AWSValidationException(
                f'The variant name(s) "{desired["VariantName"]}" is/are not present within endpoint '
                f'configuration "{endpoint.endpoint_config_name}".'
            )
    with REGISTRY.lock:
        for desired in params["DesiredWeightsAndCapacities"]:
            variant = by_name[desired["VariantName"]]
            if "DesiredWeight" in desired:
                variant["CurrentWeight"] = variant["DesiredWeight"] = float(desired["DesiredWeight"])
            if "DesiredInstanceCount" in desired:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"] = desired["DesiredInstanceCount"]
    REGISTRY.log_call(
        "UpdateEndpointWeightsAndCapacities",
        endpoint=endpoint.endpoint_name,
        weights={d["VariantName"]: d.get("DesiredWeight") for d in params["DesiredWeightsAndCapacities"]},
    )
    return ActionResult({"EndpointArn": endpoint.arn})


def create_monitoring_schedule(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    _validate("CreateMonitoringSchedule", params)
    name = params["MonitoringScheduleName"]
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{name}"
    now = datetime.now(UTC)
    with REGISTRY.lock:
        if name in REGISTRY.monitoring_schedules:
            raise AWSValidationException(f"Monitoring schedule '{name}' already exists")
        REGISTRY.monitoring_schedules[name] = {
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": params["MonitoringScheduleConfig"].get("MonitoringType", "DataQuality"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringScheduleConfig": params["MonitoringScheduleConfig"],
            "EndpointName": params["MonitoringScheduleConfig"]
            .get("MonitoringJobDefinition", {})
            .get("MonitoringInputs", [{}])[0]
            .get("EndpointInput", {})
            .get("EndpointName"),
        }
        REGISTRY.monitoring_executions[name] = []
    return ActionResult({"MonitoringScheduleArn": arn})


def describe_monitoring_schedule(self: Any) -> Any:
    ActionResult, AWSValidationException = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    _validate("DescribeMonitoringSchedule", params)
    schedule = REGISTRY.monitoring_schedules.get(params["MonitoringScheduleName"])
    if schedule is None:
        raise AWSValidationException(f"Monitoring schedule '{params['MonitoringScheduleName']}' does not exist")
    executions = REGISTRY.monitoring_executions.get(schedule["MonitoringScheduleName"], [])
    result = {key: value for key, value in schedule.items() if value is not None}
    if executions:
        result["LastMonitoringExecutionSummary"] = executions[-1]
    return ActionResult(result)


def list_monitoring_executions(self: Any) -> Any:
    ActionResult, _ = _sagemaker_imports()
    params = json.loads(self.body or "{}")
    _validate("ListMonitoringExecutions", params)
    name = params.get("MonitoringScheduleName")
    with REGISTRY.lock:
        rows = [
            row
            for schedule, executions in REGISTRY.monitoring_executions.items()
            if name in (None, schedule)
            for row in executions
        ]
    key = {"CreationTime": "CreationTime", "ScheduledTime": "ScheduledTime", "Status": "MonitoringExecutionStatus"}[
        params.get("SortBy", "ScheduledTime")
    ]
    rows.sort(key=lambda row: row[key], reverse=params.get("SortOrder", "Descending") == "Descending")
    if params.get("StatusEquals"):
        rows = [row for row in rows if row["MonitoringExecutionStatus"] == params["StatusEquals"]]
    return ActionResult({"MonitoringExecutionSummaries": rows[: int(params.get("MaxResults", 10))]})


def _install_sagemaker() -> None:
    from moto.sagemaker.models import FakeEndpoint
    from moto.sagemaker.responses import SageMakerResponse

    FakeEndpoint._process_production_variants = lambda self, variants: _variants(variants)  # type: ignore[method-assign,assignment,attr-defined]  # deliberate monkeypatch of moto
    for function in (
        update_endpoint,
        update_endpoint_weights_and_capacities,
        create_monitoring_schedule,
        describe_monitoring_schedule,
        list_monitoring_executions,
    ):
        setattr(SageMakerResponse, function.__name__, function)
    _install_shadow_variants()
