"""The test suite's wall time and its slowest tests, quiet and with a CPU-bound process beside it.

Each run is `pytest -n auto --durations=10` as `make test` runs it, in a subprocess. A busy run starts a process
that keeps one core busy for the whole run: the suite must pass all the same, since no test may depend on the
machine's pace. Results go to bench/results/suite.json; `bench/run.py` renders them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import machine, runs_from_env

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "suite.json"
DEFAULT_RUNS = 1
RUNS_ENV = "BENCH_SUITE_RUNS"
DEFAULT_BUSY_RUNS = 5
BUSY_RUNS_ENV = "BENCH_SUITE_BUSY_RUNS"
COMMAND = [sys.executable, "-m", "pytest", "-n", "auto", "-q", "-p", "no:warnings", "--durations=10"]
_DURATION = re.compile(r"^([\d.]+)s (call|setup|teardown)\s+(\S.*)$")  # a test id may hold spaces
_SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|skipped)")
_BURN = "while True: pass"


def _one_run(busy: bool) -> dict[str, Any]:
    burner = subprocess.Popen([sys.executable, "-c", _BURN]) if busy else None
    began = time.monotonic()
    try:
        done = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), check=False)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    seconds = time.monotonic() - began
    lines = done.stdout.splitlines()
    slowest = [
        {"seconds": float(m.group(1)), "phase": m.group(2), "test": m.group(3)}
        for m in (_DURATION.match(line.strip()) for line in lines)
        if m
    ]
    counts = {kind: int(n) for n, kind in _SUMMARY.findall(lines[-1] if lines else "")}
    return {
        "busy": busy,
        "seconds": round(seconds, 1),
        "exit_code": done.returncode,
        "counts": counts,
        "slowest": slowest,
        "tail": lines[-15:] if done.returncode else [],
    }


def run(runs: int, busy_runs: int) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for index in range(runs + busy_runs):
        busy = index >= runs
        sample = _one_run(busy)
        results.append(sample)
        print(
            f"  suite: run {index + 1}/{runs + busy_runs} ({'busy' if busy else 'quiet'}): {sample['seconds']:.0f} s, "
            f"exit {sample['exit_code']}, {sample['counts']}",
            flush=True,
        )
    return {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": " ".join(["python", *COMMAND[1:]]),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
        "runs": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=runs_from_env(RUNS_ENV, DEFAULT_RUNS), help="quiet runs")
    parser.add_argument(
        "--busy-runs",
        type=int,
        default=runs_from_env(BUSY_RUNS_ENV, DEFAULT_BUSY_RUNS, minimum=0),
        help="runs beside a CPU-bound process",
    )
    args = parser.parse_args(argv)
    data = run(max(0, args.runs), max(0, args.busy_runs))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    failed = [r for r in data["runs"] if r["exit_code"] != 0]
    print(f"wrote {RESULTS.relative_to(ROOT)}: {len(data['runs']) - len(failed)} of {len(data['runs'])} runs passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
