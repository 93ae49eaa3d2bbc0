"""The control plane's own monitor (`rollouts.logic.monitor_runs`), the only function with the monitor layer.

Its events: the one-minute schedule (start the runs that are due), a bake's end in every strategy ("Run Monitors":
run them all now), and the monitor state machine's steps (plan a run, a Distributed Map child's partial profile,
the merge).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors
from rollouts.logic import monitor_runs
from rollouts.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="rollout_id", clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    with aws_errors():
        if event.get("detail-type") == "Scheduled Event":
            return {"started": monitor_runs.start_due()}
        mode = event.get("mode")
        if mode == "end_of_bake":
            return {"runs": monitor_runs.end_of_bake(event["rollout_id"])}
        if mode == "plan":
            return monitor_runs.plan(event["rollout_id"], event["monitor"], event.get("trigger", "scheduled"))
        if mode == "partial":
            return monitor_runs.partial(event["run"], event["objects"])
        if mode == "merge":
            return monitor_runs.merge(event["run"], event["partials"], event.get("error"))
        if mode == "failed":
            return monitor_runs.failed(event["rollout_id"], event["monitor"], event["trigger"], event["error"])
        raise ValueError(f"unknown monitor event: mode {mode!r}")
