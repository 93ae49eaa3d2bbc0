"""Monitor benchmark: data quality on 1M rows x 20 features, parsing, model quality, a drift library, a 1B-row plan.

Run as `.venv/bin/python -W ignore -m bench.monitor` (PYTHONPATH as the Makefile sets it). Writes
bench/results/monitor.json. Figures are medians of several repeats on this machine, in one process.

- `data_quality_1m_x_20_seconds`: `Profile.of` + `statistics()` + `check()` of `rollouts_monitor.data_quality` on
  1,000,000 rows x 20 float64 features already in memory (seeded; features f10..f19 drifted by half a standard
  deviation), against a baseline suggested beforehand from 100,000 rows (timed separately, not part of the target).
  The target is <= 1 s.
- Parsing 1M captured CSV lines into a Dataset (`records.parse_capture` + `records.dataset_from_records`), apart:
  not part of the target; skipped with the reason when `rollouts_monitor.records` has no parser.
- `model_quality_1m_seconds`: `model_quality.metrics` on 1M labelled binary rows; null with the reason if it fails.
- Evidently (a general-purpose drift library), in its own venv `.venv-bench-monitor` (requirements/bench-monitor.txt)
  run as a subprocess on the same arrays saved as .npy; skipped with the reason when that venv is absent.
- `distributed_plan_1b_rows`: a Step Functions Distributed Map plan for 1B rows x 20 features, extrapolated from the
  measured per-row figures; prices cited in the plan.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np

from bench.common import ROOT, machine, runs_from_env
from rollouts.logic import monitor_runs
from rollouts_monitor.data_quality import Profile, check, suggest_baseline
from rollouts_monitor.records import Dataset

RESULTS = ROOT / "bench" / "results" / "monitor.json"
COMMAND = ".venv/bin/python -W ignore -m bench.monitor"
SEED = 20_260_601
ROWS, BASELINE_ROWS, FEATURES = 1_000_000, 100_000, 20
DRIFT_SHIFT_SD = 0.5  # the drifted half of the features moves by half a standard deviation
REPEATS = runs_from_env("BENCH_MONITOR_REPEATS", 7, minimum=5)
PARSE_REPEATS = runs_from_env("BENCH_MONITOR_PARSE_REPEATS", 3)
EVIDENTLY_REPEATS = runs_from_env("BENCH_MONITOR_EVIDENTLY_REPEATS", 3)
TARGET_SECONDS = 1.0
BENCH_VENV = ROOT / ".venv-bench-monitor"
EVIDENTLY_TIMEOUT_SECONDS = 3600

# The 1B-row plan. Prices: https://aws.amazon.com/lambda/pricing/ (arm64, first tier) and
# https://aws.amazon.com/step-functions/pricing/ (standard workflows).
PLAN_ROWS = 1_000_000_000
RECORDS_PER_OBJECT = 10_000  # assumed SageMaker capture object: ~10k records
LAMBDA_ARM64_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
STEP_FUNCTIONS_USD_PER_1000_TRANSITIONS = 0.025
# As deployed: the objects a child reads (rollouts.logic.monitor_runs) and the Distributed Map's MaxConcurrency
# (statemachines/monitor.asl.json), left below the default Lambda account concurrency of 1,000.
OBJECTS_PER_CHILD = monitor_runs.OBJECTS_PER_CHILD
MAX_CONCURRENCY = json.loads((ROOT / "statemachines" / "monitor.asl.json").read_text())["States"][
    "Profile Capture Objects"
]["MaxConcurrency"]
CHILD_MEMORY_MB = 1_769  # one full vCPU (Lambda allocates CPU in proportion to memory); the work is one thread
S3_GET_SECONDS_PER_OBJECT = 0.1  # assumed: ~5 MB at ~60-100 MB/s plus first-byte latency, prefetched
CHILD_START_SECONDS = 1.5  # assumed: cold start, numpy import, baseline read
TRANSITIONS_PER_CHILD = 3  # assumed: the child's start, its Task state, its end
PARENT_TRANSITIONS = 10  # assumed: list, map, merge, check, notify ...


def _seconds(function: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return median(times), [round(t, 4) for t in times]


def _names() -> list[str]:
    return [f"f{j:02d}" for j in range(FEATURES)]


def _column(rng: np.random.Generator, j: int, n: int, drifted: bool) -> np.ndarray:
    """Feature j: normal, lognormal, uniform or exponential by j mod 4; shifted by DRIFT_SHIFT_SD sd when drifted."""
    kind = j % 4
    if kind == 0:
        values, sd = rng.normal(0.0, 1.0, n), 1.0
    elif kind == 1:
        values, sd = rng.lognormal(0.0, 0.5, n), math.sqrt((math.exp(0.25) - 1) * math.exp(0.25))
    elif kind == 2:
        values, sd = rng.uniform(0.0, 1.0, n), math.sqrt(1 / 12)
    else:
        values, sd = rng.exponential(1.0, n), 1.0
    return values + DRIFT_SHIFT_SD * sd if drifted else values


def make_data(missing_fraction: float = 0.0) -> tuple[Dataset, Dataset, list[str]]:
    rng = np.random.default_rng(SEED)
    names = _names()
    drifted = names[FEATURES // 2 :]
    baseline = {name: _column(rng, j, BASELINE_ROWS, False) for j, name in enumerate(names)}
    window = {name: _column(rng, j, ROWS, name in drifted) for j, name in enumerate(names)}
    if missing_fraction:
        for data in (baseline, window):
            for values in data.values():
                values[rng.random(values.size) < missing_fraction] = np.nan
    return Dataset(names, baseline), Dataset(names, window), drifted


def bench_data_quality(missing_fraction: float = 0.0) -> dict[str, Any]:
    baseline, window, drifted = make_data(missing_fraction)
    baseline_seconds, baseline_times = _seconds(lambda: suggest_baseline(baseline), 3)
    statistics, constraints = suggest_baseline(baseline)
    phases: dict[str, list[float]] = {"profile": [], "statistics": [], "check": []}
    totals, cpu = [], []
    violations: list[dict[str, str]] = []
    profile = Profile.of(window, statistics)  # warm-up (first-touch page faults), not counted
    for _ in range(REPEATS):
        cpu_start = time.process_time()
        start = time.perf_counter()
        profile = Profile.of(window, statistics)
        profiled = time.perf_counter()
        profile.statistics()
        summarised = time.perf_counter()
        violations = check(profile, statistics, constraints)
        done = time.perf_counter()
        phases["profile"].append(profiled - start)
        phases["statistics"].append(summarised - profiled)
        phases["check"].append(done - summarised)
        totals.append(done - start)
        cpu.append(time.process_time() - cpu_start)
    flagged = sorted({v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"})
    partial = json.dumps(profile.to_json(), allow_nan=False)
    return {
        "seconds": median(totals),
        "times": [round(t, 4) for t in totals],
        "cpu_seconds": median(cpu),
        "phase_median_seconds": {name: median(times) for name, times in phases.items()},
        "baseline_suggest_seconds": baseline_seconds,
        "baseline_suggest_times": baseline_times,
        "violations": len(violations),
        "violation_types": sorted({v["constraint_check_type"] for v in violations}),
        "drift_flagged": flagged,
        "drift_flagged_as_expected": flagged == drifted,
        "profile_json_bytes": len(partial),
        "statistics_json_bytes": len(json.dumps(statistics)),
    }


def bench_merge(statistics: dict[str, Any], window: Dataset, slices: int = 20) -> dict[str, Any]:
    """What the merge step pays per child partial: JSON text -> Profile -> merge."""
    size = len(window) // slices
    texts = [
        json.dumps(
            Profile.of(
                Dataset(window.columns, {c: v[i * size : (i + 1) * size] for c, v in window.data.items()}), statistics
            ).to_json()
        )
        for i in range(slices)
    ]

    def merge_all() -> None:
        merged = Profile.from_json(texts[0])
        for text in texts[1:]:
            merged = merged.merge(Profile.from_json(text))

    seconds, _ = _seconds(merge_all, 3)
    return {"seconds_per_partial": seconds / slices, "partial_json_bytes": len(texts[0]), "partials": slices}


def _capture_lines(window: Dataset) -> list[str]:
    matrix = np.column_stack([window.data[name] for name in window.columns])
    lines = []
    for index, row in enumerate(matrix):
        record = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": ",".join(f"{value:.6g}" for value in row),
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": "0.5",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": f"00000000-0000-0000-0000-{index:012d}",
                "inferenceTime": "2026-06-01T00:00:00Z",
            },
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    return lines


def bench_parse(window: Dataset) -> dict[str, Any]:
    records = importlib.import_module("rollouts_monitor.records")
    parse = getattr(records, "parse_capture", None)
    to_dataset = getattr(records, "dataset_from_records", None)
    if parse is None or to_dataset is None:
        return {"seconds": None, "skipped": "rollouts_monitor.records has no parse_capture / dataset_from_records yet"}
    lines = _capture_lines(window)
    columns = list(window.columns)

    def run() -> None:
        parsed, problems = parse(lines)
        dataset, more = to_dataset(parsed, columns)
        if problems or more or len(dataset) != len(lines):
            raise RuntimeError(f"parsing lost rows: {len(problems)} + {len(more)} problems")

    seconds, times = _seconds(run, PARSE_REPEATS)
    return {
        "seconds": seconds,
        "times": times,
        "lines": len(lines),
        "bytes_per_line": sum(map(len, lines)) / len(lines),
        "microseconds_per_row": seconds / len(lines) * 1e6,
        "what": "records.parse_capture + records.dataset_from_records on CSV-encoded captured JSON lines",
    }


def bench_model_quality() -> dict[str, Any]:
    rng = np.random.default_rng(SEED + 1)
    labels = (rng.random(ROWS) < 0.3).astype(np.int64)
    probabilities = np.clip(0.35 * labels + rng.random(ROWS) * 0.65, 0.0, 1.0)
    predictions = (probabilities > 0.5).astype(np.int64)
    try:
        module = importlib.import_module("rollouts_monitor.model_quality")
        metrics = module.metrics

        def run() -> None:
            metrics(
                problem_type="BinaryClassification",
                labels=labels,
                predictions=predictions,
                probabilities=probabilities,
            )

        run()
        seconds, times = _seconds(run, REPEATS)
    except Exception as error:  # recorded as the reason; the rest of the bench goes on
        return {"seconds": None, "reason": f"{type(error).__name__}: {error}"}
    return {"seconds": seconds, "times": times, "rows": ROWS}


EVIDENTLY_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
start = time.perf_counter()
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset
import evidently
import_seconds = time.perf_counter() - start
folder, repeats = sys.argv[1], int(sys.argv[2])
names = json.loads(open(folder + "/names.json").read())
reference = pd.DataFrame(np.load(folder + "/baseline.npy"), columns=names)
current = pd.DataFrame(np.load(folder + "/window.npy"), columns=names)
definition = DataDefinition(numerical_columns=names)
out = {"version": evidently.__version__, "pandas": pd.__version__, "import_seconds": import_seconds}
for label, preset in (("default", lambda: DataDriftPreset()), ("ks", lambda: DataDriftPreset(method="ks"))):
    times, cpu, drifted = [], [], None
    for _ in range(repeats):
        c = time.process_time()
        t = time.perf_counter()
        snapshot = Report([preset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )
        document = snapshot.dict()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        drifted = document["metrics"][0]["value"]
        methods = sorted({m["config"].get("method") for m in document["metrics"][1:]} - {None})
    out[label] = {"times": times, "cpu_times": cpu, "drifted_columns": drifted, "methods": methods}
print(json.dumps(out))
"""


