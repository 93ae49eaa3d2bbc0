"""Task "Validate And Lock": check the spec against the endpoint and hold the endpoint's lock."""

from rollouts.logic.lifecycle import lock_rollout
from rollouts.observability import task_handler

lambda_handler = task_handler(lock_rollout)
