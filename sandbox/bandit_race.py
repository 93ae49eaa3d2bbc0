"""The bandit scenario: models race for conversions on one endpoint; a bandit rollout moves the traffic, promotes.

`make demo SCENARIO=bandit`. The endpoint serves the baseline; the candidates are posted as one bandit rollout
through the API. Simulated users (`sandbox/users.py`) convert at each model's rate and report it minutes later on
the feedback queue; every `update_every` the real Reweight Bandit task turns the feedback into weights. The
terminal shows each reweighting and the promotion; a PNG chart of the weights over simulated time is written.

The numbers (`RACE`) are chosen so that the best arm wins quickly at the demo's time scale: conversion rates of 4, 6
and 12 %, 6 requests a simulated second, a reweighting at least every simulated minute (sooner when the next batch of
feedback has arrived), and a winner that holds P(best) >= 0.95 for 3 updates. What bounds the pace is the feedback:
the bandit's batches (100 requests, doubling up to 500, per update) fix how much it needs, so closer rates (4, 5 and
6.5 %) need several times as many requests and make the demo long. The e2e test (tests/e2e/test_bandit_race.py)
checks that the best arm is promoted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.cloud import LocalCloud
from sandbox.dataplane import DataPlane, ModelBehaviour
from sandbox.scenarios import (
    BANDIT,
    BASELINE_MODEL,
    CANDIDATE_MODEL,
    DEMO_TIME_SCALE,
    ENDPOINT,
    Out,
    ScenarioResult,
    Timeline,
    create_endpoint,
    until_ended,
)
from sandbox.template import ROOT
from sandbox.users import Users

THIRD_MODEL = "churn-xgb-v3"
BASELINE_VARIANT = "v1"  # create_endpoint's variant for the baseline model
CHART_NAME = "bandit-weights.png"
# Simulated seconds the race may take: the rollout ends by its maximum duration (RACE's 40 minutes) or sooner.
LIMIT = 90 * 60.0


@dataclass(frozen=True)
class Arm:
    """One model in the race and how often its users convert."""

    model: str
    conversion_rate: float


@dataclass(frozen=True)
class Race:
    """The race's numbers. The first arm is the baseline, BASELINE_MODEL, which the endpoint serves; the others are
    the candidates (CANDIDATE_MODEL first: `create_endpoint` makes it, and the scenario makes the others)."""

    arms: tuple[Arm, ...]
    requests_per_second: float = 6.0  # simulated
    mean_delay_seconds: float = 90.0  # simulated: from a request to its conversion being reported
    update_every: str = "1m"
    stop_probability: float = 0.95
    stop_after_updates: int = 3
    max_duration: str = "40m"  # then the arm with the highest P(best) wins: a bound on the demo's length
    seed: int = 29

    @property
    def candidates(self) -> tuple[Arm, ...]:
        return self.arms[1:]

    @property
    def best(self) -> Arm:
        return max(self.arms, key=lambda arm: arm.conversion_rate)


RACE = Race(arms=(Arm(BASELINE_MODEL, 0.04), Arm(CANDIDATE_MODEL, 0.06), Arm(THIRD_MODEL, 0.12)))


def variant_of(arm: Arm) -> str:
    """The arm's production variant: the endpoint's for the baseline, the model's name for a candidate."""
    return BASELINE_VARIANT if arm.model == BASELINE_MODEL else arm.model


def spec(race: Race = RACE) -> dict[str, Any]:
    """The bandit rollout the scenario posts: one candidate, the others in `strategy.more_candidates`."""
    candidates = [
        {"model_name": arm.model, "instance_type": "ml.m5.large", "initial_instance_count": 1}
        for arm in race.candidates
    ]
    strategy: dict[str, Any] = {
        "type": "bandit",
        "reward": "conversion",
        "update_every": race.update_every,
        "stop_probability": race.stop_probability,
        "stop_after_updates": race.stop_after_updates,
        "max_duration": race.max_duration,
    }
    if candidates[1:]:
        strategy["more_candidates"] = candidates[1:]
    return {
        "endpoint_name": ENDPOINT,
        "candidate": candidates[0],
        "strategy": strategy,
        "guardrails": {
            "alarm_rules": [
                {"name": "5xx-rate", "metric": "Invocation5XXErrors", "statistic": "Average", "threshold": 0.02}
            ]
        },
    }