def bench_evidently(baseline: Dataset, window: Dataset) -> dict[str, Any]:
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        return {"skipped": f"{BENCH_VENV.name} is absent: create it with requirements/bench-monitor.txt"}
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "baseline.npy", np.column_stack([baseline.data[c] for c in baseline.columns]))
        np.save(Path(folder) / "window.npy", np.column_stack([window.data[c] for c in window.columns]))
        (Path(folder) / "names.json").write_text(json.dumps(list(window.columns)))
        result = subprocess.run(
            [str(python), "-W", "ignore", "-c", EVIDENTLY_SCRIPT, folder, str(EVIDENTLY_REPEATS)],
            capture_output=True,
            text=True,
            timeout=EVIDENTLY_TIMEOUT_SECONDS,
            env={**os.environ, "DO_NOT_TRACK": "1", "PYTHONPATH": ""},
            check=False,
        )
    if result.returncode != 0:
        return {"skipped": f"evidently run failed: {result.stderr.strip().splitlines()[-1:]}"}
    output: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    for label in ("default", "ks"):
        output[label]["seconds"] = median(output[label]["times"])
        output[label]["cpu_seconds"] = median(output[label]["cpu_times"])
    return output


def distributed_plan(parse_per_row: float | None, profile_per_row: float, merge: dict[str, Any]) -> dict[str, Any]:
    objects = math.ceil(PLAN_ROWS / RECORDS_PER_OBJECT)
    children = math.ceil(objects / OBJECTS_PER_CHILD)
    per_row = (parse_per_row or 0.0) + profile_per_row
    compute_per_object = RECORDS_PER_OBJECT * per_row
    per_object = max(compute_per_object, S3_GET_SECONDS_PER_OBJECT)  # the next object's GET overlaps this parse
    child_seconds = CHILD_START_SECONDS + OBJECTS_PER_CHILD * per_object
    waves = math.ceil(children / MAX_CONCURRENCY)
    merge_seconds = children * (merge["seconds_per_partial"] + merge["partial_json_bytes"] / 100e6)
    gb_seconds = children * child_seconds * CHILD_MEMORY_MB / 1024 + merge_seconds * CHILD_MEMORY_MB / 1024
    lambda_usd = gb_seconds * LAMBDA_ARM64_USD_PER_GB_SECOND
    requests_usd = (children + 1) / 1e6 * LAMBDA_USD_PER_MILLION_REQUESTS
    transitions = children * TRANSITIONS_PER_CHILD + PARENT_TRANSITIONS
    step_functions_usd = transitions / 1000 * STEP_FUNCTIONS_USD_PER_1000_TRANSITIONS
    return {
        "rows": PLAN_ROWS,
        "features": FEATURES,
        "assumptions": {
            "capture_object": (
                f"{RECORDS_PER_OBJECT:,} records per SageMaker capture object (about 4-6 MB of CSV-encoded JSON lines "
                "at ~560 bytes a line for 20 features); real objects vary with traffic and the capture interval"
            ),
            "per_row_compute": (
                "this machine's measured parse + profile seconds per row (x86-64, one core); not measured on Graviton"
            ),
            "s3_get_seconds_per_object": S3_GET_SECONDS_PER_OBJECT,
            "child_start_seconds": CHILD_START_SECONDS,
            "children_stream_objects": "a child parses and profiles one object at a time (prefetching the next) "
            "and writes its partial profile to S3 (too big for the 256 KB state payload)",
            "transitions_per_child": TRANSITIONS_PER_CHILD,
            "parent_transitions": PARENT_TRANSITIONS,
            "merge": "one Lambda reads every child's partial from S3 (at an assumed 100 MB/s) and merges them, "
            "then runs check()",
        },
        "capture_objects": objects,
        "objects_per_child": OBJECTS_PER_CHILD,
        "rows_per_child": OBJECTS_PER_CHILD * RECORDS_PER_OBJECT,
        "children": children,
        "max_concurrency": MAX_CONCURRENCY,
        "child_memory_mb": CHILD_MEMORY_MB,
        "child_memory_needed_mb_estimate": "~300: one object's records (~10k rows of Python objects) + numpy + the "
        "profile (~1 MB); 1,769 MB is chosen for its full vCPU, not for memory",
        "seconds_per_row": per_row,
        "parse_seconds_per_row": parse_per_row,
        "profile_seconds_per_row": profile_per_row,
        "child_seconds": child_seconds,
        "merge_seconds": merge_seconds,
        "wall_seconds": waves * child_seconds + merge_seconds,
        "lambda_gb_seconds": gb_seconds,
        "lambda_usd": lambda_usd,
        "lambda_requests_usd": requests_usd,
        "state_transitions": transitions,
        "step_functions_usd": step_functions_usd,
        "total_usd": lambda_usd + requests_usd + step_functions_usd,
        "prices": {
            "lambda_arm64_usd_per_gb_second": LAMBDA_ARM64_USD_PER_GB_SECOND,
            "lambda_usd_per_million_requests": LAMBDA_USD_PER_MILLION_REQUESTS,
            "lambda_source": "https://aws.amazon.com/lambda/pricing/",
            "step_functions_standard_usd_per_1000_transitions": STEP_FUNCTIONS_USD_PER_1000_TRANSITIONS,
            "step_functions_source": "https://aws.amazon.com/step-functions/pricing/",
            "not_included": "S3 GET/PUT requests and CloudWatch Logs",
        },
    }


