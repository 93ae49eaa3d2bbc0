"""Judge A/B Test: split the traffic once, then at every look judge the feedback; wait, promote, keep or stop."""

from __future__ import annotations

from typing import Any

from rollouts import clock
from rollouts.aws import endpoints, store
from rollouts.aws.feedback import ArmTotals, Snapshot, rollout_totals, since, snapshot
from rollouts.judge.ab import AbDesign, judge_ab
from rollouts.judge.means import MeanStats
from rollouts.judge.outcome import AbVerdict, Outcome
from rollouts.logic.decisions import record
from rollouts.logic.lifecycle import next_wait
from rollouts.logic.operator_pause import held
from rollouts.logic.pending import take_commands
from rollouts.models.base import format_duration
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.strategies.ab_test import AbTestState, AbTestStrategy


def _plan(rollout: Rollout, then: str, wait_seconds: float = 0, winner: str | None = None) -> dict[str, Any]:
    # A wait shorter than a second would be a busy loop; Step Functions counts timeouts in whole seconds.
    return {
        "endpoint_name": rollout.endpoint_name,
        "next": then,
        "wait_seconds": max(1, int(wait_seconds)),
        "winner": winner,
        "execution_name": None,
    }


def _since_split(totals: dict[str, ArmTotals], seen: Snapshot, variant: str) -> MeanStats:
    """An arm's rewards since the split: its totals now minus those counted when the traffic was split."""
    count, reward_sum, reward_sq = since(totals, seen, variant)
    return MeanStats(count=int(count), total=reward_sum, total_sq=reward_sq)


def _split(rollout: Rollout, strategy: AbTestStrategy) -> dict[str, Any]:
    """The first call: the candidate gets its share; feedback counted before now belongs to no group."""
    baseline, candidate = rollout.baseline_variant or "", rollout.candidate_variant
    weights = {baseline: round(100.0 - strategy.candidate_weight, 4), candidate: strategy.candidate_weight}
    now = clock.now()
    state = AbTestState(started_at=now, seen=snapshot(rollout_totals(rollout.rollout_id), [baseline, candidate]))
    rollout = store.update_rollout(
        rollout.rollout_id,
        lambda r: r.model_copy(
            update={
                "ab_test": state,
                "weights": weights,
                "status": RolloutStatus.PROGRESSING,
                "started_at": r.started_at or now,
            }
        ),
    )
    endpoints.set_weights(rollout.endpoint_name, weights)
    record(
        rollout,
        DecisionKind.TRAFFIC_SHIFTED,
        f"A/B test started: candidate '{candidate}' at {strategy.candidate_weight:g} %, baseline '{baseline}' at "
        f"{weights[baseline]:g} %; a look every {format_duration(strategy.check_every)}, a decision from "
        f"{format_duration(strategy.min_duration)} on, inconclusive after {format_duration(strategy.max_duration)}",
        {"weights": weights, "check_every": strategy.check_every, "min_duration": strategy.min_duration},
        dedup_key="ab-split",
    )
    return _plan(rollout, "wait", min(strategy.check_every, strategy.max_duration))


def _operator_promote(rollout: Rollout) -> dict[str, Any]:
    candidate = rollout.candidate_variant
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"winner": candidate}))
    record(
        rollout,
        DecisionKind.AB_TEST_JUDGED,
        f"An operator asked to promote now: candidate '{candidate}' is promoted without the test's verdict",
        {"winner": candidate, "command": "promote", "outcome": Outcome.SUCCESSFUL.value, "rule": "operator promote"},
        "ab-promote",
    )
    return _plan(rollout, "promote", winner=candidate)


def _next(verdict: AbVerdict, elapsed: float, strategy: AbTestStrategy) -> tuple[str, str]:
    """What the look means: (next, why)."""
    if elapsed < strategy.min_duration:
        early = " (it would have decided)" if verdict.decided else ""
        return "wait", f"no decision before the minimum duration of {format_duration(strategy.min_duration)}{early}"
    if verdict.winner == "candidate":
        return "promote", "the candidate is better"
    if verdict.winner == "baseline":
        return "keep", "the baseline is better"
    if elapsed >= strategy.max_duration:
        return "inconclusive", f"no winner at the maximum duration of {format_duration(strategy.max_duration)}"
    return "wait", "no winner yet"


def judge_ab_test(rollout_id: str, bake: dict[str, Any] | None = None) -> dict[str, Any]:
    """Judge A/B Test: go on waiting (`wait`), promote the candidate, keep the baseline, or stop (`inconclusive`)."""
    rollout, commands = take_commands(rollout_id, bake)
    strategy = rollout.strategy_as(AbTestStrategy)
    rollout, pause = held(rollout, commands, lambda then, wait: _plan(rollout, then, wait), "looks")
    if pause is not None:
        return pause
    if "promote" in commands:
        return _operator_promote(rollout)
    state = rollout.ab_test
    if state.started_at is None:
        return _split(rollout, strategy)

    now = clock.now()
    elapsed = (now - state.started_at).total_seconds()
    baseline, candidate = rollout.baseline_variant or "", rollout.candidate_variant
    totals = rollout_totals(rollout_id)
    seen = state.seen
    verdict = judge_ab(
        AbDesign(
            alpha=strategy.alpha, effect_size=strategy.effect_size, minimum_samples_per_arm=strategy.minimum_samples
        ),
        _since_split(totals, seen, baseline),
        _since_split(totals, seen, candidate),
        previous_p_value=state.verdict.running_p_value if state.verdict else 1.0,
    )
    then, why = _next(verdict, elapsed, strategy)
    look = state.looks + 1
    state = state.model_copy(update={"looks": look, "last_look_at": now, "verdict": verdict})
    winner = {"promote": candidate, "keep": baseline}.get(then)
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(update={"ab_test": state, **({"winner": winner} if then == "promote" else {})}),
    )
    record(
        rollout,
        DecisionKind.AB_TEST_JUDGED,
        f"Look {look} after {format_duration(elapsed)}: {verdict.reason}; {why}",
        # The verdict's own `winner` says which side; the evidence names the variant.
        {**verdict.model_dump(mode="json"), "look": look, "elapsed_seconds": elapsed, "next": then, "winner": winner},
        f"ab-look-{look}",
    )
    if then != "wait":
        return _plan(rollout, then, winner=winner)
    until_min = strategy.min_duration - elapsed
    until_max = strategy.max_duration - elapsed
    # Look exactly when the minimum duration ends, and when the maximum does.
    wait = min(strategy.check_every, until_max, *([until_min] if until_min > 0 else []))
    return next_wait(rollout, _plan(rollout, "wait", wait))
