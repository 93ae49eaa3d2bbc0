"""Every signal goes down one path: normalise, find the rollouts it concerns, dedup, decide, interrupt."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rollouts.aws import monitoring, store, workflows
from rollouts.aws.store import ALARM_GUARD, SCHEDULE_GUARD
from rollouts.errors import (
    GuardrailBreachedError,
    RolloutAbortedError,
    RolloutFinishedError,
    RolloutNotPausableError,
    RolloutNotPausedError,
)
from rollouts.logic.bluegreen import trip_abort_switch
from rollouts.logic.decisions import record
from rollouts.logic.endpoint_wait import SETTLED, endpoint_settled
from rollouts.logic.lifecycle import remove_arm
from rollouts.models.rollout import DecisionKind, PendingSignal, Rollout, RolloutStatus
from rollouts.models.signal import OperatorCommand, Signal, SignalOutcome, SignalResult, SignalSource
from rollouts.monitoring.kinds import MonitoringType
from rollouts.monitoring.policy import DEFAULT_POLICIES, MonitoringAction, MonitoringPolicy, evaluate_policy
from rollouts.observability import emit, logger
from rollouts.settings import get_settings

if TYPE_CHECKING:
    from rollouts.monitoring.violations import Violation

ALARM_EVENT = "CloudWatch Alarm State Change"
PROCESSING_JOB_EVENT = "SageMaker Processing Job State Change"
MONITOR_RUN_EVENT = "Monitoring Run Completed"  # rollouts.logic.monitor_runs
ENDPOINT_EVENT = "SageMaker Endpoint State Change"
EXECUTION_EVENT = "Step Functions Execution Status Change"
ABNORMAL_ENDS = ("FAILED", "TIMED_OUT", "ABORTED")
# The Fail states a strategy ends in on purpose: the rollout's status already says what happened.
DESIGNED_FAILURES = ("RolloutRolledBack", "FinalizeFailed", "RollbackFailed")
FINISHED_JOB_STATES = ("Completed", "Failed", "Stopped")


def normalise(event: dict[str, Any]) -> Signal | None:
    """An EventBridge event as a Signal, or None for events that can never concern a rollout (including one whose
    fields are not what the service documents: no AWS service sends it, and there is nothing to act on)."""
    detail = event.get("detail") or {}
    if not isinstance(detail, dict):
        return None
    try:
        if event.get("detail-type") == MONITOR_RUN_EVENT:
            return monitor_run_signal(detail, event) if event.get("source") == get_settings().event_source else None
        return _normalise(event, detail)
    except (ValidationError, TypeError, AttributeError, KeyError) as error:
        logger.warning("Ignored an event whose fields are not the documented ones", extra={"error": str(error)})
        return None


def _normalise(event: dict[str, Any], detail: dict[str, Any]) -> Signal | None:
    detail_type = event.get("detail-type")
    if detail_type == ALARM_EVENT:
        state = detail.get("state")
        if not isinstance(state, dict):
            state = {}
        name = detail.get("alarmName")
        if not name:
            return None
        return Signal(
            source=SignalSource.ALARM,
            dedup_key=f"alarm:{name}:{state.get('value')}:{state.get('timestamp') or event.get('time')}",
            alarm_name=name,
            alarm_state=state.get("value"),
            suppressed_by=_suppressed_by(detail, state),
            reason=str(state.get("reason", "")),
            raw=event,
        )
    if detail_type == ENDPOINT_EVENT and detail.get("EndpointName"):
        endpoint_status = _endpoint_status(str(detail.get("EndpointStatus", "")))
        return Signal(
            source=SignalSource.ENDPOINT,
            dedup_key=f"endpoint:{detail['EndpointName']}:{endpoint_status}:{event.get('time')}",
            endpoint_name=detail["EndpointName"],
            endpoint_status=endpoint_status,
            raw=event,
        )
    if detail_type == EXECUTION_EVENT:
        return _execution_signal(event, detail)
    if detail_type == PROCESSING_JOB_EVENT and detail.get("MonitoringScheduleArn"):
        job_arn = detail.get("ProcessingJobArn")
        status = detail.get("ProcessingJobStatus")
        return Signal(
            source=SignalSource.MONITORING,
            dedup_key=f"monitoring:{job_arn}:{status}",
            schedule_name=str(detail["MonitoringScheduleArn"]).rsplit("/", 1)[-1],
            processing_job_arn=job_arn,
            processing_job_status=status,
            reason=str(detail.get("ExitMessage") or detail.get("FailureReason") or ""),
            raw=event,
        )
    return None


def monitor_run_signal(detail: dict[str, Any], event: dict[str, Any]) -> Signal:
    """A run of the control plane's own monitor (`rollouts.logic.monitor_runs`): its rollout is named, its run id
    makes deliveries of it one."""
    return Signal(
        source=SignalSource.MONITORING,
        dedup_key=f"monitor:{detail['rollout_id']}:{detail['monitor']}:{detail['run_id']}",
        schedule_name=str(detail["monitor"]),
        processing_job_status=str(detail.get("status", "")),
        rollout_id=str(detail["rollout_id"]),
        reason=str(detail.get("reason", "")),
        raw={**event, "detail": detail},
    )


def _execution_signal(event: dict[str, Any], detail: dict[str, Any]) -> Signal | None:
    """A rollout's execution that ended abnormally; None for the ends its state machine has on purpose."""
    if detail.get("status") not in ABNORMAL_ENDS or detail.get("error") in DESIGNED_FAILURES:
        return None
    try:
        rollout_id = json.loads(detail.get("input") or "{}").get("rollout_id")
    except (ValueError, AttributeError):
        return None
    if not rollout_id:
        return None
    return Signal(
        source=SignalSource.EXECUTION,
        dedup_key=f"execution:{detail.get('executionArn')}:{detail['status']}",
        execution_arn=detail.get("executionArn"),
        rollout_id=str(rollout_id),
        reason=str(detail["status"]) + "".join(f": {detail[k]}" for k in ("error", "cause") if detail.get(k)),
        raw=event,
    )


