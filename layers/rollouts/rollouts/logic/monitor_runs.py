"""The control plane's own monitor: the spec's `guardrails.monitors`, run on a variant's captured data.

A run reads the window's capture (and, for model quality and bias, the ground truth the feedback path wrote),
computes what Model Monitor or Clarify would with `rollouts_monitor` (the monitor layer: only the monitor's function
loads it), writes `statistics.json` (or `analysis.json`) and `constraint_violations.json` in Model Monitor's layout,
and emits a "Monitoring Run Completed" event. That event goes down the path a Model Monitor execution's goes
(`rollouts.logic.signals`): the spec's policy judges the violations file, the decision log shows them.

Runs start three ways: every minute the schedule starts those whose `every` has passed during a bake or a watch
(`start_due`), each in an execution of the monitor state machine; a bake's end runs every monitor of the rollout at
once so its judge has a fresh result (`end_of_bake`); a data-quality window larger than one function should read is
split across the capture objects by the state machine's Distributed Map (`plan`, `partial`, `merge`).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rollouts import clock
from rollouts.aws import bus, endpoints, monitor_io, store, workflows
from rollouts.aws.store import MONITOR_GUARD, MONITORED
from rollouts.errors import MonitorInputError
from rollouts.models.rollout import Rollout, RolloutStatus
from rollouts.models.spec import MonitorGuard
from rollouts.monitoring.kinds import MonitoringType
from rollouts.observability import logger
from rollouts.settings import get_settings

if TYPE_CHECKING:
    from rollouts_monitor.records import Problem, Record

MONITOR_RUN_EVENT = "Monitoring Run Completed"
VIOLATIONS_FILE = "constraint_violations.json"
# A window of more capture objects than this is split across Distributed Map children when its monitor's results
# merge (data quality); the others, and a bake's end, read a uniform sample of this many objects.
IN_PROCESS_OBJECTS = 200
OBJECTS_PER_CHILD = 100
# Synthetic requests the explainability monitor sends carry this inference id prefix; every monitor skips them.
SYNTHETIC_PREFIX = "rollouts-shap-"
ACTIVE = (RolloutStatus.PROGRESSING, RolloutStatus.PAUSED)


@dataclass
class MonitorRun:
    """One run of one monitor: what it read, what it found, where the files are."""

    rollout_id: str
    monitor: str
    monitoring_type: str
    trigger: str
    run_id: str
    window_start: str
    window_end: str
    output_s3_uri: str
    status: str = "Completed"  # Completed | CompletedWithViolations | Skipped | Failed
    reason: str = ""
    rows: int = 0
    violations: int = 0
    objects: int = 0
    objects_read: int = 0
    problems: list[str] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return asdict(self)


def guard_of(rollout: Rollout, name: str) -> MonitorGuard:
    for guard in rollout.spec.guardrails.monitors:
        if guard.name == name:
            return guard
    raise MonitorInputError(f"rollout {rollout.rollout_id} has no monitor named '{name}'")


def variant_of(rollout: Rollout, guard: MonitorGuard) -> str:
    return guard.variant or rollout.spec.candidate.resolved_variant_name


def _window(rollout: Rollout, guard: MonitorGuard, end: datetime) -> tuple[datetime, datetime]:
    start = end - timedelta(seconds=guard.window)
    if rollout.started_at is not None:
        start = max(start, rollout.started_at)
    return start, end


def _capture_root(rollout: Rollout, variant: str) -> str:
    destination = rollout.spec.data_capture.destination_s3_uri
    if not destination:
        endpoint = endpoints.describe_endpoint(rollout.endpoint_name) or {}
        config = endpoints.describe_endpoint_config(rollout.candidate_config or "") or {}
        capture = endpoint.get("DataCaptureConfig") or config.get("DataCaptureConfig") or {}
        destination = capture.get("DestinationS3Uri") or get_settings().data_capture_s3_uri
    if not destination:
        raise MonitorInputError(f"endpoint {rollout.endpoint_name} captures no data: a monitor has nothing to read")
    return f"{destination.rstrip('/')}/{rollout.endpoint_name}/{variant}"


def _new_run(rollout: Rollout, guard: MonitorGuard, trigger: str, start: datetime, end: datetime) -> MonitorRun:
    run_id = f"{end:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    root = get_settings().monitor_results_s3_uri.rstrip("/")
    output = f"{root}/{rollout.endpoint_name}/{guard.name}/{end:%Y/%m/%d/%H}/{run_id}"
    return MonitorRun(
        rollout_id=rollout.rollout_id,
        monitor=guard.name,
        monitoring_type=guard.type.value,
        trigger=trigger,
        run_id=run_id,
        window_start=start.isoformat(),
        window_end=end.isoformat(),
        output_s3_uri=output,
    )


def _rng(run_id: str) -> random.Random:
    """The run's own draws (which objects, which rows): the same run id draws the same sample."""
    return random.Random(run_id)  # noqa: S311 - a sample of data, not a secret


