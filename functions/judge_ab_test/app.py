"""Task "Judge A/B Test": split the traffic, then judge the feedback at each look; wait, promote, keep or stop."""

from rollouts.logic.abtest import judge_ab_test
from rollouts.observability import task_handler

lambda_handler = task_handler(judge_ab_test)