def _suppressed_by(detail: dict[str, Any], state: dict[str, Any]) -> str | None:
    """Why the alarm's actions are held back: a composite alarm's suppression (Alarm, ExtensionPeriod, WaitPeriod)
    or a mute rule; None when they are not."""
    suppressed = state.get("actionsSuppressedBy") or detail.get("actionsSuppressedBy")
    if suppressed:
        reason = state.get("actionsSuppressedReason") or detail.get("actionsSuppressedReason")
        return f"actions suppressed by {suppressed}" + (f" ({reason})" if reason else "")
    if state.get("muteDetail") or detail.get("muteDetail"):
        return "muted by a mute rule"
    return None


def _endpoint_status(value: str) -> str:
    """The event documents IN_SERVICE where the API says InService: accept both."""
    return "".join(part.capitalize() for part in value.lower().split("_")) if "_" in value or value.isupper() else value


def handle_event(event: dict[str, Any]) -> list[SignalResult]:
    signal = normalise(event)
    if signal is None:
        logger.info("Ignored an event that no rollout can use", extra={"detail_type": event.get("detail-type")})
        return [SignalResult(rollout_id=None, outcome=SignalOutcome.IGNORED, message="not a rollout signal")]
    return handle_signal(signal)


def _concerned(signal: Signal) -> list[str]:
    if signal.source == SignalSource.ALARM:
        return store.guarded_rollouts(ALARM_GUARD, signal.alarm_name or "")
    if signal.source == SignalSource.MONITORING and not signal.rollout_id:
        return store.guarded_rollouts(SCHEDULE_GUARD, signal.schedule_name or "")
    return [signal.rollout_id] if signal.rollout_id else []


def handle_signal(signal: Signal) -> list[SignalResult]:
    emit("Signals", "Source", signal.source.value)
    if signal.source == SignalSource.ENDPOINT:
        return [_endpoint_changed(signal)]
    if signal.source == SignalSource.EXECUTION:
        return [_execution_ended(signal)]
    rollout_ids = _concerned(signal)
    if not rollout_ids:
        logger.info("Ignored a signal for nothing the control plane manages", extra={"signal": signal.dedup_key})
        return [
            SignalResult(rollout_id=None, outcome=SignalOutcome.IGNORED, message="no active rollout is guarded by it")
        ]
    return [_handle_for(rollout_id, signal) for rollout_id in rollout_ids]