# --- the three ways a run starts -------------------------------------------------------------------------------


def start_due(now: datetime | None = None) -> list[str]:
    """Start a run of each monitor whose `every` has passed, on every rollout in a bake or a watch. Returns the
    executions started."""
    moment = now or clock.now()
    started: list[str] = []
    for rollout_id in store.guarded_rollouts(MONITOR_GUARD, MONITORED):
        rollout = store.get_rollout(rollout_id)
        if rollout.status not in ACTIVE:
            continue
        for guard in rollout.spec.guardrails.monitors:
            last = rollout.monitor_runs.get(guard.name)
            if last is not None and (moment - last).total_seconds() < guard.every:
                continue
            claimed = _claim_slot(rollout.rollout_id, guard.name, last, moment)
            if not claimed:
                continue
            name = f"{rollout.rollout_id}-{guard.name}-{moment:%Y%m%d%H%M%S}"[:80]
            payload = {"rollout_id": rollout.rollout_id, "monitor": guard.name, "trigger": "scheduled"}
            started.append(workflows.start(get_settings().monitor_state_machine_arn, name, payload))
    return started


def _claim_slot(rollout_id: str, monitor: str, last: datetime | None, moment: datetime) -> bool:
    """Note the run's start on the rollout, unless another tick already did: one run a slot."""
    claimed = [False]

    def change(rollout: Rollout) -> Rollout | None:
        if rollout.monitor_runs.get(monitor) != last:
            return None
        claimed[0] = True
        return rollout.model_copy(update={"monitor_runs": {**rollout.monitor_runs, monitor: moment}})

    store.update_rollout(rollout_id, change)
    return claimed[0]


def end_of_bake(rollout_id: str) -> list[dict[str, Any]]:
    """Run every monitor of the rollout now, in this function, so that the judge after the bake has a fresh result
    of each: a large window is read through a uniform sample of IN_PROCESS_OBJECTS capture objects."""
    rollout = store.get_rollout(rollout_id)
    runs = []
    for guard in rollout.spec.guardrails.monitors:
        runs.append(run(rollout, guard, "end-of-bake", sample=True).detail())
    return runs


def plan(rollout_id: str, monitor: str, trigger: str) -> dict[str, Any]:
    """The monitor state machine's first step: the whole run here when the window is small, or the manifest of the
    Distributed Map's children when it is a large data-quality window."""
    rollout = store.get_rollout(rollout_id)
    guard = guard_of(rollout, monitor)
    if rollout.status not in ACTIVE and trigger == "scheduled":
        return {"distributed": False, "run": None, "manifest": None, "reason": f"rollout is {rollout.status.value}"}
    end = clock.now()
    start, _ = _window(rollout, guard, end)
    current = _new_run(rollout, guard, trigger, start, end)
    try:
        objects = monitor_io.hourly_objects(_capture_root(rollout, variant_of(rollout, guard)), start, end)
    except MonitorInputError as error:
        return {"distributed": False, "run": _failed(rollout, guard, current, str(error)).detail(), "manifest": None}
    if guard.type is not MonitoringType.DATA_QUALITY or len(objects) <= IN_PROCESS_OBJECTS:
        run_ = _execute(rollout, guard, current, objects, sample=True)
        return {"distributed": False, "run": run_.detail(), "manifest": None}
    batches = [
        {"objects": [[bucket, key] for bucket, key, _ in objects[i : i + OBJECTS_PER_CHILD]]}
        for i in range(0, len(objects), OBJECTS_PER_CHILD)
    ]
    current.objects = len(objects)
    manifest = monitor_io.write_json(f"{current.output_s3_uri}/partials/manifest.json", batches)
    bucket, key = monitor_io.split_uri(manifest)
    return {"distributed": True, "run": current.detail(), "manifest": {"Bucket": bucket, "Key": key}}