def run(
    out: Out = print, time_scale: float | None = DEMO_TIME_SCALE, output_dir: Path | None = None, race: Race = RACE
) -> ScenarioResult:
    """Race the arms on a fresh local cloud; print every decision; write the weights chart into `output_dir`."""
    live = Timeline(out)
    began, timeline, say = live.began, live.lines, live.say

    rates = ", ".join(f"{variant_of(arm)} {100 * arm.conversion_rate:g} %" for arm in race.arms)
    out(f"\n== {BANDIT}: {len(race.arms)} models race for conversions ({rates}); a bandit moves the traffic")
    # No 5XX at all: a single error in a minute of a starved arm's few requests would fire its alarm.
    behaviours = {arm.model: ModelBehaviour(error_rate=0.0, conversion_rate=arm.conversion_rate) for arm in race.arms}
    with LocalCloud(time_scale=time_scale, endpoint_update_seconds=120) as cloud:
        create_endpoint(cloud, tuple(arm.model for arm in race.candidates if arm.model != CANDIDATE_MODEL))
        started = cloud.api("POST", "/rollouts", spec(race))
        if started.status != 201:
            raise RuntimeError(f"the rollout did not start: {started.status} {started.body}")
        rollout_id = started.body["rollout_id"]
        # Users arrive with the rollout, and the simulated clock starts: feedback from before the rollout would
        # count for the baseline once the rollout holds the endpoint's lock, and only slow the race down.
        users = Users(cloud, ENDPOINT, mean_delay_seconds=race.mean_delay_seconds, seed=race.seed)
        plane = DataPlane(
            cloud,
            ENDPOINT,
            behaviours,
            requests_per_second=race.requests_per_second,
            listener=lambda kind, text: say(f"[{kind}] {text}"),
            on_request=users.served,
        )
        live.plane = plane
        plane.start()
        users.start(lambda: plane.sim_time)
        try:
            say(f"POST /rollouts → 201, rollout {rollout_id}: a bandit of {len(race.arms)} arms")
            view, decided_at = _follow(cloud, plane, rollout_id, say, LIMIT)
        finally:  # before the local cloud goes: the threads call it
            users.stop()
            plane.stop()
        endpoint = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    result = _summarise(race, view, endpoint, plane, users, time.monotonic() - began)
    result.endpoint = endpoint
    winner = result.reason.removeprefix("winner:") if result.outcome == "promoted" else None
    result.chart = write_chart(
        (output_dir or ROOT / "demo-output") / CHART_NAME,
        plane.weight_history,
        plane.sim_time,
        race,
        winner,
        decided_at,
    )
    result.summary += f" Weights chart: {_shown(result.chart)}."
    result.timeline = timeline
    for error in users.errors:
        out(f"  [users] error: {error}")
    out("")
    out(result.summary)
    return result


def _follow(
    cloud: LocalCloud, plane: DataPlane, rollout_id: str, say: Out, limit: float
) -> tuple[dict[str, Any], float | None]:
    """Print each new decision until the rollout ends; the last view and when (simulated) the bandit decided."""
    seen = 0
    decided_at: float | None = None

    def look() -> dict[str, Any] | None:
        nonlocal seen, decided_at
        view: dict[str, Any] = cloud.api("GET", f"/rollouts/{rollout_id}").body
        for decision in view["decisions"][seen:]:
            if decision["kind"] == "Bandit Reweighted":
                say(reweighted_line(decision))
            else:
                say(f"{decision['kind']}: {decision['message']}")
            if "winner" in decision.get("evidence", {}) and decided_at is None:
                decided_at = plane.sim_time
        seen = len(view["decisions"])
        return view if view["status"] in ("Promoted", "RolledBack") else None

    return until_ended(cloud, look, BANDIT, limit), decided_at


def reweighted_line(decision: dict[str, Any]) -> str:
    """One line for a "Bandit Reweighted" decision: per arm the traffic it gets now and its P(best)."""
    evidence = decision.get("evidence", {})
    arms = evidence.get("posterior", {}).get("arms", [])
    if not arms:
        return f"{decision['kind']}: {decision['message']}"
    weights = evidence.get("weights", {})
    shares = "  |  ".join(
        f"{arm['variant']} {float(weights.get(arm['variant'], 100 * arm['weight'])):5.1f} %, "
        f"P(best) {arm['probability_best']:.3f}, {arm['count']:>5,.0f} rewards"
        for arm in arms
    )
    return f"Bandit Reweighted #{evidence.get('update', '?')}: {shares}"


