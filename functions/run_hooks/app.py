"""Tasks "Before Traffic Hooks", "After Step Hooks" and "After Promotion Hooks": the spec's traffic hooks."""

from rollouts.logic.hooks import run_hooks
from rollouts.observability import task_handler

lambda_handler = task_handler(run_hooks)
