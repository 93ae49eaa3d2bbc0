"""Cold import time of every handler module (functions/<name>/app.py) beside bare `import boto3`, fresh interpreters.

Each handler is imported from two copies of what ships, both run by the interpreter `BENCH_PYTHON` names (the
Makefile points it at a virtual environment of the deployed runtime, python3.13, when the machine has one):

- `shipped`: as `make build` ships it: the project's modules and the layer's packages with bytecode compiled for the
  runtime (hash-based, unchecked), so nothing is compiled at a cold start. This is the figure the target judges.
- `source`: as a plain `sam build` ships it: no bytecode at all in the functions or the layer, so on Lambda's
  read-only file system pydantic, Powertools and the project are compiled from source at every cold start.

boto3 comes with the Lambda runtime, compiled; both copies load it from the interpreter's own site-packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import ROOT, runs_from_env

DEFAULT_RUNS = 7
RUNS_ENV = "BENCH_IMPORT_RUNS"
PYTHON_ENV = "BENCH_PYTHON"
TARGET_RATIO = 2.0
BASELINE = "boto3"
LAYOUTS = ("shipped", "source")
LAYER = ROOT / "layers" / "rollouts"

# Only the import is timed: interpreter start-up and `importlib` itself are outside the clock.
PROBE = (
    "import importlib, sys, time\n"
    "start = time.perf_counter()\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - start)\n"
)
FACTS = (
    "import json, platform, sys, sysconfig\n"
    "from importlib import metadata\n"
    "print(json.dumps({'python': platform.python_version(), 'executable': sys.executable,\n"
    "    'site_packages': sysconfig.get_paths()['purelib'],\n"
    "    'versions': {d: metadata.version(d) for d in ('boto3', 'pydantic', 'aws-lambda-powertools')}}))\n"
)


def handler_modules() -> list[str]:
    """Every functions/<name>/app.py as a module name, in name order."""
    return [f"functions.{path.parent.name}.app" for path in sorted((ROOT / "functions").glob("*/app.py"))]


def interpreter() -> str:
    # Absolute but not resolved: a virtual environment's python is a symlink that must stay inside it.
    return str(Path.cwd() / (os.environ.get(PYTHON_ENV) or sys.executable))


def interpreter_facts(python: str) -> dict[str, Any]:
    result = subprocess.run([python, "-c", FACTS], capture_output=True, text=True, check=True)
    facts: dict[str, Any] = json.loads(result.stdout)
    return facts


def _distribution_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(lines: list[str]) -> list[str]:
    """Distribution names of requirement lines, leaving out comments and extras-only requirements."""
    names = []
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or "extra ==" in line:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match:
            names.append(_distribution_name(match.group(0)))
    return names


def layer_distributions(site_packages: Path) -> dict[str, Path]:
    """The .dist-info directory of every distribution the layer installs: its requirements and theirs."""
    infos = {
        _distribution_name(path.name.removesuffix(".dist-info").rsplit("-", 1)[0]): path
        for path in site_packages.glob("*.dist-info")
    }
    wanted = _requirement_names((LAYER / "requirements.txt").read_text().splitlines())
    found: dict[str, Path] = {}
    while wanted:
        name = wanted.pop()
        if name in found or name not in infos:
            continue
        found[name] = infos[name]
        metadata = (infos[name] / "METADATA").read_text(encoding="utf-8")
        wanted += _requirement_names(
            [line.removeprefix("Requires-Dist:") for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
        )
    return found


def _copy_project(target: Path) -> None:
    shutil.copytree(LAYER / "rollouts", target / "rollouts", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "functions", target / "functions", ignore=shutil.ignore_patterns("__pycache__"))


def _copy_layer_packages(site_packages: Path, target: Path) -> list[str]:
    """The layer's third-party files, as listed in each distribution's RECORD, without bytecode."""
    copied = []
    for name, info in sorted(layer_distributions(site_packages).items()):
        for row in (info / "RECORD").read_text(encoding="utf-8").splitlines():
            relative = row.split(",", 1)[0]
            if not relative or relative.startswith("..") or relative.endswith(".pyc"):
                continue
            source = site_packages / relative
            if source.is_file():
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
        copied.append(name)
    return copied


def prepare_layouts(python: str, site_packages: Path, workdir: Path) -> dict[str, Any]:
    """Build both copies under `workdir`; returns what each holds."""
    shipped, source = workdir / "shipped", workdir / "source"
    _copy_project(shipped)
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(shipped)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _copy_project(source)
    packages = _copy_layer_packages(site_packages, source)
    return {"layer_packages": packages}


def child_env(layout_dir: Path) -> dict[str, str]:
    """What a handler needs to import without AWS; no credentials, no Powertools settings from this process."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "ROLLOUTS_TABLE_NAME": "x",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "PYTHONPATH": str(layout_dir),
            # As on Lambda's read-only file system: the import writes no bytecode.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def time_import(python: str, module: str, layout_dir: Path) -> float:
    """Milliseconds to import `module` in a fresh interpreter started in `layout_dir`."""
    result = subprocess.run(
        [python, "-W", "ignore", "-c", PROBE, module],
        cwd=layout_dir,
        env=child_env(layout_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1]) * 1000.0


