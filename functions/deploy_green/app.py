"""Task "Deploy Green": the candidate's config under the baseline's variant name; UpdateEndpoint blue/green."""

from rollouts.logic.bluegreen import deploy_green
from rollouts.observability import task_handler

lambda_handler = task_handler(deploy_green)
