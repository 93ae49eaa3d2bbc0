"""What a strategy is: its spec model with the answers the shared lifecycle asks of it; pure code.

Each strategy is one module of this package whose spec model subclasses `StrategySpec` and so meets `Strategy`.
The spec's `type` names it everywhere: in the spec's discriminated union (`rollouts.strategies.STRATEGIES`, the
registry), and in its state machine's name, `<stack>-<type>` (template.yaml), which the API starts.

A strategy answers questions; it does not act. What needs AWS (updating the endpoint, reading metrics) is done by
the use cases in `rollouts.logic`: the shared lifecycle (`logic/lifecycle.py`) asks the strategy what to build and
what a breach means, and a strategy's own state-machine tasks (`logic/<strategy>.py`) call its pure planner. The
checks before any change read the endpoint through `Preflight`, which logic supplies.

No `from __future__ import annotations`: the spec models are pydantic models (see `rollouts.models.base`).
"""

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import ConfigDict

from rollouts.models.base import MAX_BAKE_SECONDS, Candidate, Strict, duration

if TYPE_CHECKING:
    WatchSeconds = float
else:
    # 0 is no watch; a wait under a second would be sent to Step Functions as 0.
    WatchSeconds = duration(0, MAX_BAKE_SECONDS, zero=True)

# Every state machine's top-level TimeoutSeconds (statemachines/build.py writes it): an execution that runs longer
# ends TIMED_OUT, and the watchdog (rule ExecutionEnded) rolls the rollout back in a recovery execution.
EXECUTION_TIMEOUT_SECONDS = 30 * 86400
# What a strategy's plan may take in one execution; the rest of the timeout is for the lifecycle around it: the
# endpoint's first update, the promotion (a blue/green deployment waits up to 12 h), a restore and the week a
# rollback that could not be verified waits for an operator (statemachines/src/shared/rollback.json).
LONGEST_RUN_SECONDS = 21 * 86400
# The longest wait for one endpoint update (`rollouts.logic.endpoint_wait`): an update not settled by then failed.
ENDPOINT_UPDATE_SECONDS = 7200
# A strategy that loops (an A/B test's looks, a bandit's updates) continues as a new execution after this long in
# one, or after `Settings.loops_per_execution` waits, whichever comes first (`rollouts.logic.lifecycle.next_wait`).
CONTINUE_AFTER_SECONDS = 7 * 86400


class Preflight(Protocol):
    """What a strategy checks before anything changes: the spec's candidate and guardrails beside the endpoint as it
    is now. The AWS lookups run only when a strategy asks for them."""

    endpoint_name: str
    baseline_variant: str
    variants: list[str]
    instance_types: list[str]
    candidate: Candidate
    alarms: list[str]
    alarm_rules: int
    # The inference component's copies when the rollout updates one (`inference_component_name`), else None.
    copy_count: int | None

    def candidate_model(self) -> dict[str, Any]:
        """DescribeModel of the candidate's model ({} if it is gone)."""
        ...


class BlueGreenDeployment(Protocol):
    """The part of a blue/green or rolling spec that an `UpdateEndpoint` deployment with guardrails needs."""

    @property
    def traffic_routing(self) -> str: ...

    @property
    def wait_interval(self) -> float: ...

    @property
    def termination_wait(self) -> float: ...

    @property
    def watch_after_promotion(self) -> float: ...

    def deployment_config(self, alarms: list[str]) -> dict[str, object]: ...

    def describe_deployment(self) -> str:
        """How SageMaker deploys, for the decision log: 'blue/green, canary, 300 s bakes, ...'."""
        ...

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]: ...


