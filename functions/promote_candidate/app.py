"""Task "Promote": the candidate takes all the traffic."""

from rollouts.logic.lifecycle import promote_candidate
from rollouts.observability import task_handler

lambda_handler = task_handler(promote_candidate)