def _shown(path: Path) -> str:
    """A path as the person at the terminal would type it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _summarise(
    race: Race, view: dict[str, Any], endpoint: dict[str, Any], plane: DataPlane, users: Users, elapsed: float
) -> ScenarioResult:
    variants = endpoint["ProductionVariants"]
    live = ", ".join(f"{v['VariantName']} {100 * float(v.get('CurrentWeight', 0)):g} %" for v in variants)
    observed = ", ".join(
        f"{variant_of(arm)} {users.converted[variant_of(arm)]:,} of {users.reported[variant_of(arm)]:,}"
        for arm in race.arms
    )
    updates = sum(1 for d in view["decisions"] if d["kind"] == "Bandit Reweighted")
    decided = next((d for d in reversed(view["decisions"]) if "winner" in d.get("evidence", {})), None)
    why = str((decided or {}).get("message", view.get("reason") or "")).removeprefix("Bandit decided: ")
    served = ", ".join(f"{variant} {count:,}" for variant, count in sorted(plane.sent.items()))
    race_text = (
        f"{len(race.arms)} models raced for conversions ("
        + ", ".join(f"{variant_of(arm)} {100 * arm.conversion_rate:g} %" for arm in race.arms)
        + f"); users reported conversions about {race.mean_delay_seconds / 60:g} simulated minutes late."
    )
    if view["status"] == "Promoted":
        winner = str(view.get("winner") or (variants[0]["VariantName"] if len(variants) == 1 else "unknown"))
        outcome, reason = "promoted", f"winner:{winner}"
        story = (
            f"After {updates} reweightings the bandit decided ({why}) and promoted {winner}; endpoint '{ENDPOINT}' "
            f"now runs config '{endpoint['EndpointConfigName']}' with {live}."
        )
    else:
        outcome = "rolled back"
        cause = str(view.get("reason") or "unknown")
        reason = "baseline-kept" if cause.startswith("BaselineKept") else cause.split(":")[0]
        story = (
            f"After {updates} reweightings the rollout ended without a promotion ({cause}); endpoint '{ENDPOINT}' "
            f"is back on config '{endpoint['EndpointConfigName']}' with {live}."
        )
    summary = (
        f"Summary ({BANDIT}): {race_text} {story} Conversions reported: {observed}. Requests served: {served}. "
        f"Took {elapsed:.1f} s."
    )
    return ScenarioResult(BANDIT, outcome, reason, summary, view, None, elapsed)


def write_chart(
    path: Path,
    history: list[tuple[float, dict[str, float]]],
    end: float,
    race: Race,
    winner: str | None,
    decided_at: float | None,
) -> Path:
    """A PNG of each arm's share of the traffic over simulated time, as the endpoint served it; the winner marked.

    Time counts from the first request, when the rollout was posted. matplotlib is imported here, with the Agg
    canvas and no pyplot: only this scenario needs it, and no display.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = history[0][0] if history else 0.0
    figure = Figure(figsize=(9, 4.8), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    times = [(at - start) / 60 for at, _ in history] + [(end - start) / 60]
    for arm in race.arms:
        variant = variant_of(arm)
        shares = [100 * weights.get(variant, 0.0) / (sum(weights.values()) or 1.0) for _, weights in history]
        label = f"{variant} (converts {100 * arm.conversion_rate:g} %)" + (", the winner" if variant == winner else "")
        axes.step(
            times,
            [*shares, shares[-1] if shares else 0.0],
            where="post",
            label=label,
            linewidth=2.8 if variant == winner else 1.4,
        )
    if decided_at is not None:
        decided = (decided_at - start) / 60
        axes.axvline(decided, color="0.35", linestyle="--", linewidth=1)
        axes.annotate(
            f"{winner} wins: promoted" if winner else "the bandit decided",
            xy=(decided, 88),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            color="0.25",
        )
    axes.set_title(f"Bandit rollout on '{ENDPOINT}': traffic per variant, reweighted from delayed feedback")
    axes.set_xlabel("simulated minutes since the rollout started")
    axes.set_ylabel("share of traffic (%)")
    axes.set_ylim(-2, 102)
    axes.set_xlim(0, max(times[-1], 1.0))
    axes.grid(alpha=0.3)
    axes.legend(loc="center right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