@runtime_checkable
class Strategy(Protocol):
    """The answers the shared lifecycle needs from a strategy, each replacing a branch on the strategy's type."""

    @property
    def type(self) -> str:
        """The spec's discriminator: the strategy's name in specs, in the registry and in its state machine's name."""
        ...

    title: ClassVar[str]
    replaces_baseline: ClassVar[bool]
    # Whether it can replace the model of an inference component (the spec's `inference_component_name`).
    updates_components: ClassVar[bool]
    wakes_on_feedback: ClassVar[bool]
    data_capture_needed: ClassVar[str | None]
    # Whether an operator may pause it (hold the weights until resume, promote or abort).
    pausable: ClassVar[bool]

    def summary(self) -> str:
        """The plan, as the "Rollout Started" decision states it."""
        ...

    def step_count(self) -> int | None:
        """How many traffic steps the plan has; None when it runs until a verdict, not through planned steps."""
        ...

    def planned_steps(self) -> list[tuple[float, int]]:
        """(candidate's percent, bake in seconds) of each planned step, in order; empty without planned steps."""
        ...

    def more_candidates_of(self) -> list[Candidate]:
        """Candidates beside the spec's `candidate` (a bandit's further arms)."""
        ...

    def check(self, preflight: Preflight) -> None:
        """Refuse what SageMaker would refuse or silently do otherwise (InvalidRolloutError), before any change."""
        ...

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The production and shadow variants of the config that brings the candidates in, from the endpoint's
        production variants as they are (without their current weights)."""
        ...

    def describe_variants(self, baseline: str, candidates: list[Candidate]) -> str:
        """What that config does, for the "Variants Prepared" decision."""
        ...

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        """The longest the strategy's plan can take in one execution, in seconds, endpoint updates included, given
        the guardrails' extra bakes and the pause an inconclusive step may wait (0 when it does not pause).
        Validation refuses a spec whose longest run passes `LONGEST_RUN_SECONDS`."""
        ...

    def removes_arm_on_breach(self) -> bool:
        """Whether an alarm on one candidate's variant takes that candidate out, the others going on, rather than
        rolling the whole rollout back."""
        ...

    def blue_green_deployment(self) -> BlueGreenDeployment | None:
        """The blue/green deployment SageMaker runs for this strategy, if any: SageMaker then owns the traffic and
        rolls back by itself, so a breach trips the rollout's abort switch."""
        ...

    def promotion_watch_seconds(self) -> float:
        """How long the guardrails stay armed once the candidate serves alone (the promotion's watch); 0 for none.
        A blue/green deployment's watch is its own (`blue_green_deployment().watch_after_promotion`)."""
        ...


def candidate_variant(candidate: Candidate, weight: float) -> dict[str, Any]:
    """A candidate as a production variant of a new endpoint config."""
    return {
        "VariantName": candidate.resolved_variant_name,
        "ModelName": candidate.model_name,
        "InstanceType": candidate.instance_type,
        "InitialInstanceCount": candidate.initial_instance_count,
        "InitialVariantWeight": weight,
    }


def _type_is_required(schema: dict[str, Any]) -> None:
    """`type` picks the strategy (the spec's discriminator): a request must name it, as OpenAPI requires of a
    discriminator's property, although a model built in code defaults it."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class StrategySpec(Strict):
    """The base of every strategy's spec model: the answers of a strategy that moves traffic by variant weights,
    which each strategy overrides where it differs."""

    model_config = ConfigDict(json_schema_extra=_type_is_required)

    type: str
    title: ClassVar[str]
    replaces_baseline: ClassVar[bool] = False
    updates_components: ClassVar[bool] = False
    wakes_on_feedback: ClassVar[bool] = False
    data_capture_needed: ClassVar[str | None] = None
    pausable: ClassVar[bool] = False
    # Why an operator's pause is refused, when the strategy cannot hold its weights.
    pause_refusal: ClassVar[str] = "it cannot hold its weights for an operator"

    def summary(self) -> str:
        return self.title

    def step_count(self) -> int | None:
        return None

    def planned_steps(self) -> list[tuple[float, int]]:
        return []

    def more_candidates_of(self) -> list[Candidate]:
        return []

    def check(self, preflight: Preflight) -> None:
        return None

    def new_variants(
        self, production: list[dict[str, Any]], baseline: str, candidates: list[Candidate]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The baseline alone at weight 1 and every candidate at 0: the strategy's own task moves the weights."""
        kept = next(variant for variant in production if variant["VariantName"] == baseline)
        return [{**kept, "InitialVariantWeight": 1.0}, *(candidate_variant(c, 0.0) for c in candidates)], []

    def describe_variants(self, baseline: str, candidates: list[Candidate]) -> str:
        return (
            f"baseline '{baseline}' at 100 %, "
            + ", ".join(f"candidate '{candidate.resolved_variant_name}'" for candidate in candidates)
            + " at 0 %"
        )

    def longest_run(self, extra_bakes: int, pause_seconds: float) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not say how long it can run")

    def removes_arm_on_breach(self) -> bool:
        return False

    def blue_green_deployment(self) -> BlueGreenDeployment | None:
        return None

    def promotion_watch_seconds(self) -> float:
        return 0.0


def without_variants(weights: dict[str, float], removed: list[str], baseline: str) -> dict[str, float]:
    """The weights with every removed variant at 0 and the rest scaled back to 100 % (all to the baseline if no
    weight is left)."""
    kept = {variant: weight for variant, weight in weights.items() if variant not in removed}
    total = sum(kept.values())
    if total <= 0:
        kept = {baseline: 100.0}
        total = 100.0
    scaled = {variant: round(100.0 * weight / total, 4) for variant, weight in kept.items()}
    return {**scaled, **dict.fromkeys(removed, 0.0)}
