"""Task "Shift Traffic": give the candidate the weight of the step."""

from rollouts.logic.canary import shift_traffic
from rollouts.observability import task_handler

lambda_handler = task_handler(shift_traffic)
