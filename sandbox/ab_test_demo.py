"""The A/B scenario: half the users get the candidate; their conversions decide, once the minimum duration is over.

`make demo SCENARIO=ab-test`. The endpoint serves the baseline; the candidate is posted as an A/B test through the
API. The traffic is a population of users who come back (`sandbox/ab_users.py`): each request is sent as the
runbook says ("A/B tests: keeping a user in one group"), through `rollouts.aws.invoke.invoke` with the user's id
and the rollout's id, so `InvokeEndpoint`'s `TargetVariant` keeps each user in one group while the split holds.
A user converts at the rate of the model that served them (10 % and 13 %) and the conversion is reported minutes
later on the feedback queue with the request's inference id and variant (`sandbox/users.py`). Every
`check_every` the real Judge A/B Test task runs the always-valid test on the conversions since the split: before
`min_duration` it only reports; from then on a significant difference promotes the candidate (or keeps the
baseline). At the demo's time scale a simulated minute lasts one second.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.ab_users import StickyDataPlane, Visit
from sandbox.cloud import LocalCloud
from sandbox.dataplane import ModelBehaviour
from sandbox.scenarios import (
    AB_TEST,
    AB_TEST_TITLE,
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    follow_decisions,
)
from sandbox.users import Users

RATES = {BASELINE_MODEL: 0.10, CANDIDATE_MODEL: 0.13}
REQUESTS_PER_SECOND = 8.0  # simulated
MEAN_DELAY_SECONDS = 60.0  # simulated: from a request to its conversion being reported
SEED = 31
POPULATION = 2000  # users, each back about six times before the test ends
# Simulated seconds the test may take: it ends by its maximum duration (2 hours), or sooner.
LIMIT = 3 * 3600.0


@dataclass
class AbTestResult(ScenarioResult):
    """The scenario's result, with who was served by what: per user id, each request's simulated second and variant,
    and the endpoint's weights each time the data plane saw them change (simulated second, {variant: weight})."""

    rollout_id: str = ""
    visits: dict[str, list[Visit]] = field(default_factory=dict)
    weight_history: list[tuple[float, dict[str, float]]] = field(default_factory=list)


def ab_spec() -> dict[str, Any]:
    return {
        "endpoint_name": ENDPOINT,
        "candidate": {"model_name": CANDIDATE_MODEL, "instance_type": "ml.m5.large", "initial_instance_count": 1},
        "strategy": {
            "type": "ab-test",
            "candidate_weight": 50,
            "reward": "conversion",
            "effect_size": 0.01,
            "alpha": 0.05,
            "check_every": "5m",
            "min_duration": "20m",
            "max_duration": "2h",
        },
        "guardrails": {
            "alarm_rules": [
                {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02}
            ]
        },
    }


def run(out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: object = None) -> AbTestResult:
    """Run the A/B test on a fresh local cloud, printing every look."""
    del output_dir  # writes no files
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say
    out(f"\n== {AB_TEST}: {AB_TEST_TITLE}")
    behaviours = {model: ModelBehaviour(error_rate=0.0, conversion_rate=rate) for model, rate in RATES.items()}
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_endpoint(cloud)
        started = cloud.api("POST", "/rollouts", ab_spec())
        if started.status != 201:
            raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
        rollout_id = started.body["rollout_id"]
        users = Users(cloud, ENDPOINT, mean_delay_seconds=MEAN_DELAY_SECONDS, seed=SEED)
        plane = StickyDataPlane(
            cloud,
            ENDPOINT,
            behaviours,
            users,
            rollout_id,
            population=POPULATION,
            requests_per_second=REQUESTS_PER_SECOND,
            listener=lambda kind, text: say(f"[{kind}] {text}"),
        )
        live.plane = plane
        plane.start()
        users.start(lambda: plane.sim_time)
        try:
            say(
                f"POST /rollouts → 201, rollout {rollout_id}: an A/B test, 50 % of the traffic for the candidate; "
                f"{POPULATION:,} users, each kept on one variant by the assignment helper"
            )
            view = follow_decisions(cloud, rollout_id, say, AB_TEST, LIMIT)
        finally:  # before the local cloud goes: the threads call it
            users.stop()
            plane.stop()
        endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    result = _summarise(view, endpoint, users, plane, time.monotonic() - began)
    result.timeline = timeline
    for error in users.errors:
        out(f"  [users] error: {error}")
    if plane.refused:
        out(f"  [users] {plane.refused:,} requests refused by SageMaker")
    out("")
    out(result.summary)
    return result


def _summarise(
    view: dict[str, Any], endpoint: dict[str, Any], users: Users, plane: StickyDataPlane, elapsed: float
) -> AbTestResult:
    variants = ", ".join(
        f"{v['VariantName']} {100 * float(v.get('CurrentWeight', 0)):g} %" for v in endpoint["ProductionVariants"]
    )
    observed = ", ".join(
        f"{variant} {users.converted[variant]:,} of {users.reported[variant]:,}" for variant in sorted(users.reported)
    )
    looks = [d for d in view["decisions"] if d["kind"] == "A/B Test Judged"]
    last = looks[-1] if looks else {"message": "no look", "evidence": {}}
    if view["status"] == "Promoted":
        outcome, reason = "promoted", f"winner:{view.get('winner') or CANDIDATE_MODEL}"
        story = f"after {len(looks)} looks the test named the candidate better and promoted it"
    else:
        cause = str(view.get("reason") or "unknown")
        outcome = "rolled back"
        reason = {"BaselineKept": "baseline-kept", "Inconclusive": "inconclusive"}.get(cause.split(":")[0], cause)
        story = f"after {len(looks)} looks the test ended without a promotion ({cause})"
    summary = (
        f"Summary ({AB_TEST}): {story}. Last look: {last['message']}. Endpoint '{ENDPOINT}' runs config "
        f"'{endpoint['EndpointConfigName']}' with {variants}. Conversions reported: {observed}. "
        f"{_groups(plane)} Took {elapsed:.1f} s."
    )
    return AbTestResult(
        AB_TEST,
        outcome,
        reason,
        summary,
        view,
        None,
        elapsed,
        rollout_id=plane.rollout_id,
        visits=dict(plane.visits),
        weight_history=list(plane.weight_history),
    )


def _groups(plane: StickyDataPlane) -> str:
    """The users' groups while the split held: how many users each variant served, and how many met both."""
    history = plane.weight_history
    split = next((i for i, (_, weights) in enumerate(history) if sum(w > 0 for w in weights.values()) > 1), None)
    if split is None:
        return "The traffic was never split."
    began = history[split][0]
    ended = history[split + 1][0] if split + 1 < len(history) else plane.sim_time
    served = [{variant for at, variant in visits if began <= at < ended} for visits in plane.visits.values()]
    sizes = Counter(next(iter(variants)) for variants in served if len(variants) == 1)
    both = sum(len(variants) > 1 for variants in served)
    per_variant = ", ".join(f"{variant} {count:,}" for variant, count in sorted(sizes.items()))
    return f"Users while the split held: {per_variant}; users served by both: {both:,}."