def _endpoint_changed(signal: Signal) -> SignalResult:
    """Resume a rollout waiting for its endpoint. The event is a trigger; DescribeEndpoint is the truth."""
    rollout_id = store.lock_holder(signal.endpoint_name or "")
    if rollout_id is None or signal.endpoint_status not in SETTLED:
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.IGNORED, message="no rollout waits on it")
    logger.set_correlation_id(rollout_id)
    if endpoint_settled(rollout_id):
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.RESUMED, message="endpoint settled")
    return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.IGNORED, message="no wait to end")


def _execution_ended(signal: Signal) -> SignalResult:
    """A rollout's execution ended without reaching one of its own ends (timed out, aborted in the console, a failure
    no Catch took): no state machine acts for the rollout any more. Roll it back in a new execution."""
    rollout_id = signal.rollout_id or ""
    rollout = store.get_rollout(rollout_id)
    logger.set_correlation_id(rollout_id)
    ended = rollout.status.is_final or rollout.status == RolloutStatus.ROLLBACK_FAILED
    if rollout.execution_arn != signal.execution_arn or ended:
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.IGNORED, message="not the rollout's course")
    if not store.claim(rollout_id, signal.dedup_key):
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.DUPLICATE, message="already handled")
    try:
        cause = f"execution {signal.execution_arn} ended {signal.reason}"
        record(
            rollout,
            DecisionKind.EXECUTION_ENDED,
            f"Execution ended without finishing the rollout ({signal.reason}); rolling back in a new execution",
            {"execution_arn": signal.execution_arn, "reason": signal.reason},
            dedup_key=signal.dedup_key,
        )
        name = f"{rollout_id}-{rollout.executions + 1}"
        machine = get_settings().state_machine_arn_prefix + rollout.spec.strategy.type
        workflows.start(
            machine,
            name,
            {"rollout_id": rollout_id, "resume": True, "recover": {"Error": "ExecutionEnded", "Cause": cause[:1000]}},
        )
    except Exception:
        store.unclaim(rollout_id, signal.dedup_key)
        raise
    store.complete_claim(rollout_id, signal.dedup_key)
    return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.INTERRUPTED, message=cause)


def _handle_for(rollout_id: str, signal: Signal) -> SignalResult:
    rollout = store.get_rollout(rollout_id)
    logger.set_correlation_id(rollout_id)
    if signal.source == SignalSource.OPERATOR and rollout.status == RolloutStatus.PROMOTING:
        # The watch after promotion is the one wait of a promoting rollout: promote ends it, abort rolls back.
        watching = bool(rollout.task_token)
        if not (watching and signal.command in (OperatorCommand.ABORT, OperatorCommand.PROMOTE)):
            raise RolloutFinishedError(
                f"rollout {rollout_id} is watching after its promotion: promote ends the watch, abort puts the old "
                "config back"
                if watching
                else f"rollout {rollout_id} is promoting: the candidate already has all the traffic and its config is "
                "being applied; start a new rollout to go back"
            )
    if rollout.status == RolloutStatus.ROLLBACK_FAILED and signal.command != OperatorCommand.ABORT:
        # Waiting for an operator: only an abort (retry the restore) moves it; a guardrail has nothing left to stop.
        if signal.source == SignalSource.OPERATOR:
            raise RolloutFinishedError(
                f"rollout {rollout_id} is RollbackFailed: fix the endpoint, then abort to retry the restore"
            )
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.IGNORED, message="rollout is RollbackFailed")
    if rollout.status.is_final or rollout.status == RolloutStatus.ROLLING_BACK:
        if signal.source == SignalSource.OPERATOR:
            raise RolloutFinishedError(f"rollout {rollout_id} is {rollout.status.value}; it takes no more commands")
        return SignalResult(
            rollout_id=rollout_id, outcome=SignalOutcome.IGNORED, message=f"rollout is {rollout.status}"
        )
    if signal.command == OperatorCommand.PAUSE and (
        rollout.status != RolloutStatus.PROGRESSING or not rollout.spec.strategy.pausable
    ):
        strategy = rollout.spec.strategy
        why = (
            f"a {strategy.title.lower()}: {strategy.pause_refusal}"
            if not strategy.pausable
            else f"it is {rollout.status.value}"
        )
        raise RolloutNotPausableError(f"rollout {rollout.rollout_id} cannot be paused: {why}")
    if signal.command == OperatorCommand.RESUME and rollout.status != RolloutStatus.PAUSED:
        raise RolloutNotPausedError(
            f"rollout {rollout_id} is {rollout.status.value}, not paused: resume ends a pause; promote skips the "
            "remaining steps, abort rolls back"
        )
    if not store.claim(rollout_id, signal.dedup_key):
        logger.info("Dropped a duplicate signal", extra={"signal": signal.dedup_key})
        return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.DUPLICATE, message="already handled")
    try:
        result = _act(rollout, signal)
    except Exception:
        # A failed signal must not look handled to its retry (EventBridge and Lambda deliver it again).
        store.unclaim(rollout_id, signal.dedup_key)
        raise
    store.complete_claim(rollout_id, signal.dedup_key)
    return result


