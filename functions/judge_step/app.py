"""Task "Judge Step": go on, promote now, or roll back."""

from rollouts.logic.judging import judge_step
from rollouts.observability import task_handler

lambda_handler = task_handler(judge_step)
