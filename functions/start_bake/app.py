"""Task "Bake" (callback): store the task token where a signal can end the wait."""

from rollouts.logic.lifecycle import start_bake
from rollouts.observability import task_handler

lambda_handler = task_handler(start_bake)