def _act(rollout: Rollout, signal: Signal) -> SignalResult:
    pending = _decide(rollout, signal)
    if pending is None:
        return SignalResult(rollout_id=rollout.rollout_id, outcome=SignalOutcome.RECORDED, message="no action needed")
    tripped = False
    if pending.error and rollout.spec.strategy.blue_green_deployment() is not None:
        # SageMaker owns the traffic while it deploys: its own rollback is the fast way back.
        tripped = trip_abort_switch(rollout, pending.cause)
    return _interrupt(rollout.rollout_id, pending, endpoint_wait=not tripped)


def _decide(rollout: Rollout, signal: Signal) -> PendingSignal | None:
    """Record what the signal means for this rollout; a PendingSignal when the rollout must react."""
    if signal.source == SignalSource.ALARM:
        return _decide_alarm(rollout, signal)
    if signal.source == SignalSource.MONITORING:
        return _decide_monitoring(rollout, signal)
    if signal.command == OperatorCommand.ABORT:
        cause = f"an operator aborted the rollout{': ' + signal.reason if signal.reason else ''}"
        record(rollout, DecisionKind.OPERATOR_COMMAND, f"Abort requested: {cause}", {"command": "abort"})
        return PendingSignal(error=RolloutAbortedError.__name__, cause=cause, command="abort")
    if signal.command == OperatorCommand.PAUSE:
        cause = f"an operator paused the rollout{': ' + signal.reason if signal.reason else ''}"
        record(rollout, DecisionKind.OPERATOR_COMMAND, f"Pause requested: {cause}", {"command": "pause"})
        return PendingSignal(error="", cause=cause, command="pause")
    if signal.command == OperatorCommand.RESUME:
        cause = f"an operator resumed the paused rollout{': ' + signal.reason if signal.reason else ''}"
        record(rollout, DecisionKind.OPERATOR_COMMAND, f"Resume requested: {cause}", {"command": "resume"})
        return PendingSignal(error="", cause=cause, command="resume")
    record(rollout, DecisionKind.OPERATOR_COMMAND, "Promotion requested by an operator", {"command": "promote"})
    return PendingSignal(error="", cause="an operator asked to promote", command="promote")


def _decide_alarm(rollout: Rollout, signal: Signal) -> PendingSignal | None:
    if signal.alarm_state != "ALARM":
        record(
            rollout,
            DecisionKind.SIGNAL_RECEIVED,
            f"Alarm '{signal.alarm_name}' is {signal.alarm_state}",
            {"alarm": signal.alarm_name, "state": signal.alarm_state},
        )
        return None
    if signal.suppressed_by and rollout.spec.guardrails.suppressed_alarms == "ignore":
        record(
            rollout,
            DecisionKind.SIGNAL_RECEIVED,
            f"Alarm '{signal.alarm_name}' is in ALARM, {signal.suppressed_by}: ignored, as guardrails."
            "suppressed_alarms says",
            {"alarm": signal.alarm_name, "state": "ALARM", "suppressed_by": signal.suppressed_by},
        )
        return None
    cause = f"alarm '{signal.alarm_name}' is in ALARM: {signal.reason}"
    if signal.suppressed_by:
        cause += f" ({signal.suppressed_by}; a breach all the same)"
    if _removes_arm(rollout, signal, cause):
        return None
    record(
        rollout,
        DecisionKind.GUARDRAIL_BREACHED,
        f"Guardrail breached: {cause}",
        {"alarm": signal.alarm_name, "state": "ALARM", "reason": signal.reason},
    )
    return PendingSignal(error=GuardrailBreachedError.__name__, cause=cause)


