"""Judge benchmark: false alarms, power and requests of the group-sequential error-rate test, by simulation; and
the family-wise false-alarm rate of a canary judged on three checks (`run_family`).

The family part simulates canaries of five steps judged on a 5XX rate, a rank test of the p90 latency and a
conversion rate, through Judge Step's own functions (`rollouts.logic.judging`, CloudWatch and the feedback totals
patched with the simulated figures), counts the equal candidates any critical check fails at any step
(`family_false_alarm_rate`), and measures each check's power under a stated alternative beside the power its
verdicts report.

Both statistics of `rollouts.judge.sequential` are measured side by side on the same simulated traffic: one stream of
requests per replication, its cumulative error counts read at the looks of every plan (common random numbers), so
that a difference between the statistics or between the plans is not a difference between random draws.

Sizing. The pooled z's maximum sample is the closed-form fixed-horizon sample times the normal-theory inflation
factor of the design. The exact conditional statistic is not liberal with few errors as the pooled z is, so that
factor leaves it short of power; its maximum is found by simulation instead: the inflation of the fixed-horizon
sample is searched on a grid of 1 % steps, on replications drawn with a separate seed, and the smallest factor whose
simulated power is at least 0.80 plus two standard errors is kept. The figures reported are then measured afresh on
the main replications, so that the search's selection does not flatter them.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import NormalDist, median
from types import SimpleNamespace
from typing import Any
from unittest import mock

import numpy as np

from bench.common import ROOT, machine, runs_from_env
from bench.judge_design import fixed_horizon_sample_size, normal_theory_inflation
from rollouts.aws import metrics
from rollouts.judge.means import MeanStats, welch_z
from rollouts.judge.msprt import log_likelihood_ratio
from rollouts.judge.outcome import MetricVerdict, Outcome
from rollouts.judge.rank import RankDesign, judge_rank
from rollouts.judge.sequential import (
    NORMAL_APPROXIMATION_ABOVE,
    GroupSequentialDesign,
    RateStatistic,
    exact_conditional,
    judge_sequential,
)
from rollouts.logic import judging
from rollouts.models.rollout import Rollout
from rollouts.models.spec import RolloutSpec

RESULTS = ROOT / "bench" / "results" / "judge.json"
DOC = ROOT / "docs" / "benchmarks-judge.md"
COMMAND = "PYTHONPATH=layers/rollouts:. .venv/bin/python -m bench.judge"
REPLICATIONS_ENV = "BENCH_JUDGE_REPLICATIONS"
DEFAULT_REPLICATIONS = 400_000  # standard error at most sqrt(0.25 / 400,000) = 0.0008 on any rate
SEED, SEARCH_SEED = 20_260_503, 20_260_504
BASELINE_RATE, REGRESSED_RATE = 0.01, 0.02
ALPHA, POWER, LOOKS = 0.05, 0.80, 5
MIXING_SD = 0.01  # the mSPRT's tau, tuned to the 1 % -> 2 % difference as in performance-anchors.md 2.3
BOUNDARY_CHECK_PATHS = 2_000_000
SCENARIOS = {"equal_split": 1.0, "canary_10_percent": 9.0}  # baseline requests per candidate request
TITLES = {"equal_split": "50/50 split", "canary_10_percent": "10 % canary traffic (baseline 90 %)"}
DEFAULT_STATISTIC = RateStatistic.EXACT_CONDITIONAL
STATISTICS = (RateStatistic.EXACT_CONDITIONAL, RateStatistic.POOLED_Z)
KEYS = {RateStatistic.EXACT_CONDITIONAL: "exact_conditional", RateStatistic.POOLED_Z: "pooled_z"}
NAMES = {RateStatistic.EXACT_CONDITIONAL: "exact conditional (mid-p)", RateStatistic.POOLED_Z: "pooled z"}
SEARCH_STEP, SEARCH_STEPS = 0.01, 30  # inflation factors tried: normal theory + 0.01 k, k = 0 .. 30
CHUNK = 25_000  # replications simulated at once (memory: looks x chunk counts per arm)
TIMING_REPEATS = 15
CHECKED_PAIRS = 1_500  # exact z values checked against integer arithmetic, per scenario and hypothesis
NORMAL = NormalDist()

Judge = Callable[[int, int, int, int, int], tuple[bool, float]]  # (look, nb, xb, nc, xc) -> (failed, z)


def _design(statistic: RateStatistic) -> GroupSequentialDesign:
    return GroupSequentialDesign(
        alpha=ALPHA, fractions=tuple(k / LOOKS for k in range(1, LOOKS + 1)), statistic=statistic
    )


def _plan(
    baseline_per_candidate: float, design: GroupSequentialDesign, inflation: float, sizing: str
) -> dict[str, Any]:
    """Looks equally spaced in candidate requests up to the fixed-horizon sample times `inflation`."""
    fixed_candidate, fixed_baseline = fixed_horizon_sample_size(
        BASELINE_RATE, REGRESSED_RATE, ALPHA, POWER, baseline_per_candidate
    )
    maximum = math.ceil(inflation * fixed_candidate)
    candidate = [round(fraction * maximum) for fraction in design.fractions]
    return {
        "sizing": sizing,
        "baseline_per_candidate": baseline_per_candidate,
        "fixed_horizon_candidate": fixed_candidate,
        "fixed_horizon_baseline": fixed_baseline,
        "inflation_factor": inflation,
        "maximum_candidate": maximum,
        "maximum_baseline": round(baseline_per_candidate * maximum),
        "looks_candidate": candidate,
        "looks_baseline": [round(baseline_per_candidate * n) for n in candidate],
    }


class _Traffic:
    """Cumulative error counts of one request stream per replication, read at any set of request counts."""

    def __init__(self, rng: np.random.Generator, sizes: set[int], rate: float, replications: int) -> None:
        self.sizes = sorted(sizes)
        self.row = {size: index for index, size in enumerate(self.sizes)}
        increments = np.diff(np.asarray([0, *self.sizes]))
        draws = rng.binomial(increments[:, None], rate, size=(len(self.sizes), replications))
        self.counts = np.cumsum(draws, axis=0)

    def at(self, sizes: list[int]) -> Any:
        return self.counts[[self.row[size] for size in sizes]]


def _first_crossings(judge: Judge, plan: dict[str, Any], xc: Any, xb: Any) -> tuple[Any, list[float]]:
    """The 1-based look of each replication's first Failed verdict (0: none), deciding each distinct count once."""
    looks, replications = xc.shape
    crossed = np.zeros((looks, replications), dtype=bool)
    statistics: list[float] = []
    for index in range(looks):
        nc, nb = plan["looks_candidate"][index], plan["looks_baseline"][index]
        keys = xb[index].astype(np.int64) * (nc + 1) + xc[index]
        unique, inverse = np.unique(keys, return_inverse=True)
        failed = np.empty(unique.size, dtype=bool)
        for position, key in enumerate(unique.tolist()):
            failed[position], z = judge(index + 1, nb, key // (nc + 1), nc, key % (nc + 1))
            statistics.append(z)
        crossed[index] = failed[inverse.reshape(-1)]
    return np.where(crossed.any(axis=0), crossed.argmax(axis=0) + 1, 0), statistics


def _layer_judge(design: GroupSequentialDesign, cache: dict[tuple[int, ...], tuple[bool, float]]) -> Judge:
    """The layer's own verdict, `judge_sequential`, memoised on its inputs (a verdict depends on nothing else)."""

    def judge(look: int, nb: int, xb: int, nc: int, xc: int) -> tuple[bool, float]:
        key = (look, nb, xb, nc, xc)
        if key not in cache:
            verdict = judge_sequential("errors", design, look, xb, nb, xc, nc)
            statistic = verdict.evidence.statistic
            cache[key] = (verdict.outcome is Outcome.FAILED, statistic if statistic is not None else math.nan)
        return cache[key]

    return judge


def _rate(hits: int, total: int) -> dict[str, float]:
    rate = hits / total
    return {"rate": rate, "standard_error": math.sqrt(rate * (1 - rate) / total)}


def _stopping(stop_look: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """Crossing rate, expected requests and the distribution of the stopping look for first crossings at `stop_look`."""
    looks = len(plan["looks_candidate"])
    replications = stop_look.size
    index = np.where(stop_look > 0, stop_look, looks) - 1
    candidate = np.asarray(plan["looks_candidate"])[index]
    baseline = np.asarray(plan["looks_baseline"])[index]
    return {
        "crossed": _rate(int((stop_look > 0).sum()), replications),
        "expected_candidate_requests": float(candidate.mean()),
        "expected_baseline_requests": float(baseline.mean()),
        "stops_by_look": [int((stop_look == k).sum()) for k in range(1, looks + 1)],
    }


def _pooled(xc: Any, nc: Any, xb: Any, nb: Any) -> tuple[Any, Any, Any]:
    """Difference, null variance and z of the pooled two-proportion test (numpy, for the naive test and mSPRT)."""
    pooled = (xc + xb) / (nc + nb)
    variance = pooled * (1 - pooled) * (1 / nc + 1 / nb)
    difference = xc / nc - xb / nb
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, difference / np.sqrt(variance), 0.0)
    return difference, variance, z


def _first_true(crossed: Any) -> Any:
    return np.where(crossed.any(axis=0), crossed.argmax(axis=0) + 1, 0)


def _search(
    ratio: float, design: GroupSequentialDesign, start: float, replications: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The smallest inflation on the grid whose simulated power clears 0.80 by two standard errors, and the grid."""
    plans = [_plan(ratio, design, start + SEARCH_STEP * k, "search") for k in range(SEARCH_STEPS + 1)]
    sizes_c = {n for plan in plans for n in plan["looks_candidate"]}
    sizes_b = {n for plan in plans for n in plan["looks_baseline"]}
    rng = np.random.default_rng([SEARCH_SEED, int(ratio)])
    crossings = [0] * len(plans)
    cache: dict[tuple[int, ...], tuple[bool, float]] = {}

    def judge(look: int, nb: int, xb: int, nc: int, xc: int) -> tuple[bool, float]:
        # The layer's statistic against the layer's boundary: judge_sequential's rule without building a verdict.
        key = (look, nb, xb, nc, xc)
        if key not in cache:
            z = exact_conditional(xb, nb, xc, nc, design.allowed_relative_change).z
            cache[key] = (z >= design.boundaries[look - 1], z)
        return cache[key]

    done = 0
    while done < replications:
        size = min(CHUNK, replications - done)
        candidate = _Traffic(rng, sizes_c, REGRESSED_RATE, size)
        baseline = _Traffic(rng, sizes_b, BASELINE_RATE, size)
        for index, plan in enumerate(plans):
            xc, xb = candidate.at(plan["looks_candidate"]), baseline.at(plan["looks_baseline"])
            stop, _ = _first_crossings(judge, plan, xc, xb)
            crossings[index] += int((stop > 0).sum())
        done += size
    margin = 2 * math.sqrt(POWER * (1 - POWER) / replications)
    grid = [
        {
            "inflation_factor": plan["inflation_factor"],
            "maximum_candidate": plan["maximum_candidate"],
            "power": _rate(crossed, replications),
        }
        for plan, crossed in zip(plans, crossings, strict=True)
    ]
    chosen = next((point for point in grid if point["power"]["rate"] >= POWER + margin), grid[-1])
    search = {
        "replications": replications,
        "seed": [SEARCH_SEED, int(ratio)],
        "required_power": POWER + margin,
        "found": chosen["power"]["rate"] >= POWER + margin,
        "grid": grid,
    }
    return _plan(ratio, design, chosen["inflation_factor"], "simulation search"), search


def _integer_z(xb: int, nb: int, xc: int, nc: int) -> float:
    """The mid-p z of the conditional binomial in exact integer arithmetic: an independent check of the layer.

    P(X = k) = C(t, k) n_c^k n_b^(t - k) / (n_c + n_b)^t, so 2 (n_c + n_b)^t times the mid-p is an integer; Python
    divides integers with correct rounding.
    """
    total = xb + xc
    terms = [math.comb(total, k) * nc**k * nb ** (total - k) for k in range(total + 1)]
    scale = 2 * (nc + nb) ** total
    above = 2 * sum(terms[xc + 1 :]) + terms[xc]
    if 2 * above <= scale:
        return -NORMAL.inv_cdf(above / scale)
    return NORMAL.inv_cdf((scale - above) / scale)


def _simulate_hypothesis(
    rng: np.random.Generator,
    plans: dict[RateStatistic, dict[str, Any]],
    designs: dict[RateStatistic, GroupSequentialDesign],
    rate: float,
    replications: int,
) -> dict[str, Any]:
    """Both statistics at both plans, the naive z and the mSPRT at the default plan, and the fixed horizon, on the
    same traffic."""
    fixed_c = plans[DEFAULT_STATISTIC]["fixed_horizon_candidate"]
    fixed_b = plans[DEFAULT_STATISTIC]["fixed_horizon_baseline"]
    sizes_c = {fixed_c} | {n for plan in plans.values() for n in plan["looks_candidate"]}
    sizes_b = {fixed_b} | {n for plan in plans.values() for n in plan["looks_baseline"]}
    candidate = _Traffic(rng, sizes_c, rate, replications)
    baseline = _Traffic(rng, sizes_b, BASELINE_RATE, replications)
    out: dict[str, Any] = {"candidate_error_rate": rate, "replications": replications}

    judged: dict[str, Any] = {}
    largest_pooled_gap = 0.0
    exact_values: dict[tuple[int, int, int, int], float] = {}
    for statistic in STATISTICS:
        cache: dict[tuple[int, ...], tuple[bool, float]] = {}
        judge = _layer_judge(designs[statistic], cache)
        for plan_statistic, plan in plans.items():
            xc, xb = candidate.at(plan["looks_candidate"]), baseline.at(plan["looks_baseline"])
            stop, _ = _first_crossings(judge, plan, xc, xb)
            judged[f"{KEYS[statistic]}@{KEYS[plan_statistic]}_plan"] = _stopping(stop, plan)
        for (_, requests_b, errors_b, requests_c, errors_c), (_, judged_z) in cache.items():
            if statistic is RateStatistic.POOLED_Z:
                numpy_z = _pooled(np.float64(errors_c), float(requests_c), np.float64(errors_b), float(requests_b))[2]
                largest_pooled_gap = max(largest_pooled_gap, abs(judged_z - float(numpy_z)))
            else:
                exact_values[(errors_b, requests_b, errors_c, requests_c)] = judged_z
    out["group_sequential"] = {KEYS[s]: judged[f"{KEYS[s]}@{KEYS[s]}_plan"] for s in STATISTICS}
    out["by_statistic_and_plan"] = judged

    plan = plans[DEFAULT_STATISTIC]
    xc, xb = candidate.at(plan["looks_candidate"]), baseline.at(plan["looks_baseline"])
    looks_c = np.asarray(plan["looks_candidate"], dtype=float)[:, None]
    looks_b = np.asarray(plan["looks_baseline"], dtype=float)[:, None]
    _, _, z = _pooled(xc, looks_c, xb, looks_b)
    out["naive_repeated_z"] = _stopping(_first_true(z >= NORMAL.inv_cdf(1 - ALPHA)), plan)

    def msprt(look: int, nb: int, xb: int, nc: int, xc: int) -> tuple[bool, float]:
        difference, variance, _ = _pooled(np.float64(xc), float(nc), np.float64(xb), float(nb))
        log_ratio = log_likelihood_ratio(float(difference), float(variance), MIXING_SD)
        return log_ratio >= math.log(1 / ALPHA), log_ratio

    out["msprt_at_the_same_looks"] = _stopping(_first_crossings(msprt, plan, xc, xb)[0], plan)

    # Exact conditional z: the judge's against integer arithmetic on a deterministic sample of the distinct counts.
    checked = sorted(exact_values)[:: max(1, len(exact_values) // CHECKED_PAIRS)]
    out["checks"] = {
        "pooled_z_judge_vs_numpy": largest_pooled_gap,
        "exact_z_judge_vs_integer_arithmetic": max(
            (abs(exact_values[key] - _integer_z(*key)) for key in checked), default=0.0
        ),
        "exact_z_values_checked": len(checked),
    }

    fixed: dict[str, Any] = {"candidate_requests": fixed_c, "baseline_requests": fixed_b}
    xc_fixed, xb_fixed = candidate.at([fixed_c])[0], baseline.at([fixed_b])[0]
    critical = NORMAL.inv_cdf(1 - ALPHA)
    _, _, z_fixed = _pooled(xc_fixed, float(fixed_c), xb_fixed, float(fixed_b))
    fixed["pooled_z"] = _rate(int((z_fixed >= critical).sum()), replications)
    pairs, inverse = np.unique(xb_fixed.astype(np.int64) * (fixed_c + 1) + xc_fixed, return_inverse=True)
    exact_z = np.asarray(
        [exact_conditional(k // (fixed_c + 1), fixed_b, k % (fixed_c + 1), fixed_c).z for k in pairs.tolist()]
    )
    fixed["exact_conditional"] = _rate(int((exact_z[inverse.reshape(-1)] >= critical).sum()), replications)
    out["fixed_horizon_one_look"] = fixed
    return out


def _boundary_check(rng: np.random.Generator, design: GroupSequentialDesign) -> dict[str, Any]:
    """The boundaries' crossing probability under the null by Monte Carlo on the Gaussian process itself."""
    bounds = np.asarray(design.boundaries)[:, None]
    fractions = np.asarray(design.fractions)
    steps = np.sqrt(np.diff(np.concatenate([[0.0], fractions])))[:, None]
    crossed = 0
    chunk = 500_000
    for _ in range(BOUNDARY_CHECK_PATHS // chunk):
        paths = np.cumsum(rng.standard_normal((len(fractions), chunk)) * steps, axis=0)
        crossed += int((paths / np.sqrt(fractions)[:, None] >= bounds).any(axis=0).sum())
    return {"paths": BOUNDARY_CHECK_PATHS, "alpha": design.alpha, "crossing": _rate(crossed, BOUNDARY_CHECK_PATHS)}


def _verdict_times() -> list[dict[str, Any]]:
    """Median wall time of one `judge_sequential` call, each statistic, at large counts (the hardest: z near 0)."""
    cases = [
        ("10^6 requests per variant, 1 % errors, equal", (10_000, 1_000_000, 10_000, 1_000_000)),
        ("10^6 requests per variant, 50 % errors, equal", (500_000, 1_000_000, 500_000, 1_000_000)),
        ("10^6 / 9 x 10^6 requests (10 %), 1 % errors, equal", (90_000, 9_000_000, 10_000, 1_000_000)),
        ("10^6 requests per variant, 1 % vs 1.2 % errors", (10_000, 1_000_000, 12_000, 1_000_000)),
        ("just below the approximation's threshold (z near 0)", (9_990_000, 10_000_000, 9_990_000, 10_000_000)),
        ("above it: 10^8 requests per variant, 20 % errors", (20_000_000, 100_000_000, 20_000_000, 100_000_000)),
    ]
    rows = []
    for label, (xb, nb, xc, nc) in cases:
        row: dict[str, Any] = {"case": label, "counts": [xb, nb, xc, nc]}
        for statistic in STATISTICS:
            design = _design(statistic)
            seconds = []
            for _ in range(TIMING_REPEATS):
                began = time.perf_counter()
                judge_sequential("errors", design, LOOKS, xb, nb, xc, nc)
                seconds.append(time.perf_counter() - began)
            row[f"{KEYS[statistic]}_median_ms"] = median(seconds) * 1e3
        row["exact"] = exact_conditional(xb, nb, xc, nc).exact
        rows.append(row)
    return rows


# --- One false-alarm rate for the whole verdict: a 3-check canary judged by rollouts.logic.judging ----------------

FAMILY_RUNS_ENV, FAMILY_POWER_RUNS_ENV = "BENCH_JUDGE_FAMILY_RUNS", "BENCH_JUDGE_FAMILY_POWER_RUNS"
DEFAULT_FAMILY_RUNS = 100_000  # null canaries: standard error 0.0007 on a rate near 0.05
DEFAULT_FAMILY_POWER_RUNS = 5_000  # canaries per alternative: standard error at most 0.007 on a power
LEGACY_RUNS = 20_000  # null canaries also judged as before the split (its rate is near 0.2: 0.003)
FAMILY_SEED = 20_261_204
FAMILY_CHUNK = 5_000
FAMILY_WEIGHTS = (10, 20, 30, 40, 50)  # the canary's steps, percent of traffic on the candidate
FAMILY_BAKE_MINUTES = 30
FAMILY_REQUESTS_PER_MINUTE = 240  # both variants together (4 requests a second)
FAMILY_ERROR_RATE, FAMILY_CONVERSION = 0.01, 0.10
FAMILY_LATENCY_US, FAMILY_LATENCY_SIGMA = 100_000.0, 0.10  # per-minute p90: log-normal, median 100 ms, sd of log 0.1
FAMILY_CHECKS = {"5xx-rate": "5XX rate", "latency-p90": "p90 latency (rank test)", "conversion": "feedback mean"}
# The stated alternatives, each the check's minimum_detectable_change: the 5XX rate 1 % -> 1.4 %, every per-minute p90
# 4 % higher, the conversion rate 10 % -> 9 %.
FAMILY_ALTERNATIVES = {"5xx-rate": 0.4, "latency-p90": 0.04, "conversion": 0.10}
EVIDENCE_POWER_RUNS = 100  # canaries whose verdicts are judged again with the power reported, per alternative
LEGACY_ALPHA = 0.05
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _family_spec(detectable: dict[str, float] | None) -> dict[str, Any]:
    """The 3-check canary: a 5XX rate check, a rank test of the p90 ModelLatency per minute and a feedback check,
    every check critical, no own alpha (each a third of guardrails.family_alpha 0.05), no tolerance (allowed change
    0: the strictest case for the bound, every false alarm the tests make counts); `detectable` sets the changes the
    power is reported against (None: no power, which the simulation does not need)."""
    changes = detectable or {}
    return {
        "endpoint_name": "bench-endpoint",
        "candidate": {"model_name": "candidate", "instance_type": "ml.m5.large", "initial_instance_count": 1},
        "strategy": {
            "type": "canary",
            "steps": [{"weight": weight, "bake": f"{FAMILY_BAKE_MINUTES}m"} for weight in FAMILY_WEIGHTS],
        },
        "guardrails": {
            "family_alpha": ALPHA,
            "rate_checks": [{"name": "5xx-rate", "minimum_detectable_change": changes.get("5xx-rate")}],
            "metric_checks": [
                {
                    "name": "latency-p90",
                    "statistic": "p90",
                    "allowed_relative_change": 0.0,
                    "minimum_periods": 8,
                    "minimum_detectable_change": changes.get("latency-p90"),
                }
            ],
            "feedback_checks": [{"name": "conversion", "minimum_detectable_change": changes.get("conversion")}],
        },
    }


class _Canaries:
    """Simulated canaries, cumulative per step: requests, 5XX errors and conversions per variant (every request
    reports one reward), and one p90 ModelLatency value a minute per variant. `worse` names the check whose
    candidate metric is worse by its stated alternative; the rest are equal."""

    def __init__(self, rng: np.random.Generator, size: int, worse: str | None) -> None:
        looks = len(FAMILY_WEIGHTS)
        minutes = FAMILY_BAKE_MINUTES * looks
        weights = np.asarray(FAMILY_WEIGHTS, dtype=float) / 100
        per_step = FAMILY_REQUESTS_PER_MINUTE * FAMILY_BAKE_MINUTES
        change = FAMILY_ALTERNATIVES.get(worse or "", 0.0)
        error_rate = FAMILY_ERROR_RATE * (1 + change) if worse == "5xx-rate" else FAMILY_ERROR_RATE
        conversion = FAMILY_CONVERSION * (1 - change) if worse == "conversion" else FAMILY_CONVERSION
        latency = 1 + change if worse == "latency-p90" else 1.0
        self.requests, self.errors, self.rewards = {}, {}, {}
        for arm, share, rate, reward in (
            ("candidate", weights, error_rate, conversion),
            ("baseline", 1 - weights, FAMILY_ERROR_RATE, FAMILY_CONVERSION),
        ):
            steps = rng.poisson(per_step * share, size=(size, looks))
            self.requests[arm] = steps.cumsum(axis=1)
            self.errors[arm] = rng.binomial(steps, rate).cumsum(axis=1)
            self.rewards[arm] = rng.binomial(steps, reward).cumsum(axis=1)
        log_median = math.log(FAMILY_LATENCY_US)
        self.latency = {
            "candidate": latency * np.exp(rng.normal(log_median, FAMILY_LATENCY_SIGMA, size=(size, minutes))),
            "baseline": np.exp(rng.normal(log_median, FAMILY_LATENCY_SIGMA, size=(size, minutes))),
        }
        self.size = size
        self.replication, self.look = 0, 0  # which canary, and which step (0-based), the patched reads serve


def _patched_sources(canaries: _Canaries, candidate: str) -> dict[str, Any]:
    """Stand-ins for CloudWatch and the feedback totals that serve `canaries` at its current replication and look."""

    def arm(variant: str) -> str:
        return "candidate" if variant == candidate else "baseline"

    def variant_sum(endpoint: str, variant: str, metric: str, start: datetime, end: datetime) -> float:
        counts = canaries.requests if metric == "Invocations" else canaries.errors
        return float(counts[arm(variant)][canaries.replication, canaries.look])

    def period_values(
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        statistic: str,
        start: datetime,
        end: datetime,
        period: int,
    ) -> list[tuple[datetime, float, float]]:
        minutes = (canaries.look + 1) * FAMILY_BAKE_MINUTES
        values = canaries.latency[arm(dimensions["VariantName"])][canaries.replication, :minutes]
        return [(_EPOCH, value, 1.0) for value in values.tolist()]

    def rollout_totals(rollout_id: str) -> dict[str, Any]:
        totals = {}
        for variant in (candidate, "baseline"):
            side = arm(variant)
            converted = float(canaries.rewards[side][canaries.replication, canaries.look])
            count = int(canaries.requests[side][canaries.replication, canaries.look])
            totals[variant] = SimpleNamespace(count=count, reward_sum=converted, reward_sq_sum=converted)
        return totals

    return {"variant_sum": variant_sum, "period_values": period_values, "rollout_totals": rollout_totals}


def _family_rollout(detectable: dict[str, float] | None) -> Rollout:
    return Rollout(
        rollout_id="r-0123456789ab",
        spec=RolloutSpec.model_validate(_family_spec(detectable)),
        baseline_variant="baseline",
        started_at=_EPOCH,
    )


def _judged_looks(rollout: Rollout, canaries: _Canaries, replication: int) -> dict[str, list[MetricVerdict]]:
    """Every check's verdict at every step of one canary, by Judge Step's own functions."""
    canaries.replication = replication
    by_check: dict[str, list[MetricVerdict]] = {name: [] for name in FAMILY_CHECKS}
    for look in range(len(FAMILY_WEIGHTS)):
        canaries.look = look
        verdicts = (
            judging.judge_rates(rollout, look, now=_EPOCH)
            + judging.judge_metrics(rollout, look, now=_EPOCH)
            + judging.judge_feedback(rollout, look)
        )
        for name, verdict in zip(FAMILY_CHECKS, verdicts, strict=True):
            by_check[name].append(verdict)
    return by_check


def _legacy_fractions() -> tuple[float, ...]:
    """The looks as the judge placed them before: the candidate's share of its planned requests (weight x bake)."""
    cumulative = np.cumsum(FAMILY_WEIGHTS, dtype=float)
    return tuple(round(float(value / cumulative[-1]), 9) for value in cumulative)


def _legacy_failures(canaries: _Canaries, replication: int, fractions: tuple[float, ...]) -> dict[str, bool]:
    """The judge before the family split, on the same canary: each check at an alpha 0.05 of its own, the rate and
    feedback checks spent over the candidate's share of its requests, the feedback's z with Welch's standard error,
    and the rank test as a fixed-sample test at every step."""
    design = GroupSequentialDesign(alpha=LEGACY_ALPHA, fractions=fractions)
    rank = RankDesign(alpha=LEGACY_ALPHA, allowed_relative_change=0.0, minimum_periods=8)
    failed = dict.fromkeys(FAMILY_CHECKS, False)
    for look in range(len(FAMILY_WEIGHTS)):
        counts = {
            arm: (
                int(canaries.errors[arm][replication, look]),
                int(canaries.requests[arm][replication, look]),
                float(canaries.rewards[arm][replication, look]),
            )
            for arm in ("baseline", "candidate")
        }
        (xb, nb, rb), (xc, nc, rc) = counts["baseline"], counts["candidate"]
        minutes = (look + 1) * FAMILY_BAKE_MINUTES
        verdicts = {
            "5xx-rate": judge_sequential("5xx", design, look + 1, xb, nb, xc, nc),
            "latency-p90": judge_rank(
                "p90",
                rank,
                canaries.latency["baseline"][replication, :minutes].tolist(),
                canaries.latency["candidate"][replication, :minutes].tolist(),
            ),
        }
        welch = welch_z(MeanStats(nb, rb, rb), MeanStats(nc, rc, rc), 0.0, higher_is_worse=False)
        for name, verdict in verdicts.items():
            failed[name] = failed[name] or verdict.outcome is Outcome.FAILED
        failed["conversion"] = failed["conversion"] or welch >= design.boundaries[look]
    return failed


def _family_scenario(rng: np.random.Generator, runs: int, worse: str | None, legacy: bool) -> dict[str, Any]:
    """`runs` canaries judged at every step; counts of the checks that failed them (any step), and of the canaries
    any critical check failed (the rollout rolled back). Judging goes on after a failure so that each check's own
    rate is measured too; the rollout's failure is the same event either way (some check fails at some step)."""
    rollout = _family_rollout(None)
    fractions = _legacy_fractions()
    candidate = rollout.candidate_variant
    checks = dict.fromkeys(FAMILY_CHECKS, 0)
    legacy_checks = dict.fromkeys(FAMILY_CHECKS, 0)
    any_failed = legacy_any = inconclusive_at_last = 0
    first_looks = [0] * len(FAMILY_WEIGHTS)
    done = 0
    while done < runs:
        canaries = _Canaries(rng, min(FAMILY_CHUNK, runs - done), worse)
        sources = _patched_sources(canaries, candidate)
        with (
            mock.patch.object(metrics, "variant_sum", sources["variant_sum"]),
            mock.patch.object(metrics, "period_values", sources["period_values"]),
            mock.patch.object(judging, "rollout_totals", sources["rollout_totals"]),
        ):
            for replication in range(canaries.size):
                by_check = _judged_looks(rollout, canaries, replication)
                failed_at = [
                    min((k for k, v in enumerate(verdicts) if v.outcome is Outcome.FAILED), default=None)
                    for verdicts in by_check.values()
                ]
                for name, look in zip(FAMILY_CHECKS, failed_at, strict=True):
                    checks[name] += look is not None
                stops = [look for look in failed_at if look is not None]
                if stops:
                    any_failed += 1
                    first_looks[min(stops)] += 1
                elif any(verdicts[-1].outcome is Outcome.INCONCLUSIVE for verdicts in by_check.values()):
                    inconclusive_at_last += 1
                if legacy and done + replication < LEGACY_RUNS:
                    old = _legacy_failures(canaries, replication, fractions)
                    legacy_any += any(old.values())
                    for name, flag in old.items():
                        legacy_checks[name] += flag
        done += canaries.size
    out: dict[str, Any] = {
        "worse": worse,
        "runs": runs,
        "rollout_failed": _rate(any_failed, runs),
        "check_failed": {name: _rate(count, runs) for name, count in checks.items()},
        "first_failure_by_step": first_looks,
        "inconclusive_at_the_last_step": inconclusive_at_last,
    }
    if legacy:
        judged = min(runs, LEGACY_RUNS)
        out["legacy"] = {
            "runs": judged,
            "rollout_failed": _rate(legacy_any, judged),
            "check_failed": {name: _rate(count, judged) for name, count in legacy_checks.items()},
        }
    return out


def _evidence_power(rng: np.random.Generator, worse: str) -> dict[str, Any]:
    """The power the verdicts report (`evidence.power`, against the stated alternative) under that alternative, at
    the first and the last step, averaged over EVIDENCE_POWER_RUNS canaries: the formula beside the simulation."""
    rollout = _family_rollout(FAMILY_ALTERNATIVES)
    canaries = _Canaries(rng, EVIDENCE_POWER_RUNS, worse)
    sources = _patched_sources(canaries, rollout.candidate_variant)
    index = list(FAMILY_CHECKS).index(worse)
    reported: dict[int, list[float]] = {0: [], len(FAMILY_WEIGHTS) - 1: []}
    with (
        mock.patch.object(metrics, "variant_sum", sources["variant_sum"]),
        mock.patch.object(metrics, "period_values", sources["period_values"]),
        mock.patch.object(judging, "rollout_totals", sources["rollout_totals"]),
    ):
        for replication in range(canaries.size):
            canaries.replication = replication
            for look, powers in reported.items():
                canaries.look = look
                verdicts = (
                    judging.judge_rates(rollout, look, now=_EPOCH)
                    + judging.judge_metrics(rollout, look, now=_EPOCH)
                    + judging.judge_feedback(rollout, look)
                )
                power = verdicts[index].evidence.power
                if power is not None:
                    powers.append(power)
    first, last = reported[0], reported[len(FAMILY_WEIGHTS) - 1]
    return {
        "canaries": EVIDENCE_POWER_RUNS,
        "first_step_mean": float(np.mean(first)) if first else None,
        "first_step_range": [float(min(first)), float(max(first))] if first else None,
        "last_step_mean": float(np.mean(last)) if last else None,
        "last_step_range": [float(min(last)), float(max(last))] if last else None,
    }


def run_family(runs: int | None = None, power_runs: int | None = None) -> dict[str, Any]:
    """The family-wise false-alarm rate of a 3-check canary and each check's power, through Judge Step's code."""
    runs = runs or runs_from_env(FAMILY_RUNS_ENV, DEFAULT_FAMILY_RUNS, minimum=100)
    power_runs = power_runs or runs_from_env(FAMILY_POWER_RUNS_ENV, DEFAULT_FAMILY_POWER_RUNS, minimum=100)
    began = time.monotonic()
    rng = np.random.default_rng(FAMILY_SEED)
    rollout = _family_rollout(None)
    shares = rollout.spec.guardrails.alpha_shares()
    null = _family_scenario(rng, runs, None, legacy=True)
    print(
        f"  judge: family: false alarms {null['rollout_failed']['rate']:.4f} +- "
        f"{null['rollout_failed']['standard_error']:.4f} over {runs:,} null canaries "
        f"(before the split: {null['legacy']['rollout_failed']['rate']:.4f})",
        flush=True,
    )
    power: dict[str, Any] = {}
    for name in FAMILY_CHECKS:
        scenario = _family_scenario(rng, power_runs, name, legacy=False)
        power[name] = {
            "detectable_change": FAMILY_ALTERNATIVES[name],
            "simulated": scenario["check_failed"][name],
            "rollout_failed": scenario["rollout_failed"],
            "reported_by_the_evidence": _evidence_power(rng, name),
            "scenario": scenario,
        }
        print(f"  judge: family: power of {name} {power[name]['simulated']['rate']:.4f}", flush=True)
    alphas = {name: share.alpha for name, share in shares.items()}
    rate = null["rollout_failed"]
    return {
        "family_false_alarm_rate": rate["rate"],
        "family_false_alarm_standard_error": rate["standard_error"],
        "family_runs": runs,
        "family": {
            "seed": FAMILY_SEED,
            "runs": runs,
            "power_runs": power_runs,
            "family_alpha": ALPHA,
            "alphas": alphas,
            "alpha_sources": {name: share.source for name, share in shares.items()},
            "independent_checks_rate": 1 - math.prod(1 - a for a in alphas.values()),
            "steps": [{"weight": w, "bake_minutes": FAMILY_BAKE_MINUTES} for w in FAMILY_WEIGHTS],
            "rate_fractions": list(judging.planned_fractions(rollout)),
            "rank_fractions": list(judging.planned_time_fractions(rollout)),
            "requests_per_minute": FAMILY_REQUESTS_PER_MINUTE,
            "error_rate": FAMILY_ERROR_RATE,
            "conversion": FAMILY_CONVERSION,
            "latency_median_us": FAMILY_LATENCY_US,
            "latency_sigma": FAMILY_LATENCY_SIGMA,
            "alternatives": FAMILY_ALTERNATIVES,
            "spec": _family_spec(None),
            "null": null,
            "power": power,
            "at_most_family_alpha": rate["rate"] <= ALPHA,
            "seconds": round(time.monotonic() - began, 1),
        },
    }


def _scenario_summary(scenario: dict[str, Any], statistic: RateStatistic) -> dict[str, Any]:
    key = KEYS[statistic]
    null, regression = scenario["null"], scenario["regression"]
    plan = scenario["plans"][key]
    return {
        "false_alarm_rate": null["group_sequential"][key]["crossed"]["rate"],
        "naive_false_alarm_rate": null["naive_repeated_z"]["crossed"]["rate"],
        "power": regression["group_sequential"][key]["crossed"]["rate"],
        "expected_n_per_arm": regression["group_sequential"][key]["expected_candidate_requests"],
        "expected_baseline_requests": regression["group_sequential"][key]["expected_baseline_requests"],
        "fixed_horizon_n_per_arm": plan["fixed_horizon_candidate"],
        "maximum_candidate_requests": plan["maximum_candidate"],
        "inflation_factor": plan["inflation_factor"],
    }


def _targets(summary: dict[str, Any]) -> dict[str, bool]:
    return {
        "false_alarm_rate_at_most_0_05": summary["false_alarm_rate"] <= ALPHA,
        "power_at_least_0_80": summary["power"] >= POWER,
        "expected_candidate_requests_at_most_fixed_horizon": (
            summary["expected_n_per_arm"] <= summary["fixed_horizon_n_per_arm"]
        ),
    }


def run(replications: int | None = None) -> dict[str, Any]:
    replications = replications or runs_from_env(REPLICATIONS_ENV, DEFAULT_REPLICATIONS, minimum=100)
    began = time.monotonic()
    rng = np.random.default_rng(SEED)
    designs = {statistic: _design(statistic) for statistic in STATISTICS}
    normal_inflation, drift = normal_theory_inflation(designs[DEFAULT_STATISTIC], POWER)
    scenarios: dict[str, Any] = {}
    for name, ratio in SCENARIOS.items():
        pooled_plan = _plan(ratio, designs[RateStatistic.POOLED_Z], normal_inflation, "normal theory")
        exact_plan, search = _search(ratio, designs[DEFAULT_STATISTIC], normal_inflation, replications)
        plans = {RateStatistic.EXACT_CONDITIONAL: exact_plan, RateStatistic.POOLED_Z: pooled_plan}
        print(
            f"  judge: {name}: maximum {exact_plan['maximum_candidate']:,} candidate requests (exact conditional), "
            f"{pooled_plan['maximum_candidate']:,} (pooled z)",
            flush=True,
        )
        scenario: dict[str, Any] = {
            "plans": {KEYS[s]: plans[s] for s in STATISTICS},
            "sizing_search": search,
            "null": _simulate_hypothesis(rng, plans, designs, BASELINE_RATE, replications),
            "regression": _simulate_hypothesis(rng, plans, designs, REGRESSED_RATE, replications),
        }
        scenario["by_statistic"] = {KEYS[s]: _scenario_summary(scenario, s) for s in STATISTICS}
        scenario["targets"] = {KEYS[s]: _targets(scenario["by_statistic"][KEYS[s]]) for s in STATISTICS}
        scenario.update(scenario["by_statistic"][KEYS[DEFAULT_STATISTIC]])
        scenarios[name] = scenario
    equal, canary = scenarios["equal_split"], scenarios["canary_10_percent"]
    default, pooled = KEYS[DEFAULT_STATISTIC], KEYS[RateStatistic.POOLED_Z]
    headline_keys = (
        "false_alarm_rate",
        "naive_false_alarm_rate",
        "power",
        "expected_n_per_arm",
        "fixed_horizon_n_per_arm",
    )
    headline = {key: equal["by_statistic"][default][key] for key in headline_keys}
    targets = {name: scenario["targets"][default] for name, scenario in scenarios.items()}
    return {
        "command": COMMAND,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**machine(), "numpy": np.__version__, "processor": platform.processor() or "unknown"},
        "seed": SEED,
        "replications": replications,
        "baseline_error_rate": BASELINE_RATE,
        "regressed_error_rate": REGRESSED_RATE,
        "alpha": ALPHA,
        "target_power": POWER,
        "looks": LOOKS,
        "spending": designs[DEFAULT_STATISTIC].spending.value,
        "boundaries": list(designs[DEFAULT_STATISTIC].boundaries),
        "normal_theory_inflation_factor": normal_inflation,
        "drift_for_power": drift,
        "mixing_sd": MIXING_SD,
        "statistic": DEFAULT_STATISTIC.value,
        **headline,
        "canary_10_percent_false_alarm_rate": canary["false_alarm_rate"],
        "canary_10_percent_power": canary["power"],
        "canary_10_percent_expected_candidate_requests": canary["expected_n_per_arm"],
        "canary_10_percent_fixed_horizon_candidate_requests": canary["fixed_horizon_n_per_arm"],
        "pooled_z_false_alarm_rate": equal["by_statistic"][pooled]["false_alarm_rate"],
        "pooled_z_power": equal["by_statistic"][pooled]["power"],
        "pooled_z_expected_n_per_arm": equal["by_statistic"][pooled]["expected_n_per_arm"],
        "pooled_z_canary_10_percent_false_alarm_rate": canary["by_statistic"][pooled]["false_alarm_rate"],
        "pooled_z_canary_10_percent_power": canary["by_statistic"][pooled]["power"],
        "pooled_z_canary_10_percent_expected_candidate_requests": canary["by_statistic"][pooled]["expected_n_per_arm"],
        "targets": targets,
        "all_targets_met": all(all(flags.values()) for flags in targets.values()),
        "scenarios": scenarios,
        "boundary_check": _boundary_check(rng, designs[DEFAULT_STATISTIC]),
        "verdict_times": _verdict_times(),
        "normal_approximation_above": NORMAL_APPROXIMATION_ABOVE,
        **run_family(),
        "seconds": round(time.monotonic() - began, 1),
    }


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _pm(figure: dict[str, float]) -> str:
    return f"{figure['rate']:.4f} ± {figure['standard_error']:.4f}"


def _looks(plan: dict[str, Any]) -> str:
    return ", ".join(f"{c:,} / {b:,}" for c, b in zip(plan["looks_candidate"], plan["looks_baseline"], strict=True))


def _scenario_table(name: str, scenario: dict[str, Any]) -> list[str]:
    plans, null, regression = scenario["plans"], scenario["null"], scenario["regression"]
    fixed_null, fixed_regression = null["fixed_horizon_one_look"], regression["fixed_horizon_one_look"]
    default, pooled = KEYS[DEFAULT_STATISTIC], KEYS[RateStatistic.POOLED_Z]
    lines = [
        f"### {TITLES[name]}",
        "",
        f"- Exact conditional plan (simulation search): inflation {plans[default]['inflation_factor']:.3f}, looks "
        f"(candidate / baseline requests, cumulative) {_looks(plans[default])}.",
        f"- Pooled z plan (normal theory): inflation {plans[pooled]['inflation_factor']:.4f}, looks "
        f"{_looks(plans[pooled])}.",
        f"- Fixed horizon: {plans[default]['fixed_horizon_candidate']:,} / "
        f"{plans[default]['fixed_horizon_baseline']:,}.",
        "",
        _row(
            "test",
            "false alarms (equal candidate)",
            "power (1 % -> 2 %)",
            "E[candidate requests], regression",
            "E[baseline requests], regression",
            "E[candidate requests], equal",
            "stops at looks 1-5, regression",
        ),
        _row("---", "---:", "---:", "---:", "---:", "---:", "---"),
    ]
    rows = [
        (f"{default}@{default}_plan", "group-sequential, exact conditional, its own plan (the judge's default)"),
        (f"{pooled}@{pooled}_plan", "group-sequential, pooled z, its own plan"),
        (f"{default}@{pooled}_plan", "group-sequential, exact conditional, at the pooled z's plan"),
        (f"{pooled}@{default}_plan", "group-sequential, pooled z, at the exact conditional's plan"),
    ]
    if plans[default]["looks_candidate"] == plans[pooled]["looks_candidate"]:
        rows = rows[:2]  # one plan for both: the cross rows would repeat these
    for key, label in rows:
        n, r = null["by_statistic_and_plan"][key], regression["by_statistic_and_plan"][key]
        lines.append(
            _row(
                label,
                _pm(n["crossed"]),
                _pm(r["crossed"]),
                f"{r['expected_candidate_requests']:,.0f}",
                f"{r['expected_baseline_requests']:,.0f}",
                f"{n['expected_candidate_requests']:,.0f}",
                ", ".join(f"{count:,}" for count in r["stops_by_look"]),
            )
        )
    for key, label in (
        ("naive_repeated_z", "naive pooled z >= 1.645 at every look (exact conditional's plan)"),
        ("msprt_at_the_same_looks", f"mSPRT, tau = {MIXING_SD}, at the same looks"),
    ):
        n, r = null[key], regression[key]
        lines.append(
            _row(
                label,
                _pm(n["crossed"]),
                _pm(r["crossed"]),
                f"{r['expected_candidate_requests']:,.0f}",
                f"{r['expected_baseline_requests']:,.0f}",
                f"{n['expected_candidate_requests']:,.0f}",
                ", ".join(f"{count:,}" for count in r["stops_by_look"]),
            )
        )
    for key, label in (("pooled_z", "pooled z"), ("exact_conditional", "exact conditional")):
        lines.append(
            _row(
                f"fixed horizon, one look at the closed-form n, {label} >= 1.645",
                _pm(fixed_null[key]),
                _pm(fixed_regression[key]),
                f"{fixed_null['candidate_requests']:,}",
                f"{fixed_null['baseline_requests']:,}",
                f"{fixed_null['candidate_requests']:,}",
                "",
            )
        )
    checks = [null["checks"], regression["checks"]]
    lines += [
        "",
        "Largest difference between the judge's pooled z and an independent numpy z over all judged counts: "
        f"{max(c['pooled_z_judge_vs_numpy'] for c in checks):.1e}; between the judge's exact conditional z and the "
        "same z from the mid-p computed in exact integer arithmetic (on "
        f"{sum(c['exact_z_values_checked'] for c in checks):,} distinct counts): "
        f"{max(c['exact_z_judge_vs_integer_arithmetic'] for c in checks):.1e}.",
        "",
    ]
    return lines


def _search_table(results: dict[str, Any]) -> list[str]:
    equal = results["scenarios"]["equal_split"]["sizing_search"]
    canary = results["scenarios"]["canary_10_percent"]["sizing_search"]
    lines = [
        _row("inflation factor", "50/50: maximum", "50/50: simulated power", "10 %: maximum", "10 %: simulated power"),
        _row("---:", "---:", "---:", "---:", "---:"),
    ]
    chosen = {
        "equal": results["scenarios"]["equal_split"]["plans"]["exact_conditional"]["inflation_factor"],
        "canary": results["scenarios"]["canary_10_percent"]["plans"]["exact_conditional"]["inflation_factor"],
    }
    last = max(max(chosen.values()) + 3 * SEARCH_STEP, equal["grid"][0]["inflation_factor"] + 12 * SEARCH_STEP)
    for a, b in zip(equal["grid"], canary["grid"], strict=True):
        if a["inflation_factor"] > last + 1e-9:
            break
        mark_a = " (kept)" if abs(a["inflation_factor"] - chosen["equal"]) < 1e-9 else ""
        mark_b = " (kept)" if abs(b["inflation_factor"] - chosen["canary"]) < 1e-9 else ""
        lines.append(
            _row(
                f"{a['inflation_factor']:.3f}",
                f"{a['maximum_candidate']:,}",
                f"{_pm(a['power'])}{mark_a}",
                f"{b['maximum_candidate']:,}",
                f"{_pm(b['power'])}{mark_b}",
            )
        )
    return lines


def _sizing_result(results: dict[str, Any]) -> str:
    parts = []
    for name, scenario in results["scenarios"].items():
        exact, pooled = scenario["plans"][KEYS[DEFAULT_STATISTIC]], scenario["plans"][KEYS[RateStatistic.POOLED_Z]]
        growth = exact["maximum_candidate"] / pooled["maximum_candidate"] - 1
        parts.append(
            f"{TITLES[name].split(' (')[0]}: {exact['maximum_candidate']:,} candidate requests (x "
            f"{exact['inflation_factor']:.3f} of the fixed horizon), {growth * 100:+.1f} % on the pooled z's "
            f"normal-theory maximum of {pooled['maximum_candidate']:,}"
        )
    return "Result: " + "; ".join(parts) + "."


def _missed_notes(results: dict[str, Any]) -> list[str]:
    """What the run itself says about each missed target of the default statistic."""
    notes: list[str] = []
    for name, scenario in results["scenarios"].items():
        flags = scenario["targets"][KEYS[DEFAULT_STATISTIC]]
        fixed = scenario["null"]["fixed_horizon_one_look"]["exact_conditional"]
        if not flags["false_alarm_rate_at_most_0_05"]:
            notes.append(
                f"- `{name}`, false alarms: {scenario['false_alarm_rate']:.4f} > {ALPHA}. The fixed-horizon test with "
                f"the same statistic at one look has {_pm(fixed)} in this run: if that is within alpha the excess "
                "comes from the joint law of the discrete statistic over the looks, not from its marginal p-value."
            )
        if not flags["power_at_least_0_80"]:
            notes.append(
                f"- `{name}`, power: {scenario['power']:.4f} < {POWER}, although the sizing search (separate seed) "
                f"found {scenario['sizing_search']['required_power']:.4f} or more at this maximum: Monte Carlo error "
                "or the statistic's discreteness (power is not monotone in n for a discrete test)."
            )
        if not flags["expected_candidate_requests_at_most_fixed_horizon"]:
            notes.append(
                f"- `{name}`, expected requests: {scenario['expected_n_per_arm']:,.0f} > the fixed horizon's "
                f"{scenario['fixed_horizon_n_per_arm']:,}: the larger maximum the exact statistic needs is not "
                "recovered by early stopping."
            )
    return [*notes, ""] if notes else []


def _check_levels(family: dict[str, Any]) -> str:
    """Each check's measured false-alarm rate against its alpha, in words."""
    parts = []
    for name, title in FAMILY_CHECKS.items():
        measured, alpha = family["null"]["check_failed"][name], family["alphas"][name]
        gap = (measured["rate"] - alpha) / measured["standard_error"] if measured["standard_error"] else 0.0
        word = "above" if gap > 2 else "below" if gap < -2 else "at"
        parts.append(f"{title} {measured['rate']:.4f} ({gap:+.1f} standard errors: {word} its alpha)")
    return "Each check alone: " + "; ".join(parts) + "."


def _family_section(results: dict[str, Any]) -> list[str]:
    """The 3-check canary: the family-wise false-alarm rate, before and after the split, and each check's power."""
    if "family" not in results:
        return []
    family = results["family"]
    null, legacy = family["null"], family["null"]["legacy"]
    weights = ", ".join(f"{step['weight']:g} %" for step in family["steps"])
    lines = [
        "## One false-alarm rate for the whole verdict: a 3-check canary",
        "",
        f"{family['runs']:,} canaries with an equal candidate and {family['power_runs']:,} per alternative (seed "
        f"{family['seed']}; {family['seconds']} s), each judged at every step by Judge Step's own functions "
        "(`rollouts.logic.judging.judge_rates`, `judge_metrics`, `judge_feedback`) on simulated CloudWatch sums, "
        "per-minute values and feedback totals. The canary: steps of "
        f"{weights} of {family['requests_per_minute']} requests a minute, {family['steps'][0]['bake_minutes']} "
        f"minutes each; a {family['error_rate'] * 100:g} % 5XX rate, a {family['conversion'] * 100:g} % conversion "
        "rate (every request reports a reward), and a p90 ModelLatency a minute per variant drawn log-normal (median "
        f"{family['latency_median_us'] / 1000:g} ms, sd of the log {family['latency_sigma']:g}), independent from "
        "minute to minute. Three critical checks without an alpha of their own, so each takes a third of "
        f"`guardrails.family_alpha` {family['family_alpha']:g} ({next(iter(family['alphas'].values())):.4f}), and "
        "no tolerance (allowed change 0, the strictest case: every false alarm the tests make counts): a 5XX rate "
        "check (group-sequential, exact conditional, O'Brien-Fleming over the steps' planned two-sample "
        "information), a rank test of the p90 latency per minute (spent O'Brien-Fleming over the steps' planned "
        "time; at least 8 periods) and a feedback check (a z with the larger of Welch's and the pooled standard "
        "error, group-sequential like the rate). A false alarm is any critical check failing the equal candidate at "
        "any step: the rollout would roll back. The column before the split judges the same canaries as the judge "
        "did before it (each check 0.05 of its own, the looks at the candidate's share of its requests, Welch's "
        "standard error, the rank test fixed-sample at every step).",
        "",
        _row(
            "figure",
            f"with the family split ({family['runs']:,} canaries)",
            f"before: each check 0.05, the rank test fixed-sample at every step (the first {legacy['runs']:,})",
            "bound",
        ),
        _row("---", "---:", "---:", "---:"),
        _row(
            "**family false-alarm rate**: any check fails an equal candidate at any step",
            f"**{_pm(null['rollout_failed'])}**",
            _pm(legacy["rollout_failed"]),
            f"<= {family['family_alpha']:g}",
        ),
    ]
    for name, title in FAMILY_CHECKS.items():
        lines.append(
            _row(
                f"{title} check alone",
                _pm(null["check_failed"][name]),
                _pm(legacy["check_failed"][name]),
                f"<= {family['alphas'][name]:.4f}",
            )
        )
    lines += [
        "",
        f"Family false-alarm rate: {results['family_false_alarm_rate']:.4f} ± "
        f"{results['family_false_alarm_standard_error']:.4f} (one Monte Carlo standard error, "
        f"{results['family_runs']:,} canaries): "
        + ("at most" if family["at_most_family_alpha"] else "**above**")
        + f" {family['family_alpha']:g}. Bonferroni's bound is the sum of the alphas, {family['family_alpha']:g}; "
        f"three independent checks at their alphas would give 1 - (1 - a)³ = {family['independent_checks_rate']:.4f}, "
        "which is what these nearly independent checks, each close to its alpha, come to: with every check exact, "
        "the split leaves no slack beyond it. "
        + _check_levels(family)
        + " Equal candidates still judged Inconclusive at the last "
        f"step: {null['inconclusive_at_the_last_step']:,}; first failures by step: "
        f"{', '.join(f'{count:,}' for count in null['first_failure_by_step'])}.",
        "",
        "Power per check, each under its stated alternative with the other two metrics equal (the alternative is the "
        "check's `minimum_detectable_change` in the spec the evidence is computed with):",
        "",
        _row(
            "check",
            "alternative",
            "alpha",
            "simulated power: the check fails by the last step",
            "power in the evidence, last step: mean (range)",
            "at the first step",
            "rollout fails",
        ),
        _row("---", "---", "---:", "---:", "---:", "---:", "---:"),
    ]
    changes, errors, conversion = family["alternatives"], family["error_rate"], family["conversion"]
    texts = {
        "5xx-rate": f"{errors * 100:g} % -> {errors * (1 + changes['5xx-rate']) * 100:g} %",
        "latency-p90": f"every p90 +{changes['latency-p90'] * 100:g} %",
        "conversion": f"{conversion * 100:g} % -> {conversion * (1 - changes['conversion']) * 100:g} %",
    }
    for name, check in family["power"].items():
        reported = check["reported_by_the_evidence"]

        def shown(key: str, reported: dict[str, Any] = reported) -> str:
            if reported[f"{key}_mean"] is None:
                return "none"
            low, high = reported[f"{key}_range"]
            return f"{reported[f'{key}_mean']:.3f} ({low:.3f}-{high:.3f})"

        lines.append(
            _row(
                FAMILY_CHECKS[name],
                texts[name],
                f"{family['alphas'][name]:.4f}",
                _pm(check["simulated"]),
                shown("last_step"),
                shown("first_step"),
                _pm(check["rollout_failed"]),
            )
        )
    lines += [
        "",
        "The evidence's power is a formula, not a simulation: at each step the maximum sample is projected from the "
        "step's (n / t, t the step's planned information fraction) and the check's boundaries are integrated at the "
        "drift the alternative gives (normal theory; `rollouts.judge.sequential.shifted_power`; for the rank test "
        "the effect P(candidate period worse) is estimated from the baseline's own values scaled by the change, "
        f"`rollouts.judge.rank.rank_power`). Mean and range over {EVIDENCE_POWER_RUNS} canaries per alternative.",
        "",
        f"Reproduce: `make bench-judge`, or `{results['command']}` (this page); `--family-only` reruns this "
        f"section alone, `--render-only` writes the page from the stored results (`{FAMILY_RUNS_ENV}`, "
        f"`{FAMILY_POWER_RUNS_ENV}` set the runs).",
        "",
    ]
    return lines


def render(results: dict[str, Any]) -> str:
    equal, canary = results["scenarios"]["equal_split"], results["scenarios"]["canary_10_percent"]
    default, pooled = KEYS[DEFAULT_STATISTIC], KEYS[RateStatistic.POOLED_Z]
    m = results["machine"]
    check = results["boundary_check"]
    missed = [
        f"{scenario}: {flag}"
        for scenario, flags in results["targets"].items()
        for flag, met in flags.items()
        if not met
    ]
    pooled_missed = [
        f"{name}: {flag}"
        for name, scenario in results["scenarios"].items()
        for flag, met in scenario["targets"][pooled].items()
        if not met
    ]

    def cells(scenario: dict[str, Any], key: str, figure: str) -> str:
        summary = scenario["by_statistic"][key]
        if figure == "false_alarm_rate":
            return _pm(scenario["null"]["group_sequential"][key]["crossed"])
        if figure == "power":
            return _pm(scenario["regression"]["group_sequential"][key]["crossed"])
        if figure == "expected":
            text = f"{summary['expected_n_per_arm']:,.0f}"
            if scenario["plans"][key]["baseline_per_candidate"] != 1:
                text += f" (baseline {summary['expected_baseline_requests']:,.0f})"
            return text
        if figure == "maximum":
            return f"{summary['maximum_candidate_requests']:,} (x {summary['inflation_factor']:.3f})"
        targets = scenario["targets"][key]
        return ", ".join(_yes(targets[flag]) for flag in targets)

    def figure_row(label: str, figure: str, target: str) -> str:
        return _row(
            label,
            cells(equal, default, figure),
            cells(equal, pooled, figure),
            cells(canary, default, figure),
            cells(canary, pooled, figure),
            target,
        )

    lines = [
        "# Benchmark: the statistical judge",
        "",
        f"Generated by `{results['command']}` (`bench/judge.py`); do not edit by hand. Raw figures: "
        "`bench/results/judge.json`.",
        "",
        f"- Date: {results['date']}",
        f"- Machine: {m['cpu_count']} cores (`os.cpu_count()`), {m['platform']} {m['machine']}",
        f"- Python {m['python']} ({m['implementation']}); numpy {m['numpy']}, pydantic {m['pydantic']}",
        f"- {results['replications']:,} replications per scenario and hypothesis (and as many for each sizing "
        f"search), seed {results['seed']}; the run took {results['seconds']} s",
        "",
        "## Summary",
        "",
        f"Baseline error rate {results['baseline_error_rate'] * 100:g} %, one-sided alpha {results['alpha']}, "
        f"{results['looks']} equally spaced looks (a 5-step canary judged at every step), O'Brien-Fleming-type "
        f"Lan-DeMets spending; boundaries {', '.join(f'{b:.3f}' for b in results['boundaries'])}. Each statistic is "
        "judged by `rollouts.judge.judge_sequential` at its own plan (its maximum sample), on the same simulated "
        "traffic.",
        "",
        _row(
            "figure",
            "50/50: exact conditional (default)",
            "50/50: pooled z",
            "10 %: exact conditional (default)",
            "10 %: pooled z",
            "target",
        ),
        _row("---", "---:", "---:", "---:", "---:", "---"),
        figure_row("(a) false alarms, equal candidate, judged at every step", "false_alarm_rate", "<= 0.05"),
        _row(
            "(a) naive repeated z-test at the same looks",
            _pm(equal["null"]["naive_repeated_z"]["crossed"]),
            "",
            _pm(canary["null"]["naive_repeated_z"]["crossed"]),
            "",
            "(comparison)",
        ),
        figure_row("(b, c) power to detect 1 % -> 2 %", "power", ">= 0.80"),
        figure_row("(b, c) expected candidate requests under 1 % -> 2 %", "expected", "<= fixed horizon"),
        _row(
            "fixed-horizon one-sided test, closed form (candidate requests)",
            f"{equal['fixed_horizon_n_per_arm']:,}",
            f"{equal['fixed_horizon_n_per_arm']:,}",
            f"{canary['fixed_horizon_n_per_arm']:,} (baseline {canary['plans'][default]['fixed_horizon_baseline']:,})",
            f"{canary['fixed_horizon_n_per_arm']:,}",
            "",
        ),
        figure_row("maximum candidate requests of the design (x fixed horizon)", "maximum", ""),
        figure_row("targets met (false alarms, power, requests)", "targets", ""),
        "",
        "Targets missed by the default statistic: " + ("none." if not missed else ", ".join(missed) + "."),
        "Targets the pooled z misses: " + ("none." if not pooled_missed else ", ".join(pooled_missed) + "."),
        "",
        *_missed_notes(results),
        *_family_section(results),
        "## The two statistics",
        "",
        '- Exact conditional (the default, `statistic="exact-conditional"`): given the total errors, the candidate\'s '
        "errors are Binomial(total, n_c / (n_c + n_b)) under the null; the one-sided mid-p is mapped to z by the "
        "inverse normal. No normal approximation of the rates, so no excess of false alarms when the small arm has "
        "few errors; the mid-p is not liberal as the pooled z is, so it needs a larger maximum sample for the same "
        "power. Summed exactly unless both sides expect more than "
        f"{results['normal_approximation_above']:,} errors under the null; a higher-order normal approximation (r*) "
        "there.",
        '- Pooled z (`statistic="pooled-z"`): the two-proportion score z with the null variance pooled. Its normal '
        "approximation is poor when the small arm has a handful of errors: the candidate's rate is right-skewed and "
        "the z crosses the boundaries too often.",
        "",
        "The excess is the statistic's, not the spending's: at a single look at the fixed-horizon sample, against "
        "1.645, the pooled z's false-alarm rate is "
        f"{_pm(equal['null']['fixed_horizon_one_look']['pooled_z'])} at 50/50 and "
        f"{_pm(canary['null']['fixed_horizon_one_look']['pooled_z'])} at 10 %, the exact conditional statistic's "
        f"{_pm(equal['null']['fixed_horizon_one_look']['exact_conditional'])} and "
        f"{_pm(canary['null']['fixed_horizon_one_look']['exact_conditional'])}; and the Gaussian process itself "
        "crosses the boundaries with probability alpha (Checks).",
        "",
        "## How the design is sized",
        "",
        "The fixed-horizon sample is the closed form n_c = (z_{1-a} sqrt(p̄ q̄ (1 + 1/k)) + z_{power} "
        "sqrt(p1 q1 + p0 q0 / k))² / (p1 - p0)², k baseline requests per candidate request (1,826 per arm at 50/50, "
        "the figure in performance-anchors.md 2.3). The pooled z's maximum is that figure times the design's "
        f"normal-theory inflation factor {results['normal_theory_inflation_factor']:.4f} = (drift / (z_{{1-a}} + "
        f"z_{{power}}))², drift {results['drift_for_power']:.4f} the mean of the last look's z at which the design "
        "crosses with probability 0.8 (`bench.judge_design.drift_for_power`).",
        "",
        "The exact conditional statistic's maximum is searched: inflation factors from the normal-theory one upward "
        f"in steps of {SEARCH_STEP:g} of the fixed horizon, each simulated under 1 % -> 2 % with the exact statistic "
        "against the same boundaries, on replications drawn with a separate seed; the smallest factor whose simulated "
        f"power is at least 0.80 plus two standard errors ({equal['sizing_search']['required_power']:.4f}) is kept, "
        "and the figures above are measured afresh on the main replications. Looks are equally spaced in candidate "
        "requests; information at a fixed split is proportional to the candidate's requests, so the same fractions "
        "serve both scenarios.",
        "",
        _sizing_result(results),
        "",
        *_search_table(results),
        "",
        "## Detail",
        "",
        *_scenario_table("equal_split", equal),
        *_scenario_table("canary_10_percent", canary),
        "## Checks",
        "",
        f"- Boundaries by Monte Carlo on the Gaussian process ({check['paths']:,} paths): crossing probability "
        f"{_pm(check['crossing'])} for alpha {check['alpha']}.",
        "- The group-sequential decisions are made by `rollouts.judge.judge_sequential` itself, look by look (each "
        "distinct set of counts judged once); the naive test and the mSPRT use a numpy pooled z and, for the mSPRT, "
        "`rollouts.judge.log_likelihood_ratio`. The sizing search uses the layer's `exact_conditional` against the "
        "design's boundaries, the same rule.",
        "- Error counts are drawn as binomials, one stream per replication read at every plan's looks, so the figures "
        "include each statistic's error at small counts (under the null, about "
        f"{equal['plans'][default]['looks_candidate'][0] * results['baseline_error_rate']:.1f} expected errors per "
        "arm at the first look at 50/50, "
        f"{canary['plans'][default]['looks_candidate'][0] * results['baseline_error_rate']:.1f} on the candidate at "
        "10 %).",
        "",
        f"Time of one verdict, median of {TIMING_REPEATS} calls on this shared machine:",
        "",
        _row(
            "counts (baseline errors / requests, candidate errors / requests)",
            "exact conditional",
            "pooled z",
            "exact conditional computed by",
        ),
        _row("---", "---:", "---:", "---"),
    ]
    for row in results["verdict_times"]:
        xb, nb, xc, nc = row["counts"]
        lines.append(
            _row(
                f"{row['case']}: {xb:,} / {nb:,}, {xc:,} / {nc:,}",
                f"{row['exact_conditional_median_ms']:.3f} ms",
                f"{row['pooled_z_median_ms']:.3f} ms",
                "exact sum" if row["exact"] else "r* approximation",
            )
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=None, help=f"default {DEFAULT_REPLICATIONS:,}")
    parser.add_argument(
        "--family-only",
        action="store_true",
        help="run only the 3-check canary's family simulation; the rest of the page from the stored results",
    )
    parser.add_argument("--render-only", action="store_true", help="write the page from the stored results")
    args = parser.parse_args(argv)
    if (args.family_only or args.render_only) and RESULTS.exists():
        stored = json.loads(RESULTS.read_text())
        results = stored if args.render_only else {**stored, **run_family()}
    else:
        results = run(args.replications)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    DOC.write_text(render(results))
    # The page's A/B section comes from its own benchmark: put it back from that benchmark's stored results.
    from bench import ab_judge

    if ab_judge.RESULTS.exists():
        ab_judge.write_section(ab_judge.render(json.loads(ab_judge.RESULTS.read_text())))
    pooled = KEYS[RateStatistic.POOLED_Z]
    for name, scenario in results["scenarios"].items():
        for key, summary in scenario["by_statistic"].items():
            print(
                f"{name} {key}: false alarms {summary['false_alarm_rate']:.4f} (naive "
                f"{summary['naive_false_alarm_rate']:.4f}), power {summary['power']:.4f}, E[candidate requests] "
                f"{summary['expected_n_per_arm']:,.0f} vs fixed {summary['fixed_horizon_n_per_arm']:,}, maximum "
                f"{summary['maximum_candidate_requests']:,}" + (" (normal theory)" if key == pooled else "")
            )
    print(
        f"family false-alarm rate (3 checks, every step): {results['family_false_alarm_rate']:.4f} +- "
        f"{results['family_false_alarm_standard_error']:.4f} over {results['family_runs']:,} canaries; powers "
        + ", ".join(f"{name} {check['simulated']['rate']:.4f}" for name, check in results["family"]["power"].items())
    )
    print(f"all targets met (default statistic): {results['all_targets_met']}; {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
