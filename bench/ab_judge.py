"""A/B judge benchmark: false winners, wrong winners, power and time to a winner of the always-valid judge.

What is simulated. Conversions (rewards 0/1) on a baseline converting at 10 % and a candidate at 10 % (A/A), 11 %
(+10 % relative) or 12 % (+20 %); a look a day for 28 days, each after `per_look` more rewards per arm (2,000, and
500 for a smaller service); at each look `rollouts.judge.ab`'s rule with alpha 0.05 and effect_size 0.01, and the
rollout stops at its first winner. A look's conversions are drawn as exact binomials and cumulated, one stream per
replication and arm; replications are simulated in chunks.

The rule is evaluated in numpy with the judge's formulas (unbiased variances, the two-sided normal-mixture Lambda
against 1/alpha, the winner by the estimate's sign). The judge itself, `judge_ab`, is run on a sample of looks of
every case (at random, and the looks nearest its threshold) and must agree on every decision and winner.

References on the same draws: a two-sided z-test at 1.96 repeated at every look (what peeking at a fixed-horizon
test does), and that test once at day 28 (the fixed horizon: what the guarantee at every look costs in power).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

import numpy as np

from bench.common import ROOT, machine, runs_from_env
from rollouts.judge.ab import AbDesign, judge_ab
from rollouts.judge.means import MeanStats

RESULTS = ROOT / "bench" / "results" / "ab_judge.json"
DOC = ROOT / "docs" / "benchmarks-judge.md"
HEADING = "## A/B test: the always-valid judge"
COMMAND = "PYTHONPATH=layers/rollouts:. .venv/bin/python -m bench.ab_judge"
REPLICATIONS_ENV = "BENCH_AB_JUDGE_REPLICATIONS"
DEFAULT_REPLICATIONS = 400_000  # standard error at most sqrt(0.25 / 400,000) = 0.0008 on any rate
SEED = 20_260_601
ALPHA, EFFECT_SIZE, BASELINE_RATE, LOOKS = 0.05, 0.01, 0.10, 28
PER_LOOK = (2_000, 500)  # rewards per arm per daily look
LIFTS = {"a_a": 0.0, "lift_10_percent": 0.10, "lift_20_percent": 0.20}  # relative, on the baseline's rate
CHUNK = 50_000  # replications at once: a few (looks x chunk) float arrays
CHECKED_AT_RANDOM, CHECKED_NEAR_THRESHOLD = 1_000, 1_000  # looks judged by judge_ab, per case
Z = NormalDist().inv_cdf(1 - ALPHA / 2)
DESIGN = AbDesign(alpha=ALPHA, effect_size=EFFECT_SIZE)


def _statistics(xb: Any, xc: Any, n: Any) -> tuple[Any, Any, Any]:
    """Difference, its variance and log Lambda for cumulative conversions `xb`, `xc` of `n` rewards per arm."""
    mb, mc = xb / n, xc / n
    # MeanStats.variance on 0/1 rewards: total = total_sq = conversions.
    variance = (np.maximum(0.0, xb - n * mb**2) + np.maximum(0.0, xc - n * mc**2)) / ((n - 1) * n)
    difference = mc - mb
    tau2 = EFFECT_SIZE**2
    total = variance + tau2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.where(
            variance > 0,
            0.5 * (np.log(variance) - np.log(total)) + difference**2 * tau2 / (2 * variance * total),
            np.where(difference != 0, np.inf, -np.inf),
        )
    return difference, variance, log_ratio


def _first(crossed: Any, difference: Any) -> tuple[Any, Any]:
    """Each replication's first crossing look (1-based, 0: none) and the sign of the estimate there."""
    any_crossed = crossed.any(axis=0)
    index = crossed.argmax(axis=0)
    look = np.where(any_crossed, index + 1, 0)
    sign = np.where(any_crossed, np.sign(difference[index, np.arange(crossed.shape[1])]), 0)
    return look, sign


def _check(rng: np.random.Generator, xb: Any, xc: Any, n: Any, log_ratio: Any) -> dict[str, Any]:
    """judge_ab on sampled looks against the numpy rule: decisions, winners and log Lambda."""
    threshold = math.log(1 / ALPHA)
    flat = np.abs(log_ratio - threshold).ravel()
    random_picks = rng.choice(flat.size, size=min(CHECKED_AT_RANDOM, flat.size), replace=False)
    nearest = np.argpartition(flat, CHECKED_NEAR_THRESHOLD)[:CHECKED_NEAR_THRESHOLD]
    disagreements, largest_gap = 0, 0.0
    picks = np.unique(np.concatenate([random_picks, nearest]))
    for pick in picks.tolist():
        look, replication = divmod(pick, xb.shape[1])
        rewards, conv_b, conv_c = int(n[look, 0]), int(xb[look, replication]), int(xc[look, replication])
        verdict = judge_ab(DESIGN, MeanStats(rewards, conv_b, conv_b), MeanStats(rewards, conv_c, conv_c))
        decided = bool(log_ratio[look, replication] >= threshold)
        winner = None if not decided else "candidate" if conv_c > conv_b else "baseline"
        disagreements += verdict.winner != winner
        largest_gap = max(largest_gap, abs(math.log(verdict.likelihood_ratio) - float(log_ratio[look, replication])))
    return {
        "looks_checked": int(picks.size),
        "disagreements": disagreements,
        "largest_log_ratio_gap": largest_gap,
        "closest_to_threshold": float(flat[nearest].max()),
    }