def _removes_arm(rollout: Rollout, signal: Signal, cause: str) -> bool:
    """A strategy that removes a breached arm (a bandit's `remove-arm`) drops the candidate an alarm watches, unless
    it is the last one."""
    variant = rollout.alarm_variants.get(signal.alarm_name or "")
    if variant is None or not rollout.spec.strategy.removes_arm_on_breach():
        return False
    evidence = {"alarm": signal.alarm_name, "state": "ALARM", "reason": signal.reason}
    return remove_arm(rollout, variant, cause, evidence)


def _decide_monitoring(rollout: Rollout, signal: Signal) -> PendingSignal | None:
    if signal.rollout_id:
        return _decide_monitor_run(rollout, signal)
    schedule = signal.schedule_name or ""
    execution = monitoring.find_execution(schedule, signal.processing_job_arn)
    # Not found in the listing: the event's own ExitMessage ("CompletedWithViolations: ...") says how the job ended.
    exit_status = signal.reason.split(":", 1)[0].strip() if signal.reason else ""
    status = (execution or {}).get("MonitoringExecutionStatus") or exit_status or signal.processing_job_status
    evidence: dict[str, Any] = {"schedule": schedule, "processing_job": signal.processing_job_arn, "status": status}
    if status != "CompletedWithViolations":
        record(rollout, DecisionKind.SIGNAL_RECEIVED, f"Monitoring schedule '{schedule}' finished: {status}", evidence)
        return None
    kind_name = (execution or {}).get("MonitoringType") or monitoring.monitoring_type(schedule)
    if kind_name not in {kind.value for kind in MonitoringType}:
        # Reading another kind's violations as data quality would judge them by the wrong rules.
        raise ValueError(
            f"monitoring schedule '{schedule}' has monitoring type {kind_name!r}, which is not one of "
            f"{[kind.value for kind in MonitoringType]}"
        )
    kind = MonitoringType(kind_name)
    uri, text = monitoring.read_violations(
        str(execution["ProcessingJobArn"] if execution else signal.processing_job_arn)
    )
    # Only monitoring signals parse violations files: the API's operator commands never load the parsers.
    from rollouts.monitoring.violations import parse_violations

    violations = parse_violations(text, kind) if text else []
    guard = next(g for g in rollout.spec.guardrails.monitoring_schedules if g.schedule_name == schedule)
    return _judge_violations(
        rollout, f"monitoring schedule '{schedule}'", kind, uri, violations, guard.policy, evidence
    )


def _decide_monitor_run(rollout: Rollout, signal: Signal) -> PendingSignal | None:
    """A run of the spec's own monitor: the violations file it wrote is the truth, judged as Model Monitor's is."""
    detail = signal.raw.get("detail") or {}
    name = signal.schedule_name or ""
    guard = next((g for g in rollout.spec.guardrails.monitors if g.name == name), None)
    if guard is None:
        record(rollout, DecisionKind.SIGNAL_RECEIVED, f"Monitor '{name}' is not one of this rollout's", {})
        return None
    status = signal.processing_job_status or ""
    evidence: dict[str, Any] = {
        "monitor": name,
        "monitoring_type": guard.type.value,
        "status": status,
        "trigger": detail.get("trigger"),
        "run_id": detail.get("run_id"),
        "window": [detail.get("window_start"), detail.get("window_end")],
        "rows": detail.get("rows"),
        "output": detail.get("output_s3_uri"),
        **({"objects": detail.get("objects"), "objects_read": detail.get("objects_read")} if detail.get("objects")
           else {}),
    }  # fmt: skip
    why = f": {signal.reason}" if signal.reason else ""
    if status == "Failed" and guard.on_failure == "rollback":
        cause = f"monitor '{name}' could not judge{why}; on_failure is rollback"
        record(rollout, DecisionKind.GUARDRAIL_BREACHED, f"Guardrail breached: {cause}", evidence)
        return PendingSignal(error=GuardrailBreachedError.__name__, cause=cause)
    if status != "CompletedWithViolations":
        record(rollout, DecisionKind.SIGNAL_RECEIVED, f"Monitor '{name}' finished: {status}{why}", evidence)
        return None
    uri = f"{str(detail.get('output_s3_uri', '')).rstrip('/')}/constraint_violations.json"
    root = get_settings().monitor_results_s3_uri.rstrip("/")
    if not root or not uri.startswith(root + "/"):
        # The event names the file; only the control plane's own results are read, whatever the bus carries.
        raise ValueError(f"monitor '{name}' names results outside {root or 'the monitor results bucket'}: {uri}")
    text = monitoring.read_document(uri)
    from rollouts.monitoring.violations import parse_violations

    violations = parse_violations(text, guard.type) if text else []
    return _judge_violations(rollout, f"monitor '{name}'", guard.type, uri, violations, guard.policy, evidence)


