"""Rule NotifyDecisions: the decisions that matter to people, as readable messages on the notifications topic
(`rollouts.logic.notifications`)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from rollouts.aws.clients import aws_errors
from rollouts.logic.notifications import notify
from rollouts.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with aws_errors():
        return notify(event)
