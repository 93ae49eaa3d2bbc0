"""Step Functions: SendTaskFailure keeps its cause, and callback tokens close when their wait ends, as on AWS.

(Waits, task timeouts and retry intervals need nothing: they wait with `time.sleep` and `Event.wait`, which run on
the local cloud's virtual clock.) Each definition is parsed once per process.

moto keeps a task token's callback endpoint open after the wait is over: a SendTaskSuccess or SendTaskFailure for a
wait that timed out or already got its answer is accepted and does nothing. On AWS it fails with TaskTimedOut ("the
task token has either expired or the task associated with the token has already been closed"), and the control
plane relies on that: a signal that finds a stale token on the rollout keeps its breach for the next bake or judge
instead of losing it (`rollouts.logic.signals._interrupt`).

Here the end of a wait and a callback's delivery take one lock: a callback either arrives before the wait ends and
is its outcome, or after and is refused with TaskTimedOut. (moto's own path for a refused callback raises its
TaskTimedOut without the message the exception needs, so the backend's two calls are replaced too.)
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sandbox.moto_ext import core


def install() -> None:
    _install_task_failure_cause()
    _install_callbacks()
    _install_parse_cache()
    _install_start_execution_parameters()
    _install_status_change_events()


def _install_status_change_events() -> None:
    """Step Functions sends "Step Functions Execution Status Change" to the default bus when an execution ends;
    moto 5.2.5 sends nothing. (The control plane's watchdog, `rollouts.logic.signals`, acts on the abnormal ends.)"""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from sandbox.moto_ext import events

    def terminated(self: Any) -> None:
        original(self)
        execution = self.execution
        status = execution.exec_status.value if execution.exec_status is not None else None
        detail = {
            "executionArn": execution.exec_arn,
            "stateMachineArn": execution.state_machine.arn,
            "name": execution.name,
            "status": status,
            "startDate": int(execution.start_date.timestamp() * 1000),
            "stopDate": int(execution.stop_date.timestamp() * 1000) if execution.stop_date else None,
            "input": json.dumps(execution.input_data) if execution.input_data is not None else None,
            "error": getattr(execution, "error", None),
            "cause": getattr(execution, "cause", None),
        }
        events.put_event("aws.states", "Step Functions Execution Status Change", detail, [execution.exec_arn])

    original = core.replace(BaseExecutionWorkerCommunication, "terminated", terminated)


def _install_start_execution_parameters() -> None:
    """`arn:aws:states:::states:startExecution` takes StateMachineArn, Name and Input, as AWS documents them; moto
    5.2.5 passes those names to boto3's start_execution, whose parameters are stateMachineArn, name and input, and
    the call fails (KeyError in botocore's serializer). Rename them, as Step Functions does."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    def normalise(
        self: Any,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original(self, parameters, boto_service_name, service_action_name)
        if service_action_name is None and self._get_boto_service_action() == "start_execution":
            for name in ("StateMachineArn", "Name", "Input"):
                if name in parameters:
                    parameters[name[0].lower() + name[1:]] = parameters.pop(name)

    original = core.replace(StateTaskServiceSfn, "_normalise_parameters", normalise)


def _install_parse_cache() -> None:
    """Parse each definition once per process: moto parses it with ANTLR at every CreateStateMachine and every
    StartExecution (about a second for each of the project's definitions). The parse tree is kept; the evaluation
    components, which hold an execution's state, are still built afresh from it each time. (The local cloud's
    resource names are stable, `cloudformation.install`, so every local cloud has the same definitions.)"""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    trees: dict[str, Any] = {}

    def parse(definition: str) -> tuple[Any, Any]:
        tree = trees.get(definition)
        if tree is None:
            program, trees[definition] = original(definition)
            return program, trees[definition]
        return Preprocessor().visit(tree), tree

    original = core.replace(AmazonStateLanguageParser, "parse", staticmethod(parse))


def _install_task_failure_cause() -> None:
    # moto 5.2.5 drops SendTaskFailure's cause; Step Functions passes it to the Catch as "Cause".
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    core.replace(StepFunctionResponse, "send_task_failure", send_task_failure)


# The end of a callback wait and a callback's delivery.
_LOCK = threading.Lock()


def _install_callbacks() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackEndpoint,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
        CallbackPoolManager,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def wait(self: Any, timeout: float | None = None) -> Any:
        self._notify_event.wait(timeout=timeout)
        with _LOCK:
            if self.consumer_error is None:
                self.consumer_error = CallbackConsumerTimeout()  # closed: later callbacks get TaskTimedOut
            return self._outcome

    def notify(self: Any, callback_id: str, outcome: Any) -> bool:
        endpoint = self._pool.get(callback_id, None)
        if endpoint is None:
            return False
        with _LOCK:
            if endpoint.consumer_error is not None:
                raise CallbackNotifyConsumerError(callback_consumer_error=endpoint.consumer_error)
            endpoint.notify(outcome=outcome)
        return True

    def deliver(backend: Any, task_token: str, outcome: Any) -> None:
        for execution in backend._get_executions():
            worker = execution.exec_worker
            if worker is None:
                continue
            try:
                if worker.env.callback_pool_manager.notify(callback_id=task_token, outcome=outcome):
                    return
            except CallbackNotifyConsumerError:
                raise JsonRESTError(
                    "TaskTimedOut",
                    "Task Timed Out: the task token has either expired or the task associated with the token has "
                    "already been closed",
                ) from None
        raise JsonRESTError("InvalidToken", "Invalid token")

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        deliver(self, task_token, CallbackOutcomeSuccess(callback_id=task_token, output=outcome))

    def send_task_failure(self: Any, task_token: str, error: str | None = None, cause: str | None = None) -> None:
        deliver(self, task_token, CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause))

    core.replace(StepFunctionsParserBackend, "send_task_success", send_task_success)
    core.replace(StepFunctionsParserBackend, "send_task_failure", send_task_failure)
    core.replace(CallbackEndpoint, "wait", wait)
    core.replace(CallbackPoolManager, "notify", notify)
