"""Task "Check Deployment": did SageMaker's blue/green deployment land, or did it roll back (maybe silently)?"""

from rollouts.logic.bluegreen import check_deployment
from rollouts.observability import task_handler

lambda_handler = task_handler(check_deployment)
