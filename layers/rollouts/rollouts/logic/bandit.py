"""Reweight Bandit: the bandit strategy's task. Feedback totals in, endpoint weights and a decision out.

Each call takes what arrived since the last update as a batch (the rollout's per-arm feedback totals minus those
already counted), runs `rollouts.bandit.update` (discounting and the change detector), sets the weights to
P(best) mixed with information-directed sampling and advances the stopping rule. A batch smaller than the schedule's
next batch waits for the next call. The floor, cap, discount, change detector's threshold and batch schedule are the
spec's (`design_of`), whose fields default to the benchmark's constants.
"""

from __future__ import annotations

from typing import Any

from rollouts import clock
from rollouts.aws import endpoints, store, workflows
from rollouts.aws.feedback import ArmTotals, Snapshot, rollout_totals, since, snapshot
from rollouts.bandit.drift import update as update_arms
from rollouts.bandit.models import ArmStatistics, BanditDesign, RewardKind, Streak
from rollouts.bandit.schedule import advance_streak, batch_size
from rollouts.bandit.schedule import winner as stopping_winner
from rollouts.bandit.weights import summarize
from rollouts.judge.outcome import Outcome
from rollouts.logic.decisions import record
from rollouts.logic.lifecycle import next_wait
from rollouts.logic.operator_pause import held
from rollouts.logic.pending import take_commands
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.observability import logger
from rollouts.strategies.bandit import BanditState, BanditStrategy
from rollouts.strategies.base import without_variants


def design_of(strategy: BanditStrategy, arms: int | None = None) -> BanditDesign:
    """The design the spec tunes (its fields default to `rollouts.bandit.models`' constants, the benchmark's).

    With the number of `arms` in play: when guardrails removed arms, a cap the rest could not fill (cap x arms < 1)
    rises to 1 / arms, so that they share the traffic equally rather than the update failing.
    """
    cap = strategy.cap if not arms or strategy.cap * arms >= 1 else 1 / arms
    return BanditDesign(
        reward_kind=RewardKind(strategy.reward),
        information_share=strategy.information_share,
        floor=strategy.floor,
        cap=cap,
        discount=strategy.discount,
        change_threshold=strategy.change_threshold,
        initial_batch=strategy.initial_batch,
        batch_growth=strategy.batch_growth,
        maximum_batch=strategy.maximum_batch,
        stop_probability=strategy.stop_probability,
        stop_updates=strategy.stop_after_updates,
    )


def _finite(z: float | None) -> float | None:
    """A z for the decision's JSON: rounded, and infinite (real rewards without spread) as a large number."""
    return None if z is None else round(max(-1e9, min(1e9, z)), 3)


def _z(z: float | None) -> str:
    return "?" if z is None else f"{z:+.1f}"


def _arms(rollout: Rollout) -> list[str]:
    """The arms still in play: the baseline and every candidate not removed by a guardrail."""
    removed = rollout.removed_variants
    return [rollout.baseline_variant or "", *(v for v in rollout.candidate_variants if v not in removed)]


def _plan(rollout: Rollout, then: str, wait_seconds: int = 0, winner: str | None = None) -> dict[str, Any]:
    return {
        "endpoint_name": rollout.endpoint_name,
        "next": then,
        "wait_seconds": wait_seconds,
        "winner": winner,
        "execution_name": None,
    }


def _batch(arms: list[str], totals: dict[str, ArmTotals], seen: Snapshot) -> list[ArmStatistics]:
    """What each arm got since the last update: its feedback totals now minus those the last update counted."""
    batch = []
    for variant in arms:
        count, reward_sum, reward_sq = since(totals, seen, variant)
        batch.append(
            ArmStatistics(variant=variant, count=count, reward_sum=reward_sum, reward_sum_of_squares=reward_sq)
        )
    return batch


def wake_when_due(rollout_id: str) -> bool:
    """Start a bandit's next update now if its next batch of feedback has arrived (called by the ingestion).

    Due means: the rollout waits for feedback, `min_update_interval` has passed since the last update, and the
    feedback counted since then reaches the schedule's next batch. The wait's token is taken in a conditional
    write, so a guardrail's signal that takes it at the same moment wins, and the wait ends once.
    """
    rollout = store.get_rollout(rollout_id)
    strategy = rollout.strategy_as(BanditStrategy)
    state = rollout.bandit
    if rollout.status != RolloutStatus.PROGRESSING or not rollout.task_token or state.updated_at is None:
        return False
    since = (clock.now() - state.updated_at).total_seconds()
    if since < strategy.min_update_interval:
        return False
    arms = _arms(rollout)
    arrived = sum(arm.count for arm in _batch(arms, rollout_totals(rollout_id), state.seen))
    if arrived < batch_size(state.updates - 1, design_of(strategy, len(arms))):
        return False
    token = rollout.task_token
    taken: list[bool] = []

    def take(r: Rollout) -> Rollout | None:
        taken[:] = [r.task_token == token]
        return r.model_copy(update={"task_token": None}) if taken[0] else None

    store.update_rollout(rollout_id, take)
    if not taken[0]:
        return False
    logger.info("Feedback for the next batch arrived: updating now", extra={"feedback": arrived, "since": since})
    return workflows.succeed_task(token, {"command": "feedback"})