def _rate(hits: int, total: int) -> dict[str, Any]:
    rate = hits / total
    return {"rate": rate, "standard_error": math.sqrt(rate * (1 - rate) / total), "count": hits, "of": total}


def _case(per_look: int, lift: float, replications: int, seed: list[int]) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    rate = BASELINE_RATE * (1 + lift)
    n = (per_look * np.arange(1, LOOKS + 1, dtype=float))[:, None]
    first_looks, signs, naive_signs, fixed_signs = [], [], [], []
    check: dict[str, Any] = {}
    done = 0
    while done < replications:
        size = min(CHUNK, replications - done)
        xb = np.cumsum(rng.binomial(per_look, BASELINE_RATE, size=(LOOKS, size)), axis=0).astype(float)
        xc = np.cumsum(rng.binomial(per_look, rate, size=(LOOKS, size)), axis=0).astype(float)
        difference, variance, log_ratio = _statistics(xb, xc, n)
        look, sign = _first(log_ratio >= math.log(1 / ALPHA), difference)
        first_looks.append(look)
        signs.append(sign)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(variance > 0, difference / np.sqrt(variance), 0.0)
        naive_signs.append(_first(np.abs(z) >= Z, difference)[1])
        fixed_signs.append(np.where(np.abs(z[-1]) >= Z, np.sign(difference[-1]), 0))
        if not check:
            check = _check(rng, xb, xc, n, log_ratio)
        done += size
    stop, winner = np.concatenate(first_looks), np.concatenate(signs)
    naive, fixed = np.concatenate(naive_signs), np.concatenate(fixed_signs)
    named = stop[stop > 0]
    return {
        "per_look": per_look,
        "candidate_rate": rate,
        "relative_lift": lift,
        "replications": replications,
        "seed": seed,
        "any_winner": _rate(int((winner != 0).sum()), replications),
        "baseline_named": _rate(int((winner < 0).sum()), replications),
        "candidate_named": _rate(int((winner > 0).sum()), replications),
        "median_look_of_the_winner": int(np.quantile(named, 0.5, method="inverted_cdf")) if named.size else None,
        "look_of_the_winner_90th_percentile": (
            int(np.quantile(named, 0.9, method="inverted_cdf")) if named.size else None
        ),
        "mean_days_run": float(np.where(stop > 0, stop, LOOKS).mean()),
        "naive_z_every_look": {
            "any_winner": _rate(int((naive != 0).sum()), replications),
            "baseline_named": _rate(int((naive < 0).sum()), replications),
            "candidate_named": _rate(int((naive > 0).sum()), replications),
        },
        "fixed_horizon_day_28": {
            "any_winner": _rate(int((fixed != 0).sum()), replications),
            "baseline_named": _rate(int((fixed < 0).sum()), replications),
            "candidate_named": _rate(int((fixed > 0).sum()), replications),
        },
        "check_against_judge_ab": check,
    }