def import_profile(python: str, module: str, layout_dir: Path) -> dict[str, float]:
    """`python -X importtime`: the self time in ms of every module the import loads (start-up modules included)."""
    result = subprocess.run(
        [python, "-X", "importtime", "-W", "ignore", "-c", f"import {module}"],
        cwd=layout_dir,
        env=child_env(layout_dir),
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


def _summary(samples: list[float], baseline_median: float) -> dict[str, Any]:
    median = statistics.median(samples)
    ratio = median / baseline_median
    return {
        "median_ms": round(median, 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "ratio_to_boto3": round(ratio, 3),
        "within_target": ratio <= TARGET_RATIO,
        "samples_ms": [round(sample, 1) for sample in samples],
    }


def run(runs: int | None = None) -> dict[str, Any]:
    runs = runs or runs_from_env(RUNS_ENV, DEFAULT_RUNS)
    python = interpreter()
    facts = interpreter_facts(python)
    modules = handler_modules()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        workdir = Path(tmp)
        layouts = prepare_layouts(python, Path(facts["site_packages"]), workdir)
        baseline_samples: list[float] = []
        samples: dict[str, dict[str, list[float]]] = {m: {layout: [] for layout in LAYOUTS} for m in modules}
        for round_index in range(runs):
            # Interleaved: boto3, shipped, source, boto3, ... so that machine noise hits every side alike.
            for module in modules:
                baseline_samples.append(time_import(python, BASELINE, workdir / "shipped"))
                for layout in LAYOUTS:
                    samples[module][layout].append(time_import(python, module, workdir / layout))
            print(f"  cold import: round {round_index + 1}/{runs} done", flush=True)

        baseline_profile = import_profile(python, BASELINE, workdir / "shipped")
        baseline_median = statistics.median(baseline_samples)
        handlers = []
        for module in modules:
            shipped = _summary(samples[module]["shipped"], baseline_median)
            handlers.append(
                {
                    "name": module.split(".")[1],
                    "module": module,
                    **shipped,
                    "source": _summary(samples[module]["source"], baseline_median),
                    "beyond_boto3": beyond_baseline(
                        import_profile(python, module, workdir / "shipped"), baseline_profile
                    ),
                }
            )
    return {
        "runs": runs,
        "target_ratio": TARGET_RATIO,
        "python": facts["python"],
        "interpreter": facts["executable"],
        "versions": facts["versions"],
        "runtime_python": facts["python"].rsplit(".", 1)[0] == _template_runtime(),
        "layer_packages": layouts["layer_packages"],
        "boto3": {
            "median_ms": round(baseline_median, 1),
            "min_ms": round(min(baseline_samples), 1),
            "max_ms": round(max(baseline_samples), 1),
            "samples": len(baseline_samples),
        },
        "handlers": handlers,
        "met": all(handler["within_target"] for handler in handlers),
    }


def _template_runtime() -> str:
    """The Python version the template deploys, from the PythonRuntime parameter's default ("3.13")."""
    text = (ROOT / "template.yaml").read_text()
    match = re.search(r"PythonRuntime:\s*\n(?:\s+\w+:.*\n)*?\s+Default:\s*python(\d+\.\d+)", text)
    return match.group(1) if match else ""


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