def _operator_promote(rollout: Rollout, arms: list[str]) -> dict[str, Any]:
    """An operator's promote: the candidate in play with the most traffic now, the bandit's favourite, wins."""
    favourite = max(arms[1:], key=lambda variant: rollout.weights.get(variant, 0.0))
    rollout = store.update_rollout(rollout.rollout_id, lambda r: r.model_copy(update={"winner": favourite}))
    record(
        rollout,
        DecisionKind.STEP_JUDGED,
        f"An operator asked to promote now: candidate '{favourite}' has the most traffic of the candidates",
        {
            "winner": favourite,
            "weights": rollout.weights,
            "outcome": Outcome.SUCCESSFUL.value,
            "rule": "operator promote",
        },
        "bandit-promote",
    )
    return _plan(rollout, "promote", winner=favourite)


def reweight(rollout_id: str, bake: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reweight Bandit: go on waiting (`wait`), promote the winning candidate (`promote`) or keep the baseline."""
    rollout, commands = take_commands(rollout_id, bake)
    strategy = rollout.strategy_as(BanditStrategy)
    arms = _arms(rollout)
    design = design_of(strategy, len(arms))
    rollout, pause = held(rollout, commands, lambda then, wait: _plan(rollout, then, wait), "updates")
    if pause is not None:
        return pause
    if "promote" in commands:
        return _operator_promote(rollout, arms)

    state = rollout.bandit
    now = clock.now()
    started = state.started_at or now
    index = state.updates
    known = {arm.variant: arm for arm in state.arms}
    history = [known.get(variant) or ArmStatistics(variant=variant) for variant in arms]
    totals = rollout_totals(rollout_id)
    # Feedback counted before the candidates had traffic (the baseline's, while the config changed, or from requests
    # served before the rollout) says nothing about the candidates: the first weights are equal.
    batch = _batch(arms, totals, state.seen) if index else [ArmStatistics(variant=variant) for variant in arms]
    new_requests = sum(arm.count for arm in batch)
    expired = (now - started).total_seconds() >= strategy.max_duration
    if index > 0 and new_requests < batch_size(index - 1, design) and not expired:
        return next_wait(rollout, _plan(rollout, "wait", int(strategy.update_every)))

    updated = update_arms(history, batch, design) if index > 0 else None
    statistics = list(updated.arms) if updated else history
    summary = summarize(statistics, design)
    streak = advance_streak(
        state.streak if not (updated and updated.reset) else Streak(),
        summary.probabilities_best,
        design.stop_probability,
    )
    weights = {variant: round(100.0 * weight, 4) for variant, weight in summary.weights.items()}
    state = BanditState(
        started_at=started,
        updated_at=now,
        updates=index + 1,
        arms=statistics,
        seen=snapshot(totals, arms),
        streak=streak,
    )

    def change(r: Rollout) -> Rollout:
        # An arm removed by a signal since this update read the rollout stays removed.
        return r.model_copy(
            update={
                "bandit": state,
                "weights": without_variants(weights, r.removed_variants, r.baseline_variant or ""),
                "status": RolloutStatus.PROGRESSING,
                "started_at": r.started_at or now,
            }
        )

    rollout = store.update_rollout(rollout_id, change)
    weights = rollout.weights
    endpoints.set_weights(rollout.endpoint_name, weights)
    shares = ", ".join(
        f"{arm.variant} {arm.weight:.0%} (P(best) {arm.probability_best:.3f}, {arm.count:g} rewards)"
        for arm in summary.arms
    )
    tests = list(updated.tests) if updated else []
    resets = "".join(
        f"; the change detector reset {test.variant}: its latest batch is {_z(test.z)} sd from its history "
        f"(threshold {design.change_threshold:g}), which is forgotten"
        for test in tests
        if test.changed
    )
    record(
        rollout,
        DecisionKind.BANDIT_REWEIGHTED,
        f"Update {index + 1}: {shares}{resets}",
        {
            "update": index + 1,
            "weights": weights,
            "posterior": summary.model_dump(mode="json"),
            "reset": list(updated.reset) if updated else [],
            # Each arm's change test: z of its latest batch against its history; `changed` at |z| >= the threshold.
            "change_tests": [
                {"variant": test.variant, "tested": test.tested, "z": _finite(test.z), "changed": test.changed}
                for test in tests
            ],
            "change_threshold": design.change_threshold,
            "streak": streak.model_dump(),
        },
        f"bandit-update-{index + 1}",
    )
    if strategy.mode == "continuous":
        return next_wait(rollout, _plan(rollout, "wait", int(strategy.update_every)))
    chosen = stopping_winner(streak, design)
    if chosen is None and expired:
        chosen = summary.leader
    if chosen is None:
        return next_wait(rollout, _plan(rollout, "wait", int(strategy.update_every)))
    why = (
        f"{chosen} held P(best) >= {design.stop_probability:g} for {design.stop_updates} updates"
        if not expired
        else f"the bandit ran its {strategy.max_duration:g} s; {chosen} has the highest P(best)"
    )
    if chosen != rollout.baseline_variant:
        rollout = store.update_rollout(rollout_id, lambda r: r.model_copy(update={"winner": chosen}))
    record(
        rollout,
        DecisionKind.STEP_JUDGED,
        f"Bandit decided: {why}",
        {
            "winner": chosen,
            "probabilities_best": summary.probabilities_best,
            # The candidates' outcome: one of them won, or the baseline stays.
            "outcome": (Outcome.FAILED if chosen == rollout.baseline_variant else Outcome.SUCCESSFUL).value,
        },
        "bandit-decided",
    )
    return _plan(rollout, "keep" if chosen == rollout.baseline_variant else "promote", winner=chosen)