def run(rollout: Rollout, guard: MonitorGuard, trigger: str, *, sample: bool) -> MonitorRun:
    end = clock.now()
    start, _ = _window(rollout, guard, end)
    current = _new_run(rollout, guard, trigger, start, end)
    try:
        objects = monitor_io.hourly_objects(_capture_root(rollout, variant_of(rollout, guard)), start, end)
    except MonitorInputError as error:
        return _failed(rollout, guard, current, str(error))
    return _execute(rollout, guard, current, objects, sample=sample)


# --- computing a run -------------------------------------------------------------------------------------------


def _execute(
    rollout: Rollout, guard: MonitorGuard, current: MonitorRun, objects: list[tuple[str, str, int]], *, sample: bool
) -> MonitorRun:
    current.objects = len(objects)
    if sample and len(objects) > IN_PROCESS_OBJECTS:
        chosen = sorted(_rng(current.run_id).sample(range(len(objects)), IN_PROCESS_OBJECTS))
        objects = [objects[i] for i in chosen]
    current.objects_read = len(objects)
    try:
        records, problems = _records(objects, current)
        result, document_name = _compute(rollout, guard, current, records)
    except (MonitorInputError, ValueError) as error:
        return _failed(rollout, guard, current, str(error))
    if result is None:
        return _finish(rollout, current, None, None)
    statistics, violations = result
    current.problems = [f"line {p.line}: {p.reason}" for p in problems[:10]]
    if problems:
        current.reason = f"{len(problems)} captured lines could not be read"
    return _finish(rollout, current, (document_name, statistics), violations)


def _records(objects: list[tuple[str, str, int]], current: MonitorRun) -> tuple[list[Record], list[Problem]]:
    from rollouts_monitor.records import parse_capture

    records, problems = parse_capture(_lines(objects))
    # The hour files hold requests from before the window too; what came after its end is as recent as the run.
    start = datetime.fromisoformat(current.window_start) - timedelta(seconds=1)
    kept = [
        r
        for r in records
        if not (r.inference_id or "").startswith(SYNTHETIC_PREFIX) and (r.time is None or start <= _utc(r.time))
    ]
    return kept, problems


def _utc(moment: datetime) -> datetime:
    """SageMaker writes capture times in UTC; one without an offset is read so."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _lines(objects: Iterable[tuple[str, str, int]]) -> Iterator[str]:
    for bucket, key, _ in objects:
        yield from monitor_io.object_lines(bucket, key)


def _compute(
    rollout: Rollout, guard: MonitorGuard, current: MonitorRun, records: list[Record]
) -> tuple[tuple[dict[str, Any], list[dict[str, Any]]] | None, str]:
    """((the statistics or analysis document, the violations) or None when skipped, the document's file name)."""
    match guard.type:
        case MonitoringType.DATA_QUALITY:
            return _data_quality(guard, current, records), "statistics.json"
        case MonitoringType.MODEL_QUALITY:
            return _model_quality(rollout, guard, current, records), "statistics.json"
        case MonitoringType.MODEL_BIAS:
            return _bias(rollout, guard, current, records), "analysis.json"
        case MonitoringType.MODEL_EXPLAINABILITY:
            return _explainability(rollout, guard, current, records), "analysis.json"


def _too_few(current: MonitorRun, rows: int, guard: MonitorGuard, what: str) -> bool:
    current.rows = rows
    if rows >= guard.min_rows:
        return False
    current.status = "Skipped"
    why = f"{rows} {what} in the window, {guard.min_rows} needed (min_rows)"
    current.reason = f"{why}; {current.reason}" if current.reason else why
    return True


def _data_quality(
    guard: MonitorGuard, current: MonitorRun, records: list[Record]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    from rollouts_monitor import data_quality
    from rollouts_monitor.records import dataset_from_records

    statistics = monitor_io.read_json(str(guard.baseline.statistics), "baseline statistics")
    constraints = monitor_io.read_json(str(guard.baseline.constraints), "baseline constraints")
    columns = _feature_names(statistics)
    dataset, _ = dataset_from_records(records, columns)
    if _too_few(current, len(dataset), guard, "captured rows"):
        return None
    profile = data_quality.Profile.of(dataset, statistics)
    return profile.statistics(), data_quality.check(profile, statistics, constraints)


def _feature_names(statistics: dict[str, Any]) -> list[str]:
    features = statistics.get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) and "name" in f for f in features):
        raise MonitorInputError("baseline statistics: 'features' must be a list of objects with a 'name'")
    return [str(f["name"]) for f in features]


