"""Tasks "Await Endpoint", "Await Promotion", "Await Restore" (callback): wait for the endpoint to settle."""

from rollouts.logic.endpoint_wait import await_endpoint
from rollouts.observability import task_handler

lambda_handler = task_handler(await_endpoint)
