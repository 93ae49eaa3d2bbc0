"""Traffic hooks: Lambda functions a rollout calls at its turns, as CodeDeploy's BeforeAllowTraffic and
AfterAllowTraffic or Argo Rollouts' webhook steps. A hook answers pass or fail; a failure or a timeout rolls back.

No `from __future__ import annotations` (see `rollouts.models.spec`).
"""

from typing import TYPE_CHECKING

from pydantic import Field

from rollouts.errors import InvalidRolloutError
from rollouts.models.base import Strict, duration

# A Lambda function's name (64 characters of letters, digits, - and _) or its ARN, optionally with a version or alias.
FUNCTION_PATTERN = (
    r"^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]+))?$"
)
if TYPE_CHECKING:
    HookTimeout = float
else:
    HookTimeout = duration(1, 900)  # Lambda's own limit on a synchronous invocation's run
MAX_HOOKS = 5


class Hook(Strict):
    """One Lambda function. It gets the rollout's context as its event (`hook`, `rollout_id`, `endpoint_name`,
    `candidate`, `step`, `weights`) and answers `{"status": "pass" | "fail", "message": "..."}`."""

    function: str = Field(pattern=FUNCTION_PATTERN, description="Its name or ARN; the stack allows a name prefix")
    timeout: HookTimeout = Field(default=60.0, description="How long it may take; no answer by then fails it: '1m'")


class Hooks(Strict):
    """Where the rollout calls hooks. Each list runs in order; the first failure stops it and rolls back."""

    before_traffic: list[Hook] = Field(
        default_factory=list,
        max_length=MAX_HOOKS,
        description="After the spec is checked and the endpoint locked, before anything changes or any traffic moves",
    )
    after_step: list[Hook] = Field(
        default_factory=list,
        max_length=MAX_HOOKS,
        description="A canary's: after each step's bake passed its judge, before the next shift or the promotion",
    )
    after_promotion: list[Hook] = Field(
        default_factory=list,
        max_length=MAX_HOOKS,
        description="With the candidate serving all the traffic, before the rollout is final (and the watch, if "
        "any, has passed): a failure puts the old config back",
    )

    def at(self, point: str) -> list[Hook]:
        return list(getattr(self, point))


POINTS = ("before_traffic", "after_step", "after_promotion")


def function_name(function: str) -> str:
    """The function's name, from a name or an ARN (with or without a version or an alias)."""
    if function.startswith("arn:"):
        return function.split(":")[6]
    return function.split(":")[0]


def check_allowed(rollout_hooks: dict[str, list[Hook]], prefix: str) -> None:
    """Every hook names a function the stack may invoke; `InvalidRolloutError` naming the first that does not."""
    for point, listed in rollout_hooks.items():
        for index, hook in enumerate(listed):
            if not function_name(hook.function).startswith(prefix):
                raise InvalidRolloutError(
                    field=f"hooks.{point}.{index}.function",
                    reason=f"'{hook.function}' is not a function the control plane may invoke: its name must start "
                    f"with '{prefix}' (the stack's HookFunctionPrefix)",
                )
