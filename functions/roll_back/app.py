"""Task "Roll Back": the baseline takes all the traffic at once."""

from rollouts.logic.lifecycle import roll_back
from rollouts.observability import task_handler

lambda_handler = task_handler(roll_back)
