"""Reweight Bandit: the bandit strategy's task. Feedback totals in, endpoint weights and a decision out.

Each call takes what arrived since the last update as a batch (the rollout's per-arm feedback totals minus those
already counted), runs `rollouts.bandit.update` (discounting and the change detector), sets the weights to
P(best) and advances the stopping rule. A batch smaller than the schedule's next batch waits for the next call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rollouts import clock
from rollouts.aws import endpoints, store
from rollouts.aws.feedback import rollout_totals
from rollouts.bandit import ArmStatistics, BanditDesign, RewardKind, Streak, advance_streak, batch_size, summarize
from rollouts.bandit import update as update_arms
from rollouts.bandit import winner as stopping_winner
from rollouts.errors import InvalidRolloutError
from rollouts.logic.decisions import record
from rollouts.logic.pending import raise_pending, take_pending
from rollouts.models.rollout import DecisionKind, Rollout, RolloutStatus
from rollouts.models.spec import BanditStrategy


def _strategy(rollout: Rollout) -> BanditStrategy:
    if not isinstance(rollout.spec.strategy, BanditStrategy):
        raise InvalidRolloutError(f"strategy: rollout {rollout.rollout_id} is not a bandit")
    return rollout.spec.strategy


def design_of(strategy: BanditStrategy) -> BanditDesign:
    return BanditDesign(
        reward_kind=RewardKind(strategy.reward),
        stop_probability=strategy.stop_probability,
        stop_updates=strategy.stop_after_updates,
    )


def _arms(rollout: Rollout) -> list[str]:
    return [rollout.baseline_variant or "", rollout.candidate_variant]


def _plan(rollout: Rollout, then: str, wait_seconds: int = 0, winner: str | None = None) -> dict[str, Any]:
    return {"endpoint_name": rollout.endpoint_name, "next": then, "wait_seconds": wait_seconds, "winner": winner}


def reweight(rollout_id: str, bake: dict[str, Any] | None = None) -> dict[str, Any]:
    """Reweight Bandit: go on waiting (`wait`), promote the candidate (`promote`) or keep the baseline (`keep`)."""
    pending = take_pending(rollout_id)
    rollout = store.get_rollout(rollout_id)
    raise_pending(pending)
    strategy = _strategy(rollout)
    design = design_of(strategy)
    arms = _arms(rollout)
    commands = [p.command for p in pending if p.command] + ([bake["command"]] if bake and "command" in bake else [])
    if "promote" in commands:
        record(
            rollout, DecisionKind.STEP_JUDGED, "An operator asked to promote the candidate now", {}, "bandit-promote"
        )
        return _plan(rollout, "promote", winner=rollout.candidate_variant)

    state = dict(rollout.bandit)
    now = clock.now()
    started = datetime.fromisoformat(state["started_at"]) if "started_at" in state else now
    index = int(state.get("updates", 0))
    history = [ArmStatistics.model_validate(arm) for arm in state.get("arms", [])] or [
        ArmStatistics(variant=variant) for variant in arms
    ]
    seen: dict[str, list[float]] = state.get("seen", {})
    totals = rollout_totals(rollout_id)
    batch = []
    for variant in arms:
        total = totals.get(variant)
        before = seen.get(variant, [0.0, 0.0, 0.0])
        now_totals = [float(total.count), total.reward_sum, total.reward_sq_sum] if total else [0.0, 0.0, 0.0]
        count, reward_sum, reward_sq = (a - b for a, b in zip(now_totals, before, strict=True))
        batch.append(
            ArmStatistics(
                variant=variant,
                count=max(0.0, count),
                reward_sum=reward_sum if count > 0 else 0.0,
                reward_sum_of_squares=max(0.0, reward_sq) if count > 0 else 0.0,
            )
        )
    new_requests = sum(arm.count for arm in batch)
    expired = (now - started).total_seconds() >= strategy.max_duration
    if index > 0 and new_requests < batch_size(index - 1, design) and not expired:
        return _plan(rollout, "wait", int(strategy.update_every))

    updated = update_arms(history, batch, design) if index > 0 or new_requests else None
    statistics = list(updated.arms) if updated else history
    summary = summarize(statistics, design)
    streak = advance_streak(
        Streak.model_validate(state.get("streak", {})) if not (updated and updated.reset) else Streak(),
        summary.probabilities_best,
        design.stop_probability,
    )
    weights = {variant: round(100.0 * weight, 4) for variant, weight in summary.weights.items()}
    endpoints.set_weights(rollout.endpoint_name, weights)
    state.update(
        {
            "started_at": started.isoformat(),
            "updates": index + 1,
            "arms": [arm.model_dump() for arm in statistics],
            "seen": {
                variant: [float(t.count), t.reward_sum, t.reward_sq_sum]
                for variant, t in totals.items()
                if variant in arms
            },
            "streak": streak.model_dump(),
        }
    )
    rollout = store.update_rollout(
        rollout_id,
        lambda r: r.model_copy(
            update={
                "bandit": state,
                "weights": weights,
                "status": RolloutStatus.PROGRESSING,
                "canary_started_at": r.canary_started_at or now,
            }
        ),
    )
    shares = ", ".join(
        f"{arm.variant} {arm.weight:.0%} (P(best) {arm.probability_best:.3f}, {arm.count:g} rewards)"
        for arm in summary.arms
    )
    record(
        rollout,
        DecisionKind.BANDIT_REWEIGHTED,
        f"Update {index + 1}: {shares}",
        {
            "update": index + 1,
            "weights": weights,
            "posterior": summary.model_dump(mode="json"),
            "reset": list(updated.reset) if updated else [],
            "streak": streak.model_dump(),
        },
        f"bandit-update-{index + 1}",
    )
    if strategy.mode == "continuous":
        return _plan(rollout, "wait", int(strategy.update_every))
    chosen = stopping_winner(streak, design)
    if chosen is None and expired:
        chosen = summary.leader
    if chosen is None:
        return _plan(rollout, "wait", int(strategy.update_every))
    why = (
        f"{chosen} held P(best) >= {design.stop_probability:g} for {design.stop_updates} updates"
        if not expired
        else f"the bandit ran its {strategy.max_duration:g} s; {chosen} has the highest P(best)"
    )
    record(
        rollout,
        DecisionKind.STEP_JUDGED,
        f"Bandit decided: {why}",
        {"winner": chosen, "probabilities_best": summary.probabilities_best},
        "bandit-decided",
    )
    return _plan(rollout, "promote" if chosen == rollout.candidate_variant else "keep", winner=chosen)
