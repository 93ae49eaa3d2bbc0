"""Task "Reweight Bandit": weights from the feedback so far; wait, promote the candidate, or keep the baseline."""

from rollouts.logic.bandit import reweight
from rollouts.observability import task_handler

lambda_handler = task_handler(reweight)
