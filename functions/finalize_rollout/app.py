"""Tasks "Finalize Promotion" and "Finalize Rollback": clean up, release the lock, publish the outcome."""

from rollouts.logic.lifecycle import finalize_rollout
from rollouts.observability import task_handler

lambda_handler = task_handler(finalize_rollout)
