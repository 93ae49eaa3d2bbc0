"""Tasks "Finalize Config" and "Restore Config": move the endpoint to its final or its original config."""

from rollouts.logic.lifecycle import apply_endpoint_config
from rollouts.observability import task_handler

lambda_handler = task_handler(apply_endpoint_config)
