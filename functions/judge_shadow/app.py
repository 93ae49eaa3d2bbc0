"""Task "Judge Shadow": start the shadowing, then compare the challenger with production; promote or remove it."""

from rollouts.logic.shadow import judge_shadow
from rollouts.observability import task_handler

lambda_handler = task_handler(judge_shadow)