def partial(context: dict[str, Any], objects: list[list[str]]) -> dict[str, Any]:
    """A Distributed Map child: the data-quality profile of its capture objects, written beside the run."""
    from rollouts_monitor import data_quality
    from rollouts_monitor.records import dataset_from_records

    rollout = store.get_rollout(context["rollout_id"])
    guard = guard_of(rollout, context["monitor"])
    current = MonitorRun(**context)
    statistics = monitor_io.read_json(str(guard.baseline.statistics), "baseline statistics")
    records, problems = _records([(bucket, key, 0) for bucket, key in objects], current)
    dataset, _ = dataset_from_records(records, _feature_names(statistics))
    profile = data_quality.Profile.of(dataset, statistics)
    first = objects[0][1].rsplit("/", 1)[-1] if objects else "empty"
    uri = monitor_io.write_json(f"{current.output_s3_uri}/partials/{uuid.uuid4().hex[:8]}-{first}", profile.to_json())
    return {"partial": uri, "rows": len(dataset), "problems": len(problems)}


def merge(
    context: dict[str, Any], partials: list[dict[str, Any]], error: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Distributed Map's last step: merge the children's profiles, check them, finish the run; with `error`
    (a child failed after its retries), finish it failed."""
    from rollouts_monitor import data_quality

    rollout = store.get_rollout(context["rollout_id"])
    guard = guard_of(rollout, context["monitor"])
    current = MonitorRun(**context)
    current.objects_read = current.objects
    if error is not None:
        return _failed(rollout, guard, current, f"a child of the Distributed Map failed: {_cause(error)}").detail()
    try:
        statistics = monitor_io.read_json(str(guard.baseline.statistics), "baseline statistics")
        constraints = monitor_io.read_json(str(guard.baseline.constraints), "baseline constraints")
        merged: Any = None
        for item in partials:
            profile = data_quality.Profile.from_json(monitor_io.read_json(item["partial"], "partial profile"))
            merged = profile if merged is None else merged.merge(profile)
        problems = sum(int(item.get("problems", 0)) for item in partials)
        if problems:
            current.reason = f"{problems} captured lines could not be read"
        rows = sum(int(item.get("rows", 0)) for item in partials)
        if merged is None or _too_few(current, rows, guard, "captured rows"):
            return _finish(rollout, current, None, None).detail()
        violations = data_quality.check(merged, statistics, constraints)
    except (MonitorInputError, ValueError) as problem:
        return _failed(rollout, guard, current, str(problem)).detail()
    return _finish(rollout, current, ("statistics.json", merged.statistics()), violations).detail()


def _labelled(rollout: Rollout, current: MonitorRun, records: list[Record]) -> tuple[list[Record], list[str], int]:
    """The records with their ground-truth labels (joined by inference id, as Model Monitor merges), and the count
    of labels that match no captured prediction."""
    from rollouts_monitor.records import join_labels, parse_ground_truth

    root = f"{get_settings().ground_truth_s3_uri.rstrip('/')}/{rollout.endpoint_name}"
    start = datetime.fromisoformat(current.window_start)
    # Labels arrive late: any written from the window's start until now may be for one of its predictions.
    objects = monitor_io.hourly_objects(root, start, clock.now())
    labels, _ = parse_ground_truth(_lines(objects))
    joined = join_labels(records, labels)
    return joined.records, joined.labels, joined.labels_without_prediction


def _scores(records: list[Record]) -> list[float]:
    scores = []
    for record in records:
        try:
            scores.append(float(str(record.output)))
        except ValueError as error:
            raise MonitorInputError(f"a captured output is not a score: {record.output!r}") from error
    return scores


def _model_quality(
    rollout: Rollout, guard: MonitorGuard, current: MonitorRun, records: list[Record]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    from rollouts_monitor import model_quality

    constraints = monitor_io.read_json(str(guard.baseline.constraints), "baseline constraints")
    matched, labels, orphans = _labelled(rollout, current, records)
    if orphans:
        current.reason = f"{orphans} labels match no captured prediction in the window"
    if _too_few(current, len(matched), guard, "labelled predictions"):
        return None
    problem = str(guard.problem_type)
    if problem == "MulticlassClassification":
        statistics = model_quality.metrics(problem, labels, [str(r.output) for r in matched])
    elif problem == "Regression":
        statistics = model_quality.metrics(problem, [float(label) for label in labels], _scores(matched))
    else:
        scores = _scores(matched)
        predicted = [1 if score >= guard.probability_threshold else 0 for score in scores]
        statistics = model_quality.metrics(problem, labels, predicted, probabilities=_array(scores))
    return statistics, model_quality.check(statistics, constraints)


def _array(values: list[float]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=float)


def _config_headers(config: dict[str, Any]) -> list[str]:
    headers = config.get("headers")
    if not isinstance(headers, list) or not headers:
        raise MonitorInputError("baseline config (analysis_config.json): 'headers' must be a non-empty list")
    return [str(h) for h in headers]


def _feature_headers(config: dict[str, Any]) -> list[str]:
    """The captured input's columns: the config's headers without the label's."""
    label = config.get("label")
    return [h for h in _config_headers(config) if h != label]


def _bias(
    rollout: Rollout, guard: MonitorGuard, current: MonitorRun, records: list[Record]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    from rollouts_monitor import bias

    config = monitor_io.read_json(str(guard.baseline.config), "baseline config (analysis_config.json)")
    baseline = monitor_io.read_json(str(guard.baseline.analysis), "baseline analysis")
    features = _feature_headers(config)
    facets = config.get("facet")
    if not isinstance(facets, list) or not facets or not isinstance(facets[0], dict):
        raise MonitorInputError("baseline config (analysis_config.json): 'facet' must name the facet column")
    facet = facets[0]
    facet_name = str(facet.get("name_or_index"))
    if facet_name not in features:
        raise MonitorInputError(f"baseline config: facet '{facet_name}' is not one of the headers {features}")
    index = features.index(facet_name)
    label_values = config.get("label_values_or_threshold")
    if not isinstance(label_values, list) or not label_values:
        raise MonitorInputError("baseline config (analysis_config.json): 'label_values_or_threshold' is required")
    matched, labels, orphans = _labelled(rollout, current, records)
    if orphans:
        current.reason = f"{orphans} labels match no captured prediction in the window"
    if _too_few(current, len(matched), guard, "labelled predictions"):
        return None
    threshold = float(config.get("probability_threshold", guard.probability_threshold))
    positive = str(label_values[0])
    negative = "0" if positive != "0" else "1"
    predicted = [positive if score >= threshold else negative for score in _scores(matched)]
    column = [r.features[index] if index < len(r.features) else None for r in matched]
    analysis = bias.post_training_bias(
        labels,
        predicted,
        column,
        label_values_or_threshold=label_values,
        facet_values_or_threshold=facet.get("value_or_threshold"),
        facet_name=facet_name,
        label_name=str(config.get("label", "label")),
    )
    return analysis, bias.check(analysis, baseline)


def _explainability(
    rollout: Rollout, guard: MonitorGuard, current: MonitorRun, records: list[Record]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    import numpy as np

    from rollouts_monitor import attribution

    config = monitor_io.read_json(str(guard.baseline.config), "baseline config (analysis_config.json)")
    baseline = monitor_io.read_json(str(guard.baseline.analysis), "baseline analysis")
    headers = _feature_headers(config)
    shap = (config.get("methods") or {}).get("shap") if isinstance(config.get("methods"), dict) else None
    if not isinstance(shap, dict) or "baseline" not in shap:
        raise MonitorInputError("baseline config (analysis_config.json): 'methods.shap.baseline' is required")
    background_rows = shap["baseline"]
    if isinstance(background_rows, str):
        raise MonitorInputError("methods.shap.baseline as an S3 URI is not read yet: give the rows inline")
    background = np.asarray(background_rows, dtype=float)
    rows = []
    for record in records:
        try:
            values = [float(str(value)) for value in record.features]
        except ValueError:
            continue
        if len(values) == len(headers):
            rows.append(values)
    if _too_few(current, len(rows), guard, "captured numeric rows"):
        return None
    chosen = _rng(current.run_id).sample(rows, min(len(rows), guard.max_model_calls))
    endpoint, variant = rollout.endpoint_name, variant_of(rollout, guard)

    def predict(batch: Any) -> Any:
        return np.asarray(monitor_io.invoke_csv(endpoint, variant, batch.tolist(), SYNTHETIC_PREFIX), dtype=float)

    label = next(iter(((baseline.get("explanations") or {}).get("kernel_shap") or {}).keys()), "label0")
    analysis = attribution.explain(
        predict,
        np.asarray(chosen, dtype=float),
        background,
        headers,
        num_samples=int(shap.get("num_samples", guard.num_samples)),
        max_model_calls=guard.max_model_calls,
        agg_method=str(shap.get("agg_method", "mean_abs")),
        label=str(label),
        seed=_rng(current.run_id).randrange(2**31),
    )
    return analysis, attribution.check(analysis, baseline, threshold=guard.ndcg_threshold)


def failed(rollout_id: str, monitor: str, trigger: str, error: dict[str, Any]) -> dict[str, Any]:
    """The monitor state machine's catch: a step broke where it could not record the run; record it failed."""
    rollout = store.get_rollout(rollout_id)
    guard = guard_of(rollout, monitor)
    end = clock.now()
    start, _ = _window(rollout, guard, end)
    return _failed(rollout, guard, _new_run(rollout, guard, trigger, start, end), _cause(error)).detail()


def _cause(error: dict[str, Any]) -> str:
    """A Step Functions error ({"Error", "Cause"}) as a sentence: a Lambda's cause is its JSON error."""
    cause = str(error.get("Cause", ""))
    try:
        message = _loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError):
        message = cause
    return f"{error.get('Error', 'Error')}: {message}"[:500]


def _loads(text: str) -> Any:
    import json

    return json.loads(text)


# --- finishing a run --------------------------------------------------------------------------------------------


def _failed(rollout: Rollout, guard: MonitorGuard, current: MonitorRun, reason: str) -> MonitorRun:
    current.status = "Failed"
    current.reason = reason
    logger.warning("A monitor run could not judge", extra={"monitor": guard.name, "reason": reason})
    return _finish(rollout, current, None, None)


def _finish(
    rollout: Rollout,
    current: MonitorRun,
    document: tuple[str, dict[str, Any]] | None,
    violations: list[dict[str, Any]] | None,
) -> MonitorRun:
    """Write the run's files, emit its event and put it down the signal path at once (the bus's delivery of the
    same event is then a duplicate), so a breach is pending before the next task of the rollout runs."""
    if document is not None:
        monitor_io.write_json(f"{current.output_s3_uri}/{document[0]}", document[1])
    if violations is not None:
        monitor_io.write_json(f"{current.output_s3_uri}/{VIOLATIONS_FILE}", {"violations": violations})
        current.violations = len(violations)
        current.status = "CompletedWithViolations" if violations else "Completed"
    settings = get_settings()
    bus.put(
        [
            {
                "Source": settings.event_source,
                "DetailType": MONITOR_RUN_EVENT,
                "Detail": _json(current.detail()),
                "EventBusName": settings.event_bus_name,
                "Resources": [],
            }
        ]
    )
    from rollouts.logic.signals import handle_signal, monitor_run_signal

    handle_signal(monitor_run_signal(current.detail(), {}))
    return current


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