def run(replications: int | None = None) -> dict[str, Any]:
    replications = replications or runs_from_env(REPLICATIONS_ENV, DEFAULT_REPLICATIONS, minimum=CHUNK // 10)
    began = time.monotonic()
    cases: dict[str, dict[str, Any]] = {}
    for setting, per_look in enumerate(PER_LOOK):
        cases[f"{per_look}_per_look"] = {}
        for index, (name, lift) in enumerate(LIFTS.items()):
            case = _case(per_look, lift, replications, [SEED, setting, index])
            cases[f"{per_look}_per_look"][name] = case
            print(
                f"  ab_judge: {per_look:,} per look, {name}: any winner {case['any_winner']['rate']:.4f}, "
                f"baseline {case['baseline_named']['rate']:.4f}, candidate {case['candidate_named']['rate']:.4f}",
                flush=True,
            )
    checks = [case["check_against_judge_ab"] for setting in cases.values() for case in setting.values()]
    return {
        "command": COMMAND,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {**machine(), "numpy": np.__version__, "processor": platform.processor() or "unknown"},
        "seed": SEED,
        "replications": replications,
        "alpha": ALPHA,
        "effect_size": EFFECT_SIZE,
        "baseline_rate": BASELINE_RATE,
        "looks": LOOKS,
        "cases": cases,
        "false_winner_rate_at_most_alpha": all(
            setting["a_a"]["any_winner"]["rate"] <= ALPHA for setting in cases.values()
        ),
        "judge_ab_disagreements": sum(check["disagreements"] for check in checks),
        "judge_ab_looks_checked": sum(check["looks_checked"] for check in checks),
        "judge_ab_largest_log_ratio_gap": max(check["largest_log_ratio_gap"] for check in checks),
        "seconds": round(time.monotonic() - began, 1),
    }


def _pm(figure: dict[str, Any]) -> str:
    # Near 0 or 1 the binomial standard error rounds to 0 and says nothing: the count does.
    if figure["standard_error"] < 5e-5:
        return f"{figure['count']:,} of {figure['of']:,}"
    return f"{figure['rate']:.4f} ± {figure['standard_error']:.4f}"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def render(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks-judge.md, from its heading to its last line."""
    m = results["machine"]
    lines = [
        HEADING,
        "",
        f"Generated by `{results['command']}` (`bench/ab_judge.py`); do not edit by hand. Raw figures: "
        "`bench/results/ab_judge.json`.",
        "",
        f"- Date: {results['date']}; {m['cpu_count']} cores, Python {m['python']}, numpy {m['numpy']}; the run took "
        f"{results['seconds']} s",
        f"- {results['replications']:,} replications per case, seed {results['seed']}",
        "",
        f"`rollouts.judge.judge_ab` (two-sided mixture SPRT on the difference of mean rewards, alpha "
        f"{results['alpha']}, effect_size {results['effect_size']}) judges a daily look for {results['looks']} days; "
        f"baseline conversion {results['baseline_rate'] * 100:g} %, the rollout stops at the first winner. Under A/A "
        "any winner is a false one (the always-valid guarantee: at most alpha); under a lift the baseline named is a "
        "wrong winner and the candidate named is the power. The naive z-test is the two-sided fixed-horizon test at "
        "1.96 repeated at every look; the fixed horizon is that test once at day 28 (the winners each names, by "
        "side, are in the JSON). Figures ± one standard error. The mixture SPRT keeps its guarantee over any number of "
        "looks, so over 28 it is conservative: on a lift near effect_size it has less power by day 28 than the fixed "
        "horizon, which in exchange may be read only once (the naive column is what reading it daily does).",
        "",
        _row(
            "rewards per arm per look",
            "candidate conversion",
            "any winner",
            "baseline named",
            "candidate named",
            "look of the winner, where one is named: median (90th percentile)",
            "mean days run",
            "naive z at every look: any winner",
            "fixed horizon, day 28: any winner",
        ),
        _row("---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"),
    ]
    for setting in results["cases"].values():
        for name, case in setting.items():
            lift = "A/A" if name == "a_a" else f"+{case['relative_lift'] * 100:g} %"
            median = case["median_look_of_the_winner"]
            looks = "none named" if median is None else f"{median} ({case['look_of_the_winner_90th_percentile']})"
            lines.append(
                _row(
                    f"{case['per_look']:,} ({case['per_look'] * results['looks']:,} at day {results['looks']})",
                    f"{case['candidate_rate'] * 100:g} % ({lift})",
                    _pm(case["any_winner"]),
                    _pm(case["baseline_named"]),
                    _pm(case["candidate_named"]),
                    looks,
                    f"{case['mean_days_run']:.1f}",
                    _pm(case["naive_z_every_look"]["any_winner"]),
                    _pm(case["fixed_horizon_day_28"]["any_winner"]),
                )
            )
    verdict = "at most" if results["false_winner_rate_at_most_alpha"] else "**above**"
    lines += [
        "",
        f"False-winner rate under A/A: {verdict} alpha {results['alpha']} in every setting. The rule is evaluated in "
        f"numpy; `judge_ab` itself judged {results['judge_ab_looks_checked']:,} of the simulated looks (at random and "
        f"the nearest its threshold) and disagreed on {results['judge_ab_disagreements']} decisions; largest "
        f"difference in log Lambda {results['judge_ab_largest_log_ratio_gap']:.1e}.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace this benchmark's section of the judge's page, or append it at the end."""
    text = DOC.read_text() if DOC.exists() else ""
    start = text.find(f"\n{HEADING}\n")
    if start == -1:
        DOC.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + 1)
    rest = "" if end == -1 else text[end:]
    DOC.write_text(text[: start + 1] + section + rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--replications", type=int, default=None, help=f"default {DEFAULT_REPLICATIONS:,} (env {REPLICATIONS_ENV})"
    )
    args = parser.parse_args(argv)
    results = run(args.replications)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_section(render(results))
    print(
        f"false winners at most alpha: {results['false_winner_rate_at_most_alpha']}; judge_ab disagreements "
        f"{results['judge_ab_disagreements']} of {results['judge_ab_looks_checked']:,}; {results['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
