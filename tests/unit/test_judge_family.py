"""One false-alarm rate for the whole verdict: guardrails.family_alpha split over the checks, each spent over its
looks; the powers the verdicts report."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from rollouts.aws import metrics
from rollouts.judge.family import CheckAlpha, split_alpha
from rollouts.judge.means import MeanStats, judge_means, means_power
from rollouts.judge.msprt import MsprtDesign, msprt_power
from rollouts.judge.outcome import Outcome
from rollouts.judge.rank import RankDesign, judge_rank, rank_power, scaled_pairs_share
from rollouts.judge.sequential import (
    GroupSequentialDesign,
    boundaries,
    crossing_probability,
    judge_sequential,
    rate_power,
)
from rollouts.logic.judging import judge_rates
from rollouts.models.rollout import Rollout
from rollouts.models.spec import Guardrails, RolloutSpec
from sandbox.scenarios import spec

NORMAL = NormalDist()
FIVE_LOOKS = (0.2, 0.4, 0.6, 0.8, 1.0)


def shares(family_alpha: float, *checks: tuple[str, bool, float | None]) -> dict[str, Any]:
    return split_alpha(family_alpha, [CheckAlpha(*check) for check in checks])


# --- the split -------------------------------------------------------------------------------------------------


def test_critical_checks_without_an_alpha_split_the_family_alpha_equally():
    split = shares(0.05, ("5xx", True, None), ("latency", True, None), ("conversion", True, None))

    assert {name: share.alpha for name, share in split.items()} == pytest.approx(
        {"5xx": 0.05 / 3, "latency": 0.05 / 3, "conversion": 0.05 / 3}
    )
    assert all(share.family_bound == pytest.approx(0.05) for share in split.values())
    assert split["5xx"].source == "guardrails.family_alpha 0.05 split equally over 3 critical checks (Bonferroni)"


def test_an_own_alpha_takes_precedence_and_the_others_split_what_it_leaves():
    split = shares(0.05, ("5xx", True, 0.001), ("latency", True, None), ("conversion", True, None))

    assert split["5xx"].alpha == 0.001 and split["5xx"].own
    assert split["latency"].alpha == pytest.approx(0.049 / 2)
    assert sum(share.alpha for share in split.values()) == pytest.approx(0.05)
    assert "less the checks' own alphas (0.001)" in split["latency"].source
    assert split["5xx"].source == "the check's own alpha"


def test_own_alphas_that_leave_nothing_for_the_other_checks_are_refused():
    with pytest.raises(ValueError, match=r"leaving nothing of guardrails\.family_alpha 0\.05"):
        shares(0.05, ("5xx", True, 0.03), ("conversion", True, 0.02), ("latency", True, None))


def test_own_alphas_on_every_check_are_kept_and_the_bound_is_their_sum():
    # A stored rollout from before the split has an alpha on every check: it is judged as it was
    split = shares(0.05, ("5xx", True, 0.05), ("conversion", True, 0.05))

    assert [share.alpha for share in split.values()] == [0.05, 0.05]
    assert split["5xx"].family_bound == pytest.approx(0.10)
    assert "add up to 0.1, above guardrails.family_alpha 0.05" in split["5xx"].source


def test_an_advisory_check_is_outside_the_family():
    split = shares(0.05, ("5xx", True, None), ("latency", True, None), ("conversion", False, None))

    assert split["5xx"].alpha == pytest.approx(0.025)
    assert split["conversion"].alpha == pytest.approx(0.025)
    assert split["conversion"].source.startswith("advisory, outside the family")


def guardrails(**fields: Any) -> Guardrails:
    return Guardrails.model_validate(fields)


def test_the_spec_splits_over_rate_rank_and_feedback_checks_not_thresholds():
    split = guardrails(
        rate_checks=[{"name": "5xx"}],
        metric_checks=[
            {"name": "latency"},
            {"name": "p99-limit", "test": "threshold", "threshold": 300_000},
        ],
        feedback_checks=[{"name": "conversion"}],
        family_alpha=0.03,
    ).alpha_shares()

    assert set(split) == {"5xx", "latency", "conversion"}
    assert all(share.alpha == pytest.approx(0.01) for share in split.values())


def test_a_spec_whose_own_alphas_use_up_the_family_alpha_gets_a_400_naming_it():
    with pytest.raises(ValidationError, match="raise family_alpha"):
        guardrails(rate_checks=[{"name": "5xx", "alpha": 0.05}], feedback_checks=[{"name": "conversion"}])


def test_family_alpha_must_be_a_probability_below_one_half():
    with pytest.raises(ValidationError, match="family_alpha"):
        guardrails(family_alpha=0.5)


# --- the split and the spending, simulated ---------------------------------------------------------------------


def test_three_checks_spent_over_five_looks_keep_the_family_rate_on_the_gaussian_process():
    # Three independent checks, each a third of 0.05 spent O'Brien-Fleming over 5 looks: the chance that any z
    # process crosses its boundaries is 1 - (1 - 0.05/3)^3 = 0.0492, at most 0.05.
    rng = np.random.default_rng(20_261_204)
    bounds = np.asarray(boundaries(0.05 / 3, FIVE_LOOKS))[:, None]
    steps = np.sqrt(np.diff([0.0, *FIVE_LOOKS]))[:, None]
    paths = 200_000
    crossed = np.zeros(paths, dtype=bool)
    for _ in range(3):
        z = np.cumsum(rng.standard_normal((5, paths)) * steps, axis=0) / np.sqrt(FIVE_LOOKS)[:, None]
        crossed |= (z >= bounds).any(axis=0)
    rate = crossed.mean()
    error = math.sqrt(rate * (1 - rate) / paths)

    assert abs(rate - (1 - (1 - 0.05 / 3) ** 3)) < 4 * error
    assert rate <= 0.05 + 2 * error


def null_canaries(runs: int, seed: int) -> dict[str, Any]:
    """`runs` equal canaries of 5 steps: cumulative requests, errors and conversions per arm, and 12 latency values a
    step per arm (one a period)."""
    rng = np.random.default_rng(seed)
    per_step = {"candidate": 600, "baseline": 1800}
    data: dict[str, Any] = {}
    for arm, n in per_step.items():
        data[f"{arm}_requests"] = np.cumsum(np.full((runs, 5), n), axis=1)
        data[f"{arm}_errors"] = np.cumsum(rng.binomial(n, 0.01, size=(runs, 5)), axis=1)
        data[f"{arm}_conversions"] = np.cumsum(rng.binomial(n, 0.10, size=(runs, 5)), axis=1)
        data[f"{arm}_latency"] = rng.lognormal(0.0, 0.1, size=(runs, 60))
    return data


def canary_failures(data: dict[str, Any], runs: int, corrected: bool) -> tuple[int, dict[str, int]]:
    """How many canaries any check failed at any step; corrected: the family split and spending, else every check
    at 0.05 and the rank test as a fixed-sample test at each step (the judge before the split)."""
    alpha = shares(0.05, ("5xx", True, None), ("latency", True, None), ("conversion", True, None))["5xx"].alpha
    level = alpha if corrected else 0.05
    # Equal requests a step: the information fractions are the steps' shares, for every check.
    design = GroupSequentialDesign(alpha=level, fractions=FIVE_LOOKS)
    rank = RankDesign(alpha=level, allowed_relative_change=0.0, fractions=FIVE_LOOKS if corrected else (1.0,))
    failures, by_check = 0, {"5xx": 0, "latency": 0, "conversion": 0}
    for r in range(runs):
        failed = dict.fromkeys(by_check, False)
        for look in range(1, 6):
            i = look - 1
            nb, nc = int(data["baseline_requests"][r, i]), int(data["candidate_requests"][r, i])
            cb, cc = float(data["baseline_conversions"][r, i]), float(data["candidate_conversions"][r, i])
            verdicts = {
                "5xx": judge_sequential(
                    "5xx", design, look, int(data["baseline_errors"][r, i]), nb, int(data["candidate_errors"][r, i]), nc
                ),
                "latency": judge_rank(
                    "latency",
                    rank,
                    data["baseline_latency"][r, : 12 * look].tolist(),
                    data["candidate_latency"][r, : 12 * look].tolist(),
                    look=look if corrected else None,
                ),
                "conversion": judge_means("conversion", design, look, MeanStats(nb, cb, cb), MeanStats(nc, cc, cc)),
            }
            for name, verdict in verdicts.items():
                failed[name] |= verdict.outcome is Outcome.FAILED
        failures += any(failed.values())
        for name, flag in failed.items():
            by_check[name] += flag
    return failures, by_check


def test_equal_candidates_judged_on_three_checks_at_every_step_fail_at_most_the_family_alpha():
    # A small, fast simulation through the judge's own functions (fixed seed): the family rate is within Monte Carlo
    # error of at most 0.05, where the judge before the split (each check 0.05, the rank test fixed) is far above.
    runs = 1_200
    data = null_canaries(runs, seed=20_261_205)

    corrected, by_check = canary_failures(data, runs, corrected=True)
    before, before_by_check = canary_failures(data, runs, corrected=False)

    rate = corrected / runs
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / runs)
    assert before / runs > 0.12
    assert before_by_check["latency"] / runs > 0.08  # the fixed-sample rank test looked at five times
    assert by_check["latency"] / runs <= 0.05 / 3 + 3 * math.sqrt(0.05 / 3 / runs)


# --- power -----------------------------------------------------------------------------------------------------


def test_the_boundaries_cross_with_probability_alpha_at_no_drift():
    bounds = boundaries(0.02, FIVE_LOOKS)

    assert crossing_probability(bounds, FIVE_LOOKS, 0.0) == pytest.approx(0.02, abs=1e-5)
    assert crossing_probability(bounds, FIVE_LOOKS, 3.0) > crossing_probability(bounds, FIVE_LOOKS, 2.0)


def test_rate_power_is_the_textbook_figure_at_one_look_and_the_designs_at_five():
    # performance-anchors.md 2.3: one-sided 1 % -> 2 %, alpha 0.05, 1,826 per arm: power 0.80 at one look; the
    # O'Brien-Fleming design of bench/judge.py reaches 0.80 at 1,890 per arm.
    one_look = GroupSequentialDesign(fractions=(1.0,), detectable_change=1.0)
    five_looks = GroupSequentialDesign(detectable_change=1.0)

    assert rate_power(one_look, 1, 0.01, 1826, 1826) == pytest.approx(0.80, abs=0.002)
    assert rate_power(five_looks, 5, 0.01, 1890, 1890) == pytest.approx(0.80, abs=0.002)
    # Projected from the first look: a fifth of the requests, the same maximum, the same power
    assert rate_power(five_looks, 1, 0.01, 378, 378) == pytest.approx(0.80, abs=0.002)
    assert rate_power(GroupSequentialDesign(), 5, 0.01, 1890, 1890) is None  # no detectable change stated


def test_means_power_at_one_look_is_the_closed_form():
    design = GroupSequentialDesign(fractions=(1.0,), detectable_change=0.1, alpha=0.025)
    baseline, candidate = MeanStats(10_000, 1_000.0, 1_000.0), MeanStats(10_000, 1_000.0, 1_000.0)
    sd = math.sqrt(2 * 0.1 * 0.9 * 10_000 / 9_999 / 10_000)
    expected = NORMAL.cdf(0.01 / sd - NORMAL.inv_cdf(0.975))

    assert means_power(design, 1, baseline, candidate, higher_is_worse=False) == pytest.approx(expected, abs=1e-4)


def test_the_rank_effect_of_a_scaled_log_normal_is_its_closed_form():
    # Y log-normal with sd of the log s: P((1 + d) Y_i > Y_j) = Phi(log(1 + d) / (s sqrt 2))
    values = np.random.default_rng(3).lognormal(0.0, 0.1, size=4_000).tolist()

    share = scaled_pairs_share(values, 1.05, higher_is_worse=True)

    assert share == pytest.approx(NORMAL.cdf(math.log(1.05) / (0.1 * math.sqrt(2))), abs=0.01)
    assert scaled_pairs_share(values, 1.0, higher_is_worse=True) == pytest.approx(0.5)
    assert scaled_pairs_share([1.0, -1.0], 1.1, higher_is_worse=True) is None


def test_rank_power_matches_a_simulation_of_the_test():
    rng = np.random.default_rng(5)
    design = RankDesign(alpha=0.05, allowed_relative_change=0.0, detectable_change=0.05)
    runs, n = 1_000, 20
    failed = 0
    for _ in range(runs):
        baseline = rng.lognormal(0.0, 0.1, size=n).tolist()
        candidate = (1.05 * rng.lognormal(0.0, 0.1, size=n)).tolist()
        failed += judge_rank("latency", design, baseline, candidate).outcome is Outcome.FAILED
    reported = rank_power(design, 1, rng.lognormal(0.0, 0.1, size=2_000).tolist(), n, n)

    assert reported == pytest.approx(failed / runs, abs=0.05)


def test_msprt_power_matches_the_benchmarks_simulation():
    # bench/judge.py measured 0.4548 +- 0.0008 for the mSPRT (tau 0.01) at five looks of 378 .. 1,890 per arm
    design = MsprtDesign(alpha=0.05, mixing_sd=0.01, fractions=FIVE_LOOKS, detectable_change=1.0)

    assert msprt_power(design, 5, 0.01, 1890, 1890) == pytest.approx(0.455, abs=0.01)
    assert msprt_power(design, None, 0.01, 1890, 1890) is None


# --- the verdicts say which alpha and which power --------------------------------------------------------------


def judged_rollout(guardrails: dict[str, Any]) -> Rollout:
    body = spec(judged=True)
    body["strategy"]["steps"] = [{"weight": 20, "bake": "10m"}, {"weight": 50, "bake": "10m"}]
    body["guardrails"].update(guardrails)
    return Rollout(
        rollout_id="r-0123456789ab",
        spec=RolloutSpec.model_validate(body),
        baseline_variant="v1",
        started_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> None:
    sums = {
        ("v1", "Invocations"): 20_000,
        ("v1", "Invocation5XXErrors"): 200,
        ("churn-xgb-v2", "Invocations"): 5_000,
        ("churn-xgb-v2", "Invocation5XXErrors"): 50,
    }

    def variant_sum(endpoint: str, variant: str, metric: str, start: datetime, end: datetime) -> float:
        return sums.get((variant, metric), sums[(variant, "Invocation5XXErrors")])

    monkeypatch.setattr(metrics, "variant_sum", variant_sum)


def test_a_verdict_states_its_share_of_the_family_alpha_and_its_power(counts):
    rollout = judged_rollout(
        {"rate_checks": [{"name": "5xx"}, {"name": "4xx", "metric": "Invocation4XXErrors"}], "family_alpha": 0.04}
    )

    verdict, _ = judge_rates(rollout, step_index=0)

    evidence = verdict.evidence
    assert evidence.alpha == pytest.approx(0.02)
    assert evidence.family_alpha == pytest.approx(0.04)
    assert evidence.alpha_source == "guardrails.family_alpha 0.04 split equally over 2 critical checks (Bonferroni)"
    assert evidence.detectable_change == 1.0 and evidence.power is not None and 0 < evidence.power <= 1
    assert "[alpha 0.02, a share of the family's 0.04]" in evidence.explanation
    assert "against +100% by the last look" in evidence.explanation


def test_a_checks_own_alpha_is_used_and_said(counts):
    rollout = judged_rollout({"rate_checks": [{"name": "5xx", "alpha": 0.01, "minimum_detectable_change": None}]})

    [verdict] = judge_rates(rollout, step_index=1)

    assert verdict.evidence.alpha == 0.01
    assert verdict.evidence.alpha_source == "the check's own alpha"
    assert verdict.evidence.power is None
    assert "[alpha 0.01, its own]" in verdict.evidence.explanation
