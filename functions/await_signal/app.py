"""Every callback wait (Bake, Await Operator, Await Feedback, Await Next Look, Shadow Bake, Watch After Promotion):
store the task token where a signal can end the wait."""

from rollouts.logic.lifecycle import await_signal
from rollouts.observability import task_handler

lambda_handler = task_handler(await_signal)
