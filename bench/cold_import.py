"""Cold import time of every handler module (functions/<name>/app.py) beside bare `import boto3`, fresh interpreters."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from typing import Any

from bench.common import ROOT, runs_from_env

DEFAULT_RUNS = 7
RUNS_ENV = "BENCH_IMPORT_RUNS"
TARGET_RATIO = 2.0
BASELINE = "boto3"

# Only the import is timed: interpreter start-up and `importlib` itself are outside the clock.
PROBE = (
    "import importlib, sys, time\n"
    "start = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - start)\n"
)


def handler_modules() -> list[str]:
    """Every functions/<name>/app.py as a module name, in name order."""
    return [f"functions.{path.parent.name}.app" for path in sorted((ROOT / "functions").glob("*/app.py"))]


def child_env() -> dict[str, str]:
    """What a handler needs to import without AWS; no credentials, no Powertools settings from this process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "ROLLOUTS_TABLE_NAME": "x",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "PYTHONPATH": "layers/rollouts:.",
            # As in the Makefile and on Lambda's read-only file system: no bytecode is written by the import.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def time_import(module: str, env: dict[str, str]) -> float:
    """Milliseconds to import `module` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PROBE, module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1]) * 1000.0


def import_profile(module: str, env: dict[str, str]) -> dict[str, float]:
    """`python -X importtime`: the self time in ms of every module the import loads (start-up modules included)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-W", "ignore", "-c", f"import {module}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr}")
    profile: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        profile[fields[2].strip()] = profile.get(fields[2].strip(), 0.0) + int(fields[0]) / 1000.0
    return profile


def beyond_baseline(handler: dict[str, float], baseline: dict[str, float], top: int = 4) -> list[dict[str, Any]]:
    """Self time of the modules the handler loads that `import boto3` does not, by top-level package."""
    by_package: dict[str, float] = defaultdict(float)
    for module, ms in handler.items():
        if module in baseline:
            continue
        package = module.split(".")[0]
        by_package["stdlib" if package in sys.stdlib_module_names else package] += ms
    ranked = sorted(by_package.items(), key=lambda item: item[1], reverse=True)
    return [{"package": package, "self_ms": round(ms, 1)} for package, ms in ranked[:top]]


def _project_bytecode() -> bool:
    return any(
        path.is_dir() for root in ("functions", "layers/rollouts") for path in (ROOT / root).rglob("__pycache__")
    )


def run(runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    modules = handler_modules()
    env = child_env()
    baseline_samples: list[float] = []
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for round_index in range(runs):
        # Interleaved: boto3, handler, boto3, handler... so that machine noise hits both sides alike.
        for module in modules:
            baseline_samples.append(time_import(BASELINE, env))
            samples[module].append(time_import(module, env))
        print(f"  cold import: round {round_index + 1}/{runs} done", flush=True)

    baseline_profile = import_profile(BASELINE, env)
    baseline_median = statistics.median(baseline_samples)
    handlers = []
    for module in modules:
        median = statistics.median(samples[module])
        ratio = median / baseline_median
        handlers.append(
            {
                "name": module.split(".")[1],
                "module": module,
                "median_ms": round(median, 1),
                "min_ms": round(min(samples[module]), 1),
                "max_ms": round(max(samples[module]), 1),
                "ratio_to_boto3": round(ratio, 3),
                "within_target": ratio <= TARGET_RATIO,
                "beyond_boto3": beyond_baseline(import_profile(module, env), baseline_profile),
                "samples_ms": [round(sample, 1) for sample in samples[module]],
            }
        )
    return {
        "runs": runs,
        "target_ratio": TARGET_RATIO,
        "project_bytecode_cached": _project_bytecode(),
        "boto3": {
            "median_ms": round(baseline_median, 1),
            "min_ms": round(min(baseline_samples), 1),
            "max_ms": round(max(baseline_samples), 1),
            "samples": len(baseline_samples),
        },
        "handlers": handlers,
        "met": all(handler["within_target"] for handler in handlers),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