def _judge_violations(
    rollout: Rollout,
    source: str,
    kind: MonitoringType,
    uri: str,
    violations: list[Violation],
    policy: MonitoringPolicy | None,
    evidence: dict[str, Any],
) -> PendingSignal | None:
    """The one judgement of a violations file, Model Monitor's or the control plane's own monitor's."""
    outcome = evaluate_policy(violations, kind, policy or DEFAULT_POLICIES[kind])
    evidence.update(
        {
            "monitoring_type": kind.value,
            "violations_file": uri,
            "violated": [v.subject for v in outcome.counted],
            "violations": [v.model_dump(mode="json") for v in outcome.counted],
            "policy": outcome.action.value,
        }
    )
    if not (outcome.breach and outcome.action == MonitoringAction.ROLLBACK):
        record(rollout, DecisionKind.SIGNAL_RECEIVED, outcome.reason, evidence)
        return None
    cause = f"{source}: {outcome.reason}"
    record(rollout, DecisionKind.GUARDRAIL_BREACHED, f"Guardrail breached: {cause}", evidence)
    return PendingSignal(error=GuardrailBreachedError.__name__, cause=cause)


def _interrupt(rollout_id: str, pending: PendingSignal, endpoint_wait: bool = True) -> SignalResult:
    """End the running bake at once; with no bake running, leave the signal for the next bake or judge.

    An abort or a breach also ends a running wait for the endpoint (unless SageMaker's own rollback, tripped by the
    abort switch, is what that wait is for): the rollback starts without waiting for the update to end."""
    token: list[str | None] = [None]
    field = ["task_token"]
    interruptible = bool(pending.error) and endpoint_wait

    def change(r: Rollout) -> Rollout:
        token[0] = r.task_token
        if r.task_token:
            return r.model_copy(update={"task_token": None})
        if interruptible and r.endpoint_token:
            token[0], field[0] = r.endpoint_token, "endpoint_token"
            return r.model_copy(update={"endpoint_token": None, "endpoint_wait_since": None})
        return r.model_copy(update={"pending": [*r.pending, pending]})

    store.update_rollout(rollout_id, change)
    taken = token[0]
    if taken:
        try:
            if pending.command in ("promote", "resume", "pause"):
                delivered = workflows.succeed_task(taken, {"command": pending.command})
            else:
                delivered = workflows.fail_task(taken, pending.error, pending.cause)
        except Exception:
            # The wait is still running: give its token back so the retried signal can end it.
            store.update_rollout(rollout_id, lambda r: r.model_copy(update={field[0]: getattr(r, field[0]) or taken}))
            raise
        if delivered:
            return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.INTERRUPTED, message=pending.cause)
        store.update_rollout(rollout_id, lambda r: r.model_copy(update={"pending": [*r.pending, pending]}))
    return SignalResult(rollout_id=rollout_id, outcome=SignalOutcome.DEFERRED, message=pending.cause)


def operator_command(rollout_id: str, command: OperatorCommand, reason: str, request_id: str) -> SignalResult:
    store.get_rollout(rollout_id)  # 404 before anything else
    signal = Signal(
        source=SignalSource.OPERATOR,
        dedup_key=f"operator:{command.value}:{request_id}",
        rollout_id=rollout_id,
        command=command,
        reason=reason,
    )
    return handle_signal(signal)[0]