def run() -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    data_quality = bench_data_quality()
    print(f"data quality 1M x 20: {data_quality['seconds']:.3f} s (median of {REPEATS})", flush=True)
    with_missing = bench_data_quality(missing_fraction=0.01)
    print(f"  with 1 % missing: {with_missing['seconds']:.3f} s", flush=True)
    baseline, window, _ = make_data()
    statistics, _ = suggest_baseline(baseline)
    merge = bench_merge(statistics, window)
    parse = bench_parse(window)
    print(f"parse 1M lines: {parse.get('seconds')}", flush=True)
    model_quality = bench_model_quality()
    print(f"model quality 1M: {model_quality.get('seconds')}", flush=True)
    evidently = bench_evidently(baseline, window)
    print(f"evidently: {evidently.get('default', evidently).get('seconds', evidently.get('skipped'))}", flush=True)
    ours = data_quality["seconds"]
    comparison: dict[str, Any] = {"library": "evidently", **evidently}
    if "default" in evidently:
        comparison["ratio_default_to_ours"] = evidently["default"]["seconds"] / ours
        comparison["ratio_ks_to_ours"] = evidently["ks"]["seconds"] / ours
    parse_per_row = parse["seconds"] / parse["lines"] if parse.get("seconds") else None
    return {
        "command": COMMAND,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            **machine(),
            "numpy": np.__version__,
            "processor": platform.processor() or "unknown",
            # The machine is shared: other processes' load inflates wall times (CPU seconds are reported beside).
            "load_average_1_5_15_before": [round(x, 2) for x in load_before],
            "load_average_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
        },
        "seed": SEED,
        "rows": ROWS,
        "baseline_rows": BASELINE_ROWS,
        "features": FEATURES,
        "repeats": REPEATS,
        "target_seconds": TARGET_SECONDS,
        "data_quality_1m_x_20_seconds": ours,
        "data_quality_1m_x_20_cpu_seconds": data_quality["cpu_seconds"],
        "data_quality_target_met": ours <= TARGET_SECONDS,
        "data_quality": data_quality,
        "data_quality_1m_x_20_with_1pct_missing_seconds": with_missing["seconds"],
        "data_quality_with_1pct_missing": with_missing,
        "baseline_suggest_100k_x_20_seconds": data_quality["baseline_suggest_seconds"],
        "profile_merge": merge,
        "parse_1m_capture_lines_seconds": parse.get("seconds"),
        "parse": parse,
        "model_quality_1m_seconds": model_quality.get("seconds"),
        "model_quality": model_quality,
        "drift_library_comparison": comparison,
        "distributed_plan_1b_rows": distributed_plan(parse_per_row, ours / ROWS, merge),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    results = run()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    plan = results["distributed_plan_1b_rows"]
    print(
        f"data quality {results['data_quality_1m_x_20_seconds']:.3f} s (target {TARGET_SECONDS} s met: "
        f"{results['data_quality_target_met']}); 1B-row plan: {plan['children']} children, "
        f"{plan['wall_seconds']:.0f} s wall, ${plan['total_usd']:.2f}; {results['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
